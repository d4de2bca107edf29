// node-tak: the independent TAK client @tak-ps/node-tak 12.0.0 (with its
// peer @tak-ps/node-cot 14.23.2, on Node 22 from tests/interop/node_modules)
// connects over mutual TLS with certificates from `kizuna ca init` and
// `kizuna cert issue`; two such clients exchange CoT through kizuna.  Then
// node-cot's own protobuf encoding travels through kizuna to an XML client
// and back.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { CoTParser } from '@tak-ps/node-cot';
import TAK from '@tak-ps/node-tak';

import {
    CotClient, iso, runCli, startServer, tcpInput, uniq, withTimeout,
} from '../integration/lib/harness.mjs';
import { TakpClient, frame } from '../integration/lib/takproto.mjs';

function sa(uid, callsign, now = Date.now()) {
    return CoTParser.from_xml(`<event version="2.0" uid="${uid}" type="a-f-G-U-C" how="m-g" time="${iso(now)}" `
        + `start="${iso(now)}" stale="${iso(now + 60000)}">`
        + '<point lat="39.1" lon="-108.5" hae="1400" ce="10" le="9999999.0"/>'
        + `<detail><contact callsign="${callsign}" endpoint="*:-1:stcp"/>`
        + '<__group name="Cyan" role="Team Member"/></detail></event>');
}

describe('interop with @tak-ps/node-tak 12.0.0 over mutual TLS', () => {
    let server;
    let data;
    let pki;
    const clients = [];

    async function cli(...args) {
        const r = await runCli([...args, '--data', data]);
        assert.equal(r.code, 0, `kizuna ${args.join(' ')}: ${r.stderr}`);
    }

    // A node-tak client, resolved once kizuna answered its first ping.
    async function takClient(user) {
        const tak = await TAK.connect(new URL(`ssl://127.0.0.1:${server.port('cot-tls')}`), {
            cert: fs.readFileSync(path.join(pki, `${user}.pem`), 'utf8'),
            key: fs.readFileSync(path.join(pki, `${user}.key`), 'utf8'),
        }, { id: user });
        clients.push(tak);
        tak.received = [];
        tak.on('cot', (cot) => tak.received.push(cot));
        tak.on('error', (e) => { tak.failed = e; });
        await withTimeout(new Promise((resolve) => tak.once('ping', resolve)), 10000, `${user} pong`);
        return tak;
    }

    function waitCot(tak, uid, ms = 5000) {
        return withTimeout(new Promise((resolve) => {
            const hit = tak.received.find((c) => c.raw.event._attributes.uid === uid);
            if (hit) return resolve(hit);
            const on = (cot) => {
                if (cot.raw.event._attributes.uid !== uid) return;
                tak.removeListener('cot', on);
                resolve(cot);
            };
            tak.on('cot', on);
        }), ms, `${tak.id} to receive ${uid}`);
    }

    before(async () => {
        data = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'kizuna-nodetak-')), 'data');
        pki = path.join(data, 'pki');
        await cli('ca', 'init');
        for (const u of ['alpha', 'bravo', 'charlie'])
            await cli('cert', 'issue', '--user', u, '--nation', 'USA', '--clearance', 'SECRET', '--groups', 'Cyan');
        server = await startServer({
            dataDir: data,
            inputs: [
                { name: 'cot-tls', protocol: 'tls', listen: '127.0.0.1:0', default_label: 'UNCLASSIFIED' },
                tcpInput('cot'),
            ],
        });
    });

    after(async () => {
        for (const c of clients) c.destroy();
        if (server) {
            await server.stop();
            server.cleanup();
        }
    });

    test('two node-tak clients exchange CoT through kizuna', async () => {
        const alpha = await takClient('alpha');
        const bravo = await takClient('bravo');
        assert.match(alpha.version, /^kizuna /, 'serverVersion from t-x-takp-v');
        const a = uniq('ALPHA');
        await alpha.write([sa(a, 'ALPHA')]);
        const got = await waitCot(bravo, a);
        assert.equal(got.raw.event.detail.contact._attributes.callsign, 'ALPHA');
        assert.equal(got.raw.event._attributes.access, 'UNCLASSIFIED');
        const b = uniq('BRAVO');
        await bravo.write([sa(b, 'BRAVO')]);
        const back = await waitCot(alpha, b);
        assert.equal(Number(back.raw.event.point._attributes.lat), 39.1);
        assert.equal(alpha.failed, undefined);
        assert.equal(bravo.failed, undefined);
    });

    test('node-cot protobuf goes through kizuna to an XML client and back', async () => {
        const pb = await TakpClient.connect(server.port('cot-tls'), pki, 'charlie');
        await pb.negotiate();
        const xml = await CotClient.connect(server.port('cot'));
        try {
            const now = Date.now();
            const uid = uniq('PB');
            const sent = CoTParser.from_xml(`<event version="2.0" uid="${uid}" type="a-f-G-U-C" how="m-g" `
                + `time="${iso(now)}" start="${iso(now)}" stale="${iso(now + 60000)}">`
                + '<point lat="35.681" lon="139.767" hae="40" ce="5" le="9999999.0"/>'
                + '<detail><contact callsign="PB-1" endpoint="*:-1:stcp"/>'
                + '<takv device="Pixel" platform="ATAK-CIV" os="34" version="5.1"/>'
                + '<track course="90.5" speed="3.25"/><status battery="77"/>'
                + '<precisionlocation geopointsrc="GPS" altsrc="GPS"/>'
                + '<__group name="Cyan" role="Team Lead"/><remarks>to XML &amp; back</remarks></detail></event>');
            await pb.write(frame(Buffer.from(await CoTParser.to_proto(sent, 1))));
            const got = await xml.waitUid(uid);
            const asXml = CoTParser.from_xml(got.xml);
            const d = asXml.raw.event.detail;
            assert.equal(d.contact._attributes.callsign, 'PB-1');
            assert.equal(d.takv._attributes.device, 'Pixel');
            assert.equal(Number(d.track._attributes.speed), 3.25);
            assert.equal(Number(d.status._attributes.battery), 77);
            assert.equal(d.__group._attributes.role, 'Team Lead');
            assert.equal(d.remarks._text, 'to XML & back');
            assert.equal(Number(asXml.raw.event.point._attributes.lat), 35.681);

            // Back: the XML client's event reaches the protobuf client; node-cot decodes it.
            const uid2 = uniq('XML');
            const reply = CoTParser.from_xml(`<event version="2.0" uid="${uid2}" type="b-m-p-s-m" how="h-g-i-g-o" `
                + `time="${iso(now)}" start="${iso(now)}" stale="${iso(now + 60000)}">`
                + '<point lat="26.2" lon="127.68" hae="9999999.0" ce="9999999.0" le="9999999.0"/>'
                + '<detail><contact callsign="SPOT"/><usericon iconsetpath="COT_MAPPING_SPOTMAP/b-m-p-s-m/-65536"/>'
                + '<remarks>seen</remarks></detail></event>');
            await xml.send(CoTParser.to_xml(reply));
            const m = await pb.waitMessage(uid2);
            const dec = await CoTParser.from_proto(m.raw, 1);
            assert.equal(dec.raw.event._attributes.type, 'b-m-p-s-m');
            assert.equal(dec.raw.event.detail.contact._attributes.callsign, 'SPOT');
            assert.equal(dec.raw.event.detail.usericon._attributes.iconsetpath, 'COT_MAPPING_SPOTMAP/b-m-p-s-m/-65536');
            assert.equal(dec.raw.event.detail.remarks._text, 'seen');
            assert.equal(Number(dec.raw.event.point._attributes.lat), 26.2);
        } finally {
            pb.close();
            await xml.close();
        }
    });
});
