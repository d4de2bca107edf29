// node-cot: an independent CoT implementation (@tak-ps/node-cot 14.23.2, the
// release @tak-ps/node-tak 12.0.0 pairs with, on Node 22) must parse everything kizuna emits,
// and kizuna must accept and deliver what node-cot writes.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import CoT, { CoTParser } from '@tak-ps/node-cot';

import {
    barrier, CotClient, cotEvent, httpInput, iso, pingEvent, startServer, tcpInput, uniq,
} from '../integration/lib/harness.mjs';

// What a node-cot object says about an event, in the same shape as ours.
function summary(cot) {
    const ev = cot.raw.event;
    const p = ev.point._attributes;
    return {
        uid: ev._attributes.uid,
        type: ev._attributes.type,
        how: ev._attributes.how,
        time: Date.parse(ev._attributes.time),
        stale: Date.parse(ev._attributes.stale),
        point: [p.lat, p.lon, p.hae, p.ce, p.le].map(Number),
        detailKeys: Object.keys(ev.detail || {}).filter((k) => k !== '_flow-tags_').sort(),
    };
}

function sample(now) {
    const t = iso(now);
    const s = iso(now + 120000);
    const sa = uniq('SA');
    return [
        cotEvent({
            uid: sa, type: 'a-f-G-U-C', callsign: 'INTEROP-1', group: { name: 'Cyan', role: 'Team Lead' },
            point: { lat: 35.748, lon: 139.348, hae: 140, ce: 10, le: 9999999 },
            extra: '<takv platform="ATAK-CIV" version="4.6.0.5" device="Pixel" os="30"/><track course="90.5" speed="3.2"/>'
                + '<status battery="88"/><precisionlocation geopointsrc="GPS" altsrc="GPS"/>'
                + `<uid Droid="INTEROP-1"/>`,
        }),
        cotEvent({
            uid: `GeoChat.${sa}.All Chat Rooms.${uniq('m')}`, type: 'b-t-f', how: 'h-g-i-g-o',
            point: { lat: 35.748, lon: 139.348, hae: 9999999, ce: 9999999, le: 9999999 },
            extra: `<__chat parent="RootContactGroup" groupOwner="false" chatroom="All Chat Rooms" id="All Chat Rooms" senderCallsign="INTEROP-1">`
                + `<chatgrp uid0="${sa}" uid1="All Chat Rooms" id="All Chat Rooms"/></__chat>`
                + `<link uid="${sa}" type="a-f-G-U-C" relation="p-p"/>`
                + `<remarks source="BAO.F.ATAK.${sa}" time="${t}">kon&apos;nichiwa &amp; mabuhay</remarks>`,
        }),
        cotEvent({
            uid: uniq('drawing'), type: 'u-d-f', how: 'h-e',
            point: { lat: 26.35, lon: 127.77, hae: 0, ce: 9999999, le: 9999999 },
            extra: '<link point="26.3,127.7"/><link point="26.4,127.8"/><link point="26.3,127.9"/>'
                + '<strokeColor value="-65536"/><strokeWeight value="3"/><labels_on value="false"/>',
        }),
        cotEvent({
            uid: uniq('spot'), type: 'b-m-p-s-m', how: 'h-g-i-g-o',
            point: { lat: 14.609, lon: 121.062, hae: 9999999, ce: 9999999, le: 9999999 },
            extra: '<usericon iconsetpath="COT_MAPPING_SPOTMAP/b-m-p-s-m/-65536"/><color argb="-65536"/><archive/>',
        }),
        `<event version="2.0" uid="${uniq('detfirst')}" type="a-n-S" how="m-g" time="${t}" start="${t}" stale="${s}">`
            + '<detail><contact callsign="NEUTRAL-SHIP"/></detail><point lat="33.1" lon="129.5" hae="0" ce="50" le="9999999"/></event>',
    ];
}

describe('interop with @tak-ps/node-cot 14.23.2', () => {
    let server;
    let tx;
    let rx;

    before(async () => {
        server = await startServer({ inputs: [tcpInput('us'), httpInput('web', ['Cyan'])] });
        tx = await CotClient.connect(server.port('us'), { name: 'tx' });
        rx = await CotClient.connect(server.port('us'), { name: 'rx' });
    });

    after(async () => {
        await tx?.close();
        await rx?.close();
        if (server) {
            await server.stop();
            server.cleanup();
        }
    });

    test('node-cot parses every event kizuna emits, with content preserved', async () => {
        const events = sample(Date.now());
        const sent = events.map((xml) => summary(CoTParser.from_xml(xml.slice(xml.indexOf('<event')))));
        const from = rx.events.length;
        await tx.send(events.join(''));
        for (const want of sent) {
            const got = await rx.waitUid(want.uid, { from });
            let parsed;
            assert.doesNotThrow(() => { parsed = CoTParser.from_xml(got.xml); }, `node-cot rejects kizuna's ${want.type}:\n${got.xml}`);
            assert.deepEqual(summary(parsed), want, `round trip of ${want.type}`);
        }
        // Whatever else kizuna sent us (replayed state, markers) must parse too.
        await barrier(tx, [rx]);
        for (const e of rx.events) assert.doesNotThrow(() => CoTParser.from_xml(e.xml), `node-cot rejects:\n${e.xml}`);
    });

    test('node-cot parses kizuna\'s pong', async () => {
        const from = tx.events.length;
        await tx.send(pingEvent());
        const pong = await tx.waitFor((e) => e.type === 't-x-c-t-r', { from, what: 'pong' });
        const cot = CoTParser.from_xml(pong.xml);
        assert.equal(cot.raw.event._attributes.type, 't-x-c-t-r');
        assert.equal(cot.raw.event._attributes.uid, 'takPong');
    });

    test('kizuna accepts and delivers what node-cot writes', async () => {
        const now = Date.now();
        const t = iso(now);
        const s = iso(now + 60000);
        const built = [
            CoTParser.from_xml(`<event version="2.0" uid="${uniq('NODE')}" type="a-f-G-U-C" how="m-g" time="${t}" start="${t}" stale="${s}">`
                + '<point lat="39.1" lon="-108.5" hae="1400" ce="10" le="9999999.0"/>'
                + '<detail><contact callsign="NODE1" endpoint="*:-1:stcp"/><__group name="Cyan" role="Team Member"/></detail></event>'),
            await CoTParser.from_geojson({
                type: 'Feature', id: uniq('poly'),
                properties: { type: 'u-d-f', how: 'h-e', callsign: 'AREA', time: t, start: t, stale: s },
                geometry: { type: 'Polygon', coordinates: [[[139, 35], [139.1, 35], [139.1, 35.1], [139, 35]]] },
            }),
            await CoTParser.from_geojson({
                type: 'Feature', id: uniq('hostile'),
                properties: { type: 'a-h-G', how: 'h-e', callsign: 'HOSTILE', time: t, start: t, stale: s },
                geometry: { type: 'Point', coordinates: [127.8, 26.3, 5] },
            }),
        ];
        // As node-tak writes them: no XML declaration, a newline after each.
        const from = rx.events.length;
        await tx.send(built.map((c) => `${CoTParser.to_xml(c)}\n`).join(''));
        for (const c of built) {
            const want = summary(c);
            const got = await rx.waitUid(want.uid, { from, what: `node-cot ${want.type}` });
            assert.deepEqual(summary(CoTParser.from_xml(got.xml)), want);
            assert.match(got.detail, /<_flow-tags_>/, 'node-cot flow tags dropped');
        }
    });

    test('a node-cot ping is answered', async () => {
        const from = tx.events.length;
        const ping = CoT.ping();
        await tx.send(`${CoTParser.to_xml(ping)}\n`);
        await tx.waitFor((e) => e.type === 't-x-c-t-r', { from, what: 'pong to a node-cot ping' });
        await barrier(tx, [rx]);
        assert.equal(rx.has(ping.raw.event._attributes.uid), false, 'the ping was forwarded');
    });
});
