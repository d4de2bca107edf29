// 04-durability: a 201 from POST /api/v1/events means committed.  The batch
// window is long, so an answer sent before the commit would be seen: right
// after the 201, /api/v1/events (answered by the store from committed rows
// only, ahead of any pending batch) must list the event.  Then the server is
// killed with SIGKILL while stream traffic is in flight, started again on
// the same data directory, and every acknowledged event must be in the log
// and in the state.  (kill -9 cannot tell synchronous=FULL from NORMAL:
// tests/unit/test_store.c asserts the fsync setting itself.)

import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';

import { CotClient, cotEvent, httpInput, postEvent, request, startServer, tcpInput, tracks, uidsOf, uniq } from './lib/harness.mjs';

const ROUNDS = 5;
const DELAY_MS = 400;   // store.max_delay_ms: the batch window an early 201 would fall into
const NOISE = 200;      // stream events per burst

describe('durability across kill -9', () => {
    let server;

    after(async () => {
        if (server) {
            await server.stop();
            server.cleanup();
        }
    });

    const listed = async (uid) => {
        const got = await request(server.port('web'), 'GET', `/api/v1/events?uid=${encodeURIComponent(uid)}`);
        assert.equal(got.status, 200, `GET events status ${got.status}: ${got.body}`);
        return uidsOf(got.json()).includes(uid);
    };

    const burst = (client, uid, n) =>
        client.send(Array.from({ length: NOISE }, (_, i) => cotEvent({ uid: `${uid}-noise${n}-${i}` })));

    test(`${ROUNDS} rounds of POST, 201, committed, kill -9, restart`, async () => {
        server = await startServer({
            inputs: [tcpInput('us'), httpInput('web', ['Cyan'])],
            store: { max_delay_ms: DELAY_MS },
        });
        const committed = [];
        for (let round = 0; round < ROUNDS; round++) {
            const uid = uniq(`durable-${round}`);
            // Stream traffic queued in the store beside the POST.
            const noise = await CotClient.connect(server.port('us'), { name: 'noise' });
            await burst(noise, uid, 1);
            const res = await postEvent(server.port('web'), cotEvent({ uid, callsign: `DUR-${round}` }));
            assert.equal(res.status, 201, `POST status ${res.status}: ${res.body}`);
            const body = res.json();
            assert.equal(body.uid, uid);
            assert.ok(Number.isInteger(body.seq) && body.seq > 0, `seq ${body.seq}`);
            assert.ok(await listed(uid), `round ${round}: ${uid} answered 201 but not yet committed`);
            committed.push({ uid, seq: body.seq });

            // The kill lands while the next burst waits in the batch window.
            await burst(noise, uid, 2);
            await server.kill9();
            await noise.close();
            await server.restart();
            for (const c of committed)
                assert.ok(await listed(c.uid), `round ${round}: ${c.uid} (seq ${c.seq}) lost after kill -9`);
            const ids = (await tracks(server.port('web'))).features.map((f) => f.properties?.uid ?? f.id);
            assert.ok(ids.includes(uid), `round ${round}: ${uid} missing from /api/v1/tracks after restart`);
        }
    });
});
