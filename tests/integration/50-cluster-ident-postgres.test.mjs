// 50-cluster-ident-postgres: identity changes with the users table the cluster shares (one
// PostgreSQL, lib/pg.mjs; one nats-server, lib/nats.mjs; two instances from copies of one CA's
// data directory).  `kizuna user del` against the shared table: the first instance whose users
// reload sees it names the user on PREFIX.ctl, the other re-reads the table at once, and the
// user's TLS device on A is closed as a local deletion closes it (`user deleted`).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, test } from 'node:test';

import {
    barrier, CotClient, httpInput, makeConfig, metric, request, runCli, startServer, tcpInput,
    waitUntil, withTimeout,
} from './lib/harness.mjs';
import { startNats } from './lib/nats.mjs';
import { startPostgres } from './lib/pg.mjs';

let nats;
let pg;
let db;
let dir;
const nodes = {};
const data = {};

async function cli(...args) {
    const r = await runCli(args);
    assert.equal(r.code, 0, `kizuna ${args.join(' ')}: ${r.stderr}`);
    return r;
}

function nodeConfig(id) {
    const config = makeConfig({
        node: { id },
        inputs: [
            { name: 'cot-tls', protocol: 'tls', listen: '127.0.0.1:0', default_label: 'UNCLASSIFIED' },
            tcpInput('cot'), httpInput('web'),
        ],
        store: { backend: 'postgres', dsn: db.dsn, max_delay_ms: 50 },
    });
    config.cluster = { nats: nats.url, subject_prefix: 'kzidentpg' };
    return config;
}

async function cotAs(node, user) {
    const pki = path.join(data.A, 'pki');
    const opts = {
        host: '127.0.0.1', port: node.port('cot-tls'), rejectUnauthorized: false,
        cert: fs.readFileSync(path.join(pki, `${user}.pem`)),
        key: fs.readFileSync(path.join(pki, `${user}.key`)),
    };
    const s = await withTimeout(new Promise((resolve, reject) => {
        const sock = tls.connect(opts, () => resolve(sock));
        sock.once('error', reject);
    }), 5000, `TLS connect as ${user}`);
    const c = new CotClient(s, `tls:${user}`);
    await c.waitFor((e) => e.type === 't-x-takp-v', { what: 'the protocol offer' });
    return c;
}

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
        nodes[id] = await startServer({ config: nodeConfig(id), dataDir: data[id] });
        await waitUntil(async () => {
            const res = await request(nodes[id].port('web'), 'GET', '/healthz');
            return JSON.parse(res.body).cluster === 'joined';
        }, { timeout: 15000, interval: 100, what: `${id} to join` });
    }
    // The users go to the shared table; the certificates are signed by the one CA.
    for (const user of ['pgone', 'pgstay'])
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

test('user del on the shared table disconnects the device on A; the notice reaches the other', async (t) => {
    let gone;
    // Both instances read the users within 2 s of the cert issue.
    await waitUntil(async () => {
        try {
            gone = await cotAs(nodes.A, 'pgone');
            return true;
        } catch {
            return false;
        }
    }, { timeout: 6000, interval: 300, what: 'A to know pgone' });
    const stay = await cotAs(nodes.A, 'pgstay');
    await barrier(gone, [stay]);
    const t0 = Date.now();
    await cli('user', 'del', 'pgone', '-c', nodes.B.configPath, '--data', data.B);
    await gone.waitClosed(5000);
    const took = Date.now() - t0;
    assert.ok(took < 3000, `closed after ${took} ms`);
    t.diagnostic(`closed on A ${took} ms after user del on the shared table`);
    assert.match(nodes.A.stderr, /connection closed.*reason="user deleted"/);
    // Whichever instance's reload saw it first named it; the other heard it.
    await waitUntil(async () => await sum('kizuna_cluster_ident_received_total') >= 1,
        { timeout: 3000, what: 'the notice to be received' });
    assert.ok(await sum('kizuna_cluster_ident_published_total') >= 1);
    assert.match(nodes.A.stderr + nodes.B.stderr, /cluster: users changed on another instance/);
    const probe = await CotClient.connect(nodes.A.port('cot'));
    await barrier(probe, [stay]);
    assert.equal(stay.closed, false);
    await Promise.all([probe.close(), stay.close()]);
});
