// cluster.mjs - what the cluster tests share: an instance's configuration (a USA input, a JPN
// input under a ceiling, an http input for the API, or one with a TLS CoT input for the
// identity tests), CoT over TLS with a user's certificate, waiting until an instance has
// joined NATS, and stopping every instance and the nats-server.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';

import {
    CotClient, httpInput, identity, makeConfig, request, runCli, tcpInput, waitUntil, withTimeout,
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

// Instance `id` for the identity tests: a TLS CoT input (`cot-tls`, certificates of the CA
// in its data directory), TCP inputs named `tcp`, the API on `web`; subjects under `prefix`.
// `extra` is merged into the configuration (a store, tls settings).
export function tlsInstanceConfig(id, natsUrl, prefix, { tcp = ['cot'], ...extra } = {}) {
    const config = makeConfig({
        node: { id },
        inputs: [
            { name: 'cot-tls', protocol: 'tls', listen: '127.0.0.1:0', default_label: 'UNCLASSIFIED' },
            ...tcp.map((name) => tcpInput(name)), httpInput('web'),
        ],
        ...extra,
    });
    config.cluster = { nats: natsUrl, subject_prefix: prefix };
    return config;
}

// The kizuna CLI, which must succeed.
export async function cli(...args) {
    const r = await runCli(args);
    assert.equal(r.code, 0, `kizuna ${args.join(' ')}: ${r.stderr}`);
    return r;
}

// A CoT client on `node`'s cot-tls input with `user`'s certificate from the data directory
// `dataDir` (`kizuna cert issue` wrote it there), once the server has offered the protocol.
export async function cotAs(dataDir, node, user) {
    const pki = path.join(dataDir, 'pki');
    const opts = {
        host: '127.0.0.1', port: node.port('cot-tls'), rejectUnauthorized: false,
        cert: fs.readFileSync(path.join(pki, `${user}.pem`)),
        key: fs.readFileSync(path.join(pki, `${user}.key`)),
    };
    const s = await withTimeout(new Promise((resolve, reject) => {
        const sock = tls.connect(opts, () => resolve(sock));
        sock.once('error', reject);
    }), 5000, `TLS connect as ${user}`);
    const c = new CotClient(s, `tls:${user}`);
    await c.waitFor((e) => e.type === 't-x-takp-v', { what: 'the protocol offer' });
    return c;
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
