// 01-fanout: an event from one connection reaches every other connection
// whose input may receive the sender's groups, and never the sender.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { barrier, CotClient, cotEvent, startServer, tcpInput, uniq } from './lib/harness.mjs';

describe('fan-out', () => {
    let server;
    const c = {};

    before(async () => {
        server = await startServer({
            inputs: [
                tcpInput('a', ['Cyan']),
                tcpInput('b', ['Cyan']),
                tcpInput('red', ['Red']),
                tcpInput('both', ['Cyan', 'Red'], ['Cyan']),
            ],
        });
        c.a1 = await CotClient.connect(server.port('a'), { name: 'a1' });
        c.a2 = await CotClient.connect(server.port('a'), { name: 'a2' });
        c.b1 = await CotClient.connect(server.port('b'), { name: 'b1' });
        c.r1 = await CotClient.connect(server.port('red'), { name: 'r1' });
        c.r2 = await CotClient.connect(server.port('red'), { name: 'r2' });
        c.both = await CotClient.connect(server.port('both'), { name: 'both' });
    });

    after(async () => {
        for (const x of Object.values(c)) await x.close();
        await server.stop();
        server.cleanup();
    });

    test('a Cyan event reaches every Cyan receiver on any input', async () => {
        const uid = uniq('cyan');
        await c.a1.send(cotEvent({ uid, callsign: 'A1' }));
        await Promise.all([c.a2, c.b1, c.both].map((x) => x.waitUid(uid)));
    });

    test('never back to the sender, never to a Red-only input', async () => {
        const uid = uniq('cyan');
        await c.a1.send(cotEvent({ uid }));
        await c.b1.waitUid(uid);
        await barrier(c.b1, [c.a1]);
        await barrier(c.r2, [c.r1]);
        assert.equal(c.a1.has(uid), false, 'the sender got its own event back');
        assert.equal(c.r1.has(uid), false, 'a Red-only connection got a Cyan event');
        assert.equal(c.r2.has(uid), false, 'a Red-only connection got a Cyan event');
    });

    test('a Red event reaches Red receivers only', async () => {
        const uid = uniq('red');
        await c.r1.send(cotEvent({ uid, group: { name: 'Red' } }));
        await Promise.all([c.r2.waitUid(uid), c.both.waitUid(uid)]);
        await barrier(c.b1, [c.a1, c.a2]);
        await barrier(c.a1, [c.b1]);
        for (const x of [c.a1, c.a2, c.b1, c.r1])
            assert.equal(x.has(uid), false, `${x.name} got a Red event`);
    });

    test('uid, type, how, times, point and detail arrive intact', async () => {
        const uid = uniq('exact');
        const now = Date.now();
        const time = new Date(now).toISOString();
        const stale = new Date(now + 300000).toISOString();
        const detail = '<contact callsign="INTACT-1" endpoint="*:-1:stcp"/>'
            + '<__group name="Cyan" role="Team Lead"/><track course="123.4" speed="5.5"/>'
            + '<remarks source="x">caf&#233; &amp; &lt;b&gt;</remarks>';
        await c.a1.send(cotEvent({
            uid, type: 'a-f-G-E-V-C', how: 'h-e', time, start: time, stale,
            point: { lat: 35.6895, lon: 139.6917, hae: 40.5, ce: 3, le: 9999999 }, extra: detail,
        }));
        const ev = await c.b1.waitUid(uid);
        assert.equal(ev.type, 'a-f-G-E-V-C');
        assert.equal(ev.how, 'h-e');
        assert.equal(Date.parse(ev.time), now);
        assert.equal(Date.parse(ev.start), now);
        assert.equal(Date.parse(ev.stale), now + 300000);
        assert.equal(ev.point.lat, 35.6895);
        assert.equal(ev.point.lon, 139.6917);
        assert.equal(ev.point.hae, 40.5);
        assert.equal(ev.point.ce, 3);
        assert.equal(ev.point.le, 9999999);
        assert.equal(ev.callsign, 'INTACT-1');
        assert.match(ev.detail, /<__group name="Cyan" role="Team Lead"\/>/);
        assert.match(ev.detail, /<track course="123.4" speed="5.5"\/>/);
        assert.match(ev.detail, /<remarks source="x">(caf&#233;|café|caf&#xE9;) &amp; &lt;b(&gt;|>)<\/remarks>/);
    });

    test('many events in one write, and one event dribbled byte by byte', async () => {
        const uids = Array.from({ length: 20 }, () => uniq('batch'));
        await c.a1.send(uids.map((uid) => cotEvent({ uid })).join('\n'));
        for (const uid of uids) await c.b1.waitUid(uid);
        const order = uids.map((uid) => c.b1.events.findIndex((e) => e.uid === uid));
        assert.deepEqual(order, [...order].sort((x, y) => x - y), 'events from one connection kept their order');

        const slow = uniq('dribble');
        const xml = cotEvent({ uid: slow });
        for (let i = 0; i < xml.length; i += 7) await c.a2.send(xml.slice(i, i + 7));
        await c.b1.waitUid(slow);
    });

    test('accepted variants: no declaration, detail before point, single quotes, no detail', async () => {
        const now = Date.now();
        const t = new Date(now).toISOString();
        const s = new Date(now + 60000).toISOString();
        const u1 = uniq('nodecl');
        const u2 = uniq('detfirst');
        const u3 = uniq('squote');
        const u4 = uniq('nodetail');
        await c.a1.send([
            cotEvent({ uid: u1, decl: false }) + '\n',
            `<event version="2.0" uid="${u2}" type="a-f-G" how="m-g" time="${t}" start="${t}" stale="${s}">`
                + '<detail><contact callsign="DF"/></detail><point lat="1" lon="2" hae="3" ce="4" le="5"/></event>',
            `<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n<event version='2.0' uid='${u3}' type='a-f-G' how='m-g' time='${t}' start='${t}' stale='${s}'><point lat='1' lon='2' hae='3' ce='4' le='5'/></event>`,
            cotEvent({ uid: u4, noDetail: true }),
        ]);
        for (const uid of [u1, u2, u3, u4]) await c.b1.waitUid(uid);
        assert.equal((await c.b1.waitUid(u2)).callsign, 'DF');
    });
});
