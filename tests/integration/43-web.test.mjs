// 43-web: the browser COP's static files (src/api/web.c, docs/web.md) from a web.root
// made here: / and /web/{file} from that directory only (no way out of it: dot-dot,
// encoded slashes, subdirectories, hidden files are 404), ETag and 304, Cache-Control,
// the precompressed .gz for clients that accept gzip, the Content-Security-Policy on
// every answer, and a web.root that does not exist stopping the start.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import zlib from 'node:zlib';

import { makeConfig, runCli, startServer, toYaml, withTimeout } from './lib/harness.mjs';

// GET with raw bytes back (gzip bodies are not text).
function get(port, urlPath, headers = {}, method = 'GET') {
    return withTimeout(new Promise((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, path: urlPath, method, headers, agent: false }, (res) => {
            const chunks = [];
            res.on('data', (d) => chunks.push(d));
            res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
            res.on('error', reject);
        });
        req.on('error', reject);
        req.end();
    }), 10000, `GET ${urlPath}`);
}

describe('static files of the COP', () => {
    let server, port;
    const top = fs.mkdtempSync(path.join(os.tmpdir(), 'kizuna-web-'));
    const root = path.join(top, 'web');
    const index = '<!doctype html><title>COP</title><script type="module" src="/web/app.js"></script>';
    const appJs = `export const x = ${JSON.stringify('x'.repeat(5000))};\n`;

    before(async () => {
        fs.mkdirSync(path.join(root, 'sub'), { recursive: true });
        fs.writeFileSync(path.join(root, 'index.html'), index);
        fs.writeFileSync(path.join(root, 'app.js'), appJs);
        fs.writeFileSync(path.join(root, 'app.js.gz'), zlib.gzipSync(appJs));
        fs.writeFileSync(path.join(root, 'style.css'), 'body{}');
        fs.writeFileSync(path.join(root, '.hidden'), 'hidden');
        fs.writeFileSync(path.join(root, 'sub', 'inner.txt'), 'inner');
        fs.writeFileSync(path.join(top, 'secret.txt'), 'secret');
        server = await startServer({ config: { ...makeConfig(), web: { root } } });
        port = server.port('web');
    });

    after(async () => {
        await server?.stop();
        fs.rmSync(top, { recursive: true, force: true });
    });

    test('GET / is index.html with the security and cache headers', async () => {
        const r = await get(port, '/');
        assert.equal(r.status, 200);
        assert.equal(r.body.toString(), index);
        assert.equal(r.headers['content-type'], 'text/html; charset=utf-8');
        assert.equal(r.headers['cache-control'], 'no-cache');
        assert.equal(r.headers['x-content-type-options'], 'nosniff');
        assert.match(r.headers.etag, /^"[0-9a-f]{16}"$/);
        const csp = r.headers['content-security-policy'];
        assert.match(csp, /default-src 'none'/);
        assert.match(csp, /script-src 'self';/);
        assert.match(csp, /connect-src 'self';/);
        assert.doesNotMatch(csp, /unsafe|\*|https?:/);
    });

    test('files by name, with their types; the CSP on every answer', async () => {
        const js = await get(port, '/web/app.js');
        assert.equal(js.status, 200);
        assert.equal(js.body.toString(), appJs);
        assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
        assert.ok(js.headers['content-security-policy']);
        assert.equal((await get(port, '/web/style.css')).headers['content-type'], 'text/css; charset=utf-8');
        assert.equal((await get(port, '/web/index.html')).body.toString(), index);
    });

    test('gzip when accepted, and only then', async () => {
        for (const ae of ['gzip', 'deflate, gzip', 'br;q=1.0, gzip;q=0.8', '*']) {
            const r = await get(port, '/web/app.js', { 'accept-encoding': ae });
            assert.equal(r.headers['content-encoding'], 'gzip', ae);
            assert.equal(r.headers.vary, 'Accept-Encoding');
            assert.equal(zlib.gunzipSync(r.body).toString(), appJs, ae);
        }
        for (const ae of ['identity', 'br', 'gzip;q=0', 'gzip; q=0.000', 'xgzip']) {
            const r = await get(port, '/web/app.js', { 'accept-encoding': ae });
            assert.equal(r.headers['content-encoding'], undefined, ae);
            assert.equal(r.body.toString(), appJs, ae);
        }
        // A file without a .gz is sent as it is.
        const css = await get(port, '/web/style.css', { 'accept-encoding': 'gzip' });
        assert.equal(css.headers['content-encoding'], undefined);
        assert.equal(css.body.toString(), 'body{}');
    });

    test('ETag: a matching If-None-Match is 304 without a body; each encoding has its own tag', async () => {
        const plain = await get(port, '/web/app.js');
        const gz = await get(port, '/web/app.js', { 'accept-encoding': 'gzip' });
        assert.notEqual(plain.headers.etag, gz.headers.etag);
        const r = await get(port, '/web/app.js', { 'if-none-match': plain.headers.etag });
        assert.equal(r.status, 304);
        assert.equal(r.body.length, 0);
        assert.equal(r.headers['content-length'], undefined);
        assert.equal(r.headers.etag, plain.headers.etag);
        const stale = await get(port, '/web/app.js', { 'if-none-match': '"0000000000000000"' });
        assert.equal(stale.status, 200);
        const other = await get(port, '/web/app.js', { 'if-none-match': gz.headers.etag });
        assert.equal(other.status, 200, 'the gzip tag does not validate the plain body');
        const gz304 = await get(port, '/web/app.js', { 'if-none-match': gz.headers.etag, 'accept-encoding': 'gzip' });
        assert.equal(gz304.status, 304);
    });

    test('nothing outside the directory, nothing hidden, no subdirectories', async () => {
        for (const p of ['/web/../secret.txt', '/web/..%2fsecret.txt', '/web/%2e%2e%2fsecret.txt', '/web/%2E%2E',
            '/web/..', '/web/.hidden', '/web/sub/inner.txt', '/web/sub', '/web/sub%2finner.txt',
            '/web/app.js.gz', '/web/', '/web', '/web/nope.js', '/secret.txt', '/web/app.js%00.html']) {
            const r = await get(port, p);
            // A NUL in the path is refused by the engine before any route (400).
            assert.equal(r.status, p.includes('%00') ? 400 : 404, p);
            assert.doesNotMatch(r.body.toString(), /secret|inner|hidden/, p);
        }
    });

    test('only GET', async () => {
        assert.equal((await get(port, '/', {}, 'POST')).status, 405);
        assert.equal((await get(port, '/web/app.js', {}, 'DELETE')).status, 405);
    });

    test('a web.root that does not exist stops the start, naming it', async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kizuna-web-missing-'));
        const cfg = path.join(dir, 'kizuna.yaml');
        fs.writeFileSync(cfg, toYaml({ ...makeConfig(), web: { root: path.join(dir, 'nowhere') } }));
        const r = await runCli(['serve', '-c', cfg, '--data', dir]);
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, /web: cannot read the COP/);
        assert.match(r.stderr, /nowhere/);
        fs.rmSync(dir, { recursive: true, force: true });
    });
});
