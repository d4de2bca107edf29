// 50-store-backends: the same events through three nodes — SQLite, PostgreSQL alone, and
// PostgreSQL as the shared store of a cluster (with a nats-server: the database numbers the
// rows, docs/cluster.md "One PostgreSQL for the cluster") — read back identically through
// GET /api/v1/events (all; uid=; type= exact and prefix; since=; since= with until=; bbox=,
// alone, with since= and across the antimeridian; paged with limit= and the `next` cursor) and
// GET /api/v1/tracks (all and bbox=), for a USA and a JPN viewer (labels:
// a NOFORN event is withheld from the JPN viewer by every backend alike).  The events are
// positions of several uids and types, labelled events, and a delete (t-x-d-d) that removes a
// track.  Normalised, because they differ by design: `seq` (each store numbers its rows; the
// shared one in the database's order), receive times (each node received the events itself),
// and the `next` cursor's value (a seq; only whether there is a next page is compared).  Not
// covered: federation marks (no federation link in this test).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
    CotClient, cotEvent, deleteEvent, httpInput, identity, iso, makeConfig, request, startServer,
    tcpInput, uidsOf, waitUntil,
} from './lib/harness.mjs';
import { startNats } from './lib/nats.mjs';
import { startPostgres } from './lib/pg.mjs';

let nats;
let pg;
const nodes = [];
const base = Date.now() - 60000;

function config(store, cluster) {
    const c = makeConfig({
        inputs: [
            tcpInput('us'),
            httpInput('web'),
            httpInput('web-jp', ['Cyan'], ['Cyan'], { identity: identity('jp-user', ['Cyan'], ['Cyan'], { nation: 'JPN' }) }),
        ],
        store,
    });
    if (cluster) c.cluster = { nats: nats.url };
    return c;
}

// 40 positions of 8 uids over 3 types, some labelled, then a delete of one uid.
function events() {
    const out = [];
    const types = ['a-f-G-U-C', 'a-h-G', 'a-n-A-C-F'];
    const labels = [undefined, 'SECRET//NOFORN', 'SECRET//REL TO USA, JPN', 'UNCLASSIFIED'];
    for (let i = 0; i < 40; i++)
        out.push(cotEvent({
            uid: `same-${i % 8}`, type: types[i % 8 % 3], now: base + i * 1000, callsign: `S${i % 8}`,
            remarks: `r ${i}`, access: labels[i % 8 % 4], point: { lat: 35 + i / 10, lon: 139 + i / 20, hae: i },
        }));
    out.push(deleteEvent('same-3', 'del-same-3').replace(/time="[^"]+"/, `time="${iso(base + 41000)}"`));
    return out;
}

// Without what differs by design: seq and receive times, at any depth.
function norm(v) {
    if (Array.isArray(v)) return v.map(norm);
    if (v === null || typeof v !== 'object') return v;
    const o = {};
    for (const [k, x] of Object.entries(v))
        if (k !== 'seq' && !/recv|received/i.test(k)) o[k] = norm(x);
    return o;
}

async function get(node, input, p) {
    const r = await request(node.port(input), 'GET', p);
    assert.equal(r.status, 200, `${p}: ${r.body}`);
    return r.json();
}

// Every page of `p` with limit=7: the pages' events, and whether each had a next.
async function paged(node, input, p) {
    const pages = [];
    let cursor = null;
    for (let i = 0; i < 20; i++) {
        const j = await get(node, input, `${p}${p.includes('?') ? '&' : '?'}limit=7${cursor ? `&cursor=${cursor}` : ''}`);
        pages.push({ events: norm(j.events), more: j.next !== null });
        if (!(cursor = j.next)) break;
    }
    return pages;
}

const QUERIES = [
    '/api/v1/events?limit=1000',
    '/api/v1/events?uid=same-2',
    '/api/v1/events?uid=same-3',
    '/api/v1/events?type=a-h-G',
    '/api/v1/events?type=a-*',
    `/api/v1/events?since=${iso(base + 15000)}`,
    `/api/v1/events?since=${iso(base + 10000)}&until=${iso(base + 20000)}`,
    '/api/v1/events?bbox=139.5,35.5,140.5,37.5',
    `/api/v1/events?bbox=139.5,35.5,140.5,37.5&since=${iso(base + 25000)}`,
    '/api/v1/events?bbox=170,30,139.6,38', // across the antimeridian: lon >= 170 or <= 139.6
];

async function answers(node) {
    const out = {};
    for (const input of ['web', 'web-jp']) {
        for (const q of QUERIES) out[`${input} ${q}`] = norm((await get(node, input, q)).events);
        out[`${input} paged`] = await paged(node, input, '/api/v1/events');
        out[`${input} paged a-*`] = await paged(node, input, '/api/v1/events?type=a-*');
        out[`${input} paged bbox`] = await paged(node, input, '/api/v1/events?bbox=139.5,35.5,140.5,37.5');
        for (const t of ['/api/v1/tracks', '/api/v1/tracks?bbox=139.5,35.5,141,38.5']) {
            const j = await get(node, input, t);
            out[`${input} ${t}`] = norm(j.features).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
        }
    }
    return out;
}

before(async () => {
    nats = await startNats();
    pg = await startPostgres();
    nodes.push(await startServer({ config: config({}, false) }));
    nodes.push(await startServer({ config: config({ backend: 'postgres', dsn: pg.newDb().dsn }, false) }));
    nodes.push(await startServer({ config: config({ backend: 'postgres', dsn: pg.newDb().dsn }, true) }));
});

after(async () => {
    for (const n of nodes) {
        await n.stop();
        n.cleanup();
    }
    if (nats) {
        await nats.stop();
        nats.cleanup();
    }
    await pg?.stop();
});

test('SQLite, PostgreSQL and a cluster\'s shared PostgreSQL answer the same events alike', async () => {
    const evs = events();
    for (const node of nodes) {
        const c = await CotClient.connect(node.port('us'), { name: 'same' });
        for (const ev of evs) await c.send(ev); // in order, one at a time
        await waitUntil(async () => {
            const r = await request(node.port('web'), 'GET', '/api/v1/events?limit=1000');
            return r.status === 200 && uidsOf(r.json()).length === evs.length;
        }, { timeout: 10000, what: 'every event stored' });
        await c.close();
    }
    const got = [];
    for (const node of nodes) got.push(await answers(node));
    // The answers say something: the filters select, the labels withhold, the delete removes.
    const a = got[0];
    assert.equal(a['web /api/v1/events?limit=1000'].length, 41);
    assert.equal(a['web /api/v1/events?uid=same-2'].length, 5);
    assert.equal(a['web /api/v1/events?type=a-h-G'].length, 15);
    assert.ok(a['web-jp /api/v1/events?limit=1000'].length < 41, 'the JPN viewer saw a NOFORN event');
    assert.ok(a['web paged'].length >= 6);
    assert.ok(!a['web /api/v1/tracks'].some((f) => JSON.stringify(f).includes('same-3')), 'the delete left its track');
    assert.equal(a['web /api/v1/tracks'].length, 7);
    // Event i is at (139 + i/20, 35 + i/10): the box holds i = 10..25, the antimeridian box i = 0..12
    // and the delete (the harness's default point, 139.3, 35.7);
    // the tracks' last positions (i = 32..39) in the tracks box: i = 32..35 but the deleted same-3.
    assert.equal(a['web /api/v1/events?bbox=139.5,35.5,140.5,37.5'].length, 16);
    assert.equal(a['web /api/v1/events?bbox=170,30,139.6,38'].length, 14);
    assert.equal(a['web /api/v1/tracks?bbox=139.5,35.5,141,38.5'].length, 3);
    for (const [i, name] of [[1, 'PostgreSQL'], [2, 'the cluster\'s PostgreSQL']])
        for (const k of Object.keys(a))
            assert.deepEqual(got[i][k], a[k], `${name} answers ${k} otherwise than SQLite`);
});
