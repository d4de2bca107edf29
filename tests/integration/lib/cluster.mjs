// cluster.mjs - what the cluster tests share: an instance's configuration (a USA input, a JPN
// input under a ceiling, an http input for the API), waiting until an instance has joined NATS,
// and stopping every instance and the nats-server.

import {
    identity, makeConfig, request, tcpInput, waitUntil,
} from './harness.mjs';

// Instance `id` of the cluster on `natsUrl`; `extra` is merged into the configuration (a store).
export function instanceConfig(id, natsUrl, extra = {}) {
    const jp = identity('jp-user', ['Cyan'], ['Cyan'], { nation: 'JPN', clearance: 'SECRET' });
    const config = makeConfig({
        node: { id },
        inputs: [
            tcpInput('us'),
            { ...tcpInput('jp'), identity: jp, ceiling: 'SECRET//REL TO USA, JPN' },
            { name: 'web', protocol: 'http', listen: '127.0.0.1:0', identity: identity('web-user', ['Cyan']), default_label: 'UNCLASSIFIED' },
        ],
        ...extra,
    });
    config.cluster = { nats: natsUrl };
    return config;
}

// The instance's /healthz, parsed (through its `web` input).
export async function healthz(node) {
    const res = await request(node.port('web'), 'GET', '/healthz');
    if (res.status !== 200) throw new Error(`/healthz answered ${res.status}`);
    return JSON.parse(res.body);
}

export async function joined(node) {
    await waitUntil(async () => (await healthz(node)).cluster === 'joined',
        { timeout: 15000, interval: 100, what: 'the instance to join the cluster' });
}

// Stop every instance of `nodes` (an object of them), then nats (may be undefined).
export async function stopAll(nodes, nats) {
    for (const n of Object.values(nodes)) {
        await n.stop();
        n.cleanup();
    }
    if (nats) {
        await nats.stop();
        nats.cleanup();
    }
}
