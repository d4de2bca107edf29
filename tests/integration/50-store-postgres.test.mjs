// 50-store-postgres: `kizuna serve` with `store.backend: postgres` on a real PostgreSQL 15
// with PostGIS (lib/pg.mjs).  The server migrates the schema and runs on it: CoT events over
// TCP and a POST are stored there (a 201 means committed), answered by /api/v1/events, kept
// across a kill -9 and a restart (the tracks come back), with their positions as PostGIS
// points; `kizuna user add -c CONFIG` writes the users table on PostgreSQL.  Without
// store.dsn serve refuses at once; an unreachable server is an error naming it, never with
// the DSN's password.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import {
    CotClient, cotEvent, httpInput, KIZUNA_BIN, makeConfig, postEvent, request, runCli, startServer,
    tcpInput, toYaml, tracks, uidsOf, uniq, waitUntil,
} from './lib/harness.mjs';
import { startPostgres } from './lib/pg.mjs';

let pg;
let dir;
let server;

before(async () => {
    pg = await startPostgres();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kz_it46_'));
});

after(async () => {
    if (server) {
        await server.stop();
        server.cleanup();
    }
    await pg?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

// Run `kizuna serve` with this store section; it must exit (bounded) on its own.
function serveFails(store) {
    const cfg = path.join(dir, `kizuna-${Date.now()}.yaml`);
    fs.writeFileSync(cfg, toYaml(makeConfig({ store })));
    const r = spawnSync(KIZUNA_BIN, ['serve', '-c', cfg, '--data', path.join(dir, 'data')],
        { encoding: 'utf8', timeout: 20000 });
    assert.equal(r.error, undefined, `serve did not exit by itself: ${r.error}`);
    assert.notEqual(r.status, 0);
    return r;
}

test('postgres without store.dsn is refused at once', () => {
    const r = serveFails({ backend: 'postgres' });
    assert.match(r.stderr, /store\.backend postgres needs store\.dsn/);
});

test('an unreachable PostgreSQL is an error that names the server, not a hang', () => {
    const r = serveFails({ backend: 'postgres', dsn: 'host=127.0.0.1 port=1 dbname=x user=kizuna password=pw-secret connect_timeout=3' });
    assert.match(r.stderr, /store: cannot open postgres" db="[^"]*host=127.0.0.1 port=1"/);
    assert.doesNotMatch(r.stderr, /pw-secret/);
});

const listed = async (port, uid) => {
    const got = await request(port, 'GET', `/api/v1/events?uid=${encodeURIComponent(uid)}`);
    assert.equal(got.status, 200, `GET events status ${got.status}: ${got.body}`);
    return uidsOf(got.json()).includes(uid);
};

test('serve runs on PostgreSQL: events stored, answered, kept across kill -9; users there', async () => {
    const db = pg.newDb();
    server = await startServer({
        inputs: [tcpInput('us'), httpInput('web', ['Cyan'])],
        store: { backend: 'postgres', dsn: `${db.dsn} password=hunter2-secret`, max_delay_ms: 200 },
    });
    assert.match(server.stderr, /store: postgres connected/);
    assert.doesNotMatch(server.stderr, /hunter2-secret/);
    assert.ok(Number(pg.sql(db.name, 'SELECT max(version) FROM schema_version')) >= 1);

    const client = await CotClient.connect(server.port('us'), { name: 'sender' });
    const uid = uniq('pg');
    await client.send(Array.from({ length: 50 }, (_, i) => cotEvent({ uid: `${uid}-${i % 5}` })));
    // A 201 means committed: listed at once, though the batch window is 200 ms.
    const posted = uniq('posted');
    const res = await postEvent(server.port('web'), cotEvent({ uid: posted, callsign: 'PG' }));
    assert.equal(res.status, 201, res.body);
    assert.ok(await listed(server.port('web'), posted), 'a 201 event is not in /api/v1/events');
    await waitUntil(() => Number(pg.sql(db.name, `SELECT count(*) FROM events WHERE uid LIKE '${uid}-%'`)) === 50,
        { timeout: 10000, what: '50 stream events in postgres' });
    assert.equal(pg.sql(db.name, 'SELECT count(*) FROM events WHERE pos IS NULL'), '0');
    assert.equal(pg.sql(db.name, "SELECT count(*) FROM events WHERE origin_node = 'test-1'"),
        pg.sql(db.name, 'SELECT count(*) FROM events'));

    // kill -9 while more stream events wait in the batch window; what was acknowledged stays.
    await client.send(Array.from({ length: 20 }, (_, i) => cotEvent({ uid: `${uid}-late-${i}` })));
    await server.kill9();
    await client.close();
    await server.restart();
    assert.ok(await listed(server.port('web'), posted), 'the 201 event was lost across kill -9');
    const ids = (await tracks(server.port('web'))).features.map((f) => f.properties?.uid ?? f.id);
    assert.ok(ids.includes(posted), 'its track did not come back from postgres');
    for (let i = 0; i < 5; i++) assert.ok(ids.includes(`${uid}-${i}`), `track ${uid}-${i} missing`);

    // The CLI's users go to the same database.
    const add = await runCli(['user', 'add', 'pguser', '--nation', 'USA', '--clearance', 'SECRET',
        '--groups', 'Cyan', '-c', server.configPath, '--data', server.dataDir]);
    assert.equal(add.code, 0, add.stderr);
    assert.equal(pg.sql(db.name, "SELECT count(*) FROM users WHERE \"user\" = 'pguser'"), '1');
    assert.equal(fs.existsSync(path.join(server.dataDir, 'kizuna.db')), false, 'a SQLite file appeared');
    await server.stop(); // fails on any error line in its log
    server.cleanup();
    server = null;
});

// The API's answer without what differs between two nodes by design (their receive times).
function comparable(json) {
    const items = json.features || json.events || json.items || json;
    return items.map((f) => {
        const p = { ...(f.properties || f) };
        for (const k of Object.keys(p)) if (/recv|received/i.test(k)) delete p[k];
        return JSON.stringify({ id: f.id, geometry: f.geometry, p });
    });
}

test('the same events through a SQLite node and a PostgreSQL node read back identically', async () => {
    const db = pg.newDb();
    const nodes = [
        await startServer({ inputs: [tcpInput('us'), httpInput('web', ['Cyan'])] }),
        await startServer({
            inputs: [tcpInput('us'), httpInput('web', ['Cyan'])],
            store: { backend: 'postgres', dsn: db.dsn },
        }),
    ];
    const base = Date.now();
    const events = Array.from({ length: 30 }, (_, i) => cotEvent({
        uid: `same-${i % 6}`, now: base + i * 1000, callsign: `S${i}`, remarks: `r ${i}`,
        point: { lat: 35 + i / 10, lon: 139 + i / 20, hae: i },
    }));
    try {
        const answers = [];
        for (const node of nodes) {
            const c = await CotClient.connect(node.port('us'), { name: 'same' });
            for (const ev of events) await c.send(ev); // in order: the same seqs on both
            await waitUntil(async () => {
                const r = await request(node.port('web'), 'GET', '/api/v1/events?limit=100');
                return r.status === 200 && uidsOf(r.json()).length === events.length;
            }, { timeout: 10000, what: 'every event stored' });
            await c.close();
            const r = await request(node.port('web'), 'GET', '/api/v1/events?limit=100');
            const t = await request(node.port('web'), 'GET', '/api/v1/events?uid=same-2&limit=3');
            answers.push({ all: comparable(r.json()), one: comparable(t.json()), tracks: comparable(await tracks(node.port('web'))) });
        }
        assert.deepEqual(answers[1].all, answers[0].all);
        assert.deepEqual(answers[1].one, answers[0].one);
        assert.equal(answers[0].one.length, 3);
        assert.deepEqual(answers[1].tracks.sort(), answers[0].tracks.sort());
    } finally {
        for (const n of nodes) {
            await n.stop();
            n.cleanup();
        }
    }
});
