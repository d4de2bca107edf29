// 47-cluster-latest: the latest state of a cluster lives in NATS' JetStream KV, mirrored by every
// instance (docs/cluster.md, "Latest state and leases").  Two instances, one NATS: a client connecting to B gets the
// latest-state replay of the tracks sent on A, under the release rule per client; B stopped
// while A sends and deletes, then started again: its new clients get what A sent meanwhile
// (only the bucket has it: B never heard it live) and not the track A deleted (which B's own
// store still had).  NATS killed: what B accepts as an island is written to the bucket once NATS
// is back, and A's new clients are replayed it.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
    barrier, CotClient, cotEvent, deleteEvent, metric, startServer, uniq, waitUntil,
} from './lib/harness.mjs';
import { instanceConfig, joined, stopAll } from './lib/cluster.mjs';
import { startNats } from './lib/nats.mjs';

let nats;
const nodes = {};

const nodeConfig = (id) => instanceConfig(id, nats.url);


// The mirror's first snapshot is in (this run of the process).
async function loaded(node) {
    await waitUntil(async () => /cluster: latest state loaded/.test(node.runStderr()),
        { timeout: 15000, interval: 50, what: 'the latest-state snapshot' });
}

// A's events are in the bucket (its writer thread wrote `n` in all).
async function written(n) {
    await waitUntil(async () => await metric(nodes.A.port('web'), 'kizuna_cluster_latest_written_total') >= n,
        { timeout: 10000, interval: 50, what: `${n} events written to the bucket` });
}

before(async () => {
    nats = await startNats();
    for (const id of ['A', 'B'])
        nodes[id] = await startServer({ config: nodeConfig(id) });
    for (const n of Object.values(nodes)) {
        await joined(n);
        await loaded(n);
    }
});

after(() => stopAll(nodes, nats));

test('B replays what A sent, also while B was down, under the release rule; not what A deleted', async () => {
    const src = await CotClient.connect(nodes.A.port('us'), { name: 'A:src' });
    const kept = uniq('kept');
    const doomed = uniq('doomed');
    await src.send(cotEvent({ uid: kept, callsign: 'KEPT' }) + cotEvent({ uid: doomed, callsign: 'DOOMED' }));
    await written(2);
    const first = await CotClient.connect(nodes.B.port('us'), { name: 'B:first' });
    await first.waitUid(kept);
    await first.waitUid(doomed);
    await first.close();

    // B down: what A sends now reaches B only through the bucket.
    await nodes.B.stop();
    const noforn = uniq('noforn');
    const rel = uniq('rel-jpn');
    const moved = uniq('while-down');
    await src.send(cotEvent({ uid: noforn, access: 'SECRET//NOFORN' }) +
        cotEvent({ uid: rel, access: 'SECRET//REL TO USA, JPN' }) +
        cotEvent({ uid: moved, callsign: 'MOVED' }) + deleteEvent(doomed));
    await written(6); // three tracks and the tombstone of `doomed`

    await nodes.B.restart({ samePorts: true });
    await joined(nodes.B);
    await loaded(nodes.B);
    const us = await CotClient.connect(nodes.B.port('us'), { name: 'B:us' });
    const jp = await CotClient.connect(nodes.B.port('jp'), { name: 'B:jp' });
    for (const uid of [kept, noforn, rel, moved])
        await us.waitUid(uid);
    for (const uid of [kept, rel, moved])
        await jp.waitUid(uid);
    // Markers each way: the replays are over.
    await barrier(us, [jp]);
    await barrier(jp, [us]);
    assert.equal(us.has(doomed), false, 'a track deleted while B was down was replayed');
    assert.equal(jp.has(doomed), false, 'a track deleted while B was down was replayed');
    assert.equal(jp.has(noforn), false, 'a NOFORN track reached a JPN viewer through the bucket');
    assert.ok(await metric(nodes.B.port('web'), 'kizuna_cluster_latest_applied_total') >= 3);
    assert.ok(await metric(nodes.B.port('web'), 'kizuna_cluster_latest_forgotten_total') >= 1);
    assert.ok(await metric(nodes.B.port('web'), 'kizuna_cluster_latest_entries') >= 5);
    assert.equal(await metric(nodes.A.port('web'), 'kizuna_cluster_latest_dropped_total'), 0);
    await Promise.all([src.close(), us.close(), jp.close()]);
});

test('a live event reaches B\'s clients once, whichever of the bucket and core NATS is first', async () => {
    const src = await CotClient.connect(nodes.A.port('us'), { name: 'A:src2' });
    const watch = await CotClient.connect(nodes.B.port('us'), { name: 'B:watch' });
    const uids = [];
    for (let i = 0; i < 20; i++) {
        const uid = uniq('live');
        uids.push(uid);
        await src.send(cotEvent({ uid }));
    }
    for (const uid of uids)
        await watch.waitUid(uid);
    await barrier(src, [watch]);
    for (const uid of uids)
        assert.equal(watch.events.filter((e) => e.uid === uid).length, 1, `${uid} delivered twice`);
    await Promise.all([src.close(), watch.close()]);
});

test('NATS down: what B accepts as an island reaches the bucket once NATS is back; A replays it', async () => {
    const src = await CotClient.connect(nodes.B.port('us'), { name: 'B:island' });
    const before = await metric(nodes.B.port('web'), 'kizuna_cluster_latest_written_total');
    await nats.kill9();
    for (const n of Object.values(nodes))
        await waitUntil(async () => await metric(n.port('web'), 'kizuna_cluster_joined') === 0,
            { timeout: 15000, interval: 100, what: 'island mode' });
    const unsent = await metric(nodes.B.port('web'), 'kizuna_cluster_unsent_total');
    const island = uniq('island');
    await src.send(cotEvent({ uid: island, callsign: 'ISLAND' }));
    await waitUntil(async () => await metric(nodes.B.port('web'), 'kizuna_cluster_unsent_total') > unsent,
        { timeout: 5000, interval: 50, what: 'B to accept the event as an island' });
    await nats.start();
    for (const n of Object.values(nodes))
        await joined(n);
    await waitUntil(async () => await metric(nodes.B.port('web'), 'kizuna_cluster_latest_written_total') >= before + 1,
        { timeout: 15000, interval: 100, what: 'the island-time event written to the bucket' });
    const late = await CotClient.connect(nodes.A.port('us'), { name: 'A:late' });
    await late.waitUid(island, { timeout: 10000 });
    await Promise.all([src.close(), late.close()]);
});
