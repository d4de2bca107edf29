// 09-labels: releasability labels end to end.  Three national inputs
// (USA/SECRET, JPN/SECRET, PHL/UNCLASSIFIED) and an HTTP input per nation;
// four labelled events; every exit must release exactly what the release
// rule allows: live stream, replay after reconnect, /api/v1/tracks,
// /api/v1/events and /api/v1/stream.  Over-ceiling and malformed labels are
// refused and counted.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
    barrier, CotClient, cotEvent, httpInput, identity, metric, request, SseClient, startServer,
    tcpInput, tracks, uidsOf, uniq, waitUntil,
} from './lib/harness.mjs';

const NATIONS = {
    us: { nation: 'USA', clearance: 'SECRET', ceiling: 'SECRET' },
    jp: { nation: 'JPN', clearance: 'SECRET', ceiling: 'SECRET//REL TO USA, JPN' },
    ph: { nation: 'PHL', clearance: 'UNCLASSIFIED' },
};

function inputsFor() {
    const inputs = [];
    for (const [name, n] of Object.entries(NATIONS)) {
        const id = identity(`${name}-user`, ['Cyan'], ['Cyan'], { nation: n.nation, clearance: n.clearance });
        const extra = n.ceiling ? { ceiling: n.ceiling } : {};
        inputs.push({ ...tcpInput(name), identity: id, ...extra });
        inputs.push({ ...httpInput(`web-${name}`), identity: id });
    }
    return inputs;
}

describe('releasability labels', () => {
    let server;
    const ev = {
        relUsJp: { uid: uniq('rel-us-jp'), access: 'SECRET//REL TO USA, JPN', to: ['us', 'jp'] },
        unclass: { uid: uniq('unclass'), access: 'UNCLASSIFIED', to: ['us', 'jp', 'ph'] },
        noforn: { uid: uniq('noforn'), access: 'SECRET//NOFORN', to: ['us'] },
        confPh: { uid: uniq('conf-ph'), access: 'CONFIDENTIAL//REL TO USA, PHL', to: ['us'] },
    };
    const all = Object.values(ev);

    function expectExactly(name, got, where) {
        for (const e of all) {
            assert.equal(got.includes(e.uid), e.to.includes(name),
                `${where}: ${name} ${e.to.includes(name) ? 'did not get' : 'got'} ${e.access}`);
        }
    }

    before(async () => {
        server = await startServer({ inputs: inputsFor() });
        const src = await CotClient.connect(server.port('us'), { name: 'src' });
        const watch = await CotClient.connect(server.port('us'), { name: 'watch' });
        await src.send(all.map((e) => cotEvent({ uid: e.uid, access: e.access })).join(''));
        await barrier(src, [watch]);
        await src.close();
        await watch.close();
    });

    after(async () => {
        await server.stop();
        server.cleanup();
    });

    test('live stream: each nation receives exactly what it may', async () => {
        const clients = {};
        for (const name of Object.keys(NATIONS)) clients[name] = await CotClient.connect(server.port(name), { name });
        const src = await CotClient.connect(server.port('us'), { name: 'live-src' });
        const live = all.map((e) => ({ ...e, uid: uniq('live') }));
        await src.send(live.map((e) => cotEvent({ uid: e.uid, access: e.access })).join(''));
        await barrier(src, Object.values(clients));
        for (const [name, c] of Object.entries(clients)) {
            for (const e of live)
                assert.equal(c.has(e.uid), e.to.includes(name), `live: ${name} and ${e.access}`);
            await c.close();
        }
        await src.close();
    });

    test('replay after reconnect follows the same rule', async () => {
        for (const name of Object.keys(NATIONS)) {
            const c = await CotClient.connect(server.port(name), { name: `replay-${name}` });
            const probe = await CotClient.connect(server.port('us'), { name: 'probe' });
            await barrier(probe, [c]);
            expectExactly(name, c.events.map((e) => e.uid), 'replay');
            await probe.close();
            await c.close();
        }
    });

    test('GET /api/v1/tracks and /api/v1/events filter per identity', async () => {
        // The log is written in batches: wait until the originator sees all four.
        await waitUntil(async () => {
            const res = await request(server.port('web-us'), 'GET', '/api/v1/events?limit=10000');
            const got = uidsOf(res.json());
            return all.every((e) => got.includes(e.uid));
        }, { what: 'all four events in the log' });
        for (const name of Object.keys(NATIONS)) {
            const port = server.port(`web-${name}`);
            expectExactly(name, uidsOf(await tracks(port)), '/api/v1/tracks');
            const res = await request(port, 'GET', '/api/v1/events?limit=10000');
            assert.equal(res.status, 200);
            expectExactly(name, uidsOf(res.json()), '/api/v1/events');
        }
    });

    test('GET /api/v1/stream replays and streams per identity', async () => {
        for (const name of Object.keys(NATIONS)) {
            const sse = await SseClient.open(server.port(`web-${name}`));
            const src = await CotClient.connect(server.port('us'), { name: 'sse-src' });
            const marker = uniq('sse-marker');
            const live = { uid: uniq('sse-noforn'), access: 'SECRET//NOFORN' };
            await src.send(cotEvent({ uid: live.uid, access: live.access }) + cotEvent({ uid: marker }));
            await sse.waitUid(marker);
            expectExactly(name, sse.events.map((f) => f.properties.uid), '/api/v1/stream');
            assert.equal(sse.has(live.uid), name === 'us', `SSE live NOFORN to ${name}`);
            sse.close();
            await src.close();
        }
    });

    test('events leave with the canonical label', async () => {
        const src = await CotClient.connect(server.port('jp'), { name: 'canon-src' });
        const us = await CotClient.connect(server.port('us'), { name: 'canon-us' });
        const uid = uniq('canon');
        await src.send(cotEvent({ uid, access: 'secret // rel to jpn,usa' }));
        const got = await us.waitUid(uid);
        // From a JPN input, one originator and no FGI/JOINT written: exactly as before (no //JPN).
        assert.equal(got.attrs.access, 'SECRET//REL TO USA, JPN');
        // FGI and JOINT leave where they were written, in canonical form (review item 5).
        const fgi = uniq('canon-fgi'), joint = uniq('canon-joint');
        await src.send(cotEvent({ uid: fgi, access: 'secret//fgi kor//rel to jpn,usa' }) +
            cotEvent({ uid: joint, access: '//joint secret usa jpn//rel to usa, jpn' }));
        assert.equal((await us.waitUid(fgi)).attrs.access, 'SECRET//FGI KOR//REL TO USA, JPN');
        assert.equal((await us.waitUid(joint)).attrs.access, '//JOINT SECRET JPN USA//REL TO USA, JPN');
        await src.close();
        await us.close();
    });

    test('over-ceiling and malformed labels are refused and counted', async () => {
        const web = server.port('web-us');
        const ceiling0 = await metric(web, 'kizuna_rejects_total', { reason: 'ceiling' });
        const label0 = await metric(web, 'kizuna_rejects_total', { reason: 'label' });
        const src = await CotClient.connect(server.port('jp'), { name: 'bad-src' });
        const us = await CotClient.connect(server.port('us'), { name: 'bad-us' });
        const over = uniq('over'), noforn = uniq('jp-noforn'), bad = uniq('bad');
        await src.send(cotEvent({ uid: over, access: 'TOP SECRET//REL TO USA, JPN' }) +
            cotEvent({ uid: noforn, access: 'SECRET//NOFORN' }) +
            cotEvent({ uid: bad, access: 'SECRET//REL TO USA, XYZ' }) +
            // Marking rules (review item 3): REL TO without USA, one code, NOFORN with RELIDO.
            cotEvent({ uid: bad + '-rel', access: 'SECRET//REL TO JPN, PHL' }) +
            cotEvent({ uid: bad + '-one', access: 'SECRET//REL TO USA' }) +
            cotEvent({ uid: bad + '-nfr', access: 'SECRET//NOFORN/RELIDO' }));
        await barrier(src, [us]);
        for (const uid of [over, noforn, bad, bad + '-rel', bad + '-one', bad + '-nfr'])
            assert.equal(us.has(uid), false, `${uid} was delivered`);
        assert.equal(await metric(web, 'kizuna_rejects_total', { reason: 'ceiling' }), ceiling0 + 2);
        assert.equal(await metric(web, 'kizuna_rejects_total', { reason: 'label' }), label0 + 4);
        const res = await request(web, 'GET', `/api/v1/events?uid=${over}`);
        assert.deepEqual(uidsOf(res.json()), [], 'an over-ceiling event was stored');
        const post = await request(server.port('web-jp'), 'POST', '/api/v1/events',
            { body: cotEvent({ access: 'SECRET//NOFORN//REL TO USA' }) });
        assert.equal(post.status, 400);
        await src.close();
        await us.close();
    });

    test('denials are counted per exit', async () => {
        const web = server.port('web-us');
        for (const exit of ['fanout', 'replay', 'sse', 'rest_tracks', 'rest_events'])
            assert.ok(await metric(web, 'kizuna_release_denials_total', { exit }) > 0, `no denial counted at ${exit}`);
        assert.ok(await metric(web, 'kizuna_release_denial_reasons_total', { reason: 'noforn' }) > 0);
    });
});
