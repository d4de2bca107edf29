// 51-store-copy: `kizuna store copy --from sqlite:DATA --to postgres:DSN` moves a node's
// store onto a real PostgreSQL 15 with PostGIS (lib/pg.mjs): a node runs on SQLite and takes
// events over TCP, stops, and its data directory is copied; every table's rows are in
// PostgreSQL (counted on both sides with sqlite3 and psql), progress is on stderr, the events
// have their positions, and a second run changes nothing.  A file the node took over Marti has
// its bytes in PostgreSQL after the copy: a node on that database with an empty data
// directory serves it byte for byte.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, test } from 'node:test';

import {
    CotClient, cotEvent, httpInput, identity, KIZUNA_BIN, makeConfig, request, startServer, tcpInput, uniq,
    waitUntil,
} from './lib/harness.mjs';
import { startPostgres } from './lib/pg.mjs';

const TABLES = ['events', 'tracks', 'users', 'certs', 'audit', 'readiness', 'plans', 'files',
    'missions', 'mission_changes', 'fed_sent', 'fed_cursor'];
const N = 200;

let pg;
let server;
let db;
const fileData = crypto.randomBytes((3 << 20) + 5); // four parts in PostgreSQL
const fileHash = crypto.createHash('sha256').update(fileData).digest('hex');
const web = () => httpInput('web', ['Cyan'], ['Cyan'], { identity: identity('web-user', ['Cyan'], ['Cyan'], { nation: 'USA' }) });

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
    server = await startServer({ inputs: [tcpInput('us'), web()] });
    const up = await request(server.port('web'), 'POST', '/Marti/sync/upload?name=chart.bin',
        { body: fileData, headers: { 'content-type': 'application/octet-stream' }, timeout: 20000 });
    assert.equal(up.status, 200, up.body);
    const client = await CotClient.connect(server.port('us'), { name: 'sender' });
    const uid = uniq('copy');
    await client.send(Array.from({ length: N }, (_, i) => cotEvent({ uid: `${uid}-${i % 20}` })));
    const file = path.join(server.dataDir, 'kizuna.db');
    await waitUntil(() => Number(sqlite(file, 'SELECT count(*) FROM events')) >= N,
        { timeout: 10000, what: `${N} events committed` });
    await client.close();
    await server.stop();

    db = pg.newDb();
    const first = copy(server.dataDir, db.dsn);
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stderr, new RegExp(`store copy: events ${N}/${N}`));
    assert.match(first.stderr, /store copy: done/);
    assert.match(first.stderr, /store copy: file_content 1\/1/);
    assert.equal(pg.sql(db.name, 'SELECT encode(sha256(string_agg(data, \'\'::bytea ORDER BY part)), \'hex\')'
        + ` || ' ' || count(*) FROM file_content WHERE hash = '${fileHash}'`), `${fileHash} 4`);
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

test('the copied node\'s file is served from PostgreSQL by a node with an empty data directory', async () => {
    assert.ok(db, 'the copy test ran first');
    const node = await startServer({
        config: makeConfig({ inputs: [web()], store: { backend: 'postgres', dsn: db.dsn, max_delay_ms: 20 } }),
    });
    try {
        assert.ok(!fs.existsSync(`${node.dataDir}/files/${fileHash.slice(0, 2)}/${fileHash}`));
        const down = await new Promise((resolve, reject) => {
            http.get({ host: '127.0.0.1', port: node.port('web'), path: `/Marti/sync/content?hash=${fileHash}` }, (res) => {
                const parts = [];
                res.on('data', (d) => parts.push(d));
                res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(parts) }));
            }).on('error', reject);
        });
        assert.equal(down.status, 200, down.body.toString());
        assert.ok(down.body.equals(fileData), 'the served bytes differ from the uploaded ones');
    } finally {
        await node.stop();
        node.cleanup();
    }
});

test('bad arguments are usage errors', () => {
    const r = spawnSync(KIZUNA_BIN, ['store', 'copy', '--from', '/some/dir', '--to', 'postgres:x'], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /need --from sqlite:PATH and --to postgres:DSN/);
});
