// 04-durability: a 201 from POST /api/v1/events means committed.  Kill the
// server with SIGKILL right after the answer, start it again on the same
// data directory, and the event must be in the log and in the state.

import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';

import { CotClient, cotEvent, httpInput, postEvent, request, startServer, tcpInput, tracks, uidsOf, uniq } from './lib/harness.mjs';

const ROUNDS = 5;

describe('durability across kill -9', () => {
    let server;

    after(async () => {
        if (server) {
            await server.stop();
            server.cleanup();
        }
    });

    test(`${ROUNDS} rounds of POST, 201, kill -9, restart`, async () => {
        server = await startServer({ inputs: [tcpInput('us'), httpInput('web', ['Cyan'])] });
        const committed = [];
        for (let round = 0; round < ROUNDS; round++) {
            const uid = uniq(`durable-${round}`);
            // Stream traffic in flight so the kill lands while the store is
            // busy, not idle.
            const noise = await CotClient.connect(server.port('us'), { name: 'noise' });
            noise.send(Array.from({ length: 200 }, (_, i) => cotEvent({ uid: `${uid}-noise-${i}` }))).catch(() => {});
            const res = await postEvent(server.port('web'), cotEvent({ uid, callsign: `DUR-${round}` }));
            assert.equal(res.status, 201, `POST status ${res.status}: ${res.body}`);
            const body = res.json();
            assert.equal(body.uid, uid);
            assert.ok(Number.isInteger(body.seq) && body.seq > 0, `seq ${body.seq}`);
            await server.kill9();
            await noise.close();
            committed.push({ uid, seq: body.seq });

            await server.restart();
            for (const c of committed) {
                const got = await request(server.port('web'), 'GET', `/api/v1/events?uid=${encodeURIComponent(c.uid)}`);
                assert.equal(got.status, 200, `GET events status ${got.status}: ${got.body}`);
                assert.ok(uidsOf(got.json()).includes(c.uid), `round ${round}: ${c.uid} (seq ${c.seq}) lost after kill -9`);
            }
            const listed = (await tracks(server.port('web'))).features.map((f) => f.properties?.uid ?? f.id);
            assert.ok(listed.includes(uid), `round ${round}: ${uid} missing from /api/v1/tracks after restart`);
        }
    });
});
