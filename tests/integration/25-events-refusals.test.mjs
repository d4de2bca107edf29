// 25-events-refusals: POST /api/v1/events answers 503 with Retry-After when the
// server cannot take the event now (docs/api.md): here `state_full`, a new uid
// while limits.max_tracks uids are current.  Updates of current uids still go
// through, and a delete makes room.  The other 503, `overload` (the store far
// behind), is the same answer on a refusal integration cannot cause on demand;
// unit/test_route_overload drives the router into it.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
    cotEvent, deleteEvent, httpInput, metric, postEvent, startServer, tracks, uniq,
} from './lib/harness.mjs';

const MAX_TRACKS = 3;

describe('POST /api/v1/events refusals', () => {
    let server;
    let web;

    before(async () => {
        server = await startServer({
            inputs: [httpInput('web')],
            limits: { max_tracks: MAX_TRACKS },
        });
        web = server.port('web');
    });

    after(async () => {
        await server.stop();
        server.cleanup();
    });

    test('a new uid over limits.max_tracks: 503, Retry-After, state_full; updates and deletes still pass', async () => {
        const uids = Array.from({ length: MAX_TRACKS }, () => uniq('full'));
        for (const uid of uids) {
            const res = await postEvent(web, cotEvent({ uid }));
            assert.equal(res.status, 201, res.body);
        }
        const refused0 = await metric(web, 'kizuna_rejects_total', { reason: 'state_full' });
        const extra = uniq('extra');
        const res = await postEvent(web, cotEvent({ uid: extra }));
        assert.equal(res.status, 503, res.body);
        assert.equal(res.headers['retry-after'], '5');
        assert.match(res.json().error, /^state_full: /);
        assert.equal(await metric(web, 'kizuna_rejects_total', { reason: 'state_full' }), refused0 + 1);
        const current = (await tracks(web)).features.map((f) => f.properties?.uid ?? f.id);
        assert.deepEqual(current.sort(), [...uids].sort(), 'the refused event entered the state');

        // A current uid is no new uid: its update is accepted.
        assert.equal((await postEvent(web, cotEvent({ uid: uids[0] }))).status, 201);
        // A delete needs no room and frees one.
        assert.equal((await postEvent(web, deleteEvent(uids[1]))).status, 201);
        const again = await postEvent(web, cotEvent({ uid: extra }));
        assert.equal(again.status, 201, again.body);
    });
});
