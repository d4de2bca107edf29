// 37-files: files over Marti (TAK Data Sync's /Marti/sync/*) on the real
// binary: an upload streamed to disk (raw and multipart, bigger than
// limits.http_max_body) comes back byte for byte by its SHA-256; ATAK's
// mission-package flow (missionquery, missionupload with its hash); an
// upload over limits.max_file_bytes is answered 413 and leaves nothing (the
// limit reloads with SIGHUP); a
// kill -9 in the middle of a slow upload leaves no file under its hash, and
// the restarted server removes the temporary and serves on; and a file's
// label decides who may fetch it (a JPN caller gets 404 for a USA NOFORN
// file, as for a hash nobody uploaded).  The same over an https input with
// a client certificate, as ATAK connects.  An upload whose client stalls
// (limits.http_timeout_ms) or goes away halfway leaves nothing.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
    httpInput, identity, metric, runCli, startServer, toYaml, waitUntil, withTimeout,
} from './lib/harness.mjs';

const MAX_FILE = 40 << 20; // limits.max_file_bytes in this test
const sha256 = (b) => crypto.createHash('sha256').update(b).digest('hex');

function inputs() {
    const web = (name, nation, extra = {}) => ({
        ...httpInput(name),
        identity: identity(`${name}-user`, ['Cyan'], ['Cyan'], { nation, ...extra }),
    });
    return [
        web('web-us', 'USA'),
        web('web-jp', 'JPN'),
        web('web-ro', 'USA', { roles: ['viewer'] }), // may read, not upload
    ];
}

// One request; the body (a Buffer) comes back whole, as bytes.  `tls`: https options (a client certificate).
function send(port, method, urlPath, { body, headers = {}, timeout = 20000, tls } = {}) {
    const mod = tls ? https : http;
    return withTimeout(new Promise((resolve, reject) => {
        const req = mod.request({ host: '127.0.0.1', port, method, path: urlPath, agent: false, headers, ...tls }, (res) => {
            const parts = [];
            res.on('data', (d) => parts.push(d));
            res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(parts) }));
            res.on('error', reject);
        });
        req.on('error', reject);
        if (body !== undefined) req.write(body);
        req.end();
    }), timeout, `${method} ${urlPath}`);
}

function multipart(field, filename, type, data, boundary = `----kz${crypto.randomBytes(6).toString('hex')}`) {
    const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${field}"; ` +
        `filename="${filename}"\r\nContent-Type: ${type}\r\n\r\n`);
    const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
    return { body: Buffer.concat([head, data, tail]), type: `multipart/form-data; boundary=${boundary}` };
}

// Every regular file under DATA/files: [relative path].
function storedFiles(server) {
    const dir = path.join(server.dataDir, 'files');
    const out = [];
    const walk = (d) => {
        for (const e of fs.readdirSync(d, { withFileTypes: true })) {
            const p = path.join(d, e.name);
            if (e.isDirectory()) walk(p);
            else out.push(path.relative(dir, p));
        }
    };
    if (fs.existsSync(dir)) walk(dir);
    return out.sort();
}

describe('files over Marti', () => {
    let server;
    let us, jp, ro;

    before(async () => {
        server = await startServer({ inputs: inputs(), limits: { max_file_bytes: MAX_FILE } });
        us = server.port('web-us');
        jp = server.port('web-jp');
        ro = server.port('web-ro');
    });

    after(async () => {
        if (server) {
            await server.stop();
            server.cleanup();
        }
    });

    test('a raw upload, bigger than http_max_body, comes back byte for byte by its hash', async () => {
        const data = crypto.randomBytes(3 << 20); // 3 MiB: over the 1 MiB http_max_body
        const hash = sha256(data);
        const stored0 = await metric(us, 'kizuna_files_stored_total');
        const up = await send(us, 'POST', '/Marti/sync/upload?name=map.tif&keywords=a,b&keywords=c&creatorUid=ANDROID-1',
            { body: data, headers: { 'content-type': 'image/tiff' } });
        assert.equal(up.status, 200, up.body.toString());
        // JSON, but not exactly application/json: node-tak's Files.upload parses the text itself.
        assert.equal(up.headers['content-type'], 'application/json;charset=UTF-8');
        const meta = JSON.parse(up.body.toString());
        assert.equal(meta.Hash, hash);
        assert.equal(meta.Size, data.length);
        assert.equal(meta.Name, 'map.tif');
        assert.equal(meta.MIMEType, 'image/tiff');
        assert.equal(meta.CreatorUid, 'ANDROID-1');
        assert.equal(meta.SubmissionUser, 'web-us-user');
        assert.deepEqual(meta.Keywords, ['a', 'b', 'c']);
        assert.match(meta.UID, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
        assert.match(meta.SubmissionDateTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/); // TAK's format
        assert.ok(fs.existsSync(path.join(server.dataDir, 'files', hash.slice(0, 2), hash)));

        const down = await send(us, 'GET', `/Marti/sync/content?hash=${hash}`);
        assert.equal(down.status, 200);
        assert.equal(down.headers['content-type'], 'image/tiff');
        assert.equal(down.headers['content-length'], String(data.length)); // a download shows progress
        assert.ok(down.body.equals(data), 'downloaded bytes differ');
        // Upper-case hex names the same file.
        const again = await send(us, 'GET', `/Marti/sync/content?hash=${hash.toUpperCase()}`);
        assert.ok(again.body.equals(data));
        assert.equal(await metric(us, 'kizuna_files_stored_total'), stored0 + 1);
    });

    test('a small file comes back with its length; a multipart upload takes part "assetfile"', async () => {
        const data = Buffer.from('PK\x03\x04 a mission package\r\n--not-the-boundary\r\n');
        const mp = multipart('assetfile', 'pkg.zip', 'application/x-zip-compressed', data);
        const up = await send(us, 'POST', '/Marti/sync/upload', { body: mp.body, headers: { 'content-type': mp.type } });
        assert.equal(up.status, 200, up.body.toString());
        const meta = JSON.parse(up.body.toString());
        assert.equal(meta.Name, 'pkg.zip');
        assert.ok(!('CreatorUid' in meta), 'absent, as TAK leaves out what is not set');
        assert.equal(meta.MIMEType, 'application/x-zip-compressed');
        assert.equal(meta.Hash, sha256(data));
        const down = await send(us, 'GET', `/Marti/sync/content?hash=${meta.Hash}`);
        assert.equal(down.headers['content-length'], String(data.length));
        assert.ok(down.body.equals(data));
    });

    test('ATAK\'s mission-package flow: missionquery, missionupload with its hash', async () => {
        const data = crypto.randomBytes(200000);
        const hash = sha256(data);
        const q0 = await send(us, 'GET', `/Marti/sync/missionquery?hash=${hash}`);
        assert.equal(q0.status, 404);
        const mp = multipart('assetfile', 'mp.zip', 'application/x-zip-compressed', data);
        const bad = await send(us, 'POST', `/Marti/sync/missionupload?hash=${sha256('other')}&filename=mp.zip&creatorUid=A`,
            { body: mp.body, headers: { 'content-type': mp.type } });
        assert.equal(bad.status, 400, 'bytes that do not have the hash given are refused');
        assert.ok(!fs.existsSync(path.join(server.dataDir, 'files', hash.slice(0, 2), hash)));
        const up = await send(us, 'POST', `/Marti/sync/missionupload?hash=${hash}&filename=mp.zip&creatorUid=A`,
            { body: mp.body, headers: { 'content-type': mp.type } });
        assert.equal(up.status, 200, up.body.toString());
        assert.equal(up.body.toString(), `http://127.0.0.1:${us}/Marti/sync/content?hash=${hash}`);
        const q1 = await send(us, 'GET', `/Marti/sync/missionquery?hash=${hash}`);
        assert.equal(q1.status, 200);
        assert.equal(q1.body.toString(), up.body.toString());
        const down = await send(us, 'GET', `/Marti/sync/content?hash=${hash}`);
        assert.ok(down.body.equals(data));
    });

    test('refusals: no name, a bad hash, an unknown hash, a caller without the operator role', async () => {
        assert.equal((await send(us, 'POST', '/Marti/sync/upload', { body: 'x' })).status, 400);
        assert.equal((await send(us, 'GET', '/Marti/sync/content?hash=../../etc/passwd')).status, 400);
        assert.equal((await send(us, 'GET', `/Marti/sync/content?hash=${sha256('nobody')}`)).status, 404);
        const r = await send(ro, 'POST', '/Marti/sync/upload?name=x', { body: 'x' });
        assert.equal(r.status, 403);
        assert.equal(r.headers['content-type'], 'application/json');
    });

    test('an upload is never held whole in memory', async () => {
        // The peak resident size (VmHWM) grows by far less than the file: it goes to disk as it comes.
        const hwm = () => Number(/VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${server.proc.pid}/status`, 'utf8'))[1]) * 1024;
        const data = crypto.randomBytes(36 << 20);
        const before = hwm();
        const up = await send(us, 'POST', '/Marti/sync/upload?name=big.bin', { body: data, timeout: 60000 });
        assert.equal(up.status, 200, up.body.toString());
        const grew = hwm() - before;
        assert.ok(grew < (12 << 20), `peak memory grew by ${grew} bytes for a ${data.length}-byte upload`);
        assert.equal(JSON.parse(up.body.toString()).Hash, sha256(data));
    });

    test('an upload over limits.max_file_bytes is answered 413 and leaves nothing behind', async () => {
        const before = storedFiles(server);
        const data = crypto.randomBytes(MAX_FILE + 1);
        const r = await send(us, 'POST', '/Marti/sync/upload?name=big.bin', { body: data }).catch((e) => ({ error: e }));
        // The server may close before the client has sent everything; when the answer is read, it is 413.
        if (!r.error) assert.equal(r.status, 413);
        await waitUntil(() => storedFiles(server).length === before.length,
            { what: 'the partial file to go', timeout: 5000 });
        assert.deepEqual(storedFiles(server), before);
        assert.equal((await send(us, 'GET', `/Marti/sync/content?hash=${sha256(data)}`)).status, 404);
        // Declared too big: refused at the headers, before the client sends the body.
        const early = await withTimeout(new Promise((resolve, reject) => {
            const req = http.request({
                host: '127.0.0.1', port: us, method: 'POST', path: '/Marti/sync/upload?name=big.bin', agent: false,
                headers: { 'content-length': String(MAX_FILE + 1), expect: '100-continue' },
            }, (res) => { res.resume(); resolve(res.statusCode); });
            req.on('continue', () => reject(new Error('100 Continue for a body over the limit')));
            req.on('error', reject);
            req.flushHeaders();
        }), 5000, 'the early 413');
        assert.equal(early, 413);
        // Exactly the limit is fine.
        const ok = await send(us, 'POST', '/Marti/sync/upload?name=max.bin', { body: data.subarray(0, MAX_FILE) });
        assert.equal(ok.status, 200, ok.body.toString());
    });

    test('a JPN caller cannot fetch a USA NOFORN file (404), but one released to JPN', async () => {
        const nf = Buffer.from('US eyes only');
        const rel = Buffer.from('shared with Japan');
        const up1 = await send(us, 'POST', `/Marti/sync/upload?name=nf.txt&label=${encodeURIComponent('SECRET//NOFORN')}`,
            { body: nf, headers: { 'content-type': 'text/plain' } });
        assert.equal(up1.status, 200, up1.body.toString());
        const up2 = await send(us, 'POST', `/Marti/sync/upload?name=rel.txt&label=${encodeURIComponent('SECRET//REL TO USA, JPN')}`,
            { body: rel, headers: { 'content-type': 'text/plain' } });
        assert.equal(up2.status, 200, up2.body.toString());
        for (const path_ of ['content', 'missionquery']) {
            assert.equal((await send(us, 'GET', `/Marti/sync/${path_}?hash=${sha256(nf)}`)).status, 200);
            const denied = await send(jp, 'GET', `/Marti/sync/${path_}?hash=${sha256(nf)}`);
            assert.equal(denied.status, 404, `${path_}: a NOFORN file is not for JPN`);
            assert.equal((await send(jp, 'GET', `/Marti/sync/${path_}?hash=${sha256(rel)}`)).status, 200);
        }
        const got = await send(jp, 'GET', `/Marti/sync/content?hash=${sha256(rel)}`);
        assert.ok(got.body.equals(rel));
        // A label the uploader may not see itself is refused.
        const above = await send(us, 'POST', `/Marti/sync/upload?name=ts.txt&label=${encodeURIComponent('TOP SECRET')}`,
            { body: 'x' });
        assert.equal(above.status, 403);
    });

    test('limits.max_file_bytes is applied by SIGHUP to the next upload', async () => {
        const applied = () => server.stderr.split('\n').filter((l) => /reload: configuration applied/.test(l)).length;
        const reload = async (limit) => {
            const before = applied();
            fs.writeFileSync(server.configPath, toYaml({ ...server.config, limits: { ...server.config.limits, max_file_bytes: limit } }));
            server.proc.kill('SIGHUP');
            await waitUntil(() => applied() > before, { what: 'the reload' });
        };
        const data = crypto.randomBytes(2000);
        await reload(1000);
        assert.equal((await send(us, 'POST', '/Marti/sync/upload?name=r.bin', { body: data })).status, 413);
        await reload(MAX_FILE);
        assert.equal((await send(us, 'POST', '/Marti/sync/upload?name=r.bin', { body: data })).status, 200);
    });

    test('kill -9 during a slow upload leaves no file under its hash; the restart removes the temporary', async () => {
        const data = crypto.randomBytes(2 << 20);
        const hash = sha256(data);
        const req = http.request({
            host: '127.0.0.1', port: us, method: 'POST', path: '/Marti/sync/upload?name=slow.bin', agent: false,
            headers: { 'content-length': String(data.length) },
        });
        req.on('error', () => {}); // the server goes away under it
        req.write(data.subarray(0, 600 * 1024)); // past the first write to disk, well short of the end
        const tmp = () => storedFiles(server).filter((f) => path.basename(f).startsWith('.tmp-'));
        await waitUntil(() => tmp().length === 1, { what: 'the upload\'s temporary file', timeout: 10000 });
        await server.kill9();
        req.destroy();
        assert.ok(!fs.existsSync(path.join(server.dataDir, 'files', hash.slice(0, 2), hash)));
        await server.restart();
        us = server.port('web-us');
        jp = server.port('web-jp');
        assert.deepEqual(tmp(), [], 'the temporary of the killed upload is gone');
        assert.equal((await send(us, 'GET', `/Marti/sync/content?hash=${hash}`)).status, 404);
        // Files uploaded before the kill are still served; a new upload works.
        const small = Buffer.from('PK\x03\x04 a mission package\r\n--not-the-boundary\r\n');
        assert.equal((await send(us, 'GET', `/Marti/sync/content?hash=${sha256(small)}`)).status, 200);
        const up = await send(us, 'POST', '/Marti/sync/upload?name=after.bin', { body: data });
        assert.equal(up.status, 200, up.body.toString());
        assert.ok((await send(us, 'GET', `/Marti/sync/content?hash=${hash}`)).body.equals(data));
    });
});

describe('files over Marti on an https input (ATAK\'s way in)', () => {
    let server;
    let tlsOpts;

    before(async () => {
        const data = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'kizuna-files-')), 'data');
        const pki = path.join(data, 'pki');
        for (const args of [['ca', 'init'],
            ['cert', 'issue', '--user', 'atak1', '--nation', 'USA', '--clearance', 'SECRET', '--groups', 'Cyan']]) {
            const r = await runCli([...args, '--data', data]);
            assert.equal(r.code, 0, `kizuna ${args.join(' ')}: ${r.stderr}`);
        }
        tlsOpts = {
            cert: fs.readFileSync(path.join(pki, 'atak1.pem')), key: fs.readFileSync(path.join(pki, 'atak1.key')),
            ca: fs.readFileSync(path.join(pki, 'ca.pem')), servername: 'localhost',
        };
        server = await startServer({
            dataDir: data,
            inputs: [{ name: 'api-tls', protocol: 'https', listen: '127.0.0.1:0', default_label: 'UNCLASSIFIED' }],
        });
    });

    after(async () => {
        if (server) {
            await server.stop();
            server.cleanup();
        }
    });

    test('a mission package goes up and comes back over TLS, named by an https URL', async () => {
        const port = server.port('api-tls');
        const data = crypto.randomBytes(3 << 20);
        const hash = sha256(data);
        const mp = multipart('assetfile', 'pkg.zip', 'application/x-zip-compressed', data);
        const up = await send(port, 'POST', `/Marti/sync/missionupload?hash=${hash}&filename=pkg.zip&creatorUid=ANDROID-1`,
            { body: mp.body, headers: { 'content-type': mp.type }, tls: tlsOpts });
        assert.equal(up.status, 200, up.body.toString());
        assert.equal(up.body.toString(), `https://127.0.0.1:${port}/Marti/sync/content?hash=${hash}`);
        const down = await send(port, 'GET', `/Marti/sync/content?hash=${hash}`, { tls: tlsOpts });
        assert.equal(down.status, 200);
        assert.equal(down.headers['content-type'], 'application/x-zip-compressed');
        assert.ok(down.body.equals(data), 'downloaded bytes differ');
        const meta = await send(port, 'POST', '/Marti/sync/upload?name=note.txt',
            { body: 'hello', headers: { 'content-type': 'text/plain' }, tls: tlsOpts });
        assert.equal(meta.status, 200, meta.body.toString());
        assert.equal(JSON.parse(meta.body.toString()).SubmissionUser, 'atak1');
    });
});

describe('an upload that stalls or is cut off', () => {
    let server;

    before(async () => {
        server = await startServer({ inputs: [httpInput('web')], limits: { http_timeout_ms: 600 } });
    });

    after(async () => {
        if (server) {
            await server.stop();
            server.cleanup();
        }
    });

    const temporaries = () => storedFiles(server).filter((f) => path.basename(f).startsWith('.tmp-'));

    for (const how of ['stalls', 'is cut off']) {
        test(`an upload whose client ${how} halfway is dropped and its temporary removed`, async () => {
            const data = crypto.randomBytes(1 << 20);
            let closed = false;
            const req = http.request({
                host: '127.0.0.1', port: server.port('web'), method: 'POST', path: '/Marti/sync/upload?name=s.bin',
                agent: false, headers: { 'content-length': String(data.length) },
            });
            req.on('error', () => { closed = true; });
            req.on('close', () => { closed = true; });
            req.write(data.subarray(0, 600 * 1024));
            await waitUntil(() => temporaries().length === 1, { what: 'the temporary', timeout: 5000 });
            if (how === 'is cut off') req.destroy();
            await waitUntil(() => closed, { what: 'the connection to close', timeout: 5000 });
            await waitUntil(() => storedFiles(server).length === 0, { what: 'the temporary to go', timeout: 5000 });
            assert.equal((await send(server.port('web'), 'GET', `/Marti/sync/content?hash=${sha256(data)}`)).status, 404);
        });
    }
});
