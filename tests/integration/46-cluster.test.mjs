// 46-cluster: kizuna instances sharing live CoT over a real nats-server (docs/cluster.md).
// Three instances on loopback with one NATS: what a client on B sends reaches clients on A
// and C, with the release rule applied by each instance to its own clients (a NOFORN track
// from B reaches a USA viewer on A, never a JPN one); the sender gets no echo and nobody a
// copy twice; the latest-state replay on A includes B's events.  NATS down: each instance is
// an island (healthz, metrics) and keeps serving its own clients; NATS back on the same port:
// events flow again, without duplicates.  An instance whose NATS is unreachable at start
// serves as an island and joins once NATS answers.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import {
    barrier, CotClient, cotEvent, metric, request, startServer, uniq, waitUntil,
} from './lib/harness.mjs';
import { healthz, instanceConfig, joined, stopAll } from './lib/cluster.mjs';
import { freePort, NatsServer, startNats } from './lib/nats.mjs';

let nats;
const nodes = {};

const nodeConfig = (id) => instanceConfig(id, nats.url);


// A client connected to each instance's `us` input (keyed by instance).
async function viewers(input = 'us') {
    const out = {};
    for (const [id, n] of Object.entries(nodes))
        out[id] = await CotClient.connect(n.port(input), { name: `${id}:${input}` });
    return out;
}

async function closeAll(clients) {
    await Promise.all(Object.values(clients).map((c) => c.close()));
}

function count(client, uid) {
    return client.events.filter((e) => e.uid === uid).length;
}

before(async () => {
    nats = await startNats();
    for (const id of ['A', 'B', 'C'])
        nodes[id] = await startServer({ config: nodeConfig(id) });
    for (const n of Object.values(nodes))
        await joined(n);
});

after(() => stopAll(nodes, nats));

test('a client on A receives what a client on B sends, once; the sender gets no echo', async () => {
    const v = await viewers();
    const uid = uniq('b2a');
    await v.B.send(cotEvent({ uid, callsign: 'BRAVO' }));
    await v.A.waitUid(uid);
    await v.C.waitUid(uid);
    // B's own clients get it from B; then markers from every instance settle all queues.
    for (const id of ['A', 'B', 'C'])
        await barrier(v[id], Object.values(v).filter((c) => c !== v[id]));
    assert.equal(count(v.A, uid), 1);
    assert.equal(count(v.C, uid), 1);
    assert.equal(count(v.B, uid), 0, 'the sender got its own event back');
    assert.ok(await metric(nodes.B.port('web'), 'kizuna_cluster_published_total') >= 1);
    assert.ok(await metric(nodes.A.port('web'), 'kizuna_cluster_received_total') >= 1);
    assert.equal(await metric(nodes.A.port('web'), 'kizuna_cluster_echoes_total'), 0);
    await closeAll(v);
});

test('labels: a NOFORN track from B reaches a USA viewer on A, never a JPN viewer', async () => {
    const us = await viewers('us');
    const jp = await viewers('jp');
    const noforn = uniq('noforn');
    const rel = uniq('rel-jpn');
    await us.B.send(cotEvent({ uid: noforn, access: 'SECRET//NOFORN' }));
    await us.B.send(cotEvent({ uid: rel, access: 'SECRET//REL TO USA, JPN' }));
    await us.A.waitUid(noforn);
    await us.A.waitUid(rel);
    await jp.A.waitUid(rel);
    await jp.C.waitUid(rel);
    await barrier(us.B, [...Object.values(us).filter((c) => c !== us.B), ...Object.values(jp)]);
    for (const id of ['A', 'C'])
        assert.equal(jp[id].has(noforn), false, `the JPN viewer on ${id} got a NOFORN track`);
    assert.ok(await metric(nodes.A.port('web'), 'kizuna_release_denials_total') >= 1);
    // Latest-state replay on A includes B's events, under the same rule.
    const lateUs = await CotClient.connect(nodes.A.port('us'), { name: 'late-us' });
    const lateJp = await CotClient.connect(nodes.A.port('jp'), { name: 'late-jp' });
    await lateUs.waitUid(noforn);
    await lateJp.waitUid(rel);
    await barrier(lateUs, [lateJp]);
    assert.equal(lateJp.has(noforn), false);
    await Promise.all([lateUs.close(), lateJp.close(), closeAll(us), closeAll(jp)]);
});

test('restarted, A replays B\'s events from its own store, under the same rule', async () => {
    const src = await CotClient.connect(nodes.B.port('us'), { name: 'B:src' });
    const watch = await CotClient.connect(nodes.A.port('us'), { name: 'A:watch' });
    const noforn = uniq('kept-noforn');
    const rel = uniq('kept-rel');
    await src.send(cotEvent({ uid: noforn, access: 'SECRET//NOFORN' }) + cotEvent({ uid: rel, access: 'SECRET//REL TO USA, JPN' }));
    await watch.waitUid(noforn);
    await watch.waitUid(rel);
    await Promise.all([src.close(), watch.close()]);
    await nodes.A.restart({ samePorts: true });
    await joined(nodes.A);
    const us = await CotClient.connect(nodes.A.port('us'), { name: 'A:us' });
    const jp = await CotClient.connect(nodes.A.port('jp'), { name: 'A:jp' });
    await us.waitUid(noforn);
    await us.waitUid(rel);
    await jp.waitUid(rel);
    await barrier(us, [jp]);
    assert.equal(jp.has(noforn), false, 'a restored NOFORN track of B reached a JPN viewer');
    await Promise.all([us.close(), jp.close()]);
});

test('NATS down: every instance is an island and serves its own clients; back: it heals', async () => {
    const v = await viewers();
    await nats.kill9();
    for (const n of Object.values(nodes))
        await waitUntil(async () => (await healthz(n)).cluster === 'island',
            { timeout: 15000, interval: 100, what: 'island mode' });
    assert.equal(await metric(nodes.A.port('web'), 'kizuna_cluster_joined'), 0);
    assert.ok(await metric(nodes.A.port('web'), 'kizuna_cluster_partitions_total') >= 1);
    // An island still serves its own clients.
    const local = uniq('island');
    const other = await CotClient.connect(nodes.B.port('us'), { name: 'B:other' });
    await v.B.send(cotEvent({ uid: local }));
    await other.waitUid(local);
    assert.ok(await metric(nodes.B.port('web'), 'kizuna_cluster_unsent_total') >= 1);

    await nats.start();
    for (const n of Object.values(nodes))
        await joined(n);
    assert.equal(await metric(nodes.A.port('web'), 'kizuna_cluster_joined'), 1);
    const healed = uniq('healed');
    await v.B.send(cotEvent({ uid: healed }));
    await v.A.waitUid(healed, { timeout: 10000 });
    await v.C.waitUid(healed, { timeout: 10000 });
    for (const id of ['A', 'B', 'C'])
        await barrier(v[id], Object.values(v).filter((c) => c !== v[id]));
    assert.equal(count(v.A, healed), 1);
    assert.equal(count(v.C, healed), 1);
    assert.equal(v.A.has(local), false, 'what B accepted as an island was not published later');
    for (const n of Object.values(nodes))
        assert.match(n.stderr, /cluster: rejoined/);
    assert.equal((nodes.A.stderr.match(/cluster: NATS lost/g) || []).length, 1,
        'the partition is logged once');
    await Promise.all([other.close(), closeAll(v)]);
});

test('NATS stopped and started again on its port (SIGTERM): events flow again, once each', async () => {
    const v = await viewers();
    const lostBefore = await metric(nodes.C.port('web'), 'kizuna_cluster_partitions_total');
    await nats.restart();
    await waitUntil(async () => await metric(nodes.C.port('web'), 'kizuna_cluster_partitions_total') > lostBefore,
        { timeout: 15000, interval: 100, what: 'C to notice the restart' });
    for (const n of Object.values(nodes))
        await joined(n);
    const uid = uniq('after-restart');
    await v.C.send(cotEvent({ uid }));
    await v.A.waitUid(uid, { timeout: 10000 });
    await v.B.waitUid(uid, { timeout: 10000 });
    for (const id of ['A', 'B', 'C'])
        await barrier(v[id], Object.values(v).filter((c) => c !== v[id]));
    assert.equal(count(v.A, uid), 1);
    assert.equal(count(v.B, uid), 1);
    await closeAll(v);
});

test('directed: an event for a callsign on A, sent on B, reaches that client only', async () => {
    const alpha = await CotClient.connect(nodes.A.port('us'), { name: 'A:alpha' });
    const other = await CotClient.connect(nodes.A.port('us'), { name: 'A:other' });
    const sender = await CotClient.connect(nodes.B.port('us'), { name: 'B:sender' });
    const callsign = uniq('ALPHA');
    await alpha.send(cotEvent({ uid: uniq('alpha-dev'), callsign }));
    await barrier(alpha, [other]);
    const msg = uniq('for-alpha');
    await sender.send(cotEvent({ uid: msg, type: 'b-t-f', dests: [{ callsign }], remarks: 'hello' }));
    await alpha.waitUid(msg);
    await barrier(sender, [alpha, other]);
    assert.equal(other.has(msg), false, 'a directed event reached another client');
    await Promise.all([alpha.close(), other.close(), sender.close()]);
});

test('a REST event on A reaches a client on B', async () => {
    const v = await viewers();
    const uid = uniq('rest');
    const res = await request(nodes.A.port('web'), 'POST', '/api/v1/events',
        { body: cotEvent({ uid }), headers: { 'content-type': 'application/xml' } });
    assert.ok(res.status >= 200 && res.status < 300, `POST: ${res.status} ${res.body}`);
    await v.B.waitUid(uid);
    await closeAll(v);
});

test('NATS unreachable at start: an island that serves, and joins once NATS answers', async () => {
    const later = new NatsServer(await freePort(), fs.mkdtempSync(path.join(os.tmpdir(), 'kizuna-nats-')));
    const config = nodeConfig('D');
    config.cluster = { nats: later.url };
    const d = await startServer({ config });
    try {
        assert.equal((await healthz(d)).cluster, 'island');
        assert.match(d.stderr, /cluster: NATS unreachable/);
        const a = await CotClient.connect(d.port('us'), { name: 'D:a' });
        const b = await CotClient.connect(d.port('us'), { name: 'D:b' });
        await barrier(a, [b]);
        await later.start();
        await joined(d);
        assert.match(d.stderr, /cluster: joined/);
        await Promise.all([a.close(), b.close()]);
    } finally {
        await d.stop();
        d.cleanup();
        await later.stop();
        later.cleanup();
    }
});
