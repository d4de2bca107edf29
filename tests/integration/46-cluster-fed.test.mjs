// 46-cluster-fed: federation through a cluster, with a real nats-server.  Two instances of
// the USA node, B and A, each owning one federation link: B to the JPN partner X, A to the
// PHL partner Y.  What X sends reaches A's clients through the cluster, marked as come from
// federation, so A's link never sends it on to Y; what a client of B sends goes to Y over A's
// link, as the node's own.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { cotEvent, postEvent, request, startServer, tracks, uidsOf, uniq, waitUntil } from './lib/harness.mjs';
import { fedNodeConfig, fedPort, nationalPki, peerEntry, waitLinks } from './lib/fed.mjs';
import { startNats } from './lib/nats.mjs';

let nats;
let root;
const nodes = {};

function partner(id, nation, pki, usaCa) {
    return fedNodeConfig({
        id, nation, pki, viewers: [nation],
        peers: [peerEntry('kz-usa', 'USA', usaCa, { local: nation })],
    });
}

function instance(id, pki, peer, nation, ca, port) {
    const config = fedNodeConfig({
        id, nation: 'USA', pki, viewers: ['USA'],
        peers: [peerEntry(peer, nation, ca, { local: 'USA', connect: `127.0.0.1:${port}` })],
    });
    config.cluster = { nats: nats.url, subject_prefix: 'kzfed' };
    return config;
}

async function holds(node, input, uid) {
    return uidsOf(await tracks(node.port(input))).includes(uid);
}

before(async () => {
    nats = await startNats();
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'kizuna-cluster-fed-'));
    const usa = await nationalPki(root, 'usa');
    const jpn = await nationalPki(root, 'jpn');
    const phl = await nationalPki(root, 'phl');
    nodes.X = await startServer({ config: partner('kz-x', 'JPN', jpn, usa.ca) });
    nodes.Y = await startServer({ config: partner('kz-y', 'PHL', phl, usa.ca) });
    nodes.B = await startServer({ config: instance('B', usa, 'kz-x', 'JPN', jpn.ca, await fedPort(nodes.X)) });
    nodes.A = await startServer({ config: instance('A', usa, 'kz-y', 'PHL', phl.ca, await fedPort(nodes.Y)) });
    await waitLinks(nodes.B, 'web-usa', ['kz-x']);
    await waitLinks(nodes.A, 'web-usa', ['kz-y']);
    for (const id of ['A', 'B'])
        await waitUntil(async () => {
            const res = await request(nodes[id].port('web-usa'), 'GET', '/healthz');
            return JSON.parse(res.body).cluster === 'joined';
        }, { timeout: 15000, interval: 100, what: `${id} to join` });
});

after(async () => {
    for (const n of Object.values(nodes)) {
        await n.stop();
        n.cleanup();
    }
    if (nats) {
        await nats.stop();
        nats.cleanup();
    }
    if (root) fs.rmSync(root, { recursive: true, force: true });
});

test('a partner\'s event reaches the other instance\'s clients and is never federated again', async () => {
    const fromX = uniq('from-x');
    const fromB = uniq('from-b');
    let r = await postEvent(nodes.X.port('web-jpn'), cotEvent({ uid: fromX, access: 'UNCLASSIFIED' }));
    assert.ok(r.status < 300, `POST on X: ${r.status} ${r.body}`);
    await waitUntil(() => holds(nodes.A, 'web-usa', fromX), { timeout: 10000, what: 'X\'s event on A' });
    // Then B's own: A applies it after X's and its link to Y sends it in that order.
    r = await postEvent(nodes.B.port('web-usa'), cotEvent({ uid: fromB, access: 'UNCLASSIFIED' }));
    assert.ok(r.status < 300, `POST on B: ${r.status} ${r.body}`);
    await waitUntil(() => holds(nodes.Y, 'web-phl', fromB), { timeout: 10000, what: 'B\'s event on Y over A\'s link' });
    assert.equal(await holds(nodes.Y, 'web-phl', fromX), false, 'A federated what came in over federation');
    // And X gets B's own event once, over B's link, not back from A.
    await waitUntil(() => holds(nodes.X, 'web-jpn', fromB), { timeout: 10000, what: 'B\'s event on X' });
});
