// 05-slow-consumer: a client that stops reading is cut off once its output
// queue is full; everybody else keeps getting events promptly.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { barrier, CotClient, cotEvent, metric, startServer, tcpInput, httpInput, uniq, waitUntil } from './lib/harness.mjs';

const PAD = 'x'.repeat(8000);
const BATCH = 50;              // events per write, ~400 KB
const MAX_BYTES = 80 << 20;     // give up flooding after this much

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

    test('a reader that stalls is disconnected; others keep low latency', async () => {
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
        let dropped = false;
        // Flood in batches, each followed by a timestamped probe; the fast
        // client must see every probe soon after it was sent.
        for (let batch = 0; sent < MAX_BYTES && !dropped; batch++) {
            const events = Array.from({ length: BATCH }, () => cotEvent({ uid: uniq('flood'), remarks: PAD }));
            const probe = uniq('probe');
            const t0 = Date.now();
            await sender.send(events.join('') + cotEvent({ uid: probe }));
            sent += events.reduce((a, e) => a + e.length, 0);
            await fast.waitUid(probe, { timeout: 10000 });
            latencies.push(Date.now() - t0);
            // The fast client's buffer would grow without bound otherwise.
            fast.events.length = 0;
            dropped = (await metric(web, 'kizuna_slow_consumer_drops_total')) > drops0;
        }
        assert.ok(dropped, `no slow-consumer drop after ${sent} bytes`);

        slow.socket.resume();
        await slow.waitClosed(15000);

        const probe = uniq('after');
        const t0 = Date.now();
        await sender.send(cotEvent({ uid: probe }));
        await fast.waitUid(probe);
        latencies.push(Date.now() - t0);
        const worst = Math.max(...latencies);
        assert.ok(worst < 2000, `fast client latency up to ${worst} ms (${latencies.join(',')})`);
        await waitUntil(async () => (await metric(web, 'kizuna_connections', { kind: 'cot' })) === 2,
            { what: 'the slow connection to leave kizuna_connections' });
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
        const late = await CotClient.connect(server.port('us'), { name: 'late' });
        late.socket.pause();        // a client busy with something else for a moment
        await new Promise((resolve) => setTimeout(resolve, 300));
        late.socket.resume();
        await late.waitUid(uids[uids.length - 1], { timeout: 20000 });
        for (const uid of uids) assert.ok(late.has(uid), `replay missed ${uid}`);
        assert.equal(await metric(web, 'kizuna_slow_consumer_drops_total'), drops0);
        await barrier(src, [late]);     // and live traffic still flows
        await src.close();
        await late.close();
    });
});
