// devices: events captured from real TAK devices and tools (ATAK 4.x/5.x,
// iTAK, WinTAK, WearOS, TAK Server relays; corpus/devices/README.md names the
// source of each) pass through kizuna unchanged in meaning: TCP in, TCP out,
// POST, and GET /api/v1/events.  The detail is compared as parsed XML
// (elements, attributes, text), not as bytes; an event with no access, an
// empty one or "Undefined" leaves with the input's default label.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import {
    CotClient, httpInput, iso, postEvent, request, startServer, tcpInput, waitUntil,
} from '../integration/lib/harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const CORPUS = path.join(here, 'corpus', 'devices');
const DEFAULT_LABEL = 'UNCLASSIFIED';
const UNKNOWN = 9999999;

let xmljs;

// The captured times are long stale: give each event fresh ones, nothing else changes.
function retime(xml, now) {
    const times = { time: iso(now), start: iso(now), stale: iso(now + 300000) };
    return xml.replace(/<event\b[^>]*>/, (tag) => tag.replace(
        /(\s(time|start|stale)\s*=\s*)(['"])[^'"]*\3/g, (m, pre, name, q) => `${pre}${q}${times[name]}${q}`));
}

function root(xml, name) {
    const doc = xmljs.xml2js(xml, { compact: false });
    const el = doc.elements.find((e) => e.type === 'element' && e.name === name);
    assert.ok(el, `no <${name}> in ${xml.slice(0, 80)}`);
    return el;
}

// An element's meaning: name, attributes, text (CDATA included), child elements in order.
function meaning(el) {
    const kids = el.elements || [];
    const text = kids.filter((k) => k.type === 'text' || k.type === 'cdata')
        .map((k) => k.text ?? k.cdata).join('').trim();
    return {
        name: el.name,
        attrs: el.attributes || {},
        text,
        children: kids.filter((k) => k.type === 'element').map(meaning),
    };
}

function detailOf(event) {
    const d = (event.elements || []).find((e) => e.type === 'element' && e.name === 'detail');
    return d ? meaning(d) : null;
}

function pointOf(event) {
    const p = event.elements.find((e) => e.type === 'element' && e.name === 'point').attributes;
    const num = (v) => (v === undefined || /^\s*nan\s*$/i.test(v) ? UNKNOWN : Number(v));
    const fix = (v) => (v === 999999 ? UNKNOWN : v);
    return { lat: num(p.lat), lon: num(p.lon), hae: fix(num(p.hae)), ce: fix(num(p.ce)), le: fix(num(p.le)) };
}

function expectedAccess(a) {
    return a === undefined || a === '' || /^undefined$/i.test(a) ? DEFAULT_LABEL : a;
}

// The event as kizuna sent it on a CoT stream, against the captured one.
function checkXml(got, want, name) {
    const ev = root(got.xml, 'event');
    const wa = want.attributes;
    assert.equal(ev.attributes.uid, wa.uid, name);
    assert.equal(ev.attributes.type, wa.type, name);
    assert.equal(ev.attributes.how, wa.how || undefined, `${name}: how`);
    assert.equal(ev.attributes.access, expectedAccess(wa.access), `${name}: access`);
    assert.deepEqual(pointOf(ev), pointOf(want), `${name}: point`);
    assert.deepEqual(detailOf(ev), detailOf(want), `${name}: detail`);
}

// The event as /api/v1/events returns it (a GeoJSON Feature).
function checkJson(f, want, name) {
    const p = f.properties;
    const wa = want.attributes;
    const pt = pointOf(want);
    assert.equal(p.uid, wa.uid, name);
    assert.equal(p.type, wa.type, name);
    assert.equal(p.how, wa.how || undefined, `${name}: how`);
    assert.equal(p.access, expectedAccess(wa.access), `${name}: access`);
    const coords = [pt.lon, pt.lat, ...(pt.hae === UNKNOWN ? [] : [pt.hae])];
    assert.deepEqual(f.geometry.coordinates, coords, `${name}: coordinates`);
    assert.equal(p.ce, pt.ce === UNKNOWN ? undefined : pt.ce, `${name}: ce`);
    assert.equal(p.le, pt.le === UNKNOWN ? undefined : pt.le, `${name}: le`);
    const d = detailOf(want);
    assert.deepEqual(p.detail === undefined ? null : meaning(root(`<detail>${p.detail}</detail>`, 'detail')),
        d, `${name}: detail`);
}

async function query(port, uid) {
    const res = await request(port, 'GET', `/api/v1/events?uid=${encodeURIComponent(uid)}`);
    assert.equal(res.status, 200, res.body);
    const json = res.json();
    return Array.isArray(json) ? json : json.features || json.events || [];
}

// The store commits in batches: wait until it holds `n` events of the uid.
async function stored(port, uid, n) {
    await waitUntil(async () => (await query(port, uid)).length >= n, { what: `${n} stored ${uid}` });
    return query(port, uid);
}

const files = fs.readdirSync(CORPUS).filter((f) => f.endsWith('.xml')).sort();

// A device's uid and callsign are bound to the identity that first reports
// them, so the POST leg runs on a second node: the same capture, another sender.
describe('device corpus', () => {
    let server;
    let web;
    let device;
    let watcher;
    let postServer;
    let postWeb;
    let postWatcher;

    before(async () => {
        xmljs = (await import('xml-js')).default;
        server = await startServer({ inputs: [tcpInput('dev'), tcpInput('watch'), httpInput('web')] });
        web = server.port('web');
        device = await CotClient.connect(server.port('dev'), { name: 'device' });
        watcher = await CotClient.connect(server.port('watch'), { name: 'watcher' });
        postServer = await startServer({ inputs: [tcpInput('watch'), httpInput('web')] });
        postWeb = postServer.port('web');
        postWatcher = await CotClient.connect(postServer.port('watch'), { name: 'post-watcher' });
    });

    after(async () => {
        await device?.close();
        await watcher?.close();
        await postWatcher?.close();
        await server?.stop();
        server?.cleanup();
        await postServer?.stop();
        postServer?.cleanup();
    });

    test('the corpus is there and each source is recorded', () => {
        const readme = fs.readFileSync(path.join(CORPUS, 'README.md'), 'utf8');
        assert.ok(files.length >= 10, `only ${files.length} corpus events`);
        for (const f of files) assert.ok(readme.includes(f), `${f} has no source in README.md`);
    });

    for (const file of files) {
        test(`${file}: TCP in, TCP out and GET, then POST, TCP out and GET`, async () => {
            const xml = retime(fs.readFileSync(path.join(CORPUS, file), 'utf8'), Date.now());
            const want = root(xml, 'event');
            const uid = want.attributes.uid;

            const from = watcher.events.length;
            await device.send(xml);
            checkXml(await watcher.waitUid(uid, { from }), want, `${file} over TCP`);
            const first = await stored(web, uid, 1);
            assert.equal(first.length, 1, `${file}: stored once`);
            checkJson(first[0], want, `${file} from /api/v1/events`);

            const res = await postEvent(postWeb, xml);
            assert.equal(res.status, 201, `${file}: ${res.body}`);
            checkXml(await postWatcher.waitUid(uid), want, `${file} POSTed`);
            const posted = await stored(postWeb, uid, 1);
            assert.equal(posted.length, 1, `${file}: the POST is stored once`);
            checkJson(posted[0], want, `${file} POSTed, from /api/v1/events`);
        });
    }
});
