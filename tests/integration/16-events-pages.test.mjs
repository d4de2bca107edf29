// 16-events-pages: GET /api/v1/events filters for the caller before the
// limit and pages with a cursor (security review F15): a foreign caller gets
// a full page whenever enough visible events exist, walks every visible
// event exactly once, and cannot tell from page sizes how many events it
// may not see.  Also what docs/api.md promises of the query itself: newest
// first, the type prefix, and 400 for any other parameter (test audit S2-9).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
    CotClient, cotEvent, httpInput, identity, postEvent, request, startServer, tcpInput,
    uidsOf, uniq, waitUntil,
} from './lib/harness.mjs';

const US = { nation: 'USA', clearance: 'SECRET' };
const JP = { nation: 'JPN', clearance: 'SECRET' };

const web = (name, who) => httpInput(name, ['Cyan'], ['Cyan'], { identity: identity(`${name}-user`, ['Cyan'], ['Cyan'], who) });

describe('GET /api/v1/events pages', () => {
    let server;

    before(async () => {
        server = await startServer({
            inputs: [
                web('us', US), web('jp', JP),
                { ...tcpInput('us-tcp'), identity: identity('us-tcp-user', ['Cyan'], ['Cyan'], US) },
            ],
        });
    });

    after(async () => {
        await server.stop();
        server.cleanup();
    });

    const post = async (o) => {
        const r = await postEvent(server.port('us'), cotEvent(o));
        assert.equal(r.status, 201, r.body);
        return r.json().seq;
    };
    const page = async (who, qs) => {
        const r = await request(server.port(who), 'GET', `/api/v1/events?${qs}`);
        assert.equal(r.status, 200, `${qs}: ${r.body}`);
        const j = r.json();
        assert.ok('next' in j, `no next in ${r.body.slice(0, 200)}`);
        return { uids: uidsOf(j), seqs: j.events.map((e) => e.properties.seq), next: j.next };
    };
    // Every page of a query, following the cursor.
    const walk = async (who, qs) => {
        const pages = [];
        let cursor = null;
        do {
            const p = await page(who, cursor === null ? qs : `${qs}&cursor=${encodeURIComponent(cursor)}`);
            pages.push(p);
            cursor = p.next;
            assert.ok(pages.length < 100, 'the cursor does not end');
        } while (cursor !== null);
        return pages;
    };

    test('F15: 1 public then 5 NOFORN: JPN limit=5 gets the public event', async () => {
        const type = 'a-f-G-E-S'; // this test's own events
        const pub = uniq('pub');
        await post({ uid: pub, type, access: 'UNCLASSIFIED' });
        for (let i = 0; i < 5; i++) await post({ uid: uniq('nf'), type, access: 'SECRET//NOFORN' });

        const p5 = await page('jp', `type=${type}&limit=5`);
        assert.deepEqual(p5.uids, [pub], 'limit applies before the release filter');
        assert.equal(p5.next, null);
        assert.equal((await page('us', `type=${type}&limit=5`)).uids.length, 5);

        // Page sizes are the same whatever the number of hidden events.
        const answers = async () => {
            const out = [];
            for (let limit = 1; limit <= 7; limit++) {
                const pages = await walk('jp', `type=${type}&limit=${limit}`);
                out.push(pages.map((p) => p.uids.length));
                assert.deepEqual(pages.flatMap((p) => p.uids), [pub], `limit=${limit}`);
            }
            return out;
        };
        const before5 = await answers();
        for (let i = 0; i < 7; i++) await post({ uid: uniq('nf'), type, access: 'SECRET//NOFORN' });
        assert.deepEqual(await answers(), before5, 'page sizes changed with the number of hidden events');
        // limit=1: one full page (its cursor), then an empty last page; otherwise one page.
        assert.deepEqual(before5, [[1, 0], [1], [1], [1], [1], [1], [1]]);
    });

    test('F15: paging with the cursor walks every visible event exactly once, newest first', async () => {
        const type = 'a-f-G-E-W';
        const visible = [];
        const all = [];
        for (let i = 0; i < 23; i++) {
            const uid = uniq(`w${i}`);
            const hidden = i % 3 !== 0 || i === 22;
            await post({ uid, type, access: hidden ? 'SECRET//NOFORN' : 'SECRET//REL TO USA, JPN' });
            all.unshift(uid);
            if (!hidden) visible.unshift(uid);
        }
        for (const [who, want] of [['jp', visible], ['us', all]]) {
            for (const limit of [1, 2, 3, 5, 100]) {
                const pages = await walk(who, `type=${type}&limit=${limit}`);
                assert.deepEqual(pages.flatMap((p) => p.uids), want, `${who} limit=${limit}`);
                // Every page but the last is full.
                for (const p of pages.slice(0, -1)) assert.equal(p.uids.length, limit, `${who} limit=${limit}`);
                const seqs = pages.flatMap((p) => p.seqs);
                assert.deepEqual(seqs, [...seqs].sort((a, b) => b - a), 'newest first across pages');
            }
        }
    });

    test('F15: the work per request is bounded; a short page carries a cursor', async () => {
        const type = 'a-f-G-E-B';
        const pub = uniq('pub');
        await post({ uid: pub, type, access: 'UNCLASSIFIED' });
        const src = await CotClient.connect(server.port('us-tcp'), { name: 'src' });
        const n = 1250;
        const uids = Array.from({ length: n }, (_, i) => uniq(`b${i}`));
        await src.send(uids.map((uid) => cotEvent({ uid, type, access: 'SECRET//NOFORN' })).join(''));
        await waitUntil(async () => (await page('us', `type=${type}&limit=1`)).uids[0] === uids[n - 1],
            { what: 'the burst in the log', timeout: 15000 });
        await src.close();
        // limit=1 examines at most 10 batches of 100 rows, then hands back a cursor.
        const first = await page('jp', `type=${type}&limit=1`);
        assert.deepEqual(first.uids, []);
        assert.notEqual(first.next, null, 'a page cut short by the budget must carry a cursor');
        const pages = await walk('jp', `type=${type}&limit=1`);
        assert.deepEqual(pages.flatMap((p) => p.uids), [pub]);
        assert.equal((await page('jp', `type=${type}&limit=100`)).uids.length, 0);
        assert.deepEqual((await walk('jp', `type=${type}&limit=100`)).flatMap((p) => p.uids), [pub]);
    });

    test('newest first and the type prefix a-f-*', async () => {
        const tag = uniq('pfx');
        const types = ['a-f-G-U-C', 'a-h-G', 'a-f-A-M-F', 'b-m-p-s-m', 'a-f'];
        const uids = types.map((t, i) => `${tag}-${i}`);
        for (let i = 0; i < types.length; i++)
            await post({ uid: uids[i], type: types[i], access: 'UNCLASSIFIED' });
        const mine = (p) => p.uids.filter((u) => u.startsWith(tag));
        assert.deepEqual(mine(await page('jp', 'type=a-f-*&limit=10000')), [uids[2], uids[0]]);
        assert.deepEqual(mine(await page('jp', 'type=a-*&limit=10000')), [uids[4], uids[2], uids[1], uids[0]]);
        assert.deepEqual(mine(await page('jp', 'type=a-f&limit=10000')), [uids[4]]);
        const all = await page('jp', 'limit=10000');
        assert.deepEqual(mine(all), [...uids].reverse());
        assert.deepEqual(all.seqs, [...all.seqs].sort((a, b) => b - a), 'newest first');
    });

    test('any parameter not documented is 400, as is a malformed cursor', async () => {
        for (const qs of ['x=1', 'limit=5&_=123', 'uid=a&Type=b', 'cursor=', 'cursor=0', 'cursor=abc', 'cursor=-5']) {
            const r = await request(server.port('jp'), 'GET', `/api/v1/events?${qs}`);
            assert.equal(r.status, 400, `${qs} -> ${r.status} ${r.body}`);
            assert.equal(typeof r.json().error, 'string');
        }
        const r = await request(server.port('jp'), 'GET', '/api/v1/events?x=1');
        assert.equal(r.json().error, "unknown parameter 'x'");
    });
});
