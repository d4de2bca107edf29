// harness.mjs - start the real kizuna binary and talk to it over the wire.
//
// Every wait here has a timeout and waits for a condition, never for a fixed
// time.  A server is stopped with SIGTERM; the stop fails the test when the
// process does not exit in time or its stderr shows an error-level log line
// or sanitizer output.  A server that exits without the test asking for it
// (crash, sanitizer abort, exit(1)) is recorded with its stderr tail and
// fails the next stop(), restart() or kill9(), and the test file at exit if
// nothing checked it.  Tests end a server on purpose only through this API
// (stop, kill9, killWith), so the harness knows the exit was asked for.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const SOURCE_DIR = process.env.KZ_SOURCE_DIR || path.resolve(here, '../../..');
export const KIZUNA_BIN = process.env.KIZUNA_BIN || path.join(SOURCE_DIR, 'build/kizuna');

// A port nobody listens on right now, for a server the test starts on a port it names (HAProxy,
// nats-server, PostgreSQL). It lies below Linux's ephemeral range (32768-60999), so between this
// check and that server's bind a test running beside this one, binding port 0 or connecting
// out, cannot be given it.
function tryPort(port) {
    return new Promise((resolve) => {
        const s = net.createServer();
        s.once('error', () => resolve(false));
        s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
}

export async function freePort() {
    for (let i = 0; i < 200; i++) {
        const port = 20000 + Math.floor(Math.random() * 12000);
        if (await tryPort(port)) return port;
    }
    throw new Error('no free port in 20000-31999');
}

const FATAL_PATTERNS = [/AddressSanitizer/, /runtime error:/, /LeakSanitizer/, /ThreadSanitizer/];
const live = new Set();

export function uniq(prefix = 'it') {
    return `${prefix}-${crypto.randomBytes(5).toString('hex')}`;
}

export async function waitUntil(fn, { timeout = 5000, interval = 20, what = 'condition' } = {}) {
    const deadline = Date.now() + timeout;
    let last;
    for (;;) {
        last = await fn();
        if (last) return last;
        if (Date.now() >= deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
        await new Promise((r) => setTimeout(r, interval));
    }
}

export function withTimeout(promise, ms, what) {
    let timer;
    const t = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    });
    return Promise.race([promise, t]).finally(() => clearTimeout(timer));
}

// ---- configuration -------------------------------------------------------

// Roles viewer and operator (read and send over HTTP) unless `extra` names others.
export function identity(user, groupsIn, groupsOut = groupsIn, extra = {}) {
    return {
        user, nation: 'USA', clearance: 'SECRET', groups_in: groupsIn, groups_out: groupsOut,
        roles: ['viewer', 'operator'], ...extra,
    };
}

export function tcpInput(name, groupsIn = ['Cyan'], groupsOut = groupsIn, extra = {}) {
    return {
        name, protocol: 'tcp', listen: '127.0.0.1:0',
        identity: identity(`${name}-user`, groupsIn, groupsOut), default_label: 'UNCLASSIFIED', ...extra,
    };
}

export function httpInput(name, groupsIn = ['Cyan'], groupsOut = groupsIn, extra = {}) {
    return {
        name, protocol: 'http', listen: '127.0.0.1:0',
        identity: identity(`${name}-user`, groupsIn, groupsOut), default_label: 'UNCLASSIFIED', ...extra,
    };
}

function yamlScalar(v) {
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    return JSON.stringify(String(v));
}

function yamlFlow(v) {
    if (Array.isArray(v)) return `[${v.map(yamlFlow).join(', ')}]`;
    if (v !== null && typeof v === 'object')
        return `{${Object.entries(v).map(([k, x]) => `${k}: ${yamlFlow(x)}`).join(', ')}}`;
    return yamlScalar(v);
}

// Block mappings at the top, flow style inside: the shape of the sample config.
export function toYaml(config) {
    const lines = [];
    for (const [key, value] of Object.entries(config)) {
        if (Array.isArray(value) && value.some((x) => x !== null && typeof x === 'object')) {
            lines.push(`${key}:`);
            for (const item of value) {
                const entries = Object.entries(item);
                entries.forEach(([k, x], i) => lines.push(`${i === 0 ? '  - ' : '    '}${k}: ${yamlFlow(x)}`));
            }
        } else {
            lines.push(`${key}: ${yamlFlow(value)}`);
        }
    }
    return lines.join('\n') + '\n';
}

export function makeConfig({ inputs, limits = {}, store = {}, log = {}, node = {} } = {}) {
    return {
        node: { id: 'test-1', nation: 'USA', ...node },
        store: { backend: 'sqlite', path: 'kizuna.db', max_delay_ms: 50, retention_days: 30, retention_bytes: 0, ...store },
        limits: {
            max_event_bytes: 65536, out_queue_bytes: 4194304, max_connections: 4096, http_max_body: 1048576,
            http_max_headers: 64, http_timeout_ms: 30000, idle_timeout_s: 0, ...limits,
        },
        log: { level: 'info', ...log },
        inputs: inputs || [tcpInput('us'), httpInput('web', ['Cyan', 'Red'], ['Cyan'])],
    };
}

// ---- server process ------------------------------------------------------

// How much of stderr an exit report keeps: enough for a whole sanitizer report.
const TAIL_CHARS = 8000;

// Servers of this process, for the exit sweep below.
const servers = new Set();

// A test that dies half-way must not leave servers behind, and a server that
// died (or reported a sanitizer error) without anybody checking it fails the
// test file even when every test passed.
process.on('exit', () => {
    const reports = [];
    for (const s of servers) {
        if (s.proc && !s.exitInfo) {
            const bad = s.problems({ expectErrors: true });
            if (bad.length) reports.push(`kizuna serve (still running) has sanitizer output:\n${s.sanitizerReport()}`);
        }
        reports.push(...s.unexpectedExits.filter((e) => !e.reported).map(formatExit));
    }
    for (const child of live) {
        try { child.kill('SIGKILL'); } catch { /* already gone */ }
    }
    if (reports.length) {
        process.stderr.write(`harness: ${reports.length} unchecked server problem(s):\n${reports.join('\n')}\n`);
        process.exitCode = 1;
    }
});

function formatExit(e) {
    return `kizuna serve exited without being asked (code=${e.code} signal=${e.signal})` +
        `\nstderr tail:\n${e.stderrTail}`;
}

export class Server {
    // opts.prefix: a command the binary runs under (`ip netns exec NS`); it
    // must exec the binary, so the pid the harness signals is kizuna's.
    // opts.host: the address the test reaches the inputs on.
    constructor(opts) {
        this.opts = opts;
        this.dataDir = opts.dataDir;
        this.host = opts.host || '127.0.0.1';
        this.stderr = '';        // every run's stderr, runs separated by a marker line
        this.runFrom = 0;        // where the current run's stderr starts in this.stderr
        this.runs = 0;
        this.unexpectedExits = [];
        this.ports = {};
        servers.add(this);
    }

    port(name) {
        const p = this.ports[name];
        assert.ok(p, `no port for input "${name}" in ports file`);
        return p;
    }

    async start() {
        const dir = this.opts.dir;
        this.configPath = path.join(dir, `kizuna-${Date.now()}.yaml`);
        this.portsPath = path.join(dir, `ports-${Date.now()}.json`);
        fs.writeFileSync(this.configPath, toYaml(this.config));
        const args = ['serve', '-c', this.configPath, '--data', this.dataDir, '--ports-file', this.portsPath];
        this.spawn(KIZUNA_BIN, args);
        const names = this.config.inputs.map((i) => i.name);
        await waitUntil(() => {
            if (this.exitInfo)
                throw new Error(`kizuna serve exited early (${JSON.stringify(this.exitInfo)}):\n${this.runStderr()}`);
            return this.readPorts(names);
        }, { timeout: 15000, what: `ports file ${this.portsPath}` }).catch((e) => {
            this.markExitAsked();
            this.proc.kill('SIGKILL');
            this.exitProblems(); // reported right here, with the whole stderr
            throw new Error(`${e.message}\nstderr:\n${this.runStderr()}`);
        });
        return this;
    }

    // Start one run of the process.  Earlier runs' stderr is kept; a marker
    // line separates the runs.
    spawn(bin, args) {
        this.runs += 1;
        if (this.stderr) this.stderr += `\n----- harness: run ${this.runs} of kizuna serve -----\n`;
        this.runFrom = this.stderr.length;
        this.exitInfo = undefined;
        this.exitAsked = false;
        const prefix = this.opts.prefix || [];
        const argv = [...prefix, bin, ...args];
        // opts.env: variables added to the server's environment (NOTIFY_SOCKET, ...).
        const env = this.opts.env ? { ...process.env, ...this.opts.env } : process.env;
        const proc = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env });
        this.proc = proc;
        live.add(proc);
        proc.stderr.setEncoding('utf8');
        proc.stderr.on('data', (d) => {
            this.stderr += d;
            if (process.env.KZ_TEST_VERBOSE) process.stderr.write(d);
        });
        proc.stdout.resume();
        // 'close', not 'exit': by then stderr is drained, so a sanitizer report is whole.
        this.exited = new Promise((resolve) => {
            proc.on('close', (code, signal) => {
                live.delete(proc);
                this.exitInfo = { code, signal };
                if (!this.exitAsked)
                    this.unexpectedExits.push({ code, signal, stderrTail: this.runStderr().slice(-TAIL_CHARS) });
                resolve(this.exitInfo);
            });
        });
    }

    runStderr() {
        return this.stderr.slice(this.runFrom);
    }

    // The test is about to end the process itself (SIGTERM, SIGKILL, ...).
    markExitAsked() {
        this.exitAsked = true;
    }

    // Send a signal the test means to end the server with; its exit is then
    // expected.  (SIGHUP and other non-fatal signals go through proc.kill.)
    async killWith(signal, timeout = 5000) {
        this.markExitAsked();
        if (!this.exitInfo) this.proc.kill(signal);
        return withTimeout(this.exited, timeout, `kizuna serve to die after ${signal}`);
    }

    // Every exit nobody asked for, as failure messages; each is reported once.
    exitProblems() {
        const fresh = this.unexpectedExits.filter((e) => !e.reported);
        for (const e of fresh) e.reported = true;
        return fresh.map(formatExit);
    }

    assertNoUnexpectedExit() {
        const bad = this.exitProblems();
        assert.deepEqual(bad, [], bad.join('\n'));
    }

    readPorts(names) {
        let parsed;
        try {
            parsed = JSON.parse(fs.readFileSync(this.portsPath, 'utf8'));
        } catch {
            return false;
        }
        if (!parsed.inputs || !names.every((n) => Number.isInteger(parsed.inputs[n]))) return false;
        this.ports = parsed.inputs;
        return true;
    }

    // Problems in the current run's stderr: sanitizer output always;
    // error-level lines unless expected.
    problems({ expectErrors = false } = {}) {
        const found = [];
        for (const line of this.runStderr().split('\n')) {
            if (FATAL_PATTERNS.some((re) => re.test(line))) found.push(line);
            else if (!expectErrors && /level=error/.test(line)) found.push(line);
        }
        return found;
    }

    // SIGTERM and wait.  Fails on an exit nobody asked for (even one that
    // happened long before), a non-zero exit status, or problems in stderr.
    async stop({ expectErrors = false, timeout = 10000 } = {}) {
        if (!this.proc) return;
        const wasRunning = !this.exitInfo;
        if (wasRunning) {
            this.markExitAsked();
            this.proc.kill('SIGTERM');
            try {
                await withTimeout(this.exited, timeout, 'kizuna serve to exit after SIGTERM');
            } catch (e) {
                this.proc.kill('SIGKILL');
                await this.exited;
                throw new Error(`${e.message}\nstderr tail:\n${this.runStderr().slice(-4000)}`);
            }
        }
        this.check(expectErrors, wasRunning);
    }

    // The sanitizer's whole report (stack traces included), for the failure message.
    sanitizerReport() {
        const lines = this.runStderr().split('\n');
        const at = lines.findIndex((l) => FATAL_PATTERNS.some((re) => re.test(l)));
        return at < 0 ? '' : lines.slice(at, at + 60).join('\n');
    }

    check(expectErrors, wantCleanExit = false) {
        this.assertNoUnexpectedExit();
        const bad = this.problems({ expectErrors });
        assert.deepEqual(bad, [], `kizuna serve stderr has problems:\n${bad.join('\n')}\n${this.sanitizerReport()}`);
        if (wantCleanExit)
            assert.equal(this.exitInfo.code, 0,
                `kizuna serve exit after SIGTERM: ${JSON.stringify(this.exitInfo)}\n${this.runStderr().slice(-2000)}`);
    }

    // kill -9 on purpose; sanitizer output before the kill still fails.
    async kill9() {
        this.assertNoUnexpectedExit();
        await this.killWith('SIGKILL');
        const bad = this.runStderr().split('\n').filter((l) => FATAL_PATTERNS.some((re) => re.test(l)));
        assert.deepEqual(bad, [], `sanitizer output before kill -9:\n${this.sanitizerReport()}`);
    }

    // Stop (if running) and start again on the same data directory.  With
    // samePorts the inputs listen on the addresses and ports they had
    // before.  A server that died without being asked fails here, with its
    // stderr.
    async restart({ samePorts = false, expectErrors = false } = {}) {
        if (this.proc && !this.exitInfo) await this.stop({ expectErrors });
        else this.assertNoUnexpectedExit();
        if (samePorts)
            this.config = {
                ...this.config,
                inputs: this.config.inputs.map((i) => ({ ...i, listen: withPort(i.listen, this.ports[i.name]) })),
            };
        return this.start();
    }

    cleanup() {
        fs.rmSync(this.opts.dir, { recursive: true, force: true });
    }
}

// HOST:PORT with the port replaced (an IPv6 host keeps its brackets).
export function withPort(listen, port) {
    return `${listen.replace(/:\d+$/, '')}:${port}`;
}

// startServer({inputs, limits, ...}) or startServer({config}) on a fresh
// temporary data directory (or `dataDir`); `prefix` and `host` as in Server;
// `env`: variables added to the server's environment.
export async function startServer(opts = {}) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kizuna-it-'));
    const dataDir = opts.dataDir || path.join(dir, 'data');
    fs.mkdirSync(dataDir, { recursive: true });
    const server = new Server({ dir, dataDir, prefix: opts.prefix, host: opts.host, env: opts.env });
    server.config = opts.config || makeConfig(opts);
    return server.start();
}

// ---- CoT events ----------------------------------------------------------

export function xmlEscape(s) {
    return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
        .replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

export function iso(ms) {
    return new Date(ms).toISOString();
}

// Build one CoT event.  Detail parts: callsign, group {name, role}, dests
// [{callsign}|{uid}], link {uid, type, relation}, remarks, extra (raw XML).
export function cotEvent(o = {}) {
    const now = o.now ?? Date.now();
    const attrs = {
        version: '2.0',
        uid: o.uid ?? uniq('ev'),
        type: o.type ?? 'a-f-G-U-C',
        how: o.how ?? 'm-g',
        time: o.time ?? iso(now),
        start: o.start ?? iso(now),
        stale: o.stale ?? iso(now + (o.staleMs ?? 120000)),
    };
    if (o.access !== undefined) attrs.access = o.access;
    const p = { lat: 35.7, lon: 139.3, hae: 10, ce: 5, le: 9999999.0, ...(o.point || {}) };
    let detail = '';
    if (o.callsign) detail += `<contact callsign="${xmlEscape(o.callsign)}" endpoint="*:-1:stcp"/>`;
    if (o.group) detail += `<__group name="${xmlEscape(o.group.name)}" role="${xmlEscape(o.group.role ?? 'Team Member')}"/>`;
    if (o.dests && o.dests.length)
        detail += `<marti>${o.dests.map((d) => `<dest ${Object.entries(d).map(([k, v]) => `${k}="${xmlEscape(v)}"`).join(' ')}/>`).join('')}</marti>`;
    if (o.link) detail += `<link uid="${xmlEscape(o.link.uid)}" type="${xmlEscape(o.link.type ?? 'a-f-G')}" relation="${xmlEscape(o.link.relation ?? 'none')}"/>`;
    if (o.remarks !== undefined) detail += `<remarks>${xmlEscape(o.remarks)}</remarks>`;
    if (o.extra) detail += o.extra;
    const attrText = Object.entries(attrs).map(([k, v]) => `${k}="${xmlEscape(v)}"`).join(' ');
    const pointText = Object.entries(p).map(([k, v]) => `${k}="${v}"`).join(' ');
    const decl = o.decl === false ? '' : '<?xml version="1.0" encoding="UTF-8"?>\n';
    const detailXml = o.noDetail ? '' : `<detail>${detail}</detail>`;
    return `${decl}<event ${attrText}><point ${pointText}/>${detailXml}</event>`;
}

export function pingEvent(uid = uniq('ping')) {
    const now = Date.now();
    return cotEvent({ uid, type: 't-x-c-t', how: 'm-g', stale: iso(now + 10000), point: { lat: 0, lon: 0, hae: 0, ce: 9999999, le: 9999999 } });
}

export function deleteEvent(targetUid, uid = uniq('del')) {
    return cotEvent({ uid, type: 't-x-d-d', how: 'h-g-i-g-o', link: { uid: targetUid, type: 'a-f-G-U-C', relation: 'none' }, extra: '<__forcedelete/>' });
}

function unescapeXml(s) {
    return s.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (m, e) => {
        switch (e) {
        case 'lt': return '<';
        case 'gt': return '>';
        case 'amp': return '&';
        case 'quot': return '"';
        case 'apos': return "'";
        default: return String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
        }
    });
}

export function parseAttrs(tag) {
    const out = {};
    const re = /([A-Za-z_][\w:.-]*)\s*=\s*("([^"]*)"|'([^']*)')/g;
    let m;
    while ((m = re.exec(tag)) !== null) out[m[1]] = unescapeXml(m[3] ?? m[4]);
    return out;
}

// A light structural view of one received <event> document.
export function parseEvent(xml) {
    const start = xml.indexOf('<event');
    const body = xml.slice(start);
    const evTag = body.match(/^<event\b[^>]*>/);
    const ptTag = body.match(/<point\b[^>]*>/);
    const det = body.match(/<detail>([\s\S]*)<\/detail>/) || body.match(/<detail\b[^>]*>([\s\S]*)<\/detail>/);
    const ev = evTag ? parseAttrs(evTag[0].slice(6)) : {};
    const pt = ptTag ? parseAttrs(ptTag[0].slice(6)) : {};
    const detail = det ? det[1] : (/<detail\s*\/>/.test(body) ? '' : null);
    const contact = detail && detail.match(/<contact\b[^>]*>/);
    return {
        xml: body, ...ev, attrs: ev,
        point: Object.fromEntries(Object.entries(pt).map(([k, v]) => [k, Number(v)])),
        detail,
        callsign: contact ? parseAttrs(contact[0]).callsign : undefined,
    };
}

// ---- CoT TCP client ------------------------------------------------------

export class CotClient {
    constructor(socket, name) {
        this.socket = socket;
        this.name = name;
        this.events = [];
        this.buf = '';
        this.waiters = [];
        this.closed = false;
        this.closedPromise = new Promise((resolve) => { this.resolveClosed = resolve; });
        socket.setEncoding('utf8');
        socket.on('data', (d) => this.onData(d));
        socket.on('error', (e) => { this.error = e; });
        socket.on('close', () => {
            this.closed = true;
            this.resolveClosed();
            this.wake();
        });
    }

    static connect(port, { host = '127.0.0.1', name = `client:${port}` } = {}) {
        return withTimeout(new Promise((resolve, reject) => {
            const s = net.connect({ port, host }, () => {
                s.removeListener('error', reject);
                resolve(new CotClient(s, name));
            });
            s.once('error', reject);
        }), 5000, `TCP connect to ${host}:${port}`);
    }

    onData(d) {
        this.buf += d;
        let end;
        while ((end = this.buf.indexOf('</event>')) >= 0) {
            const chunk = this.buf.slice(0, end + 8);
            this.buf = this.buf.slice(end + 8);
            const ev = parseEvent(chunk);
            ev.receivedAt = Date.now();
            this.events.push(ev);
        }
        this.wake();
    }

    wake() {
        const waiters = this.waiters;
        this.waiters = [];
        for (const w of waiters) w();
    }

    send(xml) {
        const data = Array.isArray(xml) ? xml.join('') : xml;
        return new Promise((resolve, reject) => {
            this.socket.write(data, (err) => (err ? reject(err) : resolve()));
        });
    }

    // Resolves with the first received event (from index `from`) matching pred.
    async waitFor(pred, { timeout = 5000, what = 'an event', from = 0 } = {}) {
        const deadline = Date.now() + timeout;
        let i = from;
        for (;;) {
            for (; i < this.events.length; i++) if (pred(this.events[i])) return this.events[i];
            if (this.closed) throw new Error(`${this.name}: connection closed while waiting for ${what}`);
            const left = deadline - Date.now();
            if (left <= 0)
                throw new Error(`${this.name}: timed out after ${timeout} ms waiting for ${what}; got ${this.events.length} events: ${this.events.slice(-5).map((e) => `${e.type}/${e.uid}`).join(', ')}`);
            await new Promise((resolve) => {
                const t = setTimeout(resolve, left);
                this.waiters.push(() => { clearTimeout(t); resolve(); });
            });
        }
    }

    waitUid(uid, opts = {}) {
        return this.waitFor((e) => e.uid === uid, { what: `uid ${uid}`, ...opts });
    }

    has(uid) {
        return this.events.some((e) => e.uid === uid);
    }

    waitClosed(timeout = 5000) {
        return withTimeout(this.closedPromise, timeout, `${this.name} to be closed by the server`);
    }

    close() {
        this.socket.destroy();
        return this.closedPromise;
    }
}

// Send a fresh marker from `sender` and wait until every receiver has it:
// after that, anything the server was going to deliver earlier has arrived.
export async function barrier(sender, receivers, opts = {}) {
    const uid = uniq('marker');
    await sender.send(cotEvent({ uid, ...opts }));
    await Promise.all(receivers.map((r) => r.waitUid(uid, { what: `marker ${uid}` })));
    return uid;
}

// ---- HTTP ----------------------------------------------------------------

export function request(port, method, urlPath, { body, headers = {}, timeout = 10000, host = '127.0.0.1' } = {}) {
    return withTimeout(new Promise((resolve, reject) => {
        const req = http.request({ host, port, method, path: urlPath, agent: false, headers }, (res) => {
            let data = '';
            res.setEncoding('utf8');
            res.on('data', (d) => { data += d; });
            res.on('end', () => resolve({
                status: res.statusCode, headers: res.headers, body: data,
                json() { return JSON.parse(data); },
            }));
            res.on('error', reject);
        });
        req.on('error', reject);
        if (body !== undefined) req.write(body);
        req.end();
    }), timeout, `${method} ${urlPath}`);
}

// `opts`: request()'s host and timeout.
export function postEvent(port, xml, opts = {}) {
    return request(port, 'POST', '/api/v1/events', { ...opts, body: xml, headers: { 'content-type': 'application/xml' } });
}

// Prometheus text -> [{name, labels, value}].
export function parseMetrics(text) {
    const out = [];
    for (const line of text.split('\n')) {
        if (!line || line.startsWith('#')) continue;
        const m = line.match(/^([a-zA-Z_:][\w:]*)(\{([^}]*)\})?\s+(\S+)/);
        if (!m) continue;
        const labels = {};
        if (m[3]) for (const lm of m[3].matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[lm[1]] = lm[2];
        out.push({ name: m[1], labels, value: Number(m[4]) });
    }
    return out;
}

// Sum of the samples of `name` whose labels include `labels` (0 when absent).
export function metricValue(samples, name, labels = {}) {
    return samples
        .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
        .reduce((a, s) => a + s.value, 0);
}

export async function metrics(port) {
    const res = await request(port, 'GET', '/metrics');
    assert.equal(res.status, 200, `/metrics status ${res.status}`);
    const samples = parseMetrics(res.body);
    samples.text = res.body;
    return samples;
}

export async function metric(port, name, labels = {}) {
    return metricValue(await metrics(port), name, labels);
}

// The uids in a JSON answer from /api/v1/events or /api/v1/tracks, whatever
// the envelope: an array, {events: [...]}, or a FeatureCollection.
export function uidsOf(json) {
    const items = Array.isArray(json) ? json : json.features || json.events || json.items || [];
    return items.map((x) => x.uid ?? x.properties?.uid ?? x.id);
}

export async function tracks(port) {
    const res = await request(port, 'GET', '/api/v1/tracks');
    assert.equal(res.status, 200, `/api/v1/tracks status ${res.status}: ${res.body}`);
    const json = res.json();
    assert.equal(json.type, 'FeatureCollection');
    assert.ok(Array.isArray(json.features));
    return json;
}

// Server-Sent Events client: every `data:` line parsed as JSON.
export class SseClient {
    static open(port, urlPath = '/api/v1/stream') {
        const c = new SseClient();
        return withTimeout(new Promise((resolve, reject) => {
            c.req = http.get({ host: '127.0.0.1', port, path: urlPath, agent: false, headers: { accept: 'text/event-stream' } }, (res) => {
                c.res = res;
                c.status = res.statusCode;
                c.headers = res.headers;
                res.setEncoding('utf8');
                res.on('data', (d) => c.onData(d));
                res.on('end', () => { c.closed = true; c.wake(); });
                resolve(c);
            });
            c.req.on('error', reject);
        }), 5000, `SSE ${urlPath}`);
    }

    constructor() {
        this.buf = '';
        this.events = [];
        this.waiters = [];
        this.closed = false;
    }

    onData(d) {
        this.buf += d.replace(/\r\n/g, '\n');
        let end;
        while ((end = this.buf.indexOf('\n\n')) >= 0) {
            const block = this.buf.slice(0, end);
            this.buf = this.buf.slice(end + 2);
            const data = block.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).replace(/^ /, '')).join('\n');
            if (!data) continue;
            try {
                this.events.push(JSON.parse(data));
            } catch {
                this.events.push({ unparsed: data });
            }
        }
        this.wake();
    }

    wake() {
        const w = this.waiters;
        this.waiters = [];
        for (const f of w) f();
    }

    async waitFor(pred, { timeout = 5000, what = 'an SSE event' } = {}) {
        const deadline = Date.now() + timeout;
        let i = 0;
        for (;;) {
            for (; i < this.events.length; i++) if (pred(this.events[i])) return this.events[i];
            if (this.closed) throw new Error(`SSE stream ended while waiting for ${what}`);
            const left = deadline - Date.now();
            if (left <= 0) throw new Error(`timed out after ${timeout} ms waiting for ${what}; got ${this.events.length} SSE events`);
            await new Promise((resolve) => {
                const t = setTimeout(resolve, left);
                this.waiters.push(() => { clearTimeout(t); resolve(); });
            });
        }
    }

    waitUid(uid, opts = {}) {
        return this.waitFor((f) => (f.properties?.uid ?? f.id) === uid, { what: `SSE uid ${uid}`, ...opts });
    }

    has(uid) {
        return this.events.some((f) => (f.properties?.uid ?? f.id) === uid);
    }

    close() {
        this.req.destroy();
    }
}

// ---- the CLI ----------------------------------------------------------------

// Run `kizuna ARGS` to completion; resolves {code, signal, stdout, stderr}.
export function runCli(args, { input, timeout = 15000, env } = {}) {
    return withTimeout(new Promise((resolve, reject) => {
        const child = spawn(KIZUNA_BIN, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
        live.add(child);
        let stdout = '';
        let stderr = '';
        child.stdout.setEncoding('utf8');
        child.stderr.setEncoding('utf8');
        child.stdout.on('data', (d) => { stdout += d; });
        child.stderr.on('data', (d) => { stderr += d; });
        child.on('error', reject);
        child.on('close', (code, signal) => {
            live.delete(child);
            if (FATAL_PATTERNS.some((re) => re.test(stderr)))
                reject(new Error(`sanitizer output from kizuna ${args.join(' ')}:\n${stderr}`));
            else
                resolve({ code, signal, stdout, stderr });
        });
        child.stdin.on('error', () => { /* the command may exit before reading */ });
        child.stdin.end(input);
    }), timeout, `kizuna ${args.join(' ')}`);
}

// Start a long-running `kizuna ARGS`; lines of stdout are collected.
export function spawnCli(args) {
    const child = spawn(KIZUNA_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(child);
    const c = { child, stdout: '', stderr: '', lines: [], waiters: [] };
    const wake = () => { const w = c.waiters; c.waiters = []; for (const f of w) f(); };
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d) => {
        c.stdout += d;
        const parts = c.stdout.split('\n');
        c.stdout = parts.pop();
        c.lines.push(...parts);
        wake();
    });
    child.stderr.on('data', (d) => { c.stderr += d; wake(); });
    c.exited = new Promise((resolve) => child.on('close', (code, signal) => {
        live.delete(child);
        c.exitInfo = { code, signal };
        wake();
        resolve(c.exitInfo);
    }));
    c.waitFor = async (pred, { timeout = 5000, what = 'output' } = {}) => {
        const deadline = Date.now() + timeout;
        for (;;) {
            const hit = pred(c);
            if (hit) return hit;
            if (c.exitInfo) throw new Error(`kizuna ${args[0]} exited (${JSON.stringify(c.exitInfo)}) while waiting for ${what}; stderr:\n${c.stderr}`);
            const left = deadline - Date.now();
            if (left <= 0) throw new Error(`timed out after ${timeout} ms waiting for ${what}; stderr:\n${c.stderr}`);
            await new Promise((resolve) => {
                const t = setTimeout(resolve, left);
                c.waiters.push(() => { clearTimeout(t); resolve(); });
            });
        }
    };
    c.stop = async (signal = 'SIGINT', timeout = 5000) => {
        if (!c.exitInfo) child.kill(signal);
        const info = await withTimeout(c.exited, timeout, `kizuna ${args[0]} to exit on ${signal}`);
        assert.ok(!FATAL_PATTERNS.some((re) => re.test(c.stderr)), `sanitizer output from kizuna ${args[0]}:\n${c.stderr}`);
        return info;
    };
    return c;
}

// An SSE reader of GET /api/v1/stream on `port` that keeps each event's id, name, uid, type,
// seq and link in s.events (waking s.waiters), and sends Last-Event-ID when `lastId` is given.
export function openStream(port, lastId) {
    const headers = { accept: 'text/event-stream' };
    if (lastId !== undefined) headers['last-event-id'] = String(lastId);
    return new Promise((resolve, reject) => {
        const s = { events: [], waiters: [], buf: '' };
        s.req = http.get({ host: '127.0.0.1', port, path: '/api/v1/stream', agent: false, headers }, (res) => {
            assert.equal(res.statusCode, 200);
            res.setEncoding('utf8');
            res.on('data', (d) => {
                s.buf += d;
                let end;
                while ((end = s.buf.indexOf('\n\n')) >= 0) {
                    const block = s.buf.slice(0, end);
                    s.buf = s.buf.slice(end + 2);
                    const field = (name) => block.split('\n').find((l) => l.startsWith(`${name}: `))?.slice(name.length + 2);
                    if (field('data') === undefined) continue;
                    const f = JSON.parse(field('data'));
                    s.events.push({ id: Number(field('id')), event: field('event'), uid: f.properties.uid, type: f.properties.type,
                        seq: f.properties.seq, link: /<link [^>]*uid="([^"]+)"/.exec(f.properties.detail ?? '')?.[1] });
                }
                for (const w of s.waiters.splice(0)) w();
            });
            resolve(s);
        });
        s.req.on('error', reject);
    });
}
