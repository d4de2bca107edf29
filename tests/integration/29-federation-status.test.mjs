// 29-federation-status: a node with a `federation:` section and no live
// peers (one it dials but cannot reach, one it only accepts) answers GET
// /api/v1/federation with the first "connecting" and the second "down",
// `kizuna fed status` prints them, /metrics has the per-peer families; and
// a peer the label policy refuses (an unknown nation, a default label above
// its ceiling) stops the start with the file and line, exit 2 (not a crash).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import net from 'node:net';

import { fedPort, nationalPki, tlsSection } from './lib/fed.mjs';
import {
    httpInput, makeConfig, metrics, metricValue, request, runCli, startServer, toYaml,
} from './lib/harness.mjs';

// Real PKIs: this node's, and the two peers' CAs.
const ROOT = fs.mkdtempSync(path.join(os.tmpdir(), 'kizuna-fed-status-'));
const PKI = {};
for (const name of ['kz-usa', 'kz-jpn', 'kz-aus'])
    PKI[name] = await nationalPki(ROOT, name);
process.on('exit', () => fs.rmSync(ROOT, { recursive: true, force: true }));

const PEERS = [
    {
        name: 'kz-jpn', ca: PKI['kz-jpn'].ca, connect: '127.0.0.1:1', protocol: 'v2',
        identity: { nation: 'JPN', clearance: 'SECRET', groups_in: ['Cyan'], groups_out: ['Cyan'] },
        default_label: 'UNCLASSIFIED//REL TO USA, JPN', ceiling: 'SECRET//REL TO USA, JPN',
    },
    {
        name: 'kz-aus', ca: PKI['kz-aus'].ca, protocol: 'v1',
        identity: { nation: 'AUS', clearance: 'SECRET' },
        default_label: 'UNCLASSIFIED', ceiling: 'SECRET//REL TO USA, AUS', relay: true,
    },
];

function fedConfig(peers) {
    const config = makeConfig({ inputs: [httpInput('web')] });
    config.tls = tlsSection(PKI['kz-usa']);
    config.federation = { listen: '127.0.0.1:0', peers };
    return config;
}

describe('federation status without live peers', () => {
    let server;

    before(async () => {
        server = await startServer({ config: fedConfig(PEERS) });
    });

    after(async () => {
        await server.stop();
        server.cleanup();
    });

    test('GET /api/v1/federation lists every configured peer as down', async () => {
        const r = await request(server.port('web'), 'GET', '/api/v1/federation');
        assert.equal(r.status, 200, r.body);
        const { peers } = JSON.parse(r.body);
        assert.deepEqual(peers.map((p) => [p.name, p.state, p.protocol]),
            [['kz-jpn', 'connecting', 'v2'], ['kz-aus', 'down', 'v1']]);
        for (const p of peers) {
            assert.match(p.since, /^\d{4}-\d\d-\d\dT/);
            for (const k of ['sent', 'received', 'denied', 'duplicates', 'queued'])
                assert.equal(p[k], 0, `${p.name}.${k}`);
        }
    });

    test('kizuna fed status prints them; --json prints the answer', async () => {
        const hostport = `127.0.0.1:${server.port('web')}`;
        const r = await runCli(['fed', 'status', '-s', hostport]);
        assert.equal(r.code, 0, r.stderr);
        const lines = r.stdout.trim().split('\n');
        assert.match(lines[0], /^PEER\s+STATE\s+PROTO\s+SINCE\s+SENT\s+RECEIVED\s+DENIED\s+DUPLICATES\s+QUEUED$/);
        assert.match(lines[1], /^kz-jpn\s+connecting\s+v2\s+\S+\s+0\s+0\s+0\s+0\s+0$/);
        assert.match(lines[2], /^kz-aus\s+down\s+v1\s+\S+\s+0\s+0\s+0\s+0\s+0$/);
        const j = await runCli(['fed', 'status', '-s', hostport, '--json']);
        assert.equal(j.code, 0, j.stderr);
        assert.deepEqual(JSON.parse(j.stdout).peers.map((p) => p.state), ['connecting', 'down']);
    });

    test('a connection that never completes its handshake is closed after 10 s', async () => {
        const port = await fedPort(server);
        const sock = net.connect(port, '127.0.0.1');
        const started = Date.now();
        const closed = await new Promise((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error('still open after 20 s')), 20000);
            sock.on('error', () => {});
            sock.on('close', () => { clearTimeout(timer); resolve(Date.now() - started); });
        });
        assert.ok(closed >= 9000, `closed after ${closed} ms, before the deadline`);
    });

    test('kizuna fed status against no server exits 1', async () => {
        const r = await runCli(['fed', 'status', '-s', '127.0.0.1:1']);
        assert.equal(r.code, 1);
        assert.match(r.stderr, /kizuna fed: /);
    });

    test('/metrics has the per-peer federation families', async () => {
        const samples = await metrics(server.port('web'));
        for (const peer of ['kz-jpn', 'kz-aus']) {
            assert.equal(metricValue(samples, 'kizuna_fed_up', { peer }), 0);
            for (const name of ['sent', 'received', 'denied', 'duplicates'])
                assert.equal(metricValue(samples, `kizuna_fed_${name}_total`, { peer }), 0, `${name} ${peer}`);
        }
    });
});

describe('federation peers the label policy refuses', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kizuna-fed-'));
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    const refused = async (peer, message) => {
        const file = path.join(dir, `${peer.name}.yaml`);
        fs.writeFileSync(file, toYaml(fedConfig([peer])));
        const r = await runCli(['serve', '-c', file, '--data', path.join(dir, 'data')]);
        assert.equal(r.code, 2, `exit ${r.code} signal ${r.signal}\n${r.stderr}`);
        assert.ok(r.stderr.includes(`${file}:`), r.stderr);
        assert.match(r.stderr, message);
    };

    test('an unknown nation', () => refused({ ...PEERS[1], name: 'xx', identity: { nation: 'XXX', clearance: 'SECRET' } },
        /federation peer 'xx': identity nation is not an ISO 3166 code: XXX/));
    test('a default label above the ceiling', () => refused({ ...PEERS[1], name: 'yy', default_label: 'TOP SECRET' },
        /federation peer 'yy': default_label is above ceiling/));
    test('a connect address that is not HOST:PORT', () => refused({ ...PEERS[0], name: 'zz', connect: 'nowhere' },
        /federation peer 'zz': connect 'nowhere' is not HOST:PORT/));
});
