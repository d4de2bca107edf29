// 51-cluster-fed-lease: exactly one instance of a cluster owns an outgoing federation link.
// Two instances of the USA node (kz-usa-1, kz-usa-2) in one cluster on a real nats-server with
// JetStream, both configured with the same link to the JPN partner X (a real kizuna node with
// its own CA).  The instance holding the link's lease dials it; the other stands by.  An event
// sent to the standby instance reaches X's subscriber once, through the owner.  kill -9 of the
// owner: the survivor takes the lease after its ttl and dials, and what is sent before, during
// and after the switch reaches X's subscriber exactly once.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { CotClient, request, startServer, uniq, waitUntil } from './lib/harness.mjs';
import { fedPort, fedStatus, nationalPki } from './lib/fed.mjs';
import { instanceConfig, link, partnerConfig, post, waitOwner } from './lib/fedlease.mjs';
import { startNats } from './lib/nats.mjs';

const TTL_S = 3;
// After the owner's death: its last renewal expires within the ttl, the survivor's next try
// comes within a second of that, nats-server's expiry sweep takes up to a second, then one
// dial and the TLS and gRPC handshakes.
const TAKEOVER_BOUND_MS = TTL_S * 1000 + 4000;

let nats;
let root;
let X;
let survivor; // the instance left owning the link after the first test
let killed; // the first owner, killed in the first test
const usa = {};

const replaced = () => (X.runStderr().match(/replaced by a new connection/g) || []).length;

before(async () => {
    nats = await startNats();
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'kizuna-fed-lease-'));
    const usaPki = await nationalPki(root, 'usa');
    const jpnPki = await nationalPki(root, 'jpn');
    X = await startServer({ config: partnerConfig(jpnPki, usaPki.ca) });
    const port = await fedPort(X);
    for (const id of ['kz-usa-1', 'kz-usa-2']) {
        usa[id] = await startServer({ config: instanceConfig(id, usaPki, jpnPki.ca, port, { nats: nats.url, subject_prefix: 'kzlease', lease_ttl_s: TTL_S }) });
        usa[id].id = id;
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
    if (root) fs.rmSync(root, { recursive: true, force: true });
});

test('one instance owns the link; the other stands by; events reach the partner once; the survivor takes over', async () => {
    const both = Object.values(usa);
    const owner = await waitOwner(both, 'one owner of the link');
    const standby = both.find((n) => n !== owner);
    const sl = await link(standby);
    assert.equal(sl.standby, true, `standby's status: ${JSON.stringify(sl)}`);
    // The standby names the owner, as read from the lease (every third of the ttl).
    await waitUntil(async () => (await link(standby)).owner === owner.id,
        { timeout: TTL_S * 1000 + 2000, interval: 100, what: `the standby to name ${owner.id}` });
    assert.equal(sl.state, 'down');
    assert.equal((await link(owner)).standby, false);

    // X sees one connection of kz-usa, which nothing replaced.
    const xs = await fedStatus(X, 'web-jpn');
    assert.deepEqual(xs.peers.map((p) => [p.name, p.state]), [['kz-usa', 'up']]);
    // The standby instance stays idle: no second connection over a few renewals.
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(replaced(), 0, `X saw a second connection of kz-usa:\n${X.runStderr().slice(-3000)}`);
    assert.equal((await link(standby)).state, 'down');

    const sub = await CotClient.connect(X.port('cot-jpn'), { name: 'sub@X' });
    const sent = [];
    // Before the switch: to the standby instance (through the cluster and the owner's link)
    // and to the owner.
    for (let i = 0; i < 3; i++) {
        sent.push(uniq('via-standby'));
        assert.ok((await post(standby, sent.at(-1))).status < 300);
        sent.push(uniq('via-owner'));
        assert.ok((await post(owner, sent.at(-1))).status < 300);
    }
    for (const uid of sent) await sub.waitFor((e) => e.uid === uid, { timeout: 10000, what: `${uid} at X` });

    // kill -9 of the owner; the survivor takes the lease after the ttl and dials.
    const t0 = Date.now();
    await owner.kill9();
    killed = owner;
    const gap = uniq('in-the-gap'); // accepted while nobody owns the link: the outbox keeps it
    assert.ok((await post(standby, gap)).status < 300);
    sent.push(gap);
    const next = await waitOwner([standby], 'the survivor to own the link');
    const took = Date.now() - t0;
    assert.equal(next, standby);
    survivor = standby;
    assert.ok(took <= TAKEOVER_BOUND_MS, `takeover took ${took} ms, bound ${TAKEOVER_BOUND_MS}`);
    console.log(`takeover after kill -9: ${took} ms (ttl ${TTL_S} s)`);

    for (let i = 0; i < 3; i++) {
        sent.push(uniq('after'));
        assert.ok((await post(standby, sent.at(-1))).status < 300);
    }
    for (const uid of sent) await sub.waitFor((e) => e.uid === uid, { timeout: 15000, what: `${uid} at X` });
    // Anything replayed at the switch has had time to arrive: each event exactly once.
    await new Promise((r) => setTimeout(r, 2000));
    for (const uid of sent) {
        const n = sub.events.filter((e) => e.uid === uid).length;
        assert.equal(n, 1, `${uid} reached X's subscriber ${n} times`);
    }
    const xs2 = await fedStatus(X, 'web-jpn');
    assert.deepEqual(xs2.peers.map((p) => [p.name, p.state]), [['kz-usa', 'up']]);
    console.log(`at X, link kz-usa: ${JSON.stringify(xs2.peers[0])}`);
    await sub.close();
});

test('an island stops its link before its lease could pass on, and dials again once back', async () => {
    assert.ok(survivor, 'the first test left no owner');
    assert.equal((await link(survivor)).state, 'up');
    const t0 = Date.now();
    await nats.kill9();
    // A quarter of the ttl after it noticed (a killed server: at once), or the lease module's
    // loss: well before the ttl plus a second.
    await waitUntil(async () => (await link(survivor)).standby === true,
        { timeout: TTL_S * 1000 + 10000, interval: 100, what: 'the island to stop its link' });
    const stopped = Date.now() - t0;
    console.log(`island stopped its link after ${stopped} ms (ttl ${TTL_S} s)`);
    assert.ok(stopped < TTL_S * 1000, `the island kept its link ${stopped} ms, ttl ${TTL_S} s`);
    assert.match(survivor.runStderr(), /an island for a quarter of the lease's ttl|link lease lost/);
    await waitUntil(async () => (await fedStatus(X, 'web-jpn')).peers[0].state !== 'up',
        { timeout: 10000, interval: 100, what: 'X to see the link go' });
    await nats.start();
    await waitOwner([survivor], 'the instance to own the link again after NATS came back');
});

test('a stopped owner (SIGTERM) hands the link over at once', async () => {
    assert.ok(killed && survivor, 'the first test left no instances');
    await killed.restart(); // back, and standing by: the survivor holds the lease
    await waitUntil(async () => {
        const res = await request(killed.port('web-usa'), 'GET', '/healthz');
        return JSON.parse(res.body).cluster === 'joined';
    }, { timeout: 15000, interval: 100, what: `${killed.id} to join again` });
    await waitUntil(async () => (await link(killed)).owner === survivor.id,
        { timeout: TTL_S * 1000 + 2000, interval: 100, what: `${killed.id} to name the owner` });
    assert.equal((await link(killed)).state, 'down');
    const sub = await CotClient.connect(X.port('cot-jpn'), { name: 'sub2@X' });
    const t0 = Date.now();
    await survivor.stop(); // releases the lease: no ttl to wait for
    await waitOwner([killed], 'the restarted instance to own the link');
    const took = Date.now() - t0;
    console.log(`handover after SIGTERM: ${took} ms (ttl ${TTL_S} s)`);
    assert.ok(took < TTL_S * 1000, `handover took ${took} ms, not less than the ttl`);
    const uid = uniq('after-handover');
    assert.ok((await post(killed, uid)).status < 300);
    await sub.waitFor((e) => e.uid === uid, { timeout: 10000, what: `${uid} at X` });
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(sub.events.filter((e) => e.uid === uid).length, 1);
    await sub.close();
});
