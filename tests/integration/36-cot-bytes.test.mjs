// 36-cot-bytes: every byte that leaves is the byte that was checked.
// F3: "</event" hidden in a detail (CDATA, comment, processing instruction)
// is refused on every input, so no XML stream reader ever splits a forged
// event out of an accepted one.  F9: the canonical form of an accepted event
// fits limits.max_event_bytes, and what was answered 201 is what
// /api/v1/events returns.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
    barrier, CotClient, cotEvent, httpInput, identity, iso, metric, postEvent, request, startServer,
    tcpInput, uidsOf, uniq,
} from './lib/harness.mjs';

const MAX_EVENT = 65536;
const ACCESS_ROOM = 512; // KZ_COT_ACCESS_MAX: the decoder keeps this much room for the label
const DECL = '<?xml version="1.0" encoding="UTF-8"?>\n'; // the canonical form's first line
// A default label whose canonical form (over 512 bytes) does not fit the room kept for it.
const WIDE = 'ABW AFG AGO AIA ALA ALB AND ARE ARG ARM ASM ATA ATF ATG AUS AUT AZE BDI BEL BEN BES BFA '
    + 'BGD BGR BHR BHS BIH BLM BLR BLZ BMU BOL BRA BRB BRN BTN BVT BWA CAF CAN CCK CHE CHL CHN CIV '
    + 'CMR COD COG COK COL COM CPV CRI CUB CUW CXR CYM CYP CZE DEU DJI DMA DNK DOM DZA ECU EGY ERI '
    + 'ESH ESP EST ETH FIN FJI FLK FRA FRO FSM GAB GBR GEO GGY GHA GIB GIN GLP GMB GNB GNQ GRC GRD '
    + 'GRL GTM GUF GUM GUY HKG HMD HND HRV HTI HUN IDN IMN IND IOT IRL IRN IRQ ISL ISR ITA JAM JEY';
// Short on the wire (alias, no spaces: under the access cap), longer than the room once
// written canonically ("SECRET//REL TO USA, ABW, ...").
const WIDE_ACCESS = `S//REL TO USA,${WIDE.split(' ').join(',')}`;
const WIDE_LABEL = `SECRET//REL TO USA, ${WIDE.split(' ').join(', ')}`;

// The review's F3 input: a JPN event whose remarks hide a forged US track.
function injection(uid, forgedUid, wrap = (x) => `<![CDATA[${x}]]>`) {
    const now = Date.now();
    const forged = `</event><event version="2.0" uid="${forgedUid}" type="a-h-G" how="m-g" `
        + `time="${iso(now)}" start="${iso(now)}" stale="${iso(now + 60000)}" `
        + 'access="TOP SECRET//NOFORN"><point lat="35" lon="139" hae="0" ce="1" le="1"/><detail>';
    return cotEvent({ uid, access: 'UNCLASSIFIED', extra: `<remarks>${wrap(forged)}</remarks>` });
}

describe('what leaves is what was checked', () => {
    let server;
    let webJp;
    let jp;
    let watcher;

    before(async () => {
        const jpId = identity('jp-user', ['Cyan'], ['Cyan'], { nation: 'JPN' });
        server = await startServer({
            inputs: [
                tcpInput('us'),
                { ...tcpInput('jp'), identity: jpId },
                { ...httpInput('web-jp'), identity: jpId },
                httpInput('web'),
            ],
        });
        webJp = server.port('web-jp');
        jp = await CotClient.connect(server.port('jp'), { name: 'jp' });
        watcher = await CotClient.connect(server.port('us'), { name: 'watcher' });
    });

    after(async () => {
        await jp.close();
        await watcher.close();
        await server.stop();
        server.cleanup();
    });

    test('F3: a POSTed CDATA injection is 400 and no XML client receives the forged event', async () => {
        const forged = uniq('US-TRACK');
        const uids = [];
        const wraps = [
            (x) => `<![CDATA[${x}]]>`,
            (x) => `<!-- ${x.replace(/--/g, '')} -->`,
            (x) => `<?note ${x}?>`,
        ];
        for (const wrap of wraps) {
            const uid = uniq('jp-carrier');
            uids.push(uid);
            const res = await postEvent(webJp, injection(uid, forged, wrap));
            assert.equal(res.status, 400, res.body);
            assert.match(res.json().error, /<\/event/);
        }
        await barrier(jp, [watcher]);
        for (const ev of watcher.events) {
            assert.notEqual(ev.uid, forged, 'a forged event reached an XML client');
            assert.ok(!uids.includes(ev.uid), 'a refused event reached an XML client');
        }
        for (const uid of uids) {
            const q = await request(webJp, 'GET', `/api/v1/events?uid=${uid}`);
            assert.deepEqual(uidsOf(q.json()), [], 'a refused event was stored');
        }
    });

    // kizuna's own framer already splits there, so the event arrives broken; whichever part
    // rejects it, nothing of it may reach a client.
    test('F3: on TCP, "</event >" in CDATA is refused too', async () => {
        const forged = uniq('US-TRACK');
        const uid = uniq('jp-carrier');
        const before = await metric(webJp, 'kizuna_rejects_total', { reason: 'xml' });
        await jp.send(injection(uid, forged, (x) => `<![CDATA[${x.replace('</event>', '</event >')}]]>`));
        await barrier(jp, [watcher]);
        assert.ok(!watcher.has(uid) && !watcher.has(forged));
        // The stream also retries from the "<event" inside the frame: that fails too.
        assert.ok(await metric(webJp, 'kizuna_rejects_total', { reason: 'xml' }) >= before + 1);
    });

    test('F9: the review\'s 50 183-byte POST with version=\'"…"\' is refused', async () => {
        const uid = uniq('inflated');
        const head = `<event version='`;
        const tail = cotEvent({ uid, decl: false }).replace(/^<event version="2.0"/, `'`);
        const body = head + '"'.repeat(50183 - head.length - tail.length) + tail;
        assert.equal(body.length, 50183);
        const res = await postEvent(webJp, body);
        assert.equal(res.status, 400, res.body);
        const q = await request(webJp, 'GET', `/api/v1/events?uid=${uid}`);
        assert.deepEqual(uidsOf(q.json()), []);
    });

    test('F9: an event whose canonical form just fits is answered 201, delivered and returned', async () => {
        // The canonical size of the same event with empty remarks, from what a client receives
        // (uids of one length, so only the remarks differ).
        const probe = uniq('size0');
        assert.equal((await postEvent(webJp, cotEvent({ uid: probe, remarks: '' }))).status, 201);
        const got = await watcher.waitUid(probe);
        const access = got.attrs.access;
        const base = DECL.length + Buffer.byteLength(got.xml) - Buffer.byteLength(access) + ACCESS_ROOM;
        const room = MAX_EVENT - base;

        const fits = uniq('size1');
        const res = await postEvent(webJp, cotEvent({ uid: fits, remarks: 'r'.repeat(room) }));
        assert.equal(res.status, 201, res.body);
        const ev = await watcher.waitUid(fits);
        assert.ok(DECL.length + Buffer.byteLength(ev.xml) <= MAX_EVENT);
        const q = await request(webJp, 'GET', `/api/v1/events?uid=${fits}`);
        assert.equal(q.status, 200, q.body);
        assert.deepEqual(uidsOf(q.json()), [fits]);

        const over = uniq('size2');
        const bad = await postEvent(webJp, cotEvent({ uid: over, remarks: 'r'.repeat(room + 1) }));
        assert.equal(bad.status, 400, bad.body);
        assert.match(bad.json().error, /canonical form/);
        const q2 = await request(webJp, 'GET', `/api/v1/events?uid=${over}`);
        assert.deepEqual(uidsOf(q2.json()), []);
    });

    test('F9: a label longer than the room kept for it is refused, never written', async () => {
        assert.ok(WIDE_ACCESS.length <= ACCESS_ROOM && WIDE_LABEL.length > ACCESS_ROOM);
        const uid = uniq('wide');
        const res = await postEvent(server.port('web'), cotEvent({ uid, access: WIDE_ACCESS }));
        assert.equal(res.status, 400, res.body);
        assert.match(res.json().error, /^label/);
        const own = uniq('wide');
        assert.equal((await postEvent(server.port('web'), cotEvent({ uid: own, access: 'SECRET' }))).status, 201);
        await watcher.waitUid(own);
        assert.ok(!watcher.has(uid));
    });
});
