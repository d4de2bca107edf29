// pg.mjs - a real PostgreSQL 15 with PostGIS for an integration test.
//
// startPostgres() runs initdb into a fresh temporary directory (as the
// `postgres` user when the test runs as root: PostgreSQL refuses root), starts
// `postgres` on a free 127.0.0.1 port with its socket in that directory, waits
// (bounded) until it accepts and creates the postgis extension in template1,
// so every database made by newDb() has it.  stop() ends the server by pid
// (SIGINT: fast shutdown, then SIGKILL after a bounded wait) and removes the
// directory; it is also registered for the process's exit, so a failing test
// leaves nothing running.

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { freePort } from './harness.mjs';

const BIN = '/usr/lib/postgresql/15/bin';
const START_MS = 30000;
const STOP_MS = 10000;
const running = new Set();

process.on('exit', () => {
    for (const pg of running) {
        try { process.kill(pg.pid, 'SIGKILL'); } catch { /* gone */ }
        fs.rmSync(pg.dir, { recursive: true, force: true });
    }
});

// Who runs the server: the postgres user when we are root.
function owner() {
    if (process.getuid() !== 0) return {};
    const id = (flag) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
    return { uid: id('-u'), gid: id('-g') };
}

class Postgres {
    constructor(dir, port, child, who) {
        this.dir = dir;
        this.port = port;
        this.child = child;
        this.pid = child.pid;
        this.who = who;
        this.dbs = 0;
    }

    dsn(db = 'postgres') {
        return `host=127.0.0.1 port=${this.port} user=kizuna dbname=${db} connect_timeout=5`;
    }

    // Run SQL with psql; its stdout (rows unaligned, tuples only), or throw with psql's stderr.
    sql(db, text) {
        const r = spawnSync(`${BIN}/psql`, ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1',
            '-d', this.dsn(db), '-c', text], { encoding: 'utf8', timeout: 30000 });
        if (r.status !== 0) throw new Error(`psql: ${text}: ${r.stderr || r.error}`);
        return r.stdout.trim();
    }

    // A fresh database with postgis; its DSN.
    newDb(prefix = 'kz_it') {
        const name = `${prefix}_${++this.dbs}`;
        this.sql('postgres', `CREATE DATABASE ${name}`);
        return { name, dsn: this.dsn(name) };
    }

    async stop() {
        if (!running.has(this)) return;
        running.delete(this);
        const exited = new Promise((resolve) => {
            if (this.child.exitCode !== null || this.child.signalCode !== null) resolve();
            else this.child.once('exit', resolve);
        });
        try { process.kill(this.pid, 'SIGINT'); } catch { /* gone */ }
        let timer;
        const late = new Promise((resolve) => { timer = setTimeout(resolve, STOP_MS, 'late'); });
        if ((await Promise.race([exited, late])) === 'late') {
            try { process.kill(this.pid, 'SIGKILL'); } catch { /* gone */ }
            await exited;
        }
        clearTimeout(timer);
        fs.rmSync(this.dir, { recursive: true, force: true });
    }
}

async function accepting(dsn) {
    return spawnSync(`${BIN}/pg_isready`, ['-d', dsn, '-t', '1']).status === 0;
}

export async function startPostgres() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kz_pg_'));
    const who = owner();
    if (who.uid !== undefined) fs.chownSync(dir, who.uid, who.gid);
    const data = path.join(dir, 'data');
    const init = spawnSync(`${BIN}/initdb`, ['-D', data, '-U', 'kizuna', '-A', 'trust', '-E', 'UTF8',
        '--no-sync'], { ...who, encoding: 'utf8', timeout: START_MS });
    if (init.status !== 0) {
        fs.rmSync(dir, { recursive: true, force: true });
        throw new Error(`initdb failed: ${init.stderr || init.error}`);
    }
    const port = await freePort();
    const log = fs.openSync(path.join(dir, 'postgres.log'), 'a');
    const child = spawn(`${BIN}/postgres`, ['-D', data, '-p', String(port), '-k', dir,
        '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'max_connections=50'],
        { ...who, stdio: ['ignore', 'ignore', log] });
    fs.closeSync(log);
    const pg = new Postgres(dir, port, child, who);
    running.add(pg);
    const deadline = Date.now() + START_MS;
    while (!(await accepting(pg.dsn()))) {
        if (Date.now() > deadline || child.exitCode !== null) {
            const tail = fs.readFileSync(path.join(dir, 'postgres.log'), 'utf8').slice(-2000);
            await pg.stop();
            throw new Error(`postgres did not start: ${tail}`);
        }
        await new Promise((r) => setTimeout(r, 50));
    }
    pg.sql('template1', 'CREATE EXTENSION postgis');
    return pg;
}
