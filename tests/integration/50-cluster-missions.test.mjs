// 50-cluster-missions: Data Sync missions across two kizuna instances with one nats-server
// (lib/nats.mjs) and one PostgreSQL 15 (lib/pg.mjs) as their shared store (docs/cluster.md,
// "One PostgreSQL for the cluster").  A mission created and changed through A's Marti API is
// visible, with the change, through B's; a subscriber of that mission connected to B gets the
// t-x-m-c of a change made on A.  The outbox: a change committed on A while NATS is down
// leaves its row in mission_outbox; A is killed (kill -9) before it could publish; NATS comes
// back, A restarts and publishes the row at its first join: B then has the change and its
// subscriber is notified, and the outbox is empty.  An old row of an instance that never came
// back is published and deleted by the instances when they join again.  A file uploaded
// through A into the mission is downloaded by its hash through B, byte for byte (its bytes
// are in PostgreSQL, table file_content), under the same label rule: a JPN caller gets 404
// on B for a NOFORN file.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, test } from 'node:test';

import {
    barrier, CotClient, cotEvent, httpInput, identity, makeConfig, metric, request, startServer,
    tcpInput, waitUntil, withTimeout,
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
        inputs: [person(httpInput, 'web'), person(tcpInput, 'dev'), httpInput('web-jp', ['Cyan'], ['Cyan'], {
            identity: identity('jp', ['Cyan'], ['Cyan'], { nation: 'JPN', clearance: 'SECRET' }),
            default_label: 'UNCLASSIFIED',
        })],
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

// One request whose body comes back as bytes.
function send(port, method, urlPath, { body, headers = {} } = {}) {
    return withTimeout(new Promise((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, method, path: urlPath, agent: false, headers }, (res) => {
            const parts = [];
            res.on('data', (d) => parts.push(d));
            res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(parts) }));
            res.on('error', reject);
        });
        req.on('error', reject);
        if (body !== undefined) req.write(body);
        req.end();
    }), 20000, `${method} ${urlPath}`);
}

test('a file uploaded through A into the mission downloads through B, under its label', async () => {
    const data = crypto.randomBytes((5 << 19) + 77); // 2.5 MiB and a bit: several parts
    const hash = crypto.createHash('sha256').update(data).digest('hex');
    const label = encodeURIComponent('SECRET//NOFORN');
    const up = await send(nodes.A.port('web'), 'POST', `/Marti/sync/upload?name=chart.bin&label=${label}`,
        { body: data, headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(up.status, 200, up.body.toString());
    assert.equal(pg.sql(db.name, `SELECT count(*) FROM file_content WHERE hash = '${hash}'`), '3');
    const j = await call(nodes.A, 'PUT', `${M}/ops/contents?creatorUid=ANDROID-A`, { body: { hashes: [hash] }, ...owner() });
    assert.equal(j.status, 200, j.body);
    await waitUntil(async () => {
        const r = await call(nodes.B, 'GET', `${M}/ops`);
        return r.status === 200 && r.json().data[0].contents.some((c) => c.data.hash === hash && c.data.name === 'chart.bin');
    }, { timeout: 10000, what: 'the file in the mission on B, described as on A' });

    const onB = path.join(nodes.B.dataDir, 'files', hash.slice(0, 2), hash);
    assert.ok(!fs.existsSync(onB), 'B\'s disk does not have the bytes before a download');
    const jp = await send(nodes.B.port('web-jp'), 'GET', `/Marti/sync/content?hash=${hash}`);
    assert.equal(jp.status, 404, 'a NOFORN file is not for JPN on B either');
    assert.ok(!fs.existsSync(onB), 'a refused caller fetched nothing');
    const q = await send(nodes.B.port('web'), 'GET', `/Marti/sync/missionquery?hash=${hash}`);
    assert.equal(q.status, 200, q.body.toString());
    const down = await send(nodes.B.port('web'), 'GET', `/Marti/sync/content?hash=${hash}`);
    assert.equal(down.status, 200, down.body.toString());
    assert.equal(down.headers['content-type'], 'application/octet-stream');
    assert.equal(down.headers['content-length'], String(data.length));
    assert.ok(down.body.equals(data), 'the bytes B served differ from those uploaded to A');
    assert.ok(fs.existsSync(onB), 'B keeps the bytes it fetched');
    const again = await send(nodes.B.port('web'), 'GET', `/Marti/sync/content?hash=${hash}`);
    assert.ok(again.body.equals(data));
    assert.equal((await send(nodes.B.port('web-jp'), 'GET', `/Marti/sync/content?hash=${hash}`)).status, 404);
    const nobody = crypto.createHash('sha256').update('nobody').digest('hex');
    assert.equal((await send(nodes.B.port('web'), 'GET', `/Marti/sync/content?hash=${nobody}`)).status, 404);
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
