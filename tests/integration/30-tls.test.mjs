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
    CotClient, cotEvent, httpInput, metric, request, runCli, startServer, tcpInput, tracks, uidsOf, uniq,
    waitUntil, withTimeout,
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

test('an expired certificate from the right CA is refused', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kizuna-expired-'));
    fs.writeFileSync(path.join(dir, 'index.txt'), '');
    fs.writeFileSync(path.join(dir, 'serial'), '1000\n');
    fs.writeFileSync(path.join(dir, 'ca.cnf'), [
        '[ca]', 'default_ca = d', '[d]', `database = ${dir}/index.txt`, `serial = ${dir}/serial`,
        `new_certs_dir = ${dir}`, 'default_md = sha256', 'policy = p', 'unique_subject = no',
        'x509_extensions = ext', '[p]', 'commonName = supplied',
        '[ext]', 'keyUsage = digitalSignature', 'extendedKeyUsage = clientAuth', '',
    ].join('\n'));
    const run = (args) => {
        const r = spawnSync('openssl', args, { encoding: 'utf8', timeout: 20000 });
        assert.equal(r.status, 0, `openssl ${args[0]}: ${r.stderr}`);
    };
    run(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
        '-keyout', path.join(dir, 'alice.key'), '-subj', '/CN=alice', '-out', path.join(dir, 'alice.csr')]);
    run(['ca', '-batch', '-config', path.join(dir, 'ca.cnf'), '-cert', path.join(pki, 'ca.pem'),
        '-keyfile', path.join(pki, 'ca.key'), '-in', path.join(dir, 'alice.csr'),
        '-out', path.join(dir, 'alice.pem'), '-startdate', '20200101000000Z', '-enddate', '20200201000000Z']);
    await assertRefused(server.port('cot-tls'), 'alice', dir);
    await waitUntil(() => /expired/i.test(server.stderr), { what: 'the refusal to name the expiry' });
    fs.rmSync(dir, { recursive: true, force: true });
});

test('events of certificate users survive a restart and reach REST viewers', async () => {
    server.config.inputs.push({ ...httpInput('web'), default_label: 'UNCLASSIFIED' });
    await server.restart();
    const a = await tlsConnect(server.port('cot-tls'), 'alice');
    const t = await CotClient.connect(server.port('cot'));
    const uid = uniq('cert-user');
    await a.send(cotEvent({ uid, callsign: 'ALICE' }));
    await t.waitUid(uid);
    await a.close();
    await t.close();
    await server.restart();
    const late = await CotClient.connect(server.port('cot'));
    await late.waitUid(uid, { what: 'replay of a certificate user\'s event after restart' });
    await late.close();
    assert.ok(uidsOf(await tracks(server.port('web'))).includes(uid), '/api/v1/tracks');
    await waitUntil(async () => {
        const res = await request(server.port('web'), 'GET', `/api/v1/events?uid=${uid}`);
        return uidsOf(res.json()).includes(uid);
    }, { what: '/api/v1/events to list it' });
});

test('a storm of unfinished handshakes creates no sessions', async () => {
    const web = server.port('web');
    const subs0 = await metric(web, 'kizuna_subscribers');
    // The first bytes of a TLS ClientHello, then nothing: truncated handshakes.
    const partial = Buffer.from('16030100c8010000c40303', 'hex');
    const socks = await Promise.all(Array.from({ length: 200 }, () => new Promise((resolve) => {
        const s = net.connect(server.port('cot-tls'), '127.0.0.1', () => { s.write(partial); resolve(s); });
        s.on('error', () => {});
    })));
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(await metric(web, 'kizuna_subscribers'), subs0, 'sessions exist before authentication');
    for (const s of socks) s.destroy();
    // The server is still fine for an authenticated client.
    const b = await tlsConnect(server.port('cot-tls'), 'bob');
    const t = await CotClient.connect(server.port('cot'));
    const uid = uniq('after-storm');
    await b.send(cotEvent({ uid }));
    await t.waitUid(uid);
    await b.close();
    await t.close();
});

test('a data package unzips to the expected files and its .p12 opens with atakatak', async () => {
    const out = path.join(os.tmpdir(), `kizuna-pkg-${process.pid}.zip`);
    await cli('cert', 'package', '--user', 'bob', '--host', 'kizuna.example', '--out', out);
    const list = spawnSync('unzip', ['-Z1', out], { encoding: 'utf8' });
    assert.equal(list.status, 0, list.stderr);
    const files = list.stdout.trim().split('\n');
    assert.ok(files.some((f) => f.endsWith('manifest.xml')), files.join(','));
    assert.ok(files.some((f) => f.endsWith('.pref')), files.join(','));
    const p12s = files.filter((f) => f.endsWith('.p12'));
    assert.equal(p12s.length, 2, `client and truststore .p12: ${files.join(',')}`);
    for (const f of p12s) {
        const x = spawnSync('sh', ['-c', `unzip -p '${out}' '${f}' | openssl pkcs12 -passin pass:atakatak -noout`],
            { encoding: 'utf8' });
        assert.equal(x.status, 0, `${f}: ${x.stderr}`);
    }
    fs.rmSync(out, { force: true });
});
