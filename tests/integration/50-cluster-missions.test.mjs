// 50-cluster-missions: Data Sync missions across two kizuna instances with one nats-server
// (lib/nats.mjs) and one PostgreSQL 15 (lib/pg.mjs) as their shared store (docs/cluster.md,
// "One PostgreSQL for the cluster").  A mission created and changed through A's Marti API is
// visible, with the change, through B's; a subscriber of that mission connected to B gets the
// t-x-m-c of a change made on A.  The outbox: a change committed on A while NATS is down
// leaves its row in mission_outbox; A is killed (kill -9) before it could publish; NATS comes
// back, A restarts and publishes the row at its first join: B then has the change and its
// subscriber is notified, and the outbox is empty.  An old row of an instance that never came
// back is published and deleted by the instances when they join again.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
    barrier, CotClient, cotEvent, httpInput, identity, makeConfig, metric, request, startServer,
    tcpInput, waitUntil,
} from './lib/harness.mjs';
import { startNats } from './lib/nats.mjs';
import { startPostgres } from './lib/pg.mjs';

const M = '/Marti/api/missions';
let nats;
let pg;
let db;
const nodes = {};
const dev = {};
let token;

const person = (proto, name) => proto(name, ['Cyan'], ['Cyan'], {
    identity: identity(name, ['Cyan'], ['Cyan'], { nation: 'USA', clearance: 'SECRET' }),
    default_label: 'UNCLASSIFIED',
});

function nodeConfig(id) {
    const config = makeConfig({
        node: { id },
        inputs: [person(httpInput, 'web'), person(tcpInput, 'dev')],
        store: { backend: 'postgres', dsn: db.dsn, max_delay_ms: 20 },
    });
    config.cluster = { nats: nats.url };
    return config;
}

async function joined(node) {
    await waitUntil(async () => {
        const res = await request(node.port('web'), 'GET', '/healthz');
        return res.status === 200 && JSON.parse(res.body).cluster === 'joined';
    }, { timeout: 15000, interval: 100, what: 'the instance to join the cluster' });
}

const call = (node, method, p, { body, headers = {} } = {}) => request(node.port('web'), method, p, {
    body: body === undefined ? undefined : JSON.stringify(body),
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
});
const owner = () => ({ headers: { MissionAuthorization: `Bearer ${token}` } });

// The mission's uids as `node` answers them (null: it does not know the mission).
async function uidsOn(node) {
    const r = await call(node, 'GET', `${M}/ops`);
    if (r.status === 404) return null;
    assert.equal(r.status, 200, r.body);
    return r.json().data[0].uids.map((u) => u.data);
}

const changeOf = (c, uid) => c.events.find((e) => e.type === 't-x-m-c' && e.detail.includes(`<contentUid>${uid}</contentUid>`));
const outboxRows = () => Number(pg.sql(db.name, 'SELECT count(*) FROM mission_outbox'));

before(async () => {
    nats = await startNats();
    pg = await startPostgres();
    db = pg.newDb();
    for (const id of ['A', 'B'])
        nodes[id] = await startServer({ config: nodeConfig(id) });
    for (const n of Object.values(nodes))
        await joined(n);
    // ANDROID-B is a device on B; ANDROID-A a device on A that places the markers.
    dev.A = await CotClient.connect(nodes.A.port('dev'), { name: 'A:dev' });
    dev.B = await CotClient.connect(nodes.B.port('dev'), { name: 'B:dev' });
    await dev.A.send(cotEvent({ uid: 'ANDROID-A', callsign: 'ALPHA' }));
    await dev.B.send(cotEvent({ uid: 'ANDROID-B', callsign: 'BRAVO' }));
    await barrier(dev.A, [dev.B]);
    await barrier(dev.B, [dev.A]);
});

after(async () => {
    for (const c of Object.values(dev)) await c.close();
    for (const n of Object.values(nodes)) {
        await n.stop();
        n.cleanup();
    }
    if (nats) {
        await nats.stop();
        nats.cleanup();
    }
    await pg?.stop();
});

test('a mission created on A is on B; B\'s subscription is known on A', async () => {
    const r = await call(nodes.A, 'POST', `${M}/ops?creatorUid=ANDROID-A&description=harbour&group=Cyan`);
    assert.equal(r.status, 201, r.body);
    token = r.json().data[0].token;
    await waitUntil(async () => (await uidsOn(nodes.B)) !== null,
        { timeout: 10000, what: 'the mission on B' });
    const onB = (await call(nodes.B, 'GET', `${M}/ops`)).json().data[0];
    assert.equal(onB.description, 'harbour');
    assert.equal(onB.guid, r.json().data[0].guid);
    const s = await call(nodes.B, 'PUT', `${M}/ops/subscription?uid=ANDROID-B`);
    assert.equal(s.status, 201, s.body);
    await waitUntil(async () => {
        const subs = await call(nodes.A, 'GET', `${M}/ops/subscriptions`);
        return subs.status === 200 && subs.json().data.includes('ANDROID-B');
    }, { timeout: 10000, what: 'B\'s subscription on A' });
    await waitUntil(() => outboxRows() === 0, { timeout: 10000, what: 'published outbox rows deleted' });
});

test('a change on A: visible through B, and B\'s subscriber gets its t-x-m-c', async () => {
    await dev.A.send(cotEvent({ uid: 'marker-1' }));
    await barrier(dev.A, [dev.B]);
    const j = await call(nodes.A, 'PUT', `${M}/ops/contents?creatorUid=ANDROID-A`, { body: { uids: ['marker-1'] }, ...owner() });
    assert.equal(j.status, 200, j.body);
    const n = await dev.B.waitFor((e) => changeOf(dev.B, 'marker-1') === e, { what: 't-x-m-c marker-1 on B', timeout: 10000 });
    assert.match(n.detail, /<type>ADD_CONTENT<\/type>/);
    assert.match(n.detail, /<creatorUid>ANDROID-A<\/creatorUid>/);
    assert.deepEqual(await uidsOn(nodes.B), ['marker-1']);
    const changes = (await call(nodes.B, 'GET', `${M}/ops/changes`)).json().data;
    assert.ok(changes.some((c) => c.type === 'ADD_CONTENT' && c.contentUid === 'marker-1'));
    await barrier(dev.A, [dev.B]);
    const copies = (c) => c.events.filter((e) => e.type === 't-x-m-c' && e.detail.includes('<contentUid>marker-1</contentUid>')).length;
    assert.equal(copies(dev.B), 1);
    assert.equal(copies(dev.A), 1, 'the creator, subscribed on A, is notified by A only');
    assert.ok(await metric(nodes.A.port('web'), 'kizuna_cluster_mission_notices_published_total') >= 2);
    assert.ok(await metric(nodes.B.port('web'), 'kizuna_cluster_mission_notices_received_total') >= 2);
    assert.equal(await metric(nodes.B.port('web'), 'kizuna_cluster_mission_notices_refused_total'), 0);
});

test('outbox: a change A committed but never published reaches B after A restarts', async () => {
    await nats.kill9();
    await waitUntil(async () => JSON.parse((await request(nodes.A.port('web'), 'GET', '/healthz')).body).cluster === 'island',
        { timeout: 15000, interval: 100, what: 'A an island' });
    const j = await call(nodes.A, 'PUT', `${M}/ops/contents?creatorUid=ANDROID-A`, { body: { uids: ['marker-2'] }, ...owner() });
    assert.equal(j.status, 200, j.body); // committed
    assert.equal(outboxRows(), 1, 'the change left its outbox row');
    await nodes.A.kill9();
    assert.deepEqual(await uidsOn(nodes.B), ['marker-1'], 'B knew of the change without a notice');
    await nats.start();
    await joined(nodes.B);
    await nodes.A.restart();
    await joined(nodes.A);
    const n = await dev.B.waitFor((e) => changeOf(dev.B, 'marker-2') === e, { what: 't-x-m-c marker-2 on B', timeout: 15000 });
    assert.match(n.detail, /<type>ADD_CONTENT<\/type>/);
    assert.deepEqual((await uidsOn(nodes.B)).sort(), ['marker-1', 'marker-2']);
    await waitUntil(() => outboxRows() === 0, { timeout: 10000, what: 'the outbox row deleted' });
    assert.match(nodes.A.stderr, /outbox rows published after a join/);
});

test('outbox: an old row of an instance that never came back is published by whoever joins', async () => {
    const guid = pg.sql(db.name, "SELECT guid FROM missions WHERE name = 'ops'");
    const published = () => (nodes.A.stderr + nodes.B.stderr).match(/outbox rows published after a join" rows=1 sent=1/g)?.length ?? 0;
    const before = published();
    pg.sql(db.name, `INSERT INTO mission_outbox(origin, stamp, guid, change_id, created) VALUES ('Z', 1, '${guid}', 1, 1)`);
    await nats.restart();
    for (const n of Object.values(nodes))
        await joined(n);
    await waitUntil(() => outboxRows() === 0, { timeout: 15000, what: 'the orphan row published and deleted' });
    assert.ok(published() > before, 'no instance said it published the orphan row');
});
