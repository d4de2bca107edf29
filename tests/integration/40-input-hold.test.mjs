// 40-input-hold: a CoT sender faster than the store is slowed, never refused
// (route/hold.c).  With store.max_pending_writes small and a long batch
// window, one connection writes thousands of events at once: the input
// stops reading at half the limit and reads again once the store caught
// up, so TCP holds the sender.  Every event is accepted and committed, none
// is refused as `overload`, and the connection stays open; without the hold
// the store's limit refuses most of the burst and 16 refusals in a row close
// the connection.

import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';

import {
    CotClient, cotEvent, httpInput, metric, request, startServer, tcpInput, uidsOf, uniq, waitUntil,
} from './lib/harness.mjs';

const EVENTS = 6000;
const MAX_PENDING = 1024; // refused at 1024 queued writes, reading stops at 512
const DELAY_MS = 200;     // the batch window: writes pile up between commits

describe('a fast sender is held while the store catches up', () => {
    let server;
    let client;

    after(async () => {
        if (client) await client.close();
        if (server) {
            await server.stop();
            server.cleanup();
        }
    });

    test(`${EVENTS} events in one burst: all accepted and committed, none refused`, async () => {
        server = await startServer({
            inputs: [tcpInput('us'), httpInput('web')],
            store: { max_delay_ms: DELAY_MS, max_pending_writes: MAX_PENDING },
        });
        const web = server.port('web');
        const base = uniq('burst');
        const uids = Array.from({ length: EVENTS }, (_, i) => `${base}-${i}`);
        client = await CotClient.connect(server.port('us'), { name: 'burst' });
        await client.send(uids.map((uid) => cotEvent({ uid })));

        await waitUntil(async () => (await metric(web, 'kizuna_events_in_total')) >= EVENTS || client.closed,
            { timeout: 60000, interval: 100, what: `${EVENTS} events accepted` });
        assert.equal(client.closed, false, 'the server closed the sending connection');
        assert.equal(await metric(web, 'kizuna_events_in_total'), EVENTS);
        assert.equal(await metric(web, 'kizuna_rejects_total', { reason: 'overload' }), 0);
        assert.ok(await metric(web, 'kizuna_input_holds_total') > 0, 'the input was never held');

        // Committed: the log answers from committed rows only.
        for (const uid of [uids[0], uids[EVENTS >> 1], uids[EVENTS - 1]]) {
            await waitUntil(async () => {
                const got = await request(web, 'GET', `/api/v1/events?uid=${encodeURIComponent(uid)}`);
                assert.equal(got.status, 200, got.body);
                return uidsOf(got.json()).includes(uid);
            }, { timeout: 10000, interval: 100, what: `${uid} committed` });
        }
        assert.equal(server.stderr.includes('the store is behind'), false, 'an event was refused');
    });
});
