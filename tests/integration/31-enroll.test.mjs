// 31-enroll: certificate enrollment on an `enroll` input (TLS, no client
// certificate, Basic auth) driven with curl and openssl as an operator would,
// the enrolled certificate used on the `tls` CoT input, and the Marti and
// REST endpoints on an `https` input with the caller identified by its
// client certificate.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, test } from 'node:test';

import {
    CotClient, cotEvent, httpInput, identity, metric, runCli, startServer, tcpInput, uniq, waitUntil,
    withTimeout,
} from './lib/harness.mjs';

let server;
let dir;
let data;
let pki;

const PASSWORD = 'correct horse battery';

function input(name, protocol) {
    return { name, protocol, listen: '127.0.0.1:0', default_label: 'UNCLASSIFIED' };
}

async function cli(...args) {
    const r = await runCli([...args, '--data', data]);
    assert.equal(r.code, 0, `kizuna ${args.join(' ')}: ${r.stderr}`);
    return r;
}

function run(cmd, args, input) {
    return new Promise((resolve) => {
        const p = execFile(cmd, args, { timeout: 20000, encoding: 'utf8', maxBuffer: 1 << 24 },
            (err, stdout, stderr) => resolve({ code: err ? (err.code ?? 1) : 0, stdout, stderr }));
        if (input !== undefined) p.stdin.end(input);
    });
}

// curl against an input; returns {status, headers, body, code}.
async function curl(port, urlPath, { user, cert, method, data: body, headers = [], proto = 'https' } = {}) {
    const hdr = path.join(dir, `h-${uniq('curl')}`);
    const args = ['-sS', '-k', '--max-time', '15', '-D', hdr, '-o', '-', '-w', '\n%{http_code}'];
    if (user) args.push('-u', user);
    if (cert) args.push('--cert', path.join(cert.dir ?? pki, `${cert.name}.pem`),
        '--key', path.join(cert.dir ?? pki, `${cert.name}.key`));
    if (method) args.push('-X', method);
    if (body !== undefined) args.push('--data-binary', '@-');
    for (const h of headers) args.push('-H', h);
    args.push(`${proto}://127.0.0.1:${port}${urlPath}`);
    const r = await run('curl', args, body);
    const cut = r.stdout.lastIndexOf('\n');
    const status = Number(r.stdout.slice(cut + 1));
    const headersText = fs.existsSync(hdr) ? fs.readFileSync(hdr, 'utf8') : '';
    return { status, headers: headersText, body: r.stdout.slice(0, cut), code: r.code, stderr: r.stderr };
}

async function makeCsr(name, subj, keyArgs = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']) {
    const key = path.join(dir, `${name}.key`);
    const csr = path.join(dir, `${name}.csr`);
    const r = await run('openssl', ['req', '-new', ...keyArgs, '-nodes', '-keyout', key, '-subj', subj, '-out', csr]);
    assert.equal(r.code, 0, r.stderr);
    return { key, csr: fs.readFileSync(csr, 'utf8') };
}

function pem(b64) {
    return `-----BEGIN CERTIFICATE-----\n${b64.match(/.{1,64}/g).join('\n')}\n-----END CERTIFICATE-----\n`;
}

function tlsConnect(port, certPem, keyPem) {
    const opts = { host: '127.0.0.1', port, rejectUnauthorized: false, cert: certPem, key: keyPem };
    return withTimeout(new Promise((resolve, reject) => {
        const s = tls.connect(opts, () => resolve(new CotClient(s, 'tls-enrolled')));
        s.once('error', reject);
    }), 5000, 'TLS connect with the enrolled certificate');
}

const sign = '/Marti/api/tls/signClient/v2?clientUid=ANDROID-0123&version=4.10.0';

before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kizuna-enroll-'));
    data = path.join(dir, 'data');
    pki = path.join(data, 'pki');
    await cli('ca', 'init');
    await cli('user', 'add', 'alpha2', '--nation', 'JPN', '--clearance', 'SECRET', '--groups', 'Cyan',
        '--password', PASSWORD);
    // F2: two users whose names differ only in case.
    await cli('user', 'add', 'ops', '--nation', 'USA', '--clearance', 'TOP SECRET', '--groups', 'Cyan',
        '--password', 'ops-password');
    await cli('user', 'add', 'OPS', '--nation', 'KOR', '--clearance', 'UNCLASSIFIED', '--groups', 'Cyan',
        '--password', 'OPS-password');
    await cli('cert', 'issue', '--user', 'alice', '--nation', 'USA', '--clearance', 'SECRET', '--groups', 'Cyan');
    await cli('cert', 'issue', '--user', 'jun', '--nation', 'JPN', '--clearance', 'SECRET', '--groups', 'Cyan');
    await cli('cert', 'issue', '--user', 'rudy', '--nation', 'USA', '--clearance', 'SECRET', '--groups', 'Red');
    server = await startServer({
        dataDir: data,
        inputs: [input('enroll', 'enroll'), input('api-tls', 'https'), input('cot-tls', 'tls'),
            tcpInput('cot', ['Cyan'], ['Cyan'], { identity: identity('cot-user', ['Cyan']) })],
    });
});

after(async () => {
    if (server) {
        await server.stop({ expectErrors: false });
        server.cleanup();
    }
    fs.rmSync(dir, { recursive: true, force: true });
});

test('enroll: no or wrong credentials get 401 with WWW-Authenticate', async () => {
    const port = server.port('enroll');
    for (const user of [undefined, 'alpha2:wrong', 'nobody:x']) {
        const r = await curl(port, '/Marti/api/tls/config', { user });
        assert.equal(r.status, 401, `${user}: ${r.body} ${r.stderr}`);
        assert.match(r.headers, /WWW-Authenticate: Basic realm=/i);
    }
    const { csr } = await makeCsr('wrongpw', '/CN=alpha2');
    const r = await curl(port, sign, { user: 'alpha2:nope', data: csr });
    assert.equal(r.status, 401);
    assert.match(server.stderr, /enroll: authentication failed.*user=alpha2/);
});

test('enroll: tls/config names the subject entries', async () => {
    const r = await curl(server.port('enroll'), '/Marti/api/tls/config', { user: `alpha2:${PASSWORD}` });
    assert.equal(r.status, 200, r.body);
    assert.match(r.body, /<ns2:certificateConfig[^>]*xmlns:ns2="com.bbn.marti.config"/);
    assert.match(r.body, /<nameEntry name="O" value="kizuna"\/>/);
    assert.match(r.body, /<nameEntry name="OU" value="test-1"\/>/);
});

test('enroll: the REST API is not served on the enrollment port', async () => {
    const r = await curl(server.port('enroll'), '/api/v1/tracks', { user: `alpha2:${PASSWORD}` });
    assert.equal(r.status, 404);
});

test('enroll: a CSR signed, the certificate connects on the tls input and exchanges events', async () => {
    const { key, csr } = await makeCsr('alpha2', '/O=kizuna/OU=test-1/CN=alpha2');
    const r = await curl(server.port('enroll'), sign, { user: `alpha2:${PASSWORD}`, data: csr });
    assert.equal(r.status, 200, r.body);
    const j = JSON.parse(r.body);
    assert.ok(j.signedCert && j.ca0, r.body);
    assert.doesNotMatch(j.signedCert, /BEGIN/);
    const ca = fs.readFileSync(path.join(pki, 'ca.pem'), 'utf8');
    assert.equal(pem(j.ca0).replace(/\s/g, ''), ca.replace(/\s/g, ''));
    const v = await run('openssl', ['x509', '-noout', '-subject'], pem(j.signedCert));
    assert.match(v.stdout, /CN\s*=\s*alpha2/);

    const c = await tlsConnect(server.port('cot-tls'), pem(j.signedCert), fs.readFileSync(key));
    const t = await CotClient.connect(server.port('cot'));
    const uid = uniq('enrolled');
    await c.send(cotEvent({ uid, callsign: 'ALPHA2' }));
    await t.waitUid(uid);
    const back = uniq('tcp');
    await t.send(cotEvent({ uid: back }));
    await c.waitUid(back);
    await waitUntil(() => /tls: authenticated.*user=alpha2 nation=JPN/.test(server.stderr),
        { what: 'authenticated log line' });
    await c.close();
    await t.close();
});

test('enroll: XML for Accept: application/xml, bare base64 CSR, 400 for other Accepts', async () => {
    const port = server.port('enroll');
    const { csr } = await makeCsr('alpha2b', '/CN=alpha2');
    const bare = csr.replace(/-----[^-]+-----/g, '').replace(/\s/g, '');
    const x = await curl(port, sign, { user: `alpha2:${PASSWORD}`, data: bare, headers: ['Accept: application/xml'] });
    assert.equal(x.status, 200, x.body);
    assert.match(x.headers, /Content-Type: application\/xml/i);
    assert.match(x.body, /^<\?xml[^>]*>\s*<enrollment><signedCert>[A-Za-z0-9+/=]+<\/signedCert><ca>[A-Za-z0-9+/=]+<\/ca><\/enrollment>/);
    const bad = await curl(port, sign, { user: `alpha2:${PASSWORD}`, data: csr, headers: ['Accept: text/plain'] });
    assert.equal(bad.status, 400);
    assert.match(bad.body, /Accept/);
});

test('enroll: bad CSRs get 4xx with a clear message', async () => {
    const port = server.port('enroll');
    const user = `alpha2:${PASSWORD}`;
    const other = await makeCsr('other', '/CN=mallory');
    let r = await curl(port, sign, { user, data: other.csr });
    assert.equal(r.status, 400);
    assert.match(JSON.parse(r.body).error, /common name/);

    const weak = await makeCsr('weak', '/CN=alpha2', ['-newkey', 'rsa:1024']);
    r = await curl(port, sign, { user, data: weak.csr });
    assert.equal(r.status, 400);
    assert.match(JSON.parse(r.body).error, /key must be/);

    const extra = await makeCsr('extra', '/C=US/CN=alpha2');
    r = await curl(port, sign, { user, data: extra.csr });
    assert.equal(r.status, 400);
    assert.match(JSON.parse(r.body).error, /unexpected C/);

    r = await curl(port, sign, { user, data: 'not a CSR at all' });
    assert.equal(r.status, 400);
    assert.match(JSON.parse(r.body).error, /not a PEM or base64/);

    r = await curl(port, sign, { user, data: 'A'.repeat(20000) });
    assert.equal(r.status, 413);
    assert.match(JSON.parse(r.body).error, /CSR over/);
});

test('enroll: the CSR common name is the user exactly; the subject comes from the user (F2)', async () => {
    const port = server.port('enroll');
    const other = await makeCsr('ops-claim', '/CN=ops');
    let r = await curl(port, sign, { user: 'OPS:OPS-password', data: other.csr });
    assert.equal(r.status, 400, r.body);
    assert.match(JSON.parse(r.body).error, /CSR common name is not the user/);

    const own = await makeCsr('ops-own', '/O=kizuna/OU=test-1/CN=OPS');
    r = await curl(port, sign, { user: 'OPS:OPS-password', data: own.csr });
    assert.equal(r.status, 200, r.body);
    const v = await run('openssl', ['x509', '-noout', '-subject', '-nameopt', 'RFC2253'],
        pem(JSON.parse(r.body).signedCert));
    assert.equal(v.stdout.trim(), 'subject=CN=OPS');

    // `cert revoke ops` covers the certificate recorded under OPS as well: older
    // enrollments could have given it CN=ops.
    const rv = await runCli(['cert', 'revoke', 'ops', '--data', data]);
    assert.equal(rv.code, 0, rv.stderr);
    assert.match(rv.stdout, /revoked 1 certificate of OPS too/);
    assert.match(rv.stdout, /revoked 0 certificates of ops/);
});

// F14: a server of its own per run, so that no other test's logins count
// against this peer.  Returns the statuses of `wrong` wrong logins for `name`.
async function guessing(name, wrong) {
    const own = path.join(dir, uniq('guess'));
    fs.mkdirSync(own);
    const ca = await runCli(['ca', 'init', '--data', own]);
    assert.equal(ca.code, 0, ca.stderr);
    const r = await runCli(['user', 'add', 'guess', '--nation', 'USA', '--clearance', 'SECRET',
        '--groups', 'Cyan', '--password', PASSWORD, '--data', own]);
    assert.equal(r.code, 0, r.stderr);
    const srv = await startServer({ dataDir: own, inputs: [input('enroll', 'enroll'), httpInput('web')] });
    const statuses = [];
    for (let i = 0; i < wrong; i++) {
        const a = await curl(srv.port('enroll'), '/Marti/api/tls/config', { user: `${name}:wrong-${i}` });
        statuses.push(a.status);
        if (a.status === 429) statuses.retryAfter = Number(/Retry-After: (\d+)/i.exec(a.headers)?.[1]);
    }
    return { srv, statuses };
}

test('enroll: wrong passwords back off, the right one too until it expires (F14)', async () => {
    const { srv, statuses } = await guessing('guess', 6);
    try {
        assert.deepEqual([...statuses], [401, 401, 401, 401, 401, 429]);
        assert.equal(statuses.retryAfter, 1);
        const port = srv.port('enroll');
        let r = await curl(port, '/Marti/api/tls/config', { user: `guess:${PASSWORD}` });
        assert.equal(r.status, 429, 'the right password during the back-off');
        await new Promise((res) => setTimeout(res, 1100));
        r = await curl(port, '/Marti/api/tls/config', { user: `guess:${PASSWORD}` });
        assert.equal(r.status, 200, r.body);
        // The name's count is cleared; the peer's is not: its next failure waits 2 s.
        r = await curl(port, '/Marti/api/tls/config', { user: 'guess:wrong-again' });
        assert.equal(r.status, 401);
        r = await curl(port, '/Marti/api/tls/config', { user: 'other:x' });
        assert.equal(r.status, 429);
        assert.equal(r.headers.match(/Retry-After: (\d+)/i)?.[1], '2');
        assert.equal(await metric(srv.port('web'), 'kizuna_enroll_auth_failures_total'), 6);
        assert.equal(await metric(srv.port('web'), 'kizuna_enroll_backoff_total'), 3);
        assert.match(srv.stderr, /enroll: backing off.*user=guess/);
    } finally {
        await srv.stop({ expectErrors: false });
        srv.cleanup();
    }
});

test('enroll: an unknown user backs off exactly like a known one (F14)', async () => {
    const { srv, statuses } = await guessing('no-such-user', 6);
    try {
        assert.deepEqual([...statuses], [401, 401, 401, 401, 401, 429]);
        assert.equal(statuses.retryAfter, 1);
        assert.equal(await metric(srv.port('web'), 'kizuna_enroll_auth_failures_total'), 5);
    } finally {
        await srv.stop({ expectErrors: false });
        srv.cleanup();
    }
});

test('https: no client certificate is refused; Marti endpoints answer with a certificate', async () => {
    const port = server.port('api-tls');
    const none = await curl(port, '/Marti/api/version');
    assert.ok(none.code !== 0 || !(none.status >= 200), `no-cert request answered: ${none.status}`);

    const alice = { name: 'alice' };
    let r = await curl(port, '/Marti/api/version', { cert: alice });
    assert.equal(r.status, 200, r.stderr);
    assert.match(r.body, /^kizuna /);

    r = await curl(port, '/Marti/api/version/config', { cert: alice });
    const cfg = JSON.parse(r.body);
    assert.equal(cfg.version, '3');
    assert.equal(cfg.type, 'ServerConfig');
    assert.equal(cfg.data.api, '3');
    assert.equal(cfg.data.hostname, '127.0.0.1');
    assert.equal(cfg.nodeId, 'test-1');

    r = await curl(port, '/Marti/api/groups/all?useCache=true', { cert: alice });
    const g = JSON.parse(r.body);
    assert.equal(g.type, 'com.bbn.marti.remote.groups.Group');
    assert.deepEqual(g.data.map((x) => `${x.name}:${x.direction}`).sort(), ['Cyan:IN', 'Cyan:OUT']);
    assert.match(server.stderr, /https: authenticated.*user=alice nation=USA/);
});

test('https: clientEndPoints lists only clients the caller may see', async () => {
    const key = fs.readFileSync(path.join(pki, 'jun.key'));
    const c = await tlsConnect(server.port('cot-tls'), fs.readFileSync(path.join(pki, 'jun.pem')), key);
    const t = await CotClient.connect(server.port('cot'));
    const uid = uniq('jun');
    await c.send(cotEvent({ uid, callsign: 'JUN-1', group: { name: 'Cyan', role: 'Team Lead' } }));
    await t.waitUid(uid);
    const port = server.port('api-tls');
    const seen = JSON.parse((await curl(port, '/Marti/api/clientEndPoints', { cert: { name: 'alice' } })).body);
    const mine = seen.data.find((x) => x.uid === uid);
    assert.ok(mine, JSON.stringify(seen));
    assert.equal(mine.callsign, 'JUN-1');
    assert.equal(mine.username, 'jun');
    assert.equal(mine.team, 'Cyan');
    assert.equal(mine.lastStatus, 'Connected');
    assert.ok(!Number.isNaN(Date.parse(mine.lastEventTime)));
    const red = JSON.parse((await curl(port, '/Marti/api/clientEndPoints', { cert: { name: 'rudy' } })).body);
    assert.equal(red.data.find((x) => x.uid === uid), undefined);
    await c.close();
    await t.close();
});

test('https: /api/v1/tracks is filtered by the certificate identity', async () => {
    const t = await CotClient.connect(server.port('cot'));
    const usOnly = uniq('noforn');
    const shared = uniq('reljpn');
    await t.send(cotEvent({ uid: usOnly, access: 'SECRET//NOFORN' }) +
        cotEvent({ uid: shared, access: 'SECRET//REL TO USA, JPN' }));
    const port = server.port('api-tls');
    const uids = async (name) => JSON.parse((await curl(port, '/api/v1/tracks', { cert: { name } })).body)
        .features.map((f) => f.id);
    await waitUntil(async () => (await uids('alice')).includes(shared), { what: 'track stored' });
    const a = await uids('alice');
    assert.ok(a.includes(usOnly) && a.includes(shared));
    const j = await uids('jun');
    assert.ok(j.includes(shared) && !j.includes(usOnly), JSON.stringify(j));
    const r = await uids('rudy');
    assert.ok(!r.includes(shared) && !r.includes(usOnly));
    await t.close();
});
