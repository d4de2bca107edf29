// 49-proxy-protocol: kizuna behind a real HAProxy in `mode tcp` (TLS passed
// through, PROXY protocol v2 and v1 in front of each connection), the shape
// of a cluster's load balancer (docs/operations.md).
//
// Three instances share one CA and users table.  HAProxy runs the shipped
// example, contrib/haproxy/kizuna.cfg, with its addresses rewritten to the
// test's ports, plus three frontends of its own in front of instance 1 alone:
// `send-proxy-v2` and `send-proxy` to the `tls` CoT input and `send-proxy-v2`
// to the `https` input.  Through them a device is known by its certificate
// (a JPN identity does not get a NOFORN track, a USA one does) and kizuna
// logs the client's own address and port, not HAProxy's.  Directly, an input
// with proxy_protocol refuses a connection without a header (a bare
// ClientHello, garbage, silence for 5 s), counted in
// kizuna_proxy_refusals_total; an input without it takes a PROXY line as
// the bad input it is and keeps the socket's address.  The example's
// frontends spread three devices over the three instances, and its LOCAL
// health checks are accepted (no refusal on the instances it alone reaches).

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, test } from 'node:test';

import {
    barrier, CotClient, cotEvent, freePort, httpInput, metric, runCli, SOURCE_DIR, startServer, tcpInput, uniq,
    waitUntil, withTimeout,
} from './lib/harness.mjs';

const HEADER_TIMEOUT_MS = 5000; // KZ_PROXY_HEADER_MS, src/net/proxy.h
const EXAMPLE = path.join(SOURCE_DIR, 'contrib/haproxy/kizuna.cfg');
// The example's backend ports, by the input of ours each stands for.
const EXAMPLE_PORTS = { 8089: 'cot-lb', 8443: 'api-lb', 8446: 'enroll-lb' };

let dir;
let data;
let pki;
const servers = [];
let haproxy;

async function cli(dataDir, ...args) {
    const r = await runCli([...args, '--data', dataDir]);
    assert.equal(r.code, 0, `kizuna ${args.join(' ')}: ${r.stderr}`);
    return r;
}

function lbInputs() {
    const proxied = (name, protocol) => ({
        name, protocol, listen: '127.0.0.1:0', default_label: 'UNCLASSIFIED', proxy_protocol: true,
    });
    return [proxied('cot-lb', 'tls'), proxied('api-lb', 'https'), proxied('enroll-lb', 'enroll'),
        tcpInput('cot', ['Cyan'], ['Cyan'], { identity: { user: 'cot-user', nation: 'USA',
            clearance: 'SECRET', groups_in: ['Cyan'], groups_out: ['Cyan'], roles: ['viewer', 'operator'] } }),
        httpInput('web')];
}

// ---- HAProxy ----------------------------------------------------------------

// The example with `bind :P` on free loopback ports and `server kizuna-N
// ADDR:P` on instance N's input for port P; returns {text, fronts}.
async function exampleFor(instances) {
    const fronts = {};
    const lines = [];
    let frontend;
    for (const line of fs.readFileSync(EXAMPLE, 'utf8').split('\n')) {
        let m = line.match(/^frontend\s+(\S+)/);
        if (m) frontend = m[1];
        if (/^\s+maxconn\s/.test(line)) {
            lines.push('    maxconn 1000'); // the example's needs more descriptors than a test box allows
            lines.push(`    stats socket ${path.join(dir, 'haproxy.sock')}`); // for the servers' states
            continue;
        }
        m = line.match(/^(\s+bind\s+):(\d+)\s*$/);
        if (m) {
            fronts[frontend] = await freePort();
            lines.push(`${m[1]}127.0.0.1:${fronts[frontend]}`);
            continue;
        }
        m = line.match(/^(\s+server\s+kizuna-(\d)\s+)\S+:(\d+)(\s.*)$/);
        if (m) {
            const input = EXAMPLE_PORTS[m[3]];
            assert.ok(input, `the example's port ${m[3]} stands for no input of the test`);
            // Checks every 300 ms: several run during the test.
            lines.push(`${m[1]}127.0.0.1:${instances[Number(m[2]) - 1].port(input)}${m[4].replace(/inter \S+/, 'inter 300ms')}`);
            continue;
        }
        lines.push(line);
    }
    for (const f of ['cot_tls', 'api_https', 'enroll'])
        assert.ok(fronts[f], `the example has no frontend ${f} with a bind line`);
    return { text: lines.join('\n'), fronts };
}

// Frontends of the test's own: one server, instance 1, each PROXY version.
async function ownFrontends(one, fronts) {
    const own = [['one_v2', 'cot-lb', 'send-proxy-v2'], ['one_v1', 'cot-lb', 'send-proxy'],
        ['api_v2', 'api-lb', 'send-proxy-v2'], ['enroll_v2', 'enroll-lb', 'send-proxy-v2']];
    const text = [];
    for (const [name, input, how] of own) {
        fronts[name] = await freePort();
        text.push(`frontend ${name}`, `    bind 127.0.0.1:${fronts[name]}`, `    default_backend b_${name}`,
            `backend b_${name}`, `    server k1 127.0.0.1:${one.port(input)} ${how}`, '');
    }
    return text.join('\n');
}

class HAProxy {
    constructor(cfgPath, fronts) {
        this.cfgPath = cfgPath;
        this.fronts = fronts;
        this.output = '';
    }

    async start() {
        // -db: in the foreground, so the pid is HAProxy's and it stops with us.
        this.proc = spawn('haproxy', ['-db', '-f', this.cfgPath], { stdio: ['ignore', 'pipe', 'pipe'] });
        // Never left behind, even when the test process dies half-way.
        process.on('exit', () => { if (!this.exitInfo) this.proc.kill('SIGKILL'); });
        for (const s of [this.proc.stdout, this.proc.stderr]) s.on('data', (d) => { this.output += d; });
        this.exited = new Promise((resolve) => this.proc.on('close', (code, signal) => {
            this.exitInfo = { code, signal };
            resolve(this.exitInfo);
        }));
        await waitUntil(async () => {
            if (this.exitInfo) throw new Error(`haproxy exited: ${JSON.stringify(this.exitInfo)}\n${this.output}`);
            const ok = await Promise.all(Object.values(this.fronts).map((p) => canConnect(p)));
            return ok.every(Boolean);
        }, { timeout: 10000, what: 'haproxy to listen on every frontend' });
    }

    async stop() {
        if (!this.proc || this.exitInfo) return;
        process.kill(this.proc.pid, 'SIGTERM');
        await withTimeout(this.exited, 5000, 'haproxy to exit after SIGTERM').catch(async (e) => {
            process.kill(this.proc.pid, 'SIGKILL');
            await this.exited;
            throw e;
        });
    }
}

// HAProxy's `show stat` on its stats socket: [{pxname, svname, status}].
function showStat() {
    return withTimeout(new Promise((resolve, reject) => {
        let out = '';
        const s = net.connect(path.join(dir, 'haproxy.sock'), () => s.write('show stat\n'));
        s.setEncoding('utf8');
        s.on('data', (d) => { out += d; });
        s.on('error', reject);
        s.on('end', () => {
            const [head, ...rows] = out.trim().split('\n');
            const cols = head.replace(/^# /, '').split(',');
            resolve(rows.map((r) => Object.fromEntries(r.split(',').map((v, i) => [cols[i], v]))));
        });
    }), 5000, 'haproxy show stat');
}

function canConnect(port) {
    return new Promise((resolve) => {
        const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
        s.on('error', () => resolve(false));
    });
}

// ---- clients -------------------------------------------------------------------

function certOpts(user) {
    return {
        host: '127.0.0.1', servername: 'localhost', rejectUnauthorized: true,
        ca: fs.readFileSync(path.join(pki, 'ca.pem')),
        cert: fs.readFileSync(path.join(pki, `${user}.pem`)),
        key: fs.readFileSync(path.join(pki, `${user}.key`)),
    };
}

// A TLS CoT client as `user` on `port` from `localAddress` (any of
// 127/8 is loopback); .localPort is its own port.
function tlsConnect(port, user, localAddress = '127.0.0.1') {
    return withTimeout(new Promise((resolve, reject) => {
        const s = tls.connect({ ...certOpts(user), port, localAddress }, () => {
            const c = new CotClient(s, `tls:${user}@${port}`);
            c.localPort = s.localPort;
            resolve(c);
        });
        s.once('error', reject);
    }), 5000, `TLS connect as ${user} to ${port}`);
}

// GET over TLS as `user` (a certificate) or with Basic `auth`; {status, body, localPort}.
function httpsGet(port, urlPath, { user, auth, localAddress = '127.0.0.1' } = {}) {
    const opts = user ? certOpts(user)
        : { host: '127.0.0.1', servername: 'localhost', ca: fs.readFileSync(path.join(pki, 'ca.pem')) };
    return withTimeout(new Promise((resolve, reject) => {
        const req = https.request({ ...opts, port, path: urlPath, agent: false, auth, localAddress }, (res) => {
            let body = '';
            const localPort = res.socket.localPort;
            res.setEncoding('utf8');
            res.on('data', (d) => { body += d; });
            res.on('end', () => resolve({ status: res.statusCode, body, localPort }));
            res.on('error', reject);
        });
        req.on('error', reject);
        req.end();
    }), 10000, `GET ${urlPath} on ${port}`);
}

// A raw TCP connection that writes `bytes`; resolves {localPort, error, ms} once the server closed it.
function rawClosed(port, bytes) {
    const t0 = Date.now();
    return withTimeout(new Promise((resolve, reject) => {
        const r = {};
        const s = net.connect(port, '127.0.0.1', () => {
            r.localPort = s.localPort;
            if (bytes) s.write(bytes);
        });
        s.on('data', () => {});
        s.on('error', (e) => {
            r.error = e;
            if (!r.localPort) reject(e);
        });
        s.on('close', () => resolve({ ...r, ms: Date.now() - t0 }));
    }), HEADER_TIMEOUT_MS + 5000, `the server to close a raw connection to ${port}`);
}

function refusalLine(input, localPort, reason) {
    return new RegExp(`msg="proxy: connection refused" input=${input} peer=127\\.0\\.0\\.1:${localPort} ` +
        `reason="${reason}`);
}

// ---- setup ---------------------------------------------------------------------

before(async () => {
    const have = spawnSync('haproxy', ['-v'], { encoding: 'utf8' });
    assert.equal(have.status, 0, 'haproxy is not installed (scripts/deps.sh installs it)');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kizuna-proxy-'));
    data = path.join(dir, 'data-1');
    pki = path.join(data, 'pki');
    await cli(data, 'ca', 'init');
    await cli(data, 'cert', 'issue', '--user', 'alice', '--nation', 'USA', '--clearance', 'SECRET', '--groups', 'Cyan');
    await cli(data, 'cert', 'issue', '--user', 'jun', '--nation', 'JPN', '--clearance', 'SECRET', '--groups', 'Cyan');
    await cli(data, 'user', 'add', 'kenji', '--nation', 'JPN', '--clearance', 'SECRET', '--groups', 'Cyan',
        '--password', 'kenji-password');
    // The other instances: the same CA, server certificate and users.
    for (const n of [2, 3]) fs.cpSync(data, path.join(dir, `data-${n}`), { recursive: true });
    for (const n of [1, 2, 3])
        servers.push(await startServer({ dataDir: path.join(dir, `data-${n}`), inputs: lbInputs(),
            node: { id: `kizuna-${n}` } }));
    const { text, fronts } = await exampleFor(servers);
    const cfg = path.join(dir, 'haproxy.cfg');
    fs.writeFileSync(cfg, `${text}\n${await ownFrontends(servers[0], fronts)}`);
    haproxy = new HAProxy(cfg, fronts);
    await haproxy.start();
});

after(async () => {
    if (haproxy) await haproxy.stop();
    for (const s of servers) {
        await s.stop({ expectErrors: false });
        s.cleanup();
    }
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

// ---- tests ----------------------------------------------------------------------

test('the shipped HAProxy example is valid as it stands', () => {
    const r = spawnSync('haproxy', ['-c', '-f', EXAMPLE], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout + r.stderr, /Configuration file is valid/);
});

test('through send-proxy-v2 and send-proxy: the certificate is the identity, its labels apply', async () => {
    const one = servers[0];
    // From addresses of their own: HAProxy itself connects from 127.0.0.1.
    const alice = await tlsConnect(haproxy.fronts.one_v2, 'alice', '127.0.0.2');
    const jun = await tlsConnect(haproxy.fronts.one_v1, 'jun', '127.0.0.3');
    // Both are sessions (after the handshake, the server's offer of TAK protocol arrives).
    await alice.waitFor((e) => e.type === 't-x-takp-v', { what: 'the TAK protocol offer (alice)' });
    await jun.waitFor((e) => e.type === 't-x-takp-v', { what: 'the TAK protocol offer (jun)' });

    const sender = await CotClient.connect(one.port('cot'));
    const noforn = uniq('noforn');
    const shared = uniq('reljpn');
    await sender.send(cotEvent({ uid: noforn, access: 'SECRET//NOFORN' }) +
        cotEvent({ uid: shared, access: 'SECRET//REL TO USA, JPN' }));
    await alice.waitUid(shared);
    await alice.waitUid(noforn);
    await jun.waitUid(shared);
    await barrier(sender, [alice, jun]);
    assert.ok(!jun.has(noforn), 'the JPN identity received a NOFORN track through the load balancer');

    // And the other way: what the device sends is its identity's.
    const fromJun = uniq('jun');
    await jun.send(cotEvent({ uid: fromJun, callsign: 'JUN-1' }));
    await alice.waitUid(fromJun);

    // The log names each client's own address and port: HAProxy's header, not its socket.
    for (const [c, user, nation, host] of [[alice, 'alice', 'USA', 2], [jun, 'jun', 'JPN', 3]]) {
        const peer = `peer=127\\.0\\.0\\.${host}:${c.localPort}`;
        assert.match(one.stderr, new RegExp(`msg="connection accepted" input=cot-lb ${peer}\\n`));
        assert.match(one.stderr, new RegExp(`msg="tls: authenticated" input=cot-lb ${peer} user=${user} nation=${nation}`));
    }
    await sender.close();
    await alice.close();
    await jun.close();
    await waitUntil(() => new RegExp(`connection closed" input=cot-lb peer=127\\.0\\.0\\.3:${jun.localPort} `)
        .test(one.stderr), { what: 'the close logged with the client\'s address' });
});

test('https through send-proxy-v2: the REST API filters by the certificate, logs the client', async () => {
    const one = servers[0];
    const sender = await CotClient.connect(one.port('cot'));
    const noforn = uniq('noforn');
    const shared = uniq('reljpn');
    await sender.send(cotEvent({ uid: noforn, access: 'SECRET//NOFORN' }) +
        cotEvent({ uid: shared, access: 'SECRET//REL TO USA, JPN' }));
    await sender.close();
    const ids = async (user) => {
        const r = await httpsGet(haproxy.fronts.api_v2, '/api/v1/tracks', { user, localAddress: '127.0.0.4' });
        assert.equal(r.status, 200, r.body);
        return { ids: JSON.parse(r.body).features.map((f) => f.id), localPort: r.localPort };
    };
    await waitUntil(async () => (await ids('alice')).ids.includes(shared), { what: 'the tracks stored' });
    const a = await ids('alice');
    assert.ok(a.ids.includes(noforn) && a.ids.includes(shared), JSON.stringify(a.ids));
    const j = await ids('jun');
    assert.ok(j.ids.includes(shared) && !j.ids.includes(noforn), JSON.stringify(j.ids));
    for (const [r, user] of [[a, 'alice'], [j, 'jun']])
        await waitUntil(() => new RegExp(`msg="https: authenticated" input=api-lb conn=\\d+ ` +
            `peer=127\\.0\\.0\\.4:${r.localPort} user=${user} `).test(one.stderr),
        { what: `the https authentication of ${user} logged with its own port` });
});

test('enrollment backs off by the address in the header, not by HAProxy\'s', async () => {
    const one = servers[0];
    const port = haproxy.fronts.enroll_v2;
    const before = await metric(one.port('web'), 'kizuna_enroll_backoff_total');
    // Five failed logins from 127.0.0.5, each under a name of its own: only the address adds up.
    for (let i = 0; i < 5; i++) {
        const r = await httpsGet(port, '/Marti/api/tls/config', { auth: `guess${i}:x`, localAddress: '127.0.0.5' });
        assert.equal(r.status, 401, `guess ${i}: ${r.body}`);
    }
    const held = await httpsGet(port, '/Marti/api/tls/config', { auth: 'kenji:kenji-password', localAddress: '127.0.0.5' });
    assert.equal(held.status, 429, 'the address that failed five times waits, even with the right password');
    // Another client behind the same HAProxy is not held by it.
    const other = await httpsGet(port, '/Marti/api/tls/config', { auth: 'kenji:kenji-password', localAddress: '127.0.0.6' });
    assert.equal(other.status, 200, other.body);
    assert.equal(await metric(one.port('web'), 'kizuna_enroll_backoff_total') - before, 1);
    assert.match(one.stderr, /msg="enroll: backing off" peer=127\.0\.0\.5:\d+ user=guess4 /);
});

test('directly, without a header, a proxy_protocol input refuses the connection', async () => {
    const one = servers[0];
    const before = await metric(one.port('web'), 'kizuna_proxy_refusals_total');

    // A device that skips the balancer: its ClientHello is not a PROXY header.
    const direct = await withTimeout(new Promise((resolve) => {
        const s = tls.connect({ ...certOpts('alice'), port: one.port('cot-lb') }, () => resolve({ secure: true }));
        let localPort;
        s.on('connect', () => { localPort = s.localPort; });
        s.on('error', (e) => resolve({ error: e, localPort }));
        s.on('close', () => resolve({ localPort }));
    }), 5000, 'a direct TLS connection to be refused');
    assert.ok(!direct.secure, 'a TLS session without a PROXY header');
    await waitUntil(() => refusalLine('cot-lb', direct.localPort, "no PROXY header: neither 'PROXY ' nor the v2 signature")
        .test(one.stderr), { what: 'the direct ClientHello refused and logged' });

    // HTTP on the https input, a malformed v1 line, and an oversized v2 length.
    const h = await rawClosed(one.port('api-lb'), 'GET /api/v1/tracks HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitUntil(() => refusalLine('api-lb', h.localPort, 'no PROXY header').test(one.stderr),
        { what: 'the plain request refused' });
    const v1 = await rawClosed(one.port('cot-lb'), 'PROXY TCP4 127.0.0.1 127.0.0.1 080 8089\r\n');
    await waitUntil(() => refusalLine('cot-lb', v1.localPort, 'PROXY v1: a port is not a number').test(one.stderr),
        { what: 'the malformed v1 line refused' });
    assert.match(one.stderr, new RegExp(`peer=127\\.0\\.0\\.1:${v1.localPort} reason="[^"]*" ` +
        'head="PROXY TCP4 127\\.0\\.0\\.1 127\\.0\\.0\\.1 080 8089\\?\\?"'), 'the header quoted in the log');
    const big = Buffer.from('0d0a0d0a000d0a515549540a21112000', 'hex');
    const v2 = await rawClosed(one.port('cot-lb'), big);
    await waitUntil(() => refusalLine('cot-lb', v2.localPort, 'PROXY v2: header longer than 1024 bytes')
        .test(one.stderr), { what: 'the oversized v2 header refused' });

    // Silence: closed once the header's time is up.
    const late = await rawClosed(one.port('cot-lb'), 'PROXY TCP4 1.2');
    assert.ok(late.ms >= HEADER_TIMEOUT_MS - 200 && late.ms < HEADER_TIMEOUT_MS + 3000, `closed after ${late.ms} ms`);
    assert.match(one.stderr, refusalLine('cot-lb', late.localPort, 'no complete PROXY header within 5 s'));

    assert.equal(await metric(one.port('web'), 'kizuna_proxy_refusals_total') - before, 5);
});

test('an input without proxy_protocol takes a PROXY line as bad input and keeps the socket address', async () => {
    const one = servers[0];
    const watch = await tlsConnect(haproxy.fronts.one_v2, 'alice');
    const s = await CotClient.connect(one.port('cot'));
    const localPort = s.socket.localPort;
    const uid = uniq('plain');
    await s.send('PROXY TCP4 203.0.113.7 127.0.0.1 4242 8087\r\n' + cotEvent({ uid }));
    await watch.waitUid(uid); // the event after it still counts
    await s.close();
    await watch.close();
    assert.match(one.stderr, new RegExp(`msg="connection accepted" input=cot peer=127\\.0\\.0\\.1:${localPort}\\n`));
    assert.doesNotMatch(one.stderr, /peer=203\.0\.113\.7/);
});

test('the example spreads devices over the three instances; its LOCAL health checks are accepted', async () => {
    // Every instance is UP in every backend of the example: its checks (LOCAL headers) pass.
    let stat;
    await waitUntil(async () => {
        stat = (await showStat()).filter((r) => /^kizuna-\d$/.test(r.svname));
        return stat.length === 9 && stat.every((r) => r.status === 'UP');
    }, { timeout: 10000, what: 'HAProxy to see every instance UP' }).catch((e) => {
        throw new Error(`${e.message}: ${JSON.stringify(stat?.map((r) => [r.pxname, r.svname, r.status]))}`);
    });
    // Three devices held open on the leastconn frontend: one each.
    const users = ['alice', 'jun', 'alice'];
    const devices = [];
    for (const u of users) {
        const c = await tlsConnect(haproxy.fronts.cot_tls, u);
        await c.waitFor((e) => e.type === 't-x-takp-v', { what: `the offer to ${u}` });
        devices.push(c);
    }
    const owner = (c) => servers.findIndex((s) => new RegExp(`msg="tls: authenticated" input=cot-lb ` +
        `peer=127\\.0\\.0\\.1:${c.localPort} `).test(s.stderr));
    await waitUntil(() => devices.every((c) => owner(c) >= 0), { what: 'every device authenticated somewhere' });
    assert.deepEqual(devices.map(owner).sort(), [0, 1, 2], `one device on each instance: ${devices.map(owner)}`);

    // Round robin on the https frontend: three requests, three instances.
    const seen = new Set();
    for (let i = 0; i < 3; i++) {
        const r = await httpsGet(haproxy.fronts.api_https, '/Marti/api/version', { user: 'jun' });
        assert.equal(r.status, 200, r.body);
        // The answer can come before the instance's log line reaches this process: wait for it.
        const logged = () => servers.findIndex((s) => new RegExp(`msg="https: authenticated" input=api-lb conn=\\d+ ` +
            `peer=127\\.0\\.0\\.1:${r.localPort} user=jun `).test(s.stderr));
        await waitUntil(() => logged() >= 0, { timeout: 3000, what: `the request from port ${r.localPort} logged with its port` });
        const at = logged();
        seen.add(at);
    }
    assert.equal(seen.size, 3, `round robin reached every instance: ${[...seen]}`);

    // Enrollment through the balancer: Basic auth, answered by an instance.
    const e = await httpsGet(haproxy.fronts.enroll, '/Marti/api/tls/config', { auth: 'kenji:kenji-password' });
    assert.equal(e.status, 200, e.body);
    const wrong = await httpsGet(haproxy.fronts.enroll, '/Marti/api/tls/config', { auth: 'kenji:wrong' });
    assert.equal(wrong.status, 401);

    // Health checks every 300 ms ran all along, each with a LOCAL header:
    // instances 2 and 3 are reached by HAProxy alone and refused nothing.
    for (const s of servers.slice(1)) {
        assert.equal(await metric(s.port('web'), 'kizuna_proxy_refusals_total'), 0, s.stderr.slice(-3000));
        assert.doesNotMatch(s.stderr, /proxy: connection refused/);
        const accepted = s.stderr.match(/msg="connection accepted" input=cot-lb /g) ?? [];
        assert.ok(accepted.length > 3, `only ${accepted.length} connections on cot-lb: no health checks?`);
    }
    for (const c of devices) await c.close();
});
