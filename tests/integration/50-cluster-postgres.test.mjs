// 50-cluster-postgres: three kizuna instances with one nats-server (lib/nats.mjs) and one
// PostgreSQL 15 with PostGIS (lib/pg.mjs) as their shared store (docs/cluster.md, "One
// PostgreSQL for the cluster").  A client on A receives what a client on B sends, with the
// release rule applied by each instance (a NOFORN track from B reaches a USA viewer on C,
// never a JPN one); only the origin writes, so each event is in PostgreSQL exactly once (psql
// and GET /api/v1/events on every instance agree); a kill -9 of B loses none of the events it
// acknowledged (POST answered 201, after COMMIT), read back through A; an instance restarted
// while others went on loads their tracks from PostgreSQL and replays them to a client that
// reconnects to it, under the same rule.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
    barrier, CotClient, cotEvent, postEvent, request, startServer, uidsOf, uniq, waitUntil,
} from './lib/harness.mjs';
import { instanceConfig, joined, stopAll } from './lib/cluster.mjs';
import { startNats } from './lib/nats.mjs';
import { startPostgres } from './lib/pg.mjs';

let nats;
let pg;
let db;
const nodes = {};

const nodeConfig = (id) =>
    instanceConfig(id, nats.url, { store: { backend: 'postgres', dsn: db.dsn, max_delay_ms: 50 } });


async function eventsOf(node, uid) {
    const res = await request(node.port('web'), 'GET', `/api/v1/events?uid=${encodeURIComponent(uid)}&limit=1000`);
    assert.equal(res.status, 200, res.body);
    return uidsOf(res.json()).filter((u) => u === uid).length;
}

const rows = (where) => Number(pg.sql(db.name, `SELECT count(*) FROM events WHERE ${where}`));

before(async () => {
    nats = await startNats();
    pg = await startPostgres();
    db = pg.newDb();
    for (const id of ['A', 'B', 'C'])
        nodes[id] = await startServer({ config: nodeConfig(id) });
    for (const n of Object.values(nodes))
        await joined(n);
});

after(async () => {
    await stopAll(nodes, nats);
    await pg?.stop();
});

test('a client on A receives what B sends; a NOFORN track from B reaches USA on C, not JPN', async () => {
    const a = await CotClient.connect(nodes.A.port('us'), { name: 'A:us' });
    const b = await CotClient.connect(nodes.B.port('us'), { name: 'B:us' });
    const cUs = await CotClient.connect(nodes.C.port('us'), { name: 'C:us' });
    const cJp = await CotClient.connect(nodes.C.port('jp'), { name: 'C:jp' });
    const plain = uniq('b2a');
    const noforn = uniq('noforn');
    await b.send(cotEvent({ uid: plain, callsign: 'BRAVO' }));
    await b.send(cotEvent({ uid: noforn, access: 'SECRET//NOFORN' }));
    await a.waitUid(plain);
    await cUs.waitUid(noforn);
    await barrier(b, [a, cUs, cJp]);
    assert.equal(a.events.filter((e) => e.uid === plain).length, 1);
    assert.equal(cJp.has(noforn), false, 'a NOFORN track from B reached a JPN viewer on C');
    assert.equal(cJp.has(plain), true);
    await Promise.all([a.close(), b.close(), cUs.close(), cJp.close()]);
});

test('only the origin writes: every event is in PostgreSQL exactly once', async () => {
    const a = await CotClient.connect(nodes.A.port('us'), { name: 'A:src' });
    const b = await CotClient.connect(nodes.B.port('us'), { name: 'B:src' });
    const c = await CotClient.connect(nodes.C.port('us'), { name: 'C:watch' });
    const ua = uniq('from-a');
    const ub = uniq('from-b');
    await a.send(Array.from({ length: 20 }, (_, i) => cotEvent({ uid: ua, now: Date.now() + i })).join(''));
    await b.send(Array.from({ length: 30 }, (_, i) => cotEvent({ uid: ub, now: Date.now() + i })).join(''));
    await barrier(a, [c]);
    await barrier(b, [c]);
    await waitUntil(() => rows(`uid = '${ua}'`) >= 20 && rows(`uid = '${ub}'`) >= 30,
        { timeout: 10000, what: 'both instances\' events in postgres' });
    await new Promise((r) => setTimeout(r, 300)); // a second copy would come in the next batch
    assert.equal(rows(`uid = '${ua}'`), 20);
    assert.equal(rows(`uid = '${ub}'`), 30);
    assert.equal(rows(`uid = '${ua}' AND origin_node <> 'A'`), 0);
    assert.equal(rows(`uid = '${ub}' AND origin_node <> 'B'`), 0);
    assert.equal(Number(pg.sql(db.name, 'SELECT count(*) - count(DISTINCT seq) FROM events')), 0);
    for (const n of Object.values(nodes)) {
        assert.equal(await eventsOf(n, ua), 20);
        assert.equal(await eventsOf(n, ub), 30);
    }
    await Promise.all([a.close(), b.close(), c.close()]);
});

test('kill -9 of B loses nothing it acknowledged: read back through A and C', async () => {
    const noise = await CotClient.connect(nodes.B.port('us'), { name: 'B:noise' });
    const uids = [];
    for (let round = 0; round < 5; round++) {
        // Stream traffic in flight, then acknowledged events: a 201 is sent after COMMIT.
        await noise.send(Array.from({ length: 100 }, () => cotEvent({ uid: uniq('noise') })).join(''));
        const uid = uniq('acked');
        const res = await postEvent(nodes.B.port('web'), cotEvent({ uid }));
        assert.equal(res.status, 201, res.body);
        uids.push(uid);
    }
    await noise.send(Array.from({ length: 100 }, () => cotEvent({ uid: uniq('noise') })).join(''));
    await nodes.B.kill9();
    await noise.close();
    for (const uid of uids) {
        assert.equal(await eventsOf(nodes.A, uid), 1, `${uid} acknowledged by B is missing on A`);
        assert.equal(await eventsOf(nodes.C, uid), 1, `${uid} acknowledged by B is missing on C`);
    }
    await nodes.B.restart();
    await joined(nodes.B);
    for (const uid of uids)
        assert.equal(await eventsOf(nodes.B, uid), 1);
    assert.equal(Number(pg.sql(db.name, 'SELECT count(*) - count(DISTINCT (origin_node, origin_seq)) FROM events')), 0);
});

test('restarted C replays the tracks B sent while it was down, under the release rule', async () => {
    await nodes.C.stop();
    const b = await CotClient.connect(nodes.B.port('us'), { name: 'B:late' });
    const noforn = uniq('late-noforn');
    const rel = uniq('late-rel');
    await b.send(cotEvent({ uid: noforn, access: 'SECRET//NOFORN' }) + cotEvent({ uid: rel, access: 'SECRET//REL TO USA, JPN' }));
    await waitUntil(() => rows(`uid IN ('${noforn}', '${rel}')`) === 2,
        { timeout: 10000, what: 'B\'s events in postgres' });
    await b.close();
    await nodes.C.restart();
    await joined(nodes.C);
    const us = await CotClient.connect(nodes.C.port('us'), { name: 'C:us-again' });
    const jp = await CotClient.connect(nodes.C.port('jp'), { name: 'C:jp-again' });
    await us.waitUid(noforn);
    await us.waitUid(rel);
    await jp.waitUid(rel);
    await barrier(us, [jp]);
    assert.equal(jp.has(noforn), false, 'a replayed NOFORN track of B reached a JPN viewer');
    await Promise.all([us.close(), jp.close()]);
});
