// pg_history.mjs - the history query (GET /api/v1/events?bbox=&since=, newest 100) on N stored
// events in PostgreSQL + PostGIS, as pg_query.c builds it, timed with pgbench (one client).
//
//   node bench/pg_history.mjs [N]        (default 1 000 000; KIZUNA_BIN: the binary)
//
// A real PostgreSQL 15 is started for the run (tests/integration/lib/pg.mjs, fsync off: this
// measures reads); `kizuna serve` on it creates the schema; N events over ten days, 50 000 uids,
// points uniform over Japan (122..146 E, 24..46 N) are inserted in SQL; then each query shape
// runs for 8 s and its p50/p99 latency is printed with the plan's first nodes.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
process.env.KIZUNA_BIN ||= path.join(here, '../build/kizuna');
const { startServer } = await import('../tests/integration/lib/harness.mjs');
const { startPostgres } = await import('../tests/integration/lib/pg.mjs');
const BIN = '/usr/lib/postgresql/15/bin';
const N = Number(process.argv[2] || 1000000);
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kz_pgh_'));
fs.chmodSync(work, 0o777); // pgbench writes its logs as whoever runs it

function psql(dsn, sql) {
    const r = spawnSync(`${BIN}/psql`, ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-d', dsn, '-c', sql],
        { encoding: 'utf8', timeout: 1800000 });
    if (r.status !== 0) throw new Error(`${sql.slice(0, 80)}: ${r.stderr}`);
    return r.stdout.trim();
}

function fill(dsn) {
    const span = 864000000000; // ten days in µs
    for (let lo = 1; lo <= N; lo += 1000000) {
        const hi = Math.min(N, lo + 999999);
        psql(dsn, `INSERT INTO events(seq, uid, type, time, start, stale, recv_time, label, origin_input,
            origin_user, xml, origin_nation, origin_groups, origin_node, origin_seq, pos)
          SELECT g, 'u' || (g % 50000), 'a-f-G-U-C', t, t, t + 60000000, t, 'UNCLASSIFIED', 'cot-us', 'u',
            repeat('x', 250), 'USA', 'Cyan', 'bench', g,
            ST_SetSRID(ST_MakePoint(122 + random() * 24, 24 + random() * 22, 10), 4326)::geography
          FROM (SELECT g, (extract(epoch from now()) * 1e6)::bigint - (${N} - g) * (${span} / ${N}) AS t
                FROM generate_series(${lo}, ${hi}) g) x`);
    }
    psql(dsn, 'VACUUM ANALYZE events');
}

const ago = (us) => `(extract(epoch from now()) * 1e6)::bigint - ${us}`;
const query = (box, since) => 'SELECT seq, recv_time, label, origin_input, origin_user, xml, origin_nation,'
    + ' origin_groups, fed_provenance, fed_hops, fed_max_hops, ST_X(pos::geometry), ST_Y(pos::geometry)'
    + ' FROM events WHERE true'
    + (since ? ` AND recv_time >= ${since}` : '')
    + ` AND (pos::geometry && ST_MakeEnvelope(${box}, 4326)) ORDER BY seq DESC LIMIT 100`;
const shapes = {
    'bbox 1x1 deg + since 1 h': query('139, 35, 140, 36', ago(3600e6)),
    'bbox 0.1x0.1 deg + since 24 h': query('139.5, 35.5, 139.6, 35.6', ago(86400e6)),
    'bbox all Japan + since 1 h': query('122, 24, 146, 46', ago(3600e6)),
    'bbox 1x1 deg, no since': query('139, 35, 140, 36', null),
};

function time(dsn, sql) {
    const logs = fs.mkdtempSync(path.join(work, 'log-'));
    fs.chmodSync(logs, 0o777);
    fs.writeFileSync(path.join(work, 'q.sql'), `${sql};\n`);
    const r = spawnSync(`${BIN}/pgbench`, ['-n', '-T', '8', '-c', '1', '-f', path.join(work, 'q.sql'), '-l',
        `--log-prefix=${path.join(logs, 'x')}`, dsn], { encoding: 'utf8', cwd: work });
    if (r.status !== 0) throw new Error(r.stderr);
    const ms = fs.readdirSync(logs).flatMap((f) => fs.readFileSync(path.join(logs, f), 'utf8').trim().split('\n'))
        .map((l) => Number(l.split(' ')[2]) / 1000).sort((a, b) => a - b);
    const at = (p) => ms[Math.min(ms.length - 1, Math.floor(ms.length * p))].toFixed(2);
    return { n: ms.length, p50: at(0.5), p99: at(0.99) };
}

const pg = await startPostgres();
try {
    const db = pg.newDb('kz_bench');
    const node = await startServer({ store: { backend: 'postgres', dsn: db.dsn } });
    await node.stop();
    node.cleanup();
    const t0 = Date.now();
    fill(db.dsn);
    console.log(`${N} events in ${((Date.now() - t0) / 1000).toFixed(0)} s,`
        + ` events ${psql(db.dsn, "SELECT pg_size_pretty(pg_total_relation_size('events'))")} with indexes`);
    for (const [name, sql] of Object.entries(shapes)) {
        const t = time(db.dsn, sql);
        const rows = psql(db.dsn, `SELECT count(*) FROM (${sql}) x`);
        const plan = psql(db.dsn, `EXPLAIN ${sql}`).split('\n').slice(0, 4)
            .map((l) => l.replace(/^[\s->]+/, '').replace(/\s+\(cost.*$/, '')).join(' / ');
        console.log(`${name}: p50 ${t.p50} ms, p99 ${t.p99} ms (${t.n} runs, ${rows} rows) plan: ${plan}`);
    }
} finally {
    await pg.stop();
    fs.rmSync(work, { recursive: true, force: true });
}
