// 46-cluster-ctl: the cluster's control subject with a real nats-server and two instances.
// The server's max_payload is small here: a larger event is not published, and counted.
// Presence: a device that connects to B with the uid it holds on A is closed on A (the newest
// connection wins); another identity may not take that uid on B.  Revocation: `kizuna cert revoke` done at B disconnects the device's TLS
// session on A, which never saw the revocation in its own store.  Both instances start from
// one data directory's copy (one CA, the same users), as instances of one node do.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import {
    barrier, CotClient, cotEvent, httpInput, makeConfig, metric, request, startServer, tcpInput, uniq, waitUntil,
} from './lib/harness.mjs';
import { cli, cotAs, tlsInstanceConfig } from './lib/cluster.mjs';
import { startNats } from './lib/nats.mjs';

let nats;
let dir;
const nodes = {};
const data = {};

before(async () => {
    nats = await startNats({ maxPayload: 4096 });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kizuna-cluster-ctl-'));
    data.A = path.join(dir, 'A');
    data.B = path.join(dir, 'B');
    await cli('ca', 'init', '--data', data.A);
    for (const user of ['revo', 'stay'])
        await cli('cert', 'issue', '--user', user, '--nation', 'USA', '--clearance', 'SECRET',
            '--groups', 'Cyan', '--data', data.A);
    fs.cpSync(data.A, data.B, { recursive: true });
    for (const id of ['A', 'B']) {
        nodes[id] = await startServer({ config: tlsInstanceConfig(id, nats.url, 'kzctl', { tcp: ['cot', 'other'] }), dataDir: data[id] });
        await waitUntil(async () => {
            const res = await request(nodes[id].port('web'), 'GET', '/healthz');
            return JSON.parse(res.body).cluster === 'joined';
        }, { timeout: 15000, interval: 100, what: `${id} to join` });
    }
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
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('a device that connects to B with its uid is closed on A; others are not', async () => {
    const uid = uniq('device');
    const onA = await CotClient.connect(nodes.A.port('cot'), { name: 'device@A' });
    const bystander = await CotClient.connect(nodes.A.port('cot'), { name: 'bystander@A' });
    await onA.send(cotEvent({ uid, callsign: 'MOVER' }));
    await barrier(onA, [bystander]);
    const watchB = await CotClient.connect(nodes.B.port('cot'), { name: 'watch@B' });
    await watchB.waitUid(uid); // replay on B has A's report: B knows the device

    const onB = await CotClient.connect(nodes.B.port('cot'), { name: 'device@B' });
    await onB.send(cotEvent({ uid, callsign: 'MOVER' }));
    await onA.waitClosed(5000);
    assert.match(nodes.A.stderr, /device moved to another instance/);
    assert.equal(await metric(nodes.A.port('web'), 'kizuna_cluster_presence_closes_total'), 1);
    // The new session on B and the bystander on A go on.
    await barrier(onB, [watchB]);
    await barrier(bystander, [watchB]);
    assert.equal(onB.closed, false);
    assert.equal(bystander.closed, false);
    await Promise.all([onB.close(), bystander.close(), watchB.close()]);
});

test('a uid a device holds on A is refused to another identity on B', async () => {
    const uid = uniq('held');
    const onA = await CotClient.connect(nodes.A.port('cot'), { name: 'holder@A' });
    await onA.send(cotEvent({ uid, callsign: 'HOLDER' }));
    const watchB = await CotClient.connect(nodes.B.port('cot'), { name: 'watch@B' });
    await watchB.waitUid(uid);
    const before = await metric(nodes.B.port('web'), 'kizuna_rejects_total', { reason: 'claimed' });
    const impostor = await CotClient.connect(nodes.B.port('other'), { name: 'other@B' });
    await impostor.send(cotEvent({ uid, callsign: 'HOLDER', remarks: 'impostor' }));
    await waitUntil(async () => await metric(nodes.B.port('web'), 'kizuna_rejects_total', { reason: 'claimed' }) > before,
        { timeout: 5000, what: 'B to refuse the claim' });
    await barrier(onA, [watchB]);
    assert.equal(onA.closed, false, 'the holder was closed on another identity\'s report');
    assert.equal(watchB.events.some((e) => e.uid === uid && /impostor/.test(e.xml)), false);
    await Promise.all([onA.close(), watchB.close(), impostor.close()]);
});

test('cert revoke at B disconnects the device on A', async () => {
    const revo = await cotAs(data.A, nodes.A, 'revo');
    const stay = await cotAs(data.A, nodes.A, 'stay');
    await barrier(revo, [stay]);
    const t0 = Date.now();
    await cli('cert', 'revoke', 'revo', '--data', data.B);
    // B's credentials reload (2 s) reads the CRL and names the serials to the cluster.
    await revo.waitClosed(6000);
    assert.ok(Date.now() - t0 < 6000);
    assert.match(nodes.A.stderr, /connection closed.*reason="certificate revoked on another instance"/);
    assert.ok(await metric(nodes.A.port('web'), 'kizuna_cluster_revocation_closes_total') >= 1);
    const t = await CotClient.connect(nodes.A.port('cot'));
    await barrier(t, [stay]);
    assert.equal(stay.closed, false);
    await Promise.all([t.close(), stay.close()]);
});

test('an event larger than NATS\' max_payload stays on its instance, counted', async () => {
    const onA = await CotClient.connect(nodes.A.port('cot'), { name: 'big@A' });
    const watchA = await CotClient.connect(nodes.A.port('cot'), { name: 'watch@A' });
    const watchB = await CotClient.connect(nodes.B.port('cot'), { name: 'watch@B' });
    const big = uniq('big');
    await onA.send(cotEvent({ uid: big, remarks: 'x'.repeat(6000) }));
    await watchA.waitUid(big);
    await barrier(onA, [watchA, watchB]); // a small one still flows, after the big one
    assert.equal(watchB.has(big), false);
    assert.equal(await metric(nodes.A.port('web'), 'kizuna_cluster_refused_too_large_total'), 1);
    assert.match(nodes.A.stderr, /larger than NATS' max_payload/);
    await Promise.all([onA.close(), watchA.close(), watchB.close()]);
});

test('two instances with one node.id: the one that hears the other says so, once', async () => {
    const twins = [];
    try {
        for (let i = 0; i < 2; i++) {
            const config = makeConfig({ node: { id: 'twin' }, inputs: [tcpInput('cot'), httpInput('web')] });
            config.cluster = { nats: nats.url, subject_prefix: 'kztwin' };
            twins.push(await startServer({ config }));
        }
        const c = await CotClient.connect(twins[0].port('cot'), { name: 'twin0' });
        await waitUntil(async () => {
            await c.send(cotEvent({ uid: uniq('twin') }));
            return /another instance uses this node.id/.test(twins[1].stderr);
        }, { timeout: 10000, interval: 200, what: 'the twin to be reported' });
        assert.equal((twins[1].stderr.match(/another instance uses this node.id/g) || []).length, 1);
        await c.close();
    } finally {
        for (const t of twins) {
            await t.stop({ expectErrors: true });
            t.cleanup();
        }
    }
});
