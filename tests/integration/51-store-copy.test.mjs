// 51-store-copy: `kizuna store copy --from sqlite:DATA --to postgres:DSN` moves a node's
// store onto a real PostgreSQL 15 with PostGIS (lib/pg.mjs): a node runs on SQLite and takes
// events over TCP, stops, and its data directory is copied; every table's rows are in
// PostgreSQL (counted on both sides with sqlite3 and psql), progress is on stderr, the events
// have their positions, and a second run changes nothing.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { CotClient, cotEvent, KIZUNA_BIN, startServer, tcpInput, uniq, waitUntil } from './lib/harness.mjs';
import { startPostgres } from './lib/pg.mjs';

const TABLES = ['events', 'tracks', 'users', 'certs', 'audit', 'readiness', 'plans', 'files',
    'missions', 'mission_changes', 'fed_sent', 'fed_cursor'];
const N = 200;

let pg;
let server;

before(async () => {
    pg = await startPostgres();
});

after(async () => {
    if (server) {
        await server.stop().catch(() => {}); // still running when a test failed early
        server.cleanup();
    }
    await pg?.stop();
});

function sqlite(file, sql) {
    const r = spawnSync('sqlite3', [file, sql], { encoding: 'utf8', timeout: 10000 });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim();
}

function copy(dataDir, dsn) {
    const r = spawnSync(KIZUNA_BIN, ['store', 'copy', '--from', `sqlite:${dataDir}`, '--to', `postgres:${dsn}`,
        '--node', 'test-1'], { encoding: 'utf8', timeout: 60000 });
    assert.equal(r.error, undefined, `store copy did not exit by itself: ${r.error}`);
    return r;
}

test('a node stored on SQLite is copied, table by table, and again without a change', async () => {
    server = await startServer({ inputs: [tcpInput('us')] });
    const client = await CotClient.connect(server.port('us'), { name: 'sender' });
    const uid = uniq('copy');
    await client.send(Array.from({ length: N }, (_, i) => cotEvent({ uid: `${uid}-${i % 20}` })));
    const file = path.join(server.dataDir, 'kizuna.db');
    await waitUntil(() => Number(sqlite(file, 'SELECT count(*) FROM events')) >= N,
        { timeout: 10000, what: `${N} events committed` });
    await client.close();
    await server.stop();

    const db = pg.newDb();
    const first = copy(server.dataDir, db.dsn);
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stderr, new RegExp(`store copy: events ${N}/${N}`));
    assert.match(first.stderr, /store copy: done/);
    for (const t of TABLES)
        assert.equal(pg.sql(db.name, `SELECT count(*) FROM ${t}`), sqlite(file, `SELECT count(*) FROM ${t}`), t);
    assert.equal(pg.sql(db.name, 'SELECT count(*) FROM tracks'), '20');
    assert.equal(pg.sql(db.name, 'SELECT count(*) FROM events WHERE pos IS NULL'), '0');
    const seq = sqlite(file, 'SELECT max(seq) FROM events');
    assert.equal(pg.sql(db.name, `SELECT xml FROM events WHERE seq = ${seq}`),
        sqlite(file, `SELECT xml FROM events WHERE seq = ${seq}`));

    const again = copy(server.dataDir, db.dsn);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(pg.sql(db.name, 'SELECT count(*) FROM events'), String(N));
});

test('bad arguments are usage errors', () => {
    const r = spawnSync(KIZUNA_BIN, ['store', 'copy', '--from', '/some/dir', '--to', 'postgres:x'], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /need --from sqlite:PATH and --to postgres:DSN/);
});
