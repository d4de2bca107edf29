// 07-http: health, metrics, REST (tracks, events query, POST) and SSE, each
// filtered by the calling input's groups.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
    barrier, CotClient, cotEvent, httpInput, iso, metrics, metricValue, postEvent, request, SseClient,
    startServer, tcpInput, tracks, uidsOf, uniq, waitUntil,
} from './lib/harness.mjs';

describe('HTTP API', () => {
    let server;
    let web;
    let cyanweb;
    let us;

    before(async () => {
        server = await startServer({
            inputs: [
                tcpInput('us', ['Cyan']),
                tcpInput('red', ['Red']),
                httpInput('web', ['Cyan', 'Red'], ['Cyan']),
                httpInput('cyanweb', ['Cyan'], ['Cyan']),
            ],
        });
        web = server.port('web');
        cyanweb = server.port('cyanweb');
        us = await CotClient.connect(server.port('us'), { name: 'us' });
    });

    after(async () => {
        await us.close();
        await server.stop();
        server.cleanup();
    });

    test('GET /healthz', async () => {
        const res = await request(web, 'GET', '/healthz');
        assert.equal(res.status, 200);
    });

    test('GET /metrics has the documented series', async () => {
        // One reject so the xml reason series exists.
        const bad = await CotClient.connect(server.port('us'), { name: 'bad' });
        await bad.send('<event uid="x" not xml</event>');
        await barrier(bad, [us]);
        await bad.close();
        const m = await metrics(web);
        for (const name of ['kizuna_connections', 'kizuna_events_in_total', 'kizuna_deliveries_total',
            'kizuna_rejects_total', 'kizuna_slow_consumer_drops_total', 'kizuna_store_lag_seconds'])
            assert.ok(m.some((s) => s.name === name), `/metrics lacks ${name}`);
        assert.ok(m.some((s) => s.name === 'kizuna_connections' && s.labels.kind === 'cot'), 'no kizuna_connections{kind="cot"}');
        assert.ok(metricValue(m, 'kizuna_connections', { kind: 'cot' }) >= 1);
        assert.ok(metricValue(m, 'kizuna_rejects_total', { reason: 'xml' }) >= 1);
        assert.ok(metricValue(m, 'kizuna_events_in_total') >= 1);
        assert.ok(metricValue(m, 'kizuna_deliveries_total') >= 1);
        assert.match(m.text, /# TYPE kizuna_events_in_total counter/);
    });

    test('POST /api/v1/events: 201 {uid, seq}, delivered on TCP, listed and queryable', async () => {
        const uid = uniq('posted');
        const res = await postEvent(web, cotEvent({ uid, callsign: 'POSTED', point: { lat: 35.5, lon: 139.5 } }));
        assert.equal(res.status, 201, res.body);
        const body = res.json();
        assert.equal(body.uid, uid);
        assert.ok(Number.isInteger(body.seq) && body.seq > 0);
        await us.waitUid(uid);

        const list = await tracks(web);
        const f = list.features.find((x) => (x.properties?.uid ?? x.id) === uid);
        assert.ok(f, 'posted event not in /api/v1/tracks');
        assert.equal(f.type, 'Feature');
        assert.equal(f.geometry.type, 'Point');
        assert.deepEqual(f.geometry.coordinates.slice(0, 2), [139.5, 35.5]);
        assert.equal(f.properties.callsign, 'POSTED');
        assert.equal(f.properties.type, 'a-f-G-U-C');
        assert.equal(f.properties.originator, 'USA'); // the sending identity's nation

        const q = await request(web, 'GET', `/api/v1/events?uid=${uid}`);
        assert.equal(q.status, 200, q.body);
        assert.deepEqual(uidsOf(q.json()), [uid]);
    });

    test('POST bad XML: 400 {"error"}', async () => {
        for (const body of ['<event nope', 'hello', cotEvent({ point: { lat: 91 } })]) {
            const res = await postEvent(web, body);
            assert.equal(res.status, 400, `${body.slice(0, 40)} -> ${res.status}`);
            assert.equal(typeof res.json().error, 'string');
        }
    });

    // since/until bound the time the server received an event (store.h),
    // so the windows are cut between POSTs.
    test('GET /api/v1/events filters: type, since, until, limit', async () => {
        const uid = uniq('hist');
        const type = 'a-f-G-E-V';
        const cuts = [];
        for (let i = 0; i < 5; i++) {
            const cut = Date.now() + 2;
            await waitUntil(() => Date.now() > cut, { what: 'the clock to pass a cut' });
            cuts.push(cut);
            const res = await postEvent(web, cotEvent({ uid, type }));
            assert.equal(res.status, 201, res.body);
        }
        const get = async (qs) => {
            const r = await request(web, 'GET', `/api/v1/events?${qs}`);
            assert.equal(r.status, 200, `${qs}: ${r.body}`);
            return uidsOf(r.json());
        };
        assert.equal((await get(`uid=${uid}`)).length, 5);
        assert.equal((await get(`uid=${uid}&limit=2`)).length, 2);
        assert.equal((await get(`type=${type}&limit=1000`)).filter((u) => u === uid).length, 5);
        assert.equal((await get(`uid=${uid}&type=a-h-G`)).length, 0);
        const since = encodeURIComponent(iso(cuts[2]));
        const until = encodeURIComponent(iso(cuts[4]));
        assert.equal((await get(`uid=${uid}&since=${since}`)).length, 3, 'since keeps events received after it');
        assert.equal((await get(`uid=${uid}&since=${since}&until=${until}`)).length, 2, 'since..until window');
        const bad = await request(web, 'GET', '/api/v1/events?since=notatime');
        assert.equal(bad.status, 400, `since=notatime -> ${bad.status}`);
    });

    test('GET /api/v1/stream: posted and TCP events arrive as Features', async () => {
        const sse = await SseClient.open(web);
        try {
            assert.equal(sse.status, 200);
            assert.match(sse.headers['content-type'], /text\/event-stream/);
            const posted = uniq('sse-post');
            assert.equal((await postEvent(web, cotEvent({ uid: posted }))).status, 201);
            const f = await sse.waitUid(posted);
            assert.equal(f.type, 'Feature');
            assert.equal(f.properties.type, 'a-f-G-U-C');
            const streamed = uniq('sse-tcp');
            await us.send(cotEvent({ uid: streamed, callsign: 'SSE-TCP' }));
            const g = await sse.waitUid(streamed);
            assert.equal(g.properties.callsign, 'SSE-TCP');
        } finally {
            sse.close();
        }
    });

    test('REST and SSE are filtered by the input\'s groups', async () => {
        const red = await CotClient.connect(server.port('red'), { name: 'red' });
        const redSse = await SseClient.open(web);
        const cyanSse = await SseClient.open(cyanweb);
        try {
            const uid = uniq('redtrack');
            await red.send(cotEvent({ uid, callsign: 'RED-TRACK' }));
            await redSse.waitUid(uid);
            // A marker from the Cyan side shows the Cyan-only stream has caught up.
            const marker = uniq('cyan-marker');
            assert.equal((await postEvent(cyanweb, cotEvent({ uid: marker }))).status, 201);
            await cyanSse.waitUid(marker);
            assert.equal(cyanSse.has(uid), false, 'Red event streamed to a Cyan-only input');

            assert.ok(uidsOf(await tracks(web)).includes(uid), 'Red track not visible to a Red-capable input');
            assert.ok(!uidsOf(await tracks(cyanweb)).includes(uid), 'Red track visible to a Cyan-only input');
            const q = await request(cyanweb, 'GET', `/api/v1/events?uid=${uid}`);
            assert.equal(q.status, 200);
            assert.deepEqual(uidsOf(q.json()), [], 'Red event in a Cyan-only /api/v1/events answer');
            const q2 = await request(web, 'GET', `/api/v1/events?uid=${uid}`);
            assert.deepEqual(uidsOf(q2.json()), [uid]);
        } finally {
            redSse.close();
            cyanSse.close();
            await red.close();
        }
    });

    test('unknown paths are 404', async () => {
        const res = await request(web, 'GET', '/no/such/thing');
        assert.equal(res.status, 404);
    });
});
