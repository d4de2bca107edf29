// 51-cluster-fed-lease-postgres: the lease takeover of 51-cluster-fed-lease on one shared
// PostgreSQL (docs/cluster.md, "One PostgreSQL for the cluster").  Two instances of the USA
// node (kz-usa-1, kz-usa-2) on one PostgreSQL 15 and one nats-server, both configured with the
// same outgoing v2 link to the JPN partner X (a kizuna node with its own SQLite store).  The
// owner sends from the shared log, numbered by the database, so its cursor and X's kz-resume
// point name the same rows on every instance.  Events are posted to both instances at once;
// the owner is killed (kill -9) mid-stream; after the survivor takes the lease, X's
// subscriber has received every event the database holds exactly once, in the database's
// order.  And on the shared store, an SSE Last-Event-ID is not used: the stream starts with
// the latest-state replay.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { CotClient, openStream, request, startServer, uniq, waitUntil } from './lib/harness.mjs';
import { fedPort, fedStatus, nationalPki } from './lib/fed.mjs';
import { instanceConfig, partnerConfig, post, waitOwner } from './lib/fedlease.mjs';
import { startNats } from './lib/nats.mjs';
import { startPostgres } from './lib/pg.mjs';

const TTL_S = 3;
// As in 51-cluster-fed-lease: the ttl, the next attempt, nats-server's sweep, the handshakes.
const TAKEOVER_BOUND_MS = TTL_S * 1000 + 4000;

let nats;
let pg;
let db;
let root;
let X;
const usa = {};


before(async () => {
    nats = await startNats();
    pg = await startPostgres();
    db = pg.newDb();
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'kizuna-fed-lease-pg-'));
    const usaPki = await nationalPki(root, 'usa');
    const jpnPki = await nationalPki(root, 'jpn');
    X = await startServer({ config: partnerConfig(jpnPki, usaPki.ca) });
    const port = await fedPort(X);
    let first;
    for (const id of ['kz-usa-1', 'kz-usa-2']) {
        // One audit chain: the second instance starts with the first's key and anchor
        // (docs/cluster.md, "The audit log").
        const dataDir = first && fs.mkdtempSync(path.join(root, 'data-'));
        for (const f of first ? ['audit.key', 'audit.head'] : []) {
            await waitUntil(() => fs.existsSync(path.join(first.dataDir, f)), { timeout: 10000, what: f });
            fs.copyFileSync(path.join(first.dataDir, f), path.join(dataDir, f));
            fs.chmodSync(path.join(dataDir, f), 0o600);
        }
        usa[id] = await startServer({ dataDir, config: instanceConfig(id, usaPki, jpnPki.ca, port, { nats: nats.url, subject_prefix: 'kzleasepg', lease_ttl_s: TTL_S }, { backend: 'postgres', dsn: db.dsn, max_delay_ms: 20 }) });
        usa[id].id = id;
        first ??= usa[id];
    }
    for (const n of Object.values(usa))
        await waitUntil(async () => {
            const res = await request(n.port('web-usa'), 'GET', '/healthz');
            return JSON.parse(res.body).cluster === 'joined';
        }, { timeout: 15000, interval: 100, what: `${n.id} to join` });
});

after(async () => {
    for (const n of [...Object.values(usa), X].filter(Boolean)) {
        await n.stop();
        n.cleanup();
    }
    if (nats) {
        await nats.stop();
        nats.cleanup();
    }
    await pg?.stop();
    if (root) fs.rmSync(root, { recursive: true, force: true });
});

test('on the shared store, an SSE Last-Event-ID gets the latest-state replay', async () => {
    const [a, b] = Object.values(usa);
    const u1 = uniq('sse-1');
    assert.equal((await post(a, u1)).status, 201);
    const sa = await openStream(a.port('web-usa'));
    await waitUntil(() => sa.events.some((e) => e.uid === u1), { timeout: 5000, what: `${u1} on A's stream` });
    const id1 = sa.events.find((e) => e.uid === u1).id;
    sa.req.destroy();
    const u2 = uniq('sse-2');
    assert.equal((await post(b, u2)).status, 201);
    // A resume at B after u1's id (A's numbering): the latest state, u1 included, each once.
    const sb = await openStream(b.port('web-usa'), id1);
    await waitUntil(() => sb.events.some((e) => e.uid === u1) && sb.events.some((e) => e.uid === u2),
        { timeout: 5000, what: `${u1} and ${u2} on B's stream` });
    await new Promise((r) => setTimeout(r, 300));
    sb.req.destroy();
    for (const u of [u1, u2])
        assert.equal(sb.events.filter((e) => e.uid === u).length, 1, `${u} on B's resumed stream: ${JSON.stringify(sb.events)}`);
});

test('kill -9 of the owner mid-stream: every event reaches the partner once, in the database\'s order', async () => {
    const both = Object.values(usa);
    const owner = await waitOwner(both, 'one owner of the link');
    const standby = both.find((n) => n !== owner);
    const sub = await CotClient.connect(X.port('cot-jpn'), { name: 'sub@X' });
    const prefix = uniq('pgl');
    let stop = false;
    let n = 0;
    // A stream of posts to each instance at once, until it is stopped or its instance dies.
    const stream = async (node) => {
        while (!stop) {
            const uid = `${prefix}-${node.id}-${n++}`;
            try {
                await post(node, uid);
            } catch {
                return; // killed
            }
            await new Promise((r) => setTimeout(r, 15));
        }
    };
    const streams = both.map(stream);
    await waitUntil(() => sub.events.filter((e) => e.uid.startsWith(prefix)).length >= 20,
        { timeout: 10000, interval: 50, what: 'events at X before the kill' });

    const t0 = Date.now();
    await owner.kill9();
    const next = await waitOwner([standby], 'the survivor to own the link');
    const took = Date.now() - t0;
    assert.equal(next, standby);
    assert.ok(took <= TAKEOVER_BOUND_MS, `takeover took ${took} ms, bound ${TAKEOVER_BOUND_MS}`);
    console.log(`takeover after kill -9 on a shared PostgreSQL: ${took} ms (ttl ${TTL_S} s)`);
    await new Promise((r) => setTimeout(r, 1000));
    stop = true;
    await Promise.all(streams);

    // Every row the database holds (what the killed owner committed too), in its order.
    const rows = pg.sql(db.name, `SELECT uid FROM events WHERE uid LIKE '${prefix}-%' ORDER BY seq`).split('\n');
    assert.ok(rows.length >= 40, `only ${rows.length} rows`);
    const from = (id) => rows.filter((u) => u.includes(`-${id}-`)).length;
    assert.ok(from(owner.id) > 0 && from(standby.id) > 0, 'events of both instances');
    for (const uid of rows)
        await sub.waitFor((e) => e.uid === uid, { timeout: 15000, what: `${uid} at X` });
    await new Promise((r) => setTimeout(r, 1500)); // anything sent twice has had time to arrive
    const got = sub.events.map((e) => e.uid).filter((u) => u.startsWith(prefix));
    const counts = new Map();
    for (const u of got) counts.set(u, (counts.get(u) ?? 0) + 1);
    const twice = [...counts].filter(([, c]) => c !== 1);
    assert.deepEqual(twice, [], 'events that reached X more than once');
    assert.equal(got.length, rows.length);
    assert.deepEqual(got, rows, 'X received the events in the order of the database');
    const xs = await fedStatus(X, 'web-jpn');
    assert.deepEqual(xs.peers.map((p) => [p.name, p.state]), [['kz-usa', 'up']]);
    console.log(`${rows.length} events; at X, link kz-usa: ${JSON.stringify(xs.peers[0])}`);
    // The survivor went on from the shared cursor, not from its own end of the log.
    assert.match(standby.runStderr(), /federation: link resumes.*position=[1-9]/);
    await sub.close();
});
