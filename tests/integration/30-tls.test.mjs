// 30-tls: the mutual-TLS CoT input.  Certificates come from `kizuna ca init`
// and `kizuna cert issue`; identity is the users-table entry of the CN.
// Unknown, revoked, wrongly signed certificates and no certificate at all
// are refused before any session exists; the CRL reloads without restart.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import net from 'node:net';
import { after, before, test } from 'node:test';

import {
    CotClient, cotEvent, runCli, startServer, tcpInput, uniq, waitUntil, withTimeout,
} from './lib/harness.mjs';

let server;
let data;
let pki;

export function tlsInput(name, extra = {}) {
    return { name, protocol: 'tls', listen: '127.0.0.1:0', default_label: 'UNCLASSIFIED', ...extra };
}

async function cli(...args) {
    const r = await runCli([...args, '--data', data]);
    assert.equal(r.code, 0, `kizuna ${args.join(' ')}: ${r.stderr}`);
    return r;
}

// A TLS CoT client built on CotClient; resolves once the server has accepted
// us (TLS 1.3 client certificates are judged after the client's handshake).
function tlsConnect(port, user, { certDir = pki } = {}) {
    const opts = { host: '127.0.0.1', port, rejectUnauthorized: false };
    if (user) {
        opts.cert = fs.readFileSync(path.join(certDir, `${user}.pem`));
        opts.key = fs.readFileSync(path.join(certDir, `${user}.key`));
    }
    return withTimeout(new Promise((resolve, reject) => {
        const s = tls.connect(opts, () => resolve(new CotClient(s, `tls:${user}`)));
        s.once('error', reject);
    }), 5000, `TLS connect as ${user}`);
}

// Refused: the socket ends without a single CoT byte.
async function assertRefused(port, user, certDir) {
    let c;
    try {
        c = await tlsConnect(port, user, { certDir });
    } catch {
        return; // refused during the handshake
    }
    await c.send(cotEvent({ uid: uniq('x') })).catch(() => {});
    await c.waitClosed(5000);
    assert.equal(c.events.length, 0);
}

before(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kizuna-tls-'));
    data = path.join(dir, 'data');
    pki = path.join(data, 'pki');
    await cli('ca', 'init');
    await cli('cert', 'issue', '--user', 'alice', '--nation', 'USA', '--clearance', 'SECRET', '--groups', 'Cyan');
    await cli('cert', 'issue', '--user', 'bob', '--nation', 'JPN', '--clearance', 'SECRET', '--groups', 'Cyan');
    await cli('cert', 'issue', '--user', 'eve', '--nation', 'USA', '--clearance', 'SECRET', '--groups', 'Cyan');
    await cli('cert', 'issue', '--user', 'mallory', '--nation', 'USA', '--clearance', 'SECRET', '--groups', 'Cyan');
    await cli('user', 'del', 'eve');
    server = await startServer({ dataDir: data, inputs: [tlsInput('cot-tls'), tcpInput('cot')] });
});

after(async () => {
    if (server) {
        await server.stop({ expectErrors: false });
        server.cleanup();
    }
});

test('TLS and TCP clients see each other; identity comes from the certificate', async () => {
    const a = await tlsConnect(server.port('cot-tls'), 'alice');
    const t = await CotClient.connect(server.port('cot'));
    const uid = uniq('tls');
    await a.send(cotEvent({ uid, callsign: 'ALICE' }));
    await t.waitUid(uid);
    const back = uniq('tcp');
    await t.send(cotEvent({ uid: back }));
    await a.waitUid(back);
    await waitUntil(() => /tls: authenticated.*user=alice nation=USA/.test(server.stderr),
        { what: 'authenticated log line' });
    await a.close();
    await t.close();
});

test('no certificate, unknown user, other CA and garbage are refused', async () => {
    const port = server.port('cot-tls');
    await assertRefused(port, null);
    await assertRefused(port, 'eve');
    const other = fs.mkdtempSync(path.join(os.tmpdir(), 'kizuna-other-'));
    const o = await runCli(['ca', 'init', '--data', other]);
    assert.equal(o.code, 0, o.stderr);
    await runCli(['cert', 'issue', '--user', 'alice', '--nation', 'USA', '--clearance', 'SECRET', '--data', other]);
    await assertRefused(port, 'alice', path.join(other, 'pki'));
    fs.rmSync(other, { recursive: true, force: true });

    const s = net.connect(port, '127.0.0.1');
    s.write('<event version="2.0"/>\r\n\r\n');
    await withTimeout(new Promise((resolve) => s.on('close', resolve).on('error', () => {})), 5000,
        'garbage connection to close');
    assert.match(server.stderr, /not a TLS ClientHello|handshake refused/);

    // openssl s_client without a certificate gets no session either.
    const r = spawnSync('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-quiet'],
        { input: '', timeout: 10000, encoding: 'utf8' });
    assert.notEqual(r.status, null);
    assert.match(r.stderr + r.stdout, /alert|certificate required|errno|error/i);
    assert.doesNotMatch(server.stderr, /tls: authenticated.*user=eve/);
});

test('a revoked certificate is refused after the CRL reloads, without restart', async () => {
    const port = server.port('cot-tls');
    const ok = await tlsConnect(port, 'mallory');
    const uid = uniq('m');
    const t = await CotClient.connect(server.port('cot'));
    await ok.send(cotEvent({ uid }));
    await t.waitUid(uid);
    await ok.close();
    await cli('cert', 'revoke', 'mallory');
    await waitUntil(() => /tls: CRL reloaded/.test(server.stderr), { timeout: 8000, what: 'CRL reload' });
    await assertRefused(port, 'mallory');
    const b = await tlsConnect(port, 'bob');
    const uid2 = uniq('b');
    await b.send(cotEvent({ uid: uid2 }));
    await t.waitUid(uid2);
    await b.close();
    await t.close();
});
