// 05-slow-consumer: a client that stops reading is cut off once its output
// queue is full; everybody else keeps getting every event promptly while it
// fills.  A replay larger than the queue is not taken for a slow consumer.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { barrier, CotClient, cotEvent, metric, startServer, tcpInput, httpInput, uniq, waitUntil } from './lib/harness.mjs';

const PAD = 'x'.repeat(8000);
const BATCH = 10;              // events per write, ~80 KB
const PACE_MS = 40;            // between batches: filling the slow reader takes seconds
const MAX_BYTES = 80 << 20;     // give up flooding after this much
// The worst probe latency allowed while the slow reader fills, and at most
// half the time the fill took.  Delivery to the fast client must never wait
// for the slow one: such a stall would last until the slow client is dropped.
const STALL_MS = 1000;

const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];

describe('slow consumer', () => {
    let server;

    before(async () => {
        server = await startServer({
            inputs: [tcpInput('us'), httpInput('web', ['Cyan'])],
            limits: { out_queue_bytes: 65536 },
        });
    });

    after(async () => {
        await server.stop();
        server.cleanup();
    });

    test('a reader that stalls is disconnected; others get every event with low latency', async () => {
        const web = server.port('web');
        const drops0 = await metric(web, 'kizuna_slow_consumer_drops_total');
        const sender = await CotClient.connect(server.port('us'), { name: 'sender' });
        const fast = await CotClient.connect(server.port('us'), { name: 'fast' });
        const slow = await CotClient.connect(server.port('us'), { name: 'slow' });
        slow.socket.pause();    // stop reading: the kernel buffers fill, then the server's queue
        await waitUntil(async () => (await metric(web, 'kizuna_connections', { kind: 'cot' })) >= 3,
            { what: 'three CoT connections in /metrics' });

        const latencies = [];
        let sent = 0;
        let received = 0;
        let dropped = false;
        const start = Date.now();
        // Flood in batches, each followed by a probe; the fast client must
        // see the whole batch, then the probe, soon after it was sent.
        for (let batch = 0; sent < MAX_BYTES && !dropped; batch++) {
            const uids = Array.from({ length: BATCH }, () => uniq('flood'));
            const events = uids.map((uid) => cotEvent({ uid, remarks: PAD }));
            const probe = uniq('probe');
            const t0 = Date.now();
            await sender.send(events.join('') + cotEvent({ uid: probe }));
            sent += events.reduce((a, e) => a + e.length, 0);
            await fast.waitUid(probe, { timeout: 10000 });
            latencies.push(Date.now() - t0);
            const got = new Set(fast.events.map((e) => e.uid));
            const missing = uids.filter((u) => !got.has(u));
            assert.deepEqual(missing, [], `batch ${batch}: the fast client missed ${missing.length} flood events`);
            received += uids.length;
            fast.events.length = 0;     // the fast client's buffer would grow without bound otherwise
            dropped = (await metric(web, 'kizuna_slow_consumer_drops_total')) > drops0;
            if (!dropped) await new Promise((resolve) => setTimeout(resolve, PACE_MS));
        }
        const fillMs = Date.now() - start;
        assert.ok(dropped, `no slow-consumer drop after ${sent} bytes`);
        const worst = Math.max(...latencies);
        const diag = `${latencies.length} batches (${received} events, ${sent} bytes) in ${fillMs} ms; ` +
            `latency p50 ${quantile(latencies, 0.5)} p99 ${quantile(latencies, 0.99)} max ${worst} ms`;
        console.log(`# ${diag}`);
        assert.ok(worst < Math.min(STALL_MS, fillMs / 2), `the fast client stalled while the slow one filled: ${diag}`);

        slow.socket.resume();
        await slow.waitClosed(15000);
        await waitUntil(async () => (await metric(web, 'kizuna_connections', { kind: 'cot' })) === 2,
            { what: 'the slow connection to leave kizuna_connections' });
        const probe = uniq('after');
        const t0 = Date.now();
        await sender.send(cotEvent({ uid: probe }));
        await fast.waitUid(probe);
        assert.ok(Date.now() - t0 < STALL_MS, `after the drop: ${Date.now() - t0} ms`);
        await sender.close();
        await fast.close();
    });
});

describe('replay larger than the output queue', () => {
    let server;

    before(async () => {
        server = await startServer({
            inputs: [tcpInput('us'), httpInput('web', ['Cyan'])],
            limits: { out_queue_bytes: 65536 },
        });
    });

    after(async () => {
        await server.stop();
        server.cleanup();
    });

    test('a new client receives the whole state and is not taken for a slow consumer', async () => {
        const web = server.port('web');
        const src = await CotClient.connect(server.port('us'), { name: 'state-src' });
        // 12 MB of state: more than the kernel's socket buffers and the
        // 64 KiB queue together, so the replay must wait in the queue.
        const uids = Array.from({ length: 3000 }, () => uniq('state'));
        const pad = 'r'.repeat(4000);
        for (let i = 0; i < uids.length; i += 500)
            await src.send(uids.slice(i, i + 500).map((uid) => cotEvent({ uid, remarks: pad })).join(''));
        await waitUntil(async () => (await metric(web, 'kizuna_tracks')) >= uids.length,
            { what: 'the state to build up', timeout: 20000 });
        const drops0 = await metric(web, 'kizuna_slow_consumer_drops_total');
        const delivered0 = await metric(web, 'kizuna_deliveries_total');
        const late = await CotClient.connect(server.port('us'), { name: 'late' });
        late.socket.pause();        // a client busy with something else for a moment
        // The whole replay is queued to it, more than the kernel takes ...
        await waitUntil(async () => (await metric(web, 'kizuna_deliveries_total')) - delivered0 >= uids.length,
            { what: 'the replay to be queued', timeout: 20000 });
        // ... and live traffic reaches it while the replay waits: delivered
        // (or, wrongly, dropped), but not a slow consumer.
        const live = uniq('live');
        await src.send(cotEvent({ uid: live }));
        await waitUntil(async () => (await metric(web, 'kizuna_deliveries_total')) - delivered0 > uids.length ||
            (await metric(web, 'kizuna_slow_consumer_drops_total')) > drops0, { what: 'the live event to be routed' });
        assert.equal(await metric(web, 'kizuna_slow_consumer_drops_total'), drops0, 'the replaying client was dropped');
        late.socket.resume();
        await late.waitUid(live, { timeout: 20000 });
        for (const uid of uids) assert.ok(late.has(uid), `replay missed ${uid}`);
        assert.equal(await metric(web, 'kizuna_slow_consumer_drops_total'), drops0);
        await barrier(src, [late]);     // and live traffic still flows
        await src.close();
        await late.close();
    });
});
