// The two-node set-up of the federation lease tests (51-cluster-fed-lease*): a JPN partner
// X, and instances of the USA node that all carry the same outgoing v2 link to it, one of
// them owning it by a lease (docs/cluster.md, "One owner per outgoing link").

import assert from 'node:assert/strict';

import { cotEvent, identity, postEvent, waitUntil } from './harness.mjs';
import { fedNodeConfig, fedStatus, peerEntry } from './fed.mjs';

// X: the JPN node, a subscriber's input of its own (cot-jpn).
export function partnerConfig(jpn, usaCa) {
    const config = fedNodeConfig({
        id: 'kz-jpn', nation: 'JPN', pki: jpn, viewers: ['JPN'],
        peers: [peerEntry('kz-usa', 'USA', usaCa, { local: 'JPN' })],
    });
    config.inputs.push({
        name: 'cot-jpn', protocol: 'tcp', listen: '127.0.0.1:0', default_label: 'UNCLASSIFIED',
        identity: identity('cot-jpn-user', ['Cyan'], ['Cyan'], { nation: 'JPN' }),
    });
    return config;
}

// An instance `id` of the USA node, dialling X's federation port; `cluster` its cluster
// section, `store` its store section (the default SQLite store when absent).
export function instanceConfig(id, pki, jpnCa, port, cluster, store) {
    const config = fedNodeConfig({
        id, nation: 'USA', pki, viewers: ['USA'],
        peers: [peerEntry('kz-jpn', 'JPN', jpnCa, { local: 'USA', connect: `127.0.0.1:${port}` })],
    });
    config.cluster = cluster;
    if (store) config.store = store;
    return config;
}

// The kz-jpn link as `node`'s federation status shows it.
export async function link(node) {
    const st = await fedStatus(node, 'web-usa');
    const p = st.peers.find((x) => x.name === 'kz-jpn');
    assert.ok(p, `no kz-jpn in ${JSON.stringify(st)}`);
    return p;
}

// The instance whose status says it owns the link, up, when exactly one of `candidates` does.
export async function waitOwner(candidates, what) {
    let last = [];
    try {
        return await waitUntil(async () => {
            last = await Promise.all(candidates.map(link));
            const owners = candidates.filter((n, i) => last[i].owner === n.id && last[i].state === 'up');
            return owners.length === 1 && owners[0];
        }, { timeout: 20000, interval: 50, what });
    } catch (e) {
        throw new Error(`${e.message}; last ${JSON.stringify(last)}`);
    }
}

// POST an UNCLASSIFIED event of `uid` to `node`'s API.
export function post(node, uid) {
    return postEvent(node.port('web-usa'), cotEvent({ uid, access: 'UNCLASSIFIED' }));
}
