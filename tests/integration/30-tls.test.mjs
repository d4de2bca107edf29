// 30-tls: the mutual-TLS CoT input.  Certificates come from `kizuna ca init`
// and `kizuna cert issue`; identity is the users-table entry of the CN.
// Every client verifies the server's certificate against the CA (SAN
// localhost, EKU serverAuth).  Unknown, revoked, expired, wrongly signed
// certificates and no certificate at all are refused in the handshake, each
// for its own reason (the server's alert and its log line for the client's
// port), and nothing a refused client sent is routed.  Stalled handshakes
// are reaped by the handshake timeout; the CRL reloads without restart.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import net from 'node:net';
import { after, before, test } from 'node:test';

import {
    barrier, CotClient, cotEvent, httpInput, metric, request, runCli, startServer, tcpInput, tracks, uidsOf, uniq,
    waitUntil, withTimeout,
} from './lib/harness.mjs';

const HANDSHAKE_TIMEOUT_MS = 10000;    // src/net/stream.c
const STORM = 200;

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

// Client options: the user's certificate (which must exist), and the
// server's certificate checked against our CA for the name `servername`.
function clientOptions(port, user, { certDir = pki, servername = 'localhost', ca = path.join(pki, 'ca.pem') } = {}) {
    const opts = { host: '127.0.0.1', port, servername, rejectUnauthorized: true, ca: fs.readFileSync(ca) };
    if (user) {
        for (const f of [`${user}.pem`, `${user}.key`])
            assert.ok(fs.existsSync(path.join(certDir, f)), `no ${f} in ${certDir}: was it issued?`);
        opts.cert = fs.readFileSync(path.join(certDir, `${user}.pem`));
        opts.key = fs.readFileSync(path.join(certDir, `${user}.key`));
    }
    return opts;
}

// A TLS CoT client built on CotClient; resolves once the server has accepted
// us (TLS 1.3 client certificates are judged after the client's handshake).
function tlsConnect(port, user, opts = {}) {
    const o = clientOptions(port, user, opts);
    return withTimeout(new Promise((resolve, reject) => {
        const s = tls.connect(o, () => resolve(new CotClient(s, `tls:${user}`)));
        s.once('error', reject);
    }), 5000, `TLS connect as ${user}`);
}

// Connect as `user` and send an event as soon as our side of the handshake
// is done.  Resolves {uid, localPort, secure, error, bytes} once the server
// closed the connection; a timeout or a failure to connect at all rejects.
function attempt(port, user, opts) {
    const o = clientOptions(port, user, opts);
    const uid = uniq(`refused-${user}`);
    return withTimeout(new Promise((resolve, reject) => {
        const r = { uid, secure: false, bytes: 0 };
        const s = tls.connect(o, () => {
            r.secure = true;
            s.write(cotEvent({ uid }));
        });
        s.on('connect', () => { r.localPort = s.localPort; });
        s.on('data', (d) => { r.bytes += d.length; });
        s.on('error', (e) => {
            r.error = e;
            if (!r.localPort) reject(new Error(`TLS as ${user}: no connection at all: ${e.code} ${e.message}`));
        });
        s.on('close', () => resolve(r));
    }), 5000, `the server to close the connection of ${user}`);
}

// Refused in the handshake, for the given reason: the server's alert
// (`alert`, a Node error code; null for a plain close) reaches the client,
// no byte of CoT does, and the server logs the refusal for our port with
// `reason`.  Returns the uid the client tried to send.
async function assertRefused(port, user, { alert, reason, ...opts }) {
    const r = await attempt(port, user, opts);
    const what = `${user ?? 'no certificate'}: ${r.error?.code} ${r.error?.message ?? 'closed'}`;
    if (alert) assert.equal(r.error?.code, alert, what);
    else assert.ok(!r.error || r.error.code === 'ECONNRESET', what);
    assert.equal(r.bytes, 0, `${what}: ${r.bytes} bytes from the server`);
    const line = new RegExp(`tls: connection refused" input=cot-tls peer=127\\.0\\.0\\.1:${r.localPort} reason="[^"]*${reason.source}`);
    await waitUntil(() => line.test(server.stderr), { what: `the refusal of ${user} logged with ${reason}` });
    return r.uid;
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
    server = await startServer({ dataDir: data, inputs: [tlsInput('cot-tls'), tcpInput('cot'), httpInput('web')] });
});

after(async () => {
    if (server) {
        await server.stop({ expectErrors: false });
        server.cleanup();
    }
});

// Nothing the refused clients sent reached a watcher or the store.
async function assertNotRouted(watch, uids) {
    const sender = await CotClient.connect(server.port('cot'), { name: 'barrier' });
    await barrier(sender, [watch]);
    await sender.close();
    for (const uid of uids) {
        assert.ok(!watch.has(uid), `${uid} from a refused client was routed`);
        const res = await request(server.port('web'), 'GET', `/api/v1/events?uid=${uid}`);
        assert.deepEqual(uidsOf(res.json()), [], `${uid} from a refused client was stored`);
    }
}

test('the server certificate verifies against the CA for its SAN, and only for it', async () => {
    const a = await tlsConnect(server.port('cot-tls'), 'alice');
    assert.ok(a.socket.authorized, a.socket.authorizationError);
    assert.ok(a.socket.getPeerCertificate().ext_key_usage.includes('1.3.6.1.5.5.7.3.1'), 'EKU serverAuth');
    await a.close();
    await assert.rejects(tlsConnect(server.port('cot-tls'), 'alice', { servername: 'wrong.example' }),
        (e) => e.code === 'ERR_TLS_CERT_ALTNAME_INVALID');
    const other = fs.mkdtempSync(path.join(os.tmpdir(), 'kizuna-other-'));
    assert.equal((await runCli(['ca', 'init', '--data', other])).code, 0);
    await assert.rejects(tlsConnect(server.port('cot-tls'), 'alice', { ca: path.join(other, 'pki/ca.pem') }),
        (e) => e.code === 'SELF_SIGNED_CERT_IN_CHAIN');
    fs.rmSync(other, { recursive: true, force: true });
    // openssl's own check: the chain and the host name.
    const r = spawnSync('openssl', ['s_client', '-connect', `127.0.0.1:${server.port('cot-tls')}`,
        '-CAfile', path.join(pki, 'ca.pem'), '-verify_return_error', '-servername', 'localhost',
        '-verify_hostname', 'localhost', '-cert', path.join(pki, 'alice.pem'), '-key', path.join(pki, 'alice.key')],
    { input: '', timeout: 10000, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Verified peername: localhost/);
    assert.match(r.stdout, /Verify return code: 0 \(ok\)/);
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
    const watch = await CotClient.connect(server.port('cot'), { name: 'watch' });
    const sent = [];
    sent.push(await assertRefused(port, null,
        { alert: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', reason: /peer did not return a certificate/ }));
    sent.push(await assertRefused(port, 'eve', { alert: null, reason: /certificate CN 'eve' is not a known user/ }));
    const other = fs.mkdtempSync(path.join(os.tmpdir(), 'kizuna-other-'));
    const o = await runCli(['ca', 'init', '--data', other]);
    assert.equal(o.code, 0, o.stderr);
    const issued = await runCli(['cert', 'issue', '--user', 'alice', '--nation', 'USA', '--clearance', 'SECRET',
        '--data', other]);
    assert.equal(issued.code, 0, issued.stderr);
    sent.push(await assertRefused(port, 'alice', { certDir: path.join(other, 'pki'),
        alert: 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', reason: /unable to get local issuer certificate/ }));
    fs.rmSync(other, { recursive: true, force: true });
    await assertNotRouted(watch, sent);
    await watch.close();

    const s = net.connect(port, '127.0.0.1');
    let localPort;
    s.on('connect', () => { localPort = s.localPort; });
    s.write('<event version="2.0"/>\r\n\r\n');
    await withTimeout(new Promise((resolve) => s.on('close', resolve).on('error', () => {})), 5000,
        'garbage connection to close');
    await waitUntil(() => new RegExp(`connection refused" input=cot-tls peer=127\\.0\\.0\\.1:${localPort} ` +
        'reason="not a TLS ClientHello').test(server.stderr), { what: 'the garbage refusal logged' });

    // openssl s_client without a certificate: it verifies the server, then
    // the server's alert says why there is no session.
    const r = spawnSync('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-quiet',
        '-CAfile', path.join(pki, 'ca.pem'), '-verify_return_error', '-verify_hostname', 'localhost'],
    { input: '', timeout: 10000, encoding: 'utf8' });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /tlsv13 alert certificate required/);
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
    const refused = await assertRefused(port, 'mallory',
        { alert: 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_REVOKED', reason: /certificate revoked/ });
    const b = await tlsConnect(port, 'bob');
    const uid2 = uniq('b');
    await b.send(cotEvent({ uid: uid2 }));
    await t.waitUid(uid2);
    await b.close();
    await assertNotRouted(t, [refused]);
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
    await assertRefused(server.port('cot-tls'), 'alice',
        { certDir: dir, alert: 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED', reason: /certificate has expired/ });
    fs.rmSync(dir, { recursive: true, force: true });
});

test('events of certificate users survive a restart and reach REST viewers', async () => {
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

test('a storm of unfinished handshakes creates no sessions and is reaped by the handshake timeout', async () => {
    const web = server.port('web');
    const subs0 = await metric(web, 'kizuna_subscribers');
    const conns0 = await metric(web, 'kizuna_connections', { kind: 'cot' });
    // The first bytes of a TLS ClientHello, then nothing: truncated handshakes.
    const partial = Buffer.from('16030100c8010000c40303', 'hex');
    const t0 = Date.now();
    const socks = await Promise.all(Array.from({ length: STORM }, () => new Promise((resolve) => {
        const s = net.connect(server.port('cot-tls'), '127.0.0.1', () => { s.write(partial); resolve(s); });
        s.closedAt = new Promise((done) => s.on('close', () => done(Date.now())));
        s.on('error', () => {});
    })));
    const ports = socks.map((s) => s.localPort);
    // Every one is an open connection of the server, none a session.
    await waitUntil(async () => (await metric(web, 'kizuna_connections', { kind: 'cot' })) >= conns0 + STORM,
        { what: `${STORM} pending handshakes in kizuna_connections` });
    assert.equal(await metric(web, 'kizuna_subscribers'), subs0, 'sessions exist before authentication');
    // While they hang, the server is fine for an authenticated client.
    const b = await tlsConnect(server.port('cot-tls'), 'bob');
    const t = await CotClient.connect(server.port('cot'));
    const uid = uniq('during-storm');
    await b.send(cotEvent({ uid }));
    await t.waitUid(uid);
    await b.close();
    await t.close();
    // The server, not we, closes each of them, once the handshake timeout is up.
    const closed = await withTimeout(Promise.all(socks.map((s) => s.closedAt)), HANDSHAKE_TIMEOUT_MS + 20000,
        'the server to reap the stalled handshakes');
    const first = Math.min(...closed) - t0;
    assert.ok(first >= HANDSHAKE_TIMEOUT_MS - 1000, `a stalled handshake was closed after ${first} ms`);
    for (const port of ports)
        assert.match(server.stderr, new RegExp(`tls: handshake not finished in time" input=cot-tls ` +
            `peer=127\\.0\\.0\\.1:${port} ms=${HANDSHAKE_TIMEOUT_MS}`), `no reaping logged for port ${port}`);
    await waitUntil(async () => (await metric(web, 'kizuna_connections', { kind: 'cot' })) === conns0,
        { what: 'the reaped connections to leave kizuna_connections' });
    assert.equal(await metric(web, 'kizuna_subscribers'), subs0);
});

test('a data package unzips to the expected files; its .p12 files open with atakatak', async () => {
    const out = path.join(os.tmpdir(), `kizuna-pkg-${process.pid}.zip`);
    await cli('cert', 'package', '--user', 'bob', '--host', 'kizuna.example', '--out', out);
    const list = spawnSync('unzip', ['-Z1', out], { encoding: 'utf8' });
    assert.equal(list.status, 0, list.stderr);
    const files = list.stdout.trim().split('\n');
    assert.ok(files.some((f) => f.endsWith('manifest.xml')), files.join(','));
    assert.ok(files.some((f) => f.endsWith('.pref')), files.join(','));
    const p12s = files.filter((f) => f.endsWith('.p12'));
    assert.equal(p12s.length, 2, `client and truststore .p12: ${files.join(',')}`);
    const p12 = (f, pass, ...args) => spawnSync('sh', ['-c',
        `unzip -p '${out}' '${f}' | openssl pkcs12 -passin pass:${pass} ${args.join(' ')}`], { encoding: 'utf8' });
    const fingerprint = (pem) => new crypto.X509Certificate(pem).fingerprint256;
    const caPrint = fingerprint(fs.readFileSync(path.join(pki, 'ca.pem')));
    const trust = p12s.find((f) => f.endsWith('certs/truststore-kizuna.p12'));
    assert.ok(trust, `no certs/truststore-kizuna.p12 (docs/devices.md): ${files.join(',')}`);
    for (const f of p12s) {
        const x = p12(f, 'atakatak', '-nokeys');
        assert.equal(x.status, 0, `${f}: ${x.stderr}`);
        const certs = x.stdout.match(/-----BEGIN CERTIFICATE-----[^]*?-----END CERTIFICATE-----/g) ?? [];
        assert.ok(certs.map(fingerprint).includes(caPrint), `${f} does not hold the CA`);
        assert.notEqual(p12(f, 'wrong-password', '-nokeys').status, 0, `${f} opens with any password`);
    }
    // The truststore is the CA alone; the client store is bob's key and certificate.
    const trustCerts = p12(trust, 'atakatak', '-nokeys').stdout.match(/BEGIN CERTIFICATE/g);
    assert.equal(trustCerts.length, 1);
    const client = p12s.find((f) => f !== trust);
    const keys = p12(client, 'atakatak', '-nocerts', '-nodes');
    assert.match(keys.stdout, /BEGIN PRIVATE KEY/);
    assert.match(p12(client, 'atakatak', '-clcerts', '-nokeys').stdout, /subject=.*CN ?= ?bob/);
    fs.rmSync(out, { force: true });
});
