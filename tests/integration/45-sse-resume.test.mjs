// 45-sse-resume: GET /api/v1/stream sends each event's server sequence as its SSE `id:`
// and, asked again with Last-Event-ID (as a browser's EventSource does when it
// reconnects), sends exactly the events of the log after it that the viewer may see, in
// order, instead of the latest-state replay, then goes on live.  An id the log cannot
// answer (beyond the node's last event) gets the replay, as without one.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { CotClient, cotEvent, deleteEvent, httpInput, identity, openStream, postEvent, startServer, tcpInput, uniq } from './lib/harness.mjs';

const US = identity('us-user', ['Cyan'], ['Cyan'], { nation: 'USA', clearance: 'SECRET' });
const JP = identity('jp-user', ['Cyan'], ['Cyan'], { nation: 'JPN', clearance: 'SECRET' });


async function waitFor(s, pred, what, timeout = 5000) {
    const deadline = Date.now() + timeout;
    while (!s.events.some(pred)) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(s.events.map((e) => e.uid))}`);
        await new Promise((r) => { const t = setTimeout(r, left); s.waiters.push(() => { clearTimeout(t); r(); }); });
    }
    return s.events.find(pred);
}

async function post(port, xml) {
    const r = await postEvent(port, xml);
    assert.equal(r.status, 201, r.body);
    return JSON.parse(r.body).seq;
}

describe('SSE resume with Last-Event-ID', () => {
    let server;
    const open = [];
    const stream = async (lastId) => { const s = await openStream(server.port('web-jp'), lastId); open.push(s); return s; };

    before(async () => {
        server = await startServer({
            inputs: [
                { ...httpInput('web-us'), identity: US },
                { ...httpInput('web-jp'), identity: JP },
                { ...tcpInput('cot'), identity: US },
            ],
        });
    });

    after(async () => {
        for (const s of open) s.req.destroy();
        await server?.stop();
    });

    test('every event carries its sequence as its id', async () => {
        const s = await stream();
        const uid = uniq('first');
        const seq = await post(server.port('web-us'), cotEvent({ uid, access: 'UNCLASSIFIED' }));
        const e = await waitFor(s, (x) => x.uid === uid, uid);
        assert.equal(e.event, 'cot');
        assert.equal(e.id, seq);
        assert.equal(e.seq, seq);
        s.req.destroy();
    });

    test('a reconnect gets exactly the missed events it may see, in order, then live', async () => {
        const us = server.port('web-us');
        const s1 = await stream();
        const seen = uniq('seen');
        await post(us, cotEvent({ uid: seen, access: 'UNCLASSIFIED' }));
        const last = (await waitFor(s1, (x) => x.uid === seen, seen)).id;
        s1.req.destroy();

        // Missed while away: two the JPN viewer may see, one it may not, and a delete.
        const a = uniq('missed-a'), noforn = uniq('missed-noforn'), c = uniq('missed-c');
        await post(us, cotEvent({ uid: a, access: 'UNCLASSIFIED' }));
        await post(us, cotEvent({ uid: noforn, access: 'SECRET//NOFORN' }));
        await post(us, cotEvent({ uid: c, access: 'CONFIDENTIAL//REL TO USA, JPN' }));
        await post(us, deleteEvent(seen));

        const s2 = await stream(last);
        await waitFor(s2, (x) => x.link === seen, 'the missed delete');
        const live = uniq('live');
        await post(us, cotEvent({ uid: live, access: 'UNCLASSIFIED' }));
        await waitFor(s2, (x) => x.uid === live, live);
        assert.deepEqual(s2.events.map((x) => x.uid ?? x.type).slice(0, 2), [a, c],
            'the missed releasable events first, no NOFORN one and no replay of the current state');
        assert.equal(s2.events[2].type, 't-x-d-d');
        assert.equal(s2.events[3].uid, live);
        assert.equal(s2.events.length, 4);
        const ids = s2.events.map((x) => x.id);
        assert.ok(ids.every((id, i) => id > last && (i === 0 || id > ids[i - 1])), `ids in order after ${last}: ${ids}`);
    });

    test('more missed events than one page of the log, and live ones meanwhile', async () => {
        const s1 = await stream();
        const mark = uniq('mark');
        await post(server.port('web-us'), cotEvent({ uid: mark, access: 'UNCLASSIFIED' }));
        const last = (await waitFor(s1, (x) => x.uid === mark, mark)).id;
        const feed = await CotClient.connect(server.port('cot'));
        const run = uniq('many');
        const N = 2500;
        const batch = (from, to) => Array.from({ length: to - from }, (_, i) => cotEvent({ uid: `${run}-${from + i}`,
            access: (from + i) % 5 === 0 ? 'SECRET//NOFORN' : 'UNCLASSIFIED' })).join('');
        await feed.send(batch(0, N));
        // s1 sees them arrive, so they were routed; the client is taken to have lost them.
        await waitFor(s1, (x) => x.uid === `${run}-${N - 1}`, 'the batch routed', 15000);
        s1.req.destroy();
        const end = uniq('end');
        await post(server.port('web-us'), cotEvent({ uid: end, access: 'UNCLASSIFIED' }));
        const s2 = await stream(last);
        await feed.send(batch(N, N + 200)); // while the log is read, or after: live either way
        await waitFor(s2, (x) => x.uid === `${run}-${N + 199}`, 'the last live event', 15000);
        await feed.close();
        const want = [];
        for (let i = 0; i < N; i++) if (i % 5) want.push(`${run}-${i}`);
        want.push(end);
        for (let i = N; i < N + 200; i++) if (i % 5) want.push(`${run}-${i}`);
        assert.deepEqual(s2.events.map((x) => x.uid), want);
        const ids = s2.events.map((x) => x.id);
        assert.ok(ids.every((id, i) => i === 0 || id > ids[i - 1]), 'ids ascend');
    });

    test('an id beyond the log, or none, gets the latest-state replay', async () => {
        const uid = uniq('state');
        const seq = await post(server.port('web-us'), cotEvent({ uid, access: 'UNCLASSIFIED' }));
        for (const lastId of [undefined, seq + 1000000, 'not-a-number']) {
            const s = await stream(lastId);
            await waitFor(s, (x) => x.uid === uid, `${uid} replayed (Last-Event-ID ${lastId})`);
            s.req.destroy();
        }
        // Nothing missed: no replay, straight to live.
        const s = await stream(seq);
        const next = uniq('next');
        await post(server.port('web-us'), cotEvent({ uid: next, access: 'UNCLASSIFIED' }));
        await waitFor(s, (x) => x.uid === next, next);
        assert.deepEqual(s.events.map((x) => x.uid), [next]);
    });
});
