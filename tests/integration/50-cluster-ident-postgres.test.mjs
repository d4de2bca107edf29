// 50-cluster-ident-postgres: identity changes with the users table the cluster shares (one
// PostgreSQL, lib/pg.mjs; one nats-server, lib/nats.mjs; two instances from copies of one CA's
// data directory).  Every write to the table notifies kizuna_users as it commits, and each
// instance LISTENs: `kizuna user del` against the shared table closes the user's TLS devices on
// both instances at once, as a local deletion closes them (`user deleted`), and each names the
// user on PREFIX.ctl.  The periodic users reload is set to 10 minutes here (tls.reload_ms), so
// nothing but the notices can make a change seen within the test.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { barrier, CotClient, metric, request, startServer, waitUntil } from './lib/harness.mjs';
import { cli, cotAs, tlsInstanceConfig } from './lib/cluster.mjs';
import { startNats } from './lib/nats.mjs';
import { startPostgres } from './lib/pg.mjs';

// The fallback reload, out of the test's reach; and how soon a notified change must be seen.
const RELOAD_MS = 600000;
const PROMPT_MS = 1000;
const LISTENING = /store: listening for users changes/g;
const WATCH_APP = 'kizuna users watch';

let nats;
let pg;
let db;
let dir;
const nodes = {};
const data = {};

const sum = async (name) => (await metric(nodes.A.port('web'), name)) + (await metric(nodes.B.port('web'), name));

before(async () => {
    nats = await startNats();
    pg = await startPostgres();
    db = pg.newDb();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kizuna-cluster-ident-pg-'));
    data.A = path.join(dir, 'A');
    data.B = path.join(dir, 'B');
    await cli('ca', 'init', '--data', data.A);
    fs.cpSync(data.A, data.B, { recursive: true });
    for (const id of ['A', 'B']) {
        nodes[id] = await startServer({ config: tlsInstanceConfig(id, nats.url, 'kzidentpg', {
            store: { backend: 'postgres', dsn: db.dsn, max_delay_ms: 50 }, tls: { reload_ms: RELOAD_MS },
        }), dataDir: data[id] });
        await waitUntil(async () => {
            const res = await request(nodes[id].port('web'), 'GET', '/healthz');
            return JSON.parse(res.body).cluster === 'joined';
        }, { timeout: 15000, interval: 100, what: `${id} to join` });
        await waitUntil(() => nodes[id].stderr.match(LISTENING),
            { timeout: 15000, what: `${id} to listen for users changes` });
    }
    // The users go to the shared table; the certificates are signed by the one CA.
    for (const user of ['pgone', 'pgstay', 'pgtwo', 'pgthree'])
        await cli('cert', 'issue', '--user', user, '--nation', 'USA', '--clearance', 'SECRET',
            '--groups', 'Cyan', '-c', nodes.A.configPath, '--data', data.A);
});

after(async () => {
    for (const n of Object.values(nodes)) {
        await n.stop();
        n.cleanup();
    }
    if (nats) {
        await nats.stop();
        nats.cleanup();
    }
    await pg?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

// A connection as `user` to `node`, once the instance knows the user: the notice of the
// `cert issue` that added it is all that can tell it within the test.
async function known(node, user) {
    let c;
    await waitUntil(async () => {
        try {
            c = await cotAs(data.A, node, user);
            return true;
        } catch {
            return false;
        }
    }, { timeout: 5000, interval: 200, what: `${node.configPath} to know ${user}` });
    return c;
}

// How long after `start` each client was closed; fails after 5 s.
async function closedAfter(start, clients) {
    return Promise.all(clients.map(async (c) => {
        await c.waitClosed(5000);
        return Date.now() - start;
    }));
}

test('user del on the shared table closes the devices of that user on both instances at once', async (t) => {
    const goneA = await known(nodes.A, 'pgone');
    const goneB = await known(nodes.B, 'pgone');
    const stay = await known(nodes.A, 'pgstay');
    await barrier(goneA, [stay]);
    const t0 = Date.now();
    await cli('user', 'del', 'pgone', '-c', nodes.B.configPath, '--data', data.B);
    const [tookA, tookB] = await closedAfter(t0, [goneA, goneB]);
    t.diagnostic(`closed ${tookA} ms (A) and ${tookB} ms (B) after user del began`);
    assert.ok(tookA < PROMPT_MS && tookB < PROMPT_MS, `closed after ${tookA} / ${tookB} ms`);
    assert.match(nodes.A.stderr, /connection closed.*reason="user deleted"/);
    assert.match(nodes.B.stderr, /connection closed.*reason="user deleted"/);
    // Neither instance lets the user in again.
    await assert.rejects(cotAs(data.A, nodes.A, 'pgone'));
    await assert.rejects(cotAs(data.A, nodes.B, 'pgone'));
    // Each instance's own reload found it and named it; each heard the other.
    await waitUntil(async () => await sum('kizuna_cluster_ident_received_total') >= 1,
        { timeout: 3000, what: 'the notice to be received' });
    assert.ok(await sum('kizuna_cluster_ident_published_total') >= 1);
    assert.match(nodes.A.stderr + nodes.B.stderr, /cluster: users changed on another instance/);
    const probe = await CotClient.connect(nodes.A.port('cot'));
    await barrier(probe, [stay]);
    assert.equal(stay.closed, false);
    await Promise.all([probe.close(), stay.close()]);
});

test('a lost listening connection is opened again, catches up, and hears the next change', async (t) => {
    const two = await known(nodes.A, 'pgtwo');
    const three = await known(nodes.B, 'pgthree');
    const before = { A: nodes.A.stderr.match(LISTENING).length, B: nodes.B.stderr.match(LISTENING).length };
    // Both listening connections end, and pgtwo is deleted before either is back (an instance
    // waits 1 s before it connects again): only the reload after the new LISTEN can see it.
    const t0 = Date.now();
    const killed = pg.sql(db.name, `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 5000))
        FROM pg_stat_activity WHERE application_name = '${WATCH_APP}'`);
    assert.equal(killed, '2');
    pg.sql(db.name, `DELETE FROM users WHERE "user" = 'pgtwo'`);
    const [took] = await closedAfter(t0, [two]);
    t.diagnostic(`pgtwo, deleted while nothing listened, closed after ${took} ms`);
    for (const id of ['A', 'B']) {
        await waitUntil(() => nodes[id].stderr.match(LISTENING).length > before[id],
            { timeout: 5000, what: `${id} to listen again` });
        assert.match(nodes[id].stderr, /store: users changes connection lost, reconnecting/);
    }
    assert.equal(pg.sql(db.name,
        `SELECT count(*) FROM pg_stat_activity WHERE application_name = '${WATCH_APP}'`), '2');
    // Listening again: the next change is heard as it commits.
    const t1 = Date.now();
    await cli('user', 'del', 'pgthree', '-c', nodes.A.configPath, '--data', data.A);
    const [tookThree] = await closedAfter(t1, [three]);
    t.diagnostic(`pgthree closed ${tookThree} ms after user del began`);
    assert.ok(tookThree < PROMPT_MS, `closed after ${tookThree} ms`);
});
