// 03-replay-restart: a new connection first receives the current state it
// may see (latest per uid, nothing stale), and the state survives a restart.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
    barrier, CotClient, cotEvent, httpInput, iso, startServer, tcpInput, tracks, uniq,
} from './lib/harness.mjs';

describe('replay and restart', () => {
    let server;
    const uids = { a: uniq('trk-a'), b: uniq('trk-b'), moved: uniq('trk-moved'), stale: uniq('trk-stale'), red: uniq('trk-red') };

    before(async () => {
        server = await startServer({
            inputs: [tcpInput('us'), tcpInput('red', ['Red']), httpInput('web', ['Cyan'])],
        });
    });

    after(async () => {
        await server.stop();
        server.cleanup();
    });

    async function seed() {
        const src = await CotClient.connect(server.port('us'), { name: 'src' });
        const watch = await CotClient.connect(server.port('us'), { name: 'watch' });
        const red = await CotClient.connect(server.port('red'), { name: 'red' });
        const now = Date.now();
        await src.send([
            cotEvent({ uid: uids.a, callsign: 'TRK-A' }),
            cotEvent({ uid: uids.b, callsign: 'TRK-B' }),
            cotEvent({ uid: uids.moved, callsign: 'MOVED', point: { lat: 10, lon: 10 } }),
            cotEvent({ uid: uids.moved, callsign: 'MOVED', point: { lat: 11, lon: 12 } }),
            cotEvent({ uid: uids.stale, now: now - 120000, staleMs: 60000 }),
        ]);
        await red.send(cotEvent({ uid: uids.red, callsign: 'RED-1' }));
        await watch.waitFor((e) => e.uid === uids.moved && e.point.lat === 11, { what: 'second position' });
        await barrier(src, [watch]);
        for (const cl of [src, watch, red]) await cl.close();
    }

    async function checkReplay(label) {
        const late = await CotClient.connect(server.port('us'), { name: `late-${label}` });
        try {
            for (const uid of [uids.a, uids.b, uids.moved]) await late.waitUid(uid, { what: `replay of ${uid} (${label})` });
            // Nothing is sent to `late` by anyone else, so after a marker from a
            // second connection has arrived the replay is complete.
            const probe = await CotClient.connect(server.port('us'), { name: 'probe' });
            await barrier(probe, [late]);
            await probe.close();
            const moved = late.events.filter((e) => e.uid === uids.moved);
            assert.equal(moved.length, 1, `latest per uid: got ${moved.length} copies of the moved track`);
            assert.equal(moved[0].point.lat, 11);
            assert.equal(moved[0].point.lon, 12);
            assert.equal(late.has(uids.stale), false, 'a stale event was replayed');
            assert.equal(late.has(uids.red), false, 'a Red event was replayed to a Cyan connection');
        } finally {
            await late.close();
        }
        const list = await tracks(server.port('web'));
        const listed = list.features.map((f) => f.properties?.uid ?? f.id);
        for (const uid of [uids.a, uids.b, uids.moved]) assert.ok(listed.includes(uid), `${uid} not in /api/v1/tracks (${label})`);
        assert.ok(!listed.includes(uids.red), `Red track visible to a Cyan-only HTTP input (${label})`);
        const moved = list.features.find((f) => (f.properties?.uid ?? f.id) === uids.moved);
        assert.deepEqual(moved.geometry.coordinates.slice(0, 2), [12, 11]);
    }

    test('a new connection receives the latest non-stale state it may see', async () => {
        await seed();
        await checkReplay('live');
    });

    test('the state is replayed and listed after a restart', async () => {
        await server.restart();
        await checkReplay('restarted');
    });

    test('the restarted server keeps routing', async () => {
        const a = await CotClient.connect(server.port('us'), { name: 'a' });
        const b = await CotClient.connect(server.port('us'), { name: 'b' });
        const uid = uniq('after-restart');
        await a.send(cotEvent({ uid, stale: iso(Date.now() + 60000) }));
        await b.waitUid(uid);
        await a.close();
        await b.close();
    });
});
