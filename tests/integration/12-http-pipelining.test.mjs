// 12-http-pipelining: requests pipelined in one socket write are answered
// one each, in order, also when an answer waits for the store's commit
// (POST /api/v1/events, POST /api/v1/readiness): security review F1, where
// the second of two pipelined POSTs crashed the server.  Also F10: a bad
// %-escape never leaves an unterminated path behind (the log line showed the
// previous request's bytes).

import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';

import { cotEvent, httpInput, request, startServer, uniq, withTimeout } from './lib/harness.mjs';

// Parse as many complete responses (Content-Length framed) as `buf` holds.
function parseResponses(buf) {
    const out = [];
    let rest = buf;
    for (;;) {
        const end = rest.indexOf('\r\n\r\n');
        if (end < 0) break;
        const head = rest.subarray(0, end).toString('latin1');
        const m = /^HTTP\/1\.1 (\d{3})/.exec(head);
        const cl = /\r\ncontent-length: *(\d+)/i.exec(head);
        if (!m || !cl) throw new Error(`unexpected response head: ${head}`);
        const len = Number(cl[1]);
        if (rest.length < end + 4 + len) break;
        const body = rest.subarray(end + 4, end + 4 + len).toString('utf8');
        out.push({ status: Number(m[1]), head, body, json: () => JSON.parse(body) });
        rest = rest.subarray(end + 4 + len);
    }
    return out;
}

// Write every request in one write(); read until `want` responses (or EOF).
function pipeline(port, requests, want = requests.length, timeout = 10000) {
    return withTimeout(new Promise((resolve, reject) => {
        let buf = Buffer.alloc(0);
        const s = net.connect({ port, host: '127.0.0.1' }, () => s.write(requests.join('')));
        const done = () => {
            s.destroy();
            resolve(parseResponses(buf));
        };
        s.on('data', (d) => {
            buf = Buffer.concat([buf, d]);
            if (parseResponses(buf).length >= want) done();
        });
        s.on('end', done);
        s.on('error', reject);
    }), timeout, `${requests.length} pipelined requests`);
}

const post = (path, type, body) =>
    `POST ${path} HTTP/1.1\r\nHost: t\r\nContent-Type: ${type}\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
const postCot = (uid) => post('/api/v1/events', 'application/xml', cotEvent({ uid }));
const postReadiness = (unit) =>
    post('/api/v1/readiness', 'application/json', JSON.stringify({ unit, p: 1, s: 2, r: 1, t: 1 }));
const get = (path) => `GET ${path} HTTP/1.1\r\nHost: t\r\n\r\n`;

describe('HTTP pipelining', () => {
    let server;
    let web;

    before(async () => {
        server = await startServer({ inputs: [httpInput('web', ['Cyan'])] });
        web = server.port('web');
    });

    after(async () => {
        await server.stop();
        server.cleanup();
    });

    async function assertAlive() {
        assert.equal(server.exitInfo, undefined, `kizuna serve died:\n${server.stderr.slice(-2000)}`);
        assert.equal((await request(web, 'GET', '/healthz')).status, 200);
    }

    for (const n of [2, 3]) {
        test(`${n} POST /api/v1/events in one write: ${n} answers 201, in order`, async () => {
            const uids = Array.from({ length: n }, () => uniq('pipe'));
            const res = await pipeline(web, uids.map(postCot));
            assert.equal(res.length, n, `got ${res.length} answers`);
            let last = 0;
            res.forEach((r, i) => {
                assert.equal(r.status, 201, r.body);
                assert.equal(r.json().uid, uids[i]);
                assert.ok(r.json().seq > last, `seq ${r.json().seq} after ${last}`);
                last = r.json().seq;
            });
            await assertAlive();
        });
    }

    test('3 POST /api/v1/readiness in one write: 3 answers 201, in order', async () => {
        const units = ['PIPE-A', 'PIPE-B', 'PIPE-C'];
        const res = await pipeline(web, units.map(postReadiness));
        assert.equal(res.length, 3, `got ${res.length} answers`);
        res.forEach((r, i) => {
            assert.equal(r.status, 201, r.body);
            assert.equal(r.json().unit, units[i]);
        });
        await assertAlive();
    });

    test('held and immediate answers mixed in one write keep their order', async () => {
        const uid = uniq('mixed');
        const res = await pipeline(web, [
            postCot(uid), get('/healthz'), postReadiness('PIPE-D'),
            get(`/api/v1/events?uid=${uid}`), postCot(`${uid}-2`), get('/no/such/thing'),
        ]);
        assert.deepEqual(res.map((r) => r.status), [201, 200, 201, 200, 201, 404]);
        assert.equal(res[0].json().uid, uid);
        assert.equal(res[1].body, 'ok\n');
        assert.equal(res[2].json().unit, 'PIPE-D');
        assert.deepEqual(res[3].json().events.map((e) => e.properties?.uid ?? e.id), [uid]);
        assert.equal(res[4].json().uid, `${uid}-2`);
        await assertAlive();
    });

    test('a bad %-escape after a long path: 400, and the log shows no earlier bytes (F10)', async () => {
        const marker = `PREVIOUS-REQUEST-SECRET-MARKER-${'x'.repeat(200)}`;
        const res = await pipeline(web, [get(`/${marker}`), get('/A%00'), get('/B%4'), get('/C%zz')], 2);
        assert.deepEqual(res.map((r) => r.status), [404, 400]);
        await assertAlive();
        assert.doesNotMatch(server.stderr, /path="?\/[ABC](REVIOUS|EVIOUS|VIOUS)/);
        assert.doesNotMatch(server.stderr, /path="?\/A[^ "]/);
    });
});
