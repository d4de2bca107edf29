// 46-cluster-ident: identity changes on the cluster's control subject, with a real nats-server
// and two instances, each with its own data directory (its own SQLite users table, copied from
// one CA's directory as instances of one node are).  `kizuna user del` at B: B's users reload
// names the user on PREFIX.ctl, and A closes the user's TLS session although A's own table still
// has the user (A's own 2 s reload alone would never close it).  A user changed at B is closed
// on A too and reconnects, authenticated against A's table.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { barrier, CotClient, metric, request, startServer, waitUntil } from './lib/harness.mjs';
import { cli, cotAs, tlsInstanceConfig } from './lib/cluster.mjs';
import { startNats } from './lib/nats.mjs';

let nats;
let dir;
const nodes = {};
const data = {};

before(async () => {
    nats = await startNats();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kizuna-cluster-ident-'));
    data.A = path.join(dir, 'A');
    data.B = path.join(dir, 'B');
    await cli('ca', 'init', '--data', data.A);
    for (const user of ['gone', 'moved', 'stay'])
        await cli('cert', 'issue', '--user', user, '--nation', 'USA', '--clearance', 'SECRET',
            '--groups', 'Cyan', '--data', data.A);
    fs.cpSync(data.A, data.B, { recursive: true });
    for (const id of ['A', 'B']) {
        nodes[id] = await startServer({ config: tlsInstanceConfig(id, nats.url, 'kzident'), dataDir: data[id] });
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

test('user del at B disconnects the user\'s device on A; others stay', async (t) => {
    const gone = await cotAs(data.A, nodes.A, 'gone');
    const stay = await cotAs(data.A, nodes.A, 'stay');
    await barrier(gone, [stay]);
    const t0 = Date.now();
    await cli('user', 'del', 'gone', '--data', data.B);
    // B's users reload (every 2 s) finds it deleted and names it; A closes at once.
    await gone.waitClosed(5000);
    const took = Date.now() - t0;
    assert.ok(took < 4000, `closed after ${took} ms`);
    t.diagnostic(`closed on A ${took} ms after user del at B (B's reload period: 2000 ms)`);
    assert.match(nodes.A.stderr, /cluster: users changed on another instance.*deleted=1/);
    assert.match(nodes.A.stderr,
        /connection closed.*reason="user deleted or changed on another instance"/);
    assert.match(nodes.B.stderr, /cluster: users changed here, named to the other instances/);
    assert.equal(await metric(nodes.A.port('web'), 'kizuna_cluster_ident_closes_total'), 1);
    assert.ok(await metric(nodes.A.port('web'), 'kizuna_cluster_ident_received_total') >= 1);
    assert.ok(await metric(nodes.B.port('web'), 'kizuna_cluster_ident_published_total') >= 1);
    // A's own table still has the user: only the notice closed the session.
    assert.match((await cli('user', 'list', '--data', data.A)).stdout, /\bgone\b/);
    assert.doesNotMatch((await cli('user', 'list', '--data', data.B)).stdout, /\bgone\b/);
    const probe = await CotClient.connect(nodes.A.port('cot'));
    await barrier(probe, [stay]);
    assert.equal(stay.closed, false);
    await Promise.all([probe.close(), stay.close()]);
});

test('a user changed at B is closed on A and reconnects against A\'s own table', async () => {
    const moved = await cotAs(data.A, nodes.A, 'moved');
    const before = await metric(nodes.A.port('web'), 'kizuna_cluster_ident_closes_total');
    await cli('user', 'add', 'moved', '--nation', 'USA', '--clearance', 'UNCLASSIFIED',
        '--groups', 'Cyan', '--data', data.B);
    await moved.waitClosed(5000);
    assert.match(nodes.A.stderr, /cluster: users changed on another instance.*changed=1/);
    assert.equal(await metric(nodes.A.port('web'), 'kizuna_cluster_ident_closes_total'), before + 1);
    // A's table is its own: the device is authenticated again against it.
    const again = await cotAs(data.A, nodes.A, 'moved');
    const t = await CotClient.connect(nodes.A.port('cot'));
    await barrier(t, [again]);
    assert.equal(again.closed, false);
    await Promise.all([t.close(), again.close()]);
});
