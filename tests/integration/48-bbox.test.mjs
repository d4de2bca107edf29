// 48-bbox: GET /api/v1/tracks?bbox= and GET /api/v1/events?bbox=&since=&until=
// on the real binary (store/geo.c's R*Tree behind the log): minLon,minLat,maxLon,maxLat
// in degrees, edges included, a box across the antimeridian, events without a position
// never in a box, pages with a cursor, 400 with a message for a bad box, and the
// release rule inside the box (a JPN caller does not see NOFORN).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { cotEvent, httpInput, identity, iso, postEvent, request, startServer, uidsOf, uniq } from './lib/harness.mjs';

const US = { nation: 'USA', clearance: 'SECRET' };
const JP = { nation: 'JPN', clearance: 'SECRET' };
const web = (name, who) => httpInput(name, ['Cyan'], ['Cyan'], { identity: identity(`${name}-user`, ['Cyan'], ['Cyan'], who) });

describe('bbox queries', () => {
    let server;
    const type = 'a-f-G-U-C-I'; // this file's own events
    const seqOf = {};

    before(async () => {
        server = await startServer({ inputs: [web('us', US), web('jp', JP)] });
    });

    after(async () => {
        await server.stop();
        server.cleanup();
    });

    const post = async (name, lat, lon, o = {}) => {
        const uid = uniq(name);
        const point = lat === null ? { lat: 0, lon: 0, hae: 9999999.0 } : { lat, lon };
        const r = await postEvent(server.port('us'), cotEvent({ uid, type, access: 'UNCLASSIFIED', point, ...o }));
        assert.equal(r.status, 201, r.body);
        seqOf[uid] = r.json().seq;
        return uid;
    };
    const get = async (who, path) => {
        const r = await request(server.port(who), 'GET', path);
        assert.equal(r.status, 200, `${path}: ${r.body}`);
        return r.json();
    };
    const events = async (who, qs) => uidsOf(await get(who, `/api/v1/events?type=${type}&${qs}`));
    const tracksIn = async (who, bbox) => uidsOf(await get(who, `/api/v1/tracks?bbox=${bbox}`));

    let inside, edge, outside, chat, foreign, east, west, t1;
    test('events and tracks in a box, newest first', async () => {
        inside = await post('in', 35.5, 139.5);
        edge = await post('edge', 36.0, 139.0); // on the north-west corner
        outside = await post('out', 36.0001, 139.5);
        chat = await post('chat', null);
        foreign = await post('nf', 35.2, 139.2, { access: 'SECRET//NOFORN' });
        t1 = Date.now();

        const box = '139,35,140,36';
        assert.deepEqual(await events('us', `bbox=${box}`), [foreign, edge, inside]);
        const tr = await tracksIn('us', box);
        assert.ok(tr.includes(inside) && tr.includes(edge) && tr.includes(foreign), tr.join());
        assert.ok(!tr.includes(outside) && !tr.includes(chat), tr.join());
        // The chat's 0,0 "no position" is in no box, not even one around 0,0.
        assert.ok(!(await events('us', 'bbox=-1,-1,1,1')).includes(chat));
        assert.ok(!(await tracksIn('us', '-1,-1,1,1')).includes(chat));
    });

    test('the release rule still holds inside the box', async () => {
        const box = '139,35,140,36';
        assert.deepEqual(await events('jp', `bbox=${box}`), [edge, inside]);
        const tr = await tracksIn('jp', box);
        assert.ok(tr.includes(inside) && !tr.includes(foreign), tr.join());
    });

    test('since and until with a box; pages with a cursor', async () => {
        const later = await post('later', 35.9, 139.9);
        const box = '139,35,140,36';
        assert.deepEqual(await events('us', `bbox=${box}&since=${encodeURIComponent(iso(t1))}`), [later]);
        assert.deepEqual(await events('us', `bbox=${box}&until=${encodeURIComponent(iso(t1))}`), [foreign, edge, inside]);

        const seen = [];
        let cursor = null;
        for (let i = 0; i < 10; i++) {
            const j = await get('us', `/api/v1/events?type=${type}&bbox=${box}&limit=1${cursor ? `&cursor=${cursor}` : ''}`);
            seen.push(...uidsOf(j));
            cursor = j.next;
            if (cursor === null) break;
        }
        assert.deepEqual(seen, [later, foreign, edge, inside]);
        assert.equal(cursor, null);
    });

    test('a box across the antimeridian', async () => {
        east = await post('east', -17.0, 179.5);
        west = await post('west', -17.0, -179.5);
        const far = await post('far', -17.0, 10.0);
        const got = await events('us', 'bbox=170,-20,-170,-10');
        assert.deepEqual(got, [west, east]);
        const tr = await tracksIn('us', '170,-20,-170,-10');
        assert.ok(tr.includes(east) && tr.includes(west) && !tr.includes(far), tr.join());
    });

    test('a bad box is 400 with a message', async () => {
        const bad = ['1,2,3', '1,2,3,4,5', 'a,2,3,4', '0,91,1,92', '-181,0,1,1', '0,10,1,5',
            '0,0,1,nan', '0,0,1,inf', '', '1,,2,3', ' 1,2,3,4', '1e999,0,1,1'];
        for (const b of bad) {
            for (const path of ['/api/v1/events', '/api/v1/tracks']) {
                const r = await request(server.port('us'), 'GET', `${path}?bbox=${encodeURIComponent(b)}`);
                assert.equal(r.status, 400, `${path} bbox=${b}: ${r.body}`);
                assert.match(r.json().error, /bbox/, r.body);
            }
        }
    });
});
