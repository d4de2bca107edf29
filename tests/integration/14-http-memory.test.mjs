// 14-http-memory: a REST answer bigger than out_queue_bytes is produced in
// bounded pieces while the client reads (security review F12).  Ten clients
// that ask for a 16 MB answer and never read must not pin it in the server's
// memory; they are dropped as slow consumers once http_timeout_ms passes
// without progress, and a client that reads still gets the whole answer.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';

import {
    CotClient, cotEvent, httpInput, metric, request, startServer, tcpInput, uidsOf, uniq, waitUntil,
} from './lib/harness.mjs';

const EVENTS = 200;
const PAD = 'x'.repeat(40000); // ~40 KB per event (remarks and detail): answers of ~16 MB
const NON_READERS = 10;

function rssBytes(pid) {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return Number(m[1]) * 1024;
}

// Ask for `path` and never read the answer; resolves once the request is written.
function nonReader(port, path) {
    return new Promise((resolve, reject) => {
        const s = net.connect({ port, host: '127.0.0.1' }, () => {
            s.pause();
            s.write(`GET ${path} HTTP/1.1\r\nHost: t\r\n\r\n`, () => resolve(s));
        });
        s.on('error', reject);
    });
}

describe('REST answers stream in bounded pieces (F12)', () => {
    let server;
    let web;
    const uids = [];

    before(async () => {
        server = await startServer({
            inputs: [tcpInput('us'), httpInput('web', ['Cyan'])],
            limits: { out_queue_bytes: 262144, http_timeout_ms: 2000 },
        });
        web = server.port('web');
        const sender = await CotClient.connect(server.port('us'));
        for (let i = 0; i < EVENTS; i++) uids.push(uniq('big'));
        await sender.send(uids.map((uid) => cotEvent({ uid, remarks: PAD, staleMs: 3600000 })).join(''));
        await waitUntil(async () => {
            const res = await request(web, 'GET', `/api/v1/events?limit=1&uid=${uids.at(-1)}`);
            return uidsOf(res.json()).length === 1;
        }, { timeout: 15000, what: 'the last event stored' });
        sender.close();
    });

    after(async () => {
        await server.stop();
        server.cleanup();
    });

    test('ten clients that never read do not pin the answer, and are dropped', async () => {
        // A reader first: the answers are far bigger than the output queue.
        const full = await request(web, 'GET', '/api/v1/events?limit=10000', { timeout: 30000 });
        assert.equal(full.status, 200);
        const size = Buffer.byteLength(full.body);
        assert.ok(size > 4 * 262144, `answer of ${size} bytes`);
        assert.equal(full.headers['transfer-encoding'], 'chunked');

        const drops0 = await metric(web, 'kizuna_slow_consumer_drops_total');
        const rss0 = rssBytes(server.proc.pid);
        const sockets = [];
        for (let i = 0; i < NON_READERS; i++)
            sockets.push(await nonReader(web, i % 2 ? '/api/v1/tracks' : '/api/v1/events?limit=10000'));
        await new Promise((r) => setTimeout(r, 1000)); // the server does what it can meanwhile
        const grown = rssBytes(server.proc.pid) - rss0;
        // Queued whole, the answers would take NON_READERS * size (~160 MB).  Under
        // AddressSanitizer (make test's second pass sets ASAN_OPTIONS) freed memory stays in
        // its quarantine, so RSS measures nothing there: the first pass checks it.
        if (!process.env.ASAN_OPTIONS)
            assert.ok(grown < (NON_READERS * size) / 8,
                `RSS grew by ${(grown / 1048576).toFixed(1)} MiB for ${NON_READERS} answers of ` +
                `${(size / 1048576).toFixed(1)} MiB`);

        await waitUntil(async () =>
            (await metric(web, 'kizuna_slow_consumer_drops_total')) >= drops0 + NON_READERS,
        { timeout: 15000, what: `${NON_READERS} slow-consumer drops` });
        await waitUntil(async () => (await metric(web, 'kizuna_connections', { kind: 'http' })) <= 1,
            { timeout: 5000, what: 'the non-reading connections closed' });
        sockets.forEach((s) => s.destroy());
    });

    test('a reading client still gets the whole answer, events and tracks', async () => {
        const ev = await request(web, 'GET', '/api/v1/events?limit=10000', { timeout: 30000 });
        assert.equal(ev.status, 200);
        const got = uidsOf(ev.json());
        assert.equal(got.length, EVENTS);
        assert.deepEqual(got, [...uids].reverse()); // newest first
        assert.ok(ev.json().events.every((e) => JSON.stringify(e).includes(PAD)));

        const tr = await request(web, 'GET', '/api/v1/tracks', { timeout: 30000 });
        assert.equal(tr.status, 200);
        assert.equal(tr.headers['transfer-encoding'], 'chunked');
        assert.deepEqual(uidsOf(tr.json()), uids); // oldest update first

        const small = await request(web, 'GET', '/api/v1/events?limit=1&uid=no-such-uid');
        assert.equal(small.status, 200);
        assert.equal(small.body, '{"events":[],"next":null}\n');
        assert.ok(small.headers['content-length'], 'a small answer keeps Content-Length');
    });
});
