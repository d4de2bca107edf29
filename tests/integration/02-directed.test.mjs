// 02-directed: marti/dest delivery by callsign and uid, ping/pong, and
// t-x-d-d deletes.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
    barrier, CotClient, cotEvent, deleteEvent, httpInput, pingEvent, startServer, tcpInput, tracks, uniq,
} from './lib/harness.mjs';

describe('directed delivery, ping, delete', () => {
    let server;
    let alice;
    let bob;
    let carol;
    const sa = {};
    const deleted = {};

    before(async () => {
        server = await startServer({ inputs: [tcpInput('us'), httpInput('web', ['Cyan'])] });
        alice = await CotClient.connect(server.port('us'), { name: 'alice' });
        bob = await CotClient.connect(server.port('us'), { name: 'bob' });
        carol = await CotClient.connect(server.port('us'), { name: 'carol' });
        // Each announces itself so the server learns its callsign and uid.
        for (const [name, cl] of [['ALICE', alice], ['BOB', bob], ['CAROL', carol]]) {
            sa[name] = uniq(`sa-${name}`);
            await cl.send(cotEvent({ uid: sa[name], callsign: name, group: { name: 'Cyan' } }));
        }
        for (const [name, cl] of [['ALICE', alice], ['BOB', bob], ['CAROL', carol]])
            for (const other of Object.keys(sa).filter((n) => n !== name)) await cl.waitUid(sa[other]);
    });

    after(async () => {
        for (const cl of [alice, bob, carol]) await cl.close();
        await server.stop();
        server.cleanup();
    });

    test('dest callsign reaches only that callsign', async () => {
        const uid = uniq('to-bob');
        await alice.send(cotEvent({ uid, type: 'b-t-f', how: 'h-g-i-g-o', dests: [{ callsign: 'BOB' }], remarks: 'hi bob' }));
        await bob.waitUid(uid);
        await barrier(alice, [carol]);
        assert.equal(carol.has(uid), false, 'carol got a message for BOB');
    });

    test('dest uid reaches the connection that sent that uid', async () => {
        const uid = uniq('to-carol');
        await alice.send(cotEvent({ uid, type: 'b-t-f', how: 'h-g-i-g-o', dests: [{ uid: sa.CAROL }] }));
        await carol.waitUid(uid);
        await barrier(alice, [bob]);
        assert.equal(bob.has(uid), false, 'bob got a message for carol\'s uid');
    });

    test('several dests reach each of them', async () => {
        const uid = uniq('to-both');
        await carol.send(cotEvent({ uid, dests: [{ callsign: 'ALICE' }, { callsign: 'BOB' }] }));
        await Promise.all([alice.waitUid(uid), bob.waitUid(uid)]);
    });

    test('a dest nobody has reaches nobody', async () => {
        const uid = uniq('to-nobody');
        await alice.send(cotEvent({ uid, dests: [{ callsign: 'NOBODY-HERE' }] }));
        await barrier(alice, [bob, carol]);
        assert.equal(bob.has(uid) || carol.has(uid), false, 'an event for an unknown callsign was delivered');
    });

    test('ping is answered to the sender alone', async () => {
        const ping = uniq('ping');
        const from = alice.events.length;
        await alice.send(pingEvent(ping));
        const pong = await alice.waitFor((e) => e.type === 't-x-c-t-r', { what: 'pong', from });
        assert.equal(pong.uid, 'takPong');
        await barrier(alice, [bob, carol]);
        for (const cl of [bob, carol]) {
            assert.equal(cl.has(ping), false, `${cl.name} saw the ping`);
            assert.equal(cl.events.some((e) => e.type === 't-x-c-t-r'), false, `${cl.name} saw a pong`);
        }
    });

    test('t-x-d-d removes the target from state and is forwarded', async () => {
        const target = uniq('doomed');
        const keep = uniq('keeper');
        await alice.send(cotEvent({ uid: target, callsign: 'DOOMED' }));
        await alice.send(cotEvent({ uid: keep, callsign: 'KEEPER' }));
        await bob.waitUid(keep);
        await bob.waitUid(target);
        let list = await tracks(server.port('web'));
        assert.ok(list.features.some((f) => f.properties?.uid === target || f.id === target), 'target listed before delete');

        const del = uniq('del');
        await alice.send(deleteEvent(target, del));
        const fwd = await bob.waitUid(del);
        assert.equal(fwd.type, 't-x-d-d');
        assert.match(fwd.detail, new RegExp(`<link[^>]*uid="${target}"`));

        list = await tracks(server.port('web'));
        const listed = list.features.map((f) => f.properties?.uid ?? f.id);
        assert.ok(!listed.includes(target), 'deleted uid still listed at /api/v1/tracks');
        assert.ok(listed.includes(keep), 'unrelated uid vanished from /api/v1/tracks');

        const late = await CotClient.connect(server.port('us'), { name: 'late' });
        try {
            await late.waitUid(keep, { what: 'replay of the kept track' });
            await barrier(alice, [late]);
            assert.equal(late.has(target), false, 'deleted uid replayed to a new connection');
        } finally {
            await late.close();
        }
        deleted.target = target;
        deleted.keep = keep;
    });

    test('a delete survives a restart', async () => {
        assert.ok(deleted.target, 'needs the delete test above');
        for (const cl of [alice, bob, carol]) await cl.close();
        await server.restart();
        const listed = (await tracks(server.port('web'))).features.map((f) => f.properties?.uid ?? f.id);
        assert.ok(listed.includes(deleted.keep), 'kept track lost in the restart');
        assert.ok(!listed.includes(deleted.target), 'deleted track is back after a restart');
        alice = await CotClient.connect(server.port('us'), { name: 'alice' });
        bob = await CotClient.connect(server.port('us'), { name: 'bob' });
        carol = await CotClient.connect(server.port('us'), { name: 'carol' });
        await barrier(alice, [bob]);
        assert.equal(bob.has(deleted.target), false, 'deleted track replayed after a restart');
    });
});
