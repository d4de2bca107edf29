// 46-store-postgres: `store.backend: postgres` on a real PostgreSQL 15 with PostGIS
// (lib/pg.mjs).  serve connects, migrates the schema, and refuses to start while a table
// of the store is not on PostgreSQL, naming them, rather than run half-working; without
// store.dsn it refuses at once.  The DSN's password never reaches the log.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { KIZUNA_BIN, makeConfig, toYaml } from './lib/harness.mjs';
import { startPostgres } from './lib/pg.mjs';

let pg;
let dir;

before(async () => {
    pg = await startPostgres();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kz_it46_'));
});

after(async () => {
    await pg?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

// Run `kizuna serve` with this store section; it must exit (bounded) on its own.
function serve(store) {
    const cfg = path.join(dir, `kizuna-${Date.now()}.yaml`);
    fs.writeFileSync(cfg, toYaml(makeConfig({ store })));
    const r = spawnSync(KIZUNA_BIN, ['serve', '-c', cfg, '--data', path.join(dir, 'data')],
        { encoding: 'utf8', timeout: 20000 });
    assert.equal(r.error, undefined, `serve did not exit by itself: ${r.error}`);
    return r;
}

test('postgres without store.dsn is refused at once', () => {
    const r = serve({ backend: 'postgres' });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /store\.backend postgres needs store\.dsn/);
});

test('serve migrates the schema, then refuses while tables are missing on postgres', () => {
    const db = pg.newDb();
    const r = serve({ backend: 'postgres', dsn: `${db.dsn} password=hunter2-secret` });
    assert.notEqual(r.status, 0, 'serve must not run half-working');
    assert.match(r.stderr, /postgres backend lacks tables this server needs.*missing="[a-z_, ]+"/);
    assert.doesNotMatch(r.stderr, /hunter2-secret/);
    assert.match(r.stderr, /store: postgres connected/);
    assert.equal(pg.sql(db.name, 'SELECT max(version) > 0 FROM schema_version'), 't');
    const tables = pg.sql(db.name, "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables"
        + " WHERE schemaname = 'public' AND tablename <> 'spatial_ref_sys'").split(',');
    for (const t of ['audit', 'certs', 'events', 'fed_cursor', 'fed_sent', 'files', 'mission_changes',
        'missions', 'plans', 'readiness', 'schema_version', 'tracks', 'users'])
        assert.ok(tables.includes(t), `table ${t} missing: ${tables}`);
});

test('an unreachable PostgreSQL is an error that names the server, not a hang', () => {
    const r = serve({ backend: 'postgres', dsn: 'host=127.0.0.1 port=1 dbname=x user=kizuna password=pw-secret connect_timeout=3' });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /store: cannot open postgres" db="[^"]*host=127.0.0.1 port=1"/);
    assert.doesNotMatch(r.stderr, /pw-secret/);
});
