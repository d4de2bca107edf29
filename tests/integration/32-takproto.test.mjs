// 32-takproto: TAK protocol v1 on the `tls` input.  A client offered
// version 1 asks for it, gets status="true", and from then on speaks
// streaming protobuf frames; XML clients and protobuf clients see each
// other's events.  Bad frames close only the connection that sent them.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import {
    CotClient, cotEvent, metric, httpInput, runCli, startServer, tcpInput, uniq, waitUntil,
} from './lib/harness.mjs';
import { TakpClient, encodeTakMessage, frame, takEvent } from './lib/takproto.mjs';

let server;
let data;
let pki;

async function cli(...args) {
    const r = await runCli([...args, '--data', data]);
    assert.equal(r.code, 0, `kizuna ${args.join(' ')}: ${r.stderr}`);
}

before(async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kizuna-takp-'));
    data = path.join(dir, 'data');
    pki = path.join(data, 'pki');
    await cli('ca', 'init');
    for (const u of ['alice', 'bob', 'carol'])
        await cli('cert', 'issue', '--user', u, '--nation', 'USA', '--clearance', 'SECRET', '--groups', 'Cyan');
    server = await startServer({
        dataDir: data,
        inputs: [
            { name: 'cot-tls', protocol: 'tls', listen: '127.0.0.1:0', default_label: 'UNCLASSIFIED' },
            tcpInput('cot'), httpInput('api'),
        ],
        limits: { max_event_bytes: 4096 },
    });
});

after(async () => {
    if (server) {
        await server.stop({ expectErrors: false });
        server.cleanup();
    }
});

test('offer, request, response; then protobuf both ways with XML clients', async () => {
    const a = await TakpClient.connect(server.port('cot-tls'), pki, 'alice');
    const offer = await a.negotiate();
    assert.match(offer.detail, /<TakProtocolSupport version="1"\/>/);
    assert.match(offer.detail, /<TakServerVersionInfo serverVersion="kizuna [^"]+"/);
    const resp = a.xml.find((e) => e.type === 't-x-takp-r');
    assert.equal(resp.uid, offer.uid);
    await waitUntil(() => /takproto: negotiation.*result=protobuf/.test(server.stderr), { what: 'log line' });

    // protobuf -> XML: typed fields come out as elements, xmlDetail verbatim.
    const t = await CotClient.connect(server.port('cot'));
    const uid = uniq('pb');
    await a.write(frame(encodeTakMessage(takEvent({
        uid,
        detail: {
            xml: '<remarks>from &lt;protobuf&gt;</remarks>',
            contact: { callsign: 'ALICE-PB', endpoint: '*:-1:stcp' },
            group: { name: 'Cyan', role: 'Team Lead' },
            track: { speed: 3.5, course: 90 },
        },
    }))));
    const got = await t.waitUid(uid);
    assert.equal(got.callsign, 'ALICE-PB');
    assert.match(got.detail, /^<remarks>from &lt;protobuf&gt;<\/remarks>/);
    assert.match(got.detail, /<__group name="Cyan" role="Team Lead"\/>/);
    assert.match(got.detail, /<track speed="3.5" course="90"\/>/);
    assert.equal(got.point.lat, 35.5);

    // XML -> protobuf: typed where lossless, the rest in xmlDetail.
    const back = uniq('xml');
    await t.send(cotEvent({ uid: back, callsign: 'TCP-1', remarks: 'hi & bye' }));
    const m = await a.waitMessage(back);
    assert.equal(m.cotEvent.type, 'a-f-G-U-C');
    assert.equal(m.cotEvent.access, 'UNCLASSIFIED');
    assert.deepEqual(m.cotEvent.detail.contact, { endpoint: '*:-1:stcp', callsign: 'TCP-1' });
    assert.equal(m.cotEvent.detail.xml, '<remarks>hi &amp; bye</remarks>');

    // A ping in protobuf is answered in protobuf.
    await a.write(frame(encodeTakMessage(takEvent({ uid: uniq('ping'), type: 't-x-c-t', lat: 0, lon: 0 }))));
    await a.waitFor(() => a.messages.find((x) => x.cotEvent && x.cotEvent.type === 't-x-c-t-r'), 'pong');

    // Two protobuf clients see each other, and an XML TLS client sees both.
    const b = await TakpClient.connect(server.port('cot-tls'), pki, 'bob');
    await b.negotiate();
    const c = await TakpClient.connect(server.port('cot-tls'), pki, 'carol');   // stays XML
    await c.waitFor(() => c.xml.find((e) => e.type === 't-x-takp-v'), 'offer');
    const u2 = uniq('b2a');
    await b.write(frame(encodeTakMessage(takEvent({ uid: u2, detail: { contact: { callsign: 'BOB' } } }))));
    const m2 = await a.waitMessage(u2);
    assert.deepEqual(m2.cotEvent.detail.contact, { endpoint: '', callsign: 'BOB' });
    const x2 = await c.waitFor(() => c.xml.find((e) => e.uid === u2), 'XML copy');
    assert.equal(x2.callsign, 'BOB');
    for (const x of [a, b, c]) x.close();
    await t.close();
});

test('a plain tcp input is never switched', async () => {
    const t = await CotClient.connect(server.port('cot'));
    const now = Date.now();
    await t.send(cotEvent({ uid: 'protouid-x', type: 't-x-takp-q', extra: '<TakControl><TakRequest version="1"/></TakControl>', now }));
    const r = await t.waitFor((e) => e.type === 't-x-takp-r', { what: 'response' });
    assert.match(r.detail, /status="false"/);
    const u = uniq('still-xml');
    const o = await CotClient.connect(server.port('cot'));
    await o.send(cotEvent({ uid: u }));
    await t.waitUid(u);
    await t.close();
    await o.close();
});

test('bad frames close only their own connection', async () => {
    const watcher = await TakpClient.connect(server.port('cot-tls'), pki, 'alice');
    await watcher.negotiate();
    const before = await metric(server.port('api'), 'kizuna_rejects_total', { reason: 'proto' });
    const cases = [
        ['invalid varint', Buffer.from([0xbf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])],
        ['over the limit', Buffer.concat([Buffer.from([0xbf, 0x81, 0x40]), Buffer.alloc(16)])],
        ['not protobuf', frame(Buffer.from([0xff, 0xff, 0xff, 0xff]))],
        ['no magic byte', Buffer.from('<event/>')],
    ];
    for (const [what, bytes] of cases) {
        const bad = await TakpClient.connect(server.port('cot-tls'), pki, 'bob');
        await bad.negotiate();
        await bad.write(bytes);
        await bad.waitClosed().catch((e) => assert.fail(`${what}: ${e.message}`));
    }
    await waitUntil(() => (server.stderr.match(/takproto: bad frame, connection closed/g) || []).length >= 3,
        { what: 'bad-frame log lines' });
    assert.match(server.stderr, /frame length over the limit of 4096 bytes/);
    assert.match(server.stderr, /reason=proto detail="TakMessage of 4 bytes does not decode/);
    const after_ = await metric(server.port('api'), 'kizuna_rejects_total', { reason: 'proto' });
    assert.ok(after_ >= (before || 0) + 3, `proto rejects ${before} -> ${after_}`);

    // The watcher is unaffected.
    const t = await CotClient.connect(server.port('cot'));
    const u = uniq('ok');
    await t.send(cotEvent({ uid: u }));
    await watcher.waitMessage(u);
    watcher.close();
    await t.close();
});
