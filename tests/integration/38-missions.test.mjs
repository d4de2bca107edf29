// 38-missions: Data Sync missions on the real binary, over plain HTTP (Marti)
// and TCP CoT streams.  Create (the creator is MISSION_OWNER with a token),
// list and get, subscribe (201, data.mission with API_VERSION 3), add uids,
// t-x-m-c to a connected subscriber when another client adds content, a CoT
// with <marti><dest mission/> that reaches the mission's subscribers only
// and joins the mission, changes, cot, unsubscribe, delete, and a restart.
// Labels: a JPN subscriber of a mission holding a US NOFORN uid and file never
// sees them in any answer or notification.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
    barrier, CotClient, cotEvent, httpInput, identity, makeConfig, request, startServer, tcpInput,
} from './lib/harness.mjs';

const person = (proto, name, nation) => proto(name, ['Cyan'], ['Cyan'], {
    identity: identity(name, ['Cyan'], ['Cyan'], { nation, clearance: 'SECRET' }),
    default_label: 'UNCLASSIFIED',
});

const INPUTS = [
    person(httpInput, 'web-us', 'USA'),
    person(httpInput, 'web-jp', 'JPN'),
    person(tcpInput, 'dev-a', 'USA'),
    person(tcpInput, 'dev-b', 'USA'),
    person(tcpInput, 'dev-j', 'JPN'),
    person(tcpInput, 'dev-o', 'USA'),
];

const M = '/Marti/api/missions';
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('missions', () => {
    let server;
    const dev = {};
    let token;

    const call = (as, method, p, { body, headers = {} } = {}) => request(server.port(as), method, p, {
        body: body === undefined ? undefined : JSON.stringify(body),
        headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    });
    const ok = async (as, method, p, opts = {}, status = 200) => {
        const r = await call(as, method, p, opts);
        assert.equal(r.status, status, `${as} ${method} ${p}: ${r.body}`);
        if (!r.body)
            return null;
        assert.equal(r.headers['content-type'], 'application/json', 'exactly application/json');
        const j = r.json();
        assert.equal(j.version, '3');
        assert.ok(j.nodeId);
        return j;
    };
    const owner = () => ({ headers: { MissionAuthorization: `Bearer ${token}` } });
    const notices = (c, type, from = 0) => c.events.slice(from).filter((e) => e.type === type);
    const changeOf = (c, uid) => c.events.find((e) => e.type === 't-x-m-c' && e.detail.includes(`<contentUid>${uid}</contentUid>`));

    before(async () => {
        server = await startServer({ config: makeConfig({ inputs: INPUTS }) });
        for (const [name, uid] of [['dev-a', 'ANDROID-A'], ['dev-b', 'ANDROID-B'], ['dev-j', 'ANDROID-J'], ['dev-o', 'ANDROID-O']]) {
            dev[name] = await CotClient.connect(server.port(name), { name });
            await dev[name].send(cotEvent({ uid, callsign: uid }));
        }
        // Each client's own report has been routed: its uid is bound.
        await barrier(dev['dev-a'], [dev['dev-b']]);
        await barrier(dev['dev-b'], [dev['dev-a']]);
        await barrier(dev['dev-j'], [dev['dev-a']]);
        await barrier(dev['dev-o'], [dev['dev-a']]);
    });

    after(async () => {
        for (const c of Object.values(dev)) await c.close();
        await server.stop();
        server.cleanup();
    });

    test('create: the creator is MISSION_OWNER and gets a token', async () => {
        const j = await ok('web-us', 'POST', `${M}/ops?creatorUid=ANDROID-A&description=harbour&group=Cyan`, {}, 201);
        assert.equal(j.type, 'Mission');
        const m = j.data[0];
        assert.equal(m.name, 'ops');
        assert.match(m.guid, GUID);
        assert.equal(m.classification, 'UNCLASSIFIED');
        assert.equal(m.creatorUid, 'ANDROID-A');
        assert.equal(m.tool, 'public');
        assert.deepEqual(m.groups, ['Cyan']);
        assert.equal(m.ownerRole.type, 'MISSION_OWNER');
        assert.equal(m.ownerRole.permissions.length, 8);
        assert.equal(m.token.split('.').length, 3);
        token = m.token;
        // A second create of the same name is an update that needs MISSION_WRITE.
        await ok('web-us', 'PUT', `${M}/ops?description=harbour%20two`, owner());
    });

    test('list and get', async () => {
        const l = await ok('web-jp', 'GET', M);
        assert.deepEqual(l.data.map((m) => m.name), ['ops']);
        assert.equal((await ok('web-jp', 'GET', `${M}?tool=other`)).data.length, 0);
        const g = await ok('web-us', 'GET', `${M}/ops`);
        assert.equal(g.data[0].description, 'harbour two');
        assert.equal((await call('web-us', 'GET', `${M}/nope`)).status, 404);
        // A name or parameter that is not UTF-8 is refused, never stored.
        assert.equal((await call('web-us', 'PUT', `${M}/bad%FFname`)).status, 400);
        assert.equal((await call('web-us', 'PUT', `${M}/ok2?description=%C3%28`)).status, 201);
        assert.equal((await call('web-us', 'GET', `${M}/ok2`)).json().data[0].description, '');
        // Deleting needs MISSION_DELETE: the default role has not.
        assert.equal((await call('web-us', 'DELETE', `${M}/ops`)).status, 403);
        const role = await ok('web-us', 'GET', `${M}/ops/role`, owner());
        assert.equal(role.data.type, 'MISSION_OWNER');
        assert.equal((await ok('web-us', 'GET', `${M}/ops/role`)).data.type, 'MISSION_SUBSCRIBER');
    });

    test('subscribe: 201, and with API_VERSION 3 the mission', async () => {
        const s = await ok('web-us', 'PUT', `${M}/ops/subscription?uid=ANDROID-B`, { headers: { API_VERSION: '3' } }, 201);
        assert.equal(s.type, 'com.bbn.marti.sync.model.MissionSubscription');
        assert.equal(s.data.clientUid, 'ANDROID-B');
        assert.equal(s.data.role.type, 'MISSION_SUBSCRIBER');
        assert.ok(s.data.token);
        assert.equal(s.data.mission.name, 'ops');
        assert.ok(Array.isArray(s.data.mission.missionChanges));
        await ok('web-jp', 'PUT', `${M}/ops/subscription?uid=ANDROID-J`, {}, 201);
        const subs = await ok('web-us', 'GET', `${M}/ops/subscriptions`);
        assert.deepEqual(subs.data.sort(), ['ANDROID-A', 'ANDROID-B', 'ANDROID-J']);
        const roles = await ok('web-us', 'GET', `${M}/ops/subscriptions/roles`);
        assert.equal(roles.data.find((r) => r.clientUid === 'ANDROID-A').role.type, 'MISSION_OWNER');
        const mine = await ok('web-us', 'GET', `${M}/ops/subscription?uid=ANDROID-B`);
        assert.equal(mine.data.clientUid, 'ANDROID-B');
        assert.ok(mine.data.token, 'its holder sees the token');
        // Another user sees the subscription, never its token, and may not end it.
        const theirs = await ok('web-jp', 'GET', `${M}/ops/subscription?uid=ANDROID-A`);
        assert.equal(theirs.data.role.type, 'MISSION_OWNER');
        assert.equal(theirs.data.token, undefined);
        assert.equal((await call('web-jp', 'DELETE', `${M}/ops/subscription?uid=ANDROID-B&disconnectOnly=false`)).status, 403);
    });

    test('contents: a subscriber receives t-x-m-c when another client adds a uid', async () => {
        await dev['dev-o'].send(cotEvent({ uid: 'marker-1', callsign: undefined }));
        await barrier(dev['dev-o'], [dev['dev-a']]);
        const j = await ok('web-us', 'PUT', `${M}/ops/contents?creatorUid=ANDROID-A`, { body: { uids: ['marker-1'] }, ...owner() });
        assert.equal(j.type, 'Mission');
        assert.deepEqual(j.data.uids.map((u) => u.data), ['marker-1']);
        assert.equal(j.data.uids[0].details.type, 'a-f-G-U-C');
        assert.equal(j.data.uids[0].details.location.lat, 35.7);
        for (const c of [dev['dev-b'], dev['dev-j']]) {
            const n = await c.waitFor((e) => e.type === 't-x-m-c' && e.detail.includes('<contentUid>marker-1</contentUid>'), { what: 't-x-m-c marker-1' });
            assert.match(n.detail, /<mission type="CHANGE"[^>]* name="ops"/);
            assert.match(n.detail, /<type>ADD_CONTENT<\/type>/);
            assert.match(n.detail, /<creatorUid>ANDROID-A<\/creatorUid>/);
            assert.match(n.detail, /<details type="a-f-G-U-C"><location lat="35.7000000" lon="139.3000000"\/><\/details>/);
            assert.match(n.detail, /<timestamp>\d{4}-\d\d-\d\dT[\d:.]+Z<\/timestamp>/);
        }
        assert.equal(changeOf(dev['dev-o'], 'marker-1'), undefined, 'not a subscriber');
    });

    test('labels: a JPN subscriber never sees a US NOFORN uid', async () => {
        await dev['dev-o'].send(cotEvent({ uid: 'secret-1', access: 'SECRET//NOFORN' }));
        await barrier(dev['dev-o'], [dev['dev-a']]);
        const j = await ok('web-us', 'PUT', `${M}/ops/contents?creatorUid=ANDROID-A`, { body: { uids: ['secret-1'] }, ...owner() });
        assert.ok(j.data.uids.some((u) => u.data === 'secret-1'));
        await dev['dev-b'].waitFor((e) => changeOf(dev['dev-b'], 'secret-1') === e, { what: 't-x-m-c secret-1' });
        // Whatever the JPN client was going to get has arrived by now.
        await barrier(dev['dev-b'], [dev['dev-j']]);
        assert.equal(changeOf(dev['dev-j'], 'secret-1'), undefined);
        assert.ok(!dev['dev-j'].events.some((e) => e.xml.includes('secret-1')));
        const answers = [
            await call('web-jp', 'GET', `${M}/ops`),
            await call('web-jp', 'GET', `${M}/ops?changes=true`),
            await call('web-jp', 'GET', `${M}/ops/changes`),
            await call('web-jp', 'GET', `${M}/ops/changes?squashed=false`),
            await call('web-jp', 'GET', `${M}/ops/cot`),
            await call('web-jp', 'GET', M),
            await call('web-jp', 'PUT', `${M}/ops/subscription?uid=ANDROID-J`, { headers: { API_VERSION: '3' } }),
        ];
        for (const r of answers) {
            assert.ok(r.status < 300, r.body);
            assert.ok(!r.body.includes('secret-1'), r.body);
        }
        assert.ok(answers[0].body.includes('marker-1'));
        // The JPN caller may not remove what it cannot see.
        assert.equal((await call('web-jp', 'DELETE', `${M}/ops/contents?uid=secret-1`)).status, 404);
        const us = await call('web-us', 'GET', `${M}/ops/cot`);
        assert.equal(us.headers['content-type'], 'application/xml');
        assert.match(us.body, /^<\?xml[^>]*>\s*<events>/);
        assert.ok(us.body.includes('uid="secret-1"') && us.body.includes('uid="marker-1"'), us.body);
    });

    test('files: a mission lists an uploaded file with its Resource; a JPN subscriber never sees a US NOFORN one', async () => {
        const upload = async (name, label) => {
            const r = await request(server.port('web-us'), 'POST',
                `/Marti/sync/upload?name=${name}&creatorUid=ANDROID-A&label=${encodeURIComponent(label)}`,
                { body: `${name} ${label}`, headers: { 'content-type': 'text/plain' } });
            assert.equal(r.status, 200, r.body);
            return r.json().Hash;
        };
        const secret = await upload('secret.txt', 'SECRET//NOFORN');
        const open = await upload('open.txt', 'UNCLASSIFIED');
        const fromB = dev['dev-b'].events.length, fromJ = dev['dev-j'].events.length;
        const j = await ok('web-us', 'PUT', `${M}/ops/contents?creatorUid=ANDROID-A`,
            { body: { hashes: [secret, open] }, ...owner() });
        const byHash = Object.fromEntries(j.data.contents.map((c) => [c.data.hash, c.data]));
        assert.equal(byHash[secret]?.filename, 'secret.txt', JSON.stringify(j.data.contents));
        assert.equal(byHash[secret].mimeType, 'text/plain');
        assert.equal(byHash[open]?.filename, 'open.txt');
        await dev['dev-b'].waitFor((e) => e.type === 't-x-m-c' && e.detail.includes(secret),
            { what: 't-x-m-c with the NOFORN file', from: fromB });
        await barrier(dev['dev-b'], [dev['dev-j']]);
        const toJ = dev['dev-j'].events.slice(fromJ);
        assert.ok(toJ.some((e) => e.type === 't-x-m-c' && e.detail.includes(open)), 'JPN gets the open file');
        assert.ok(!toJ.some((e) => e.xml.includes(secret)), 'JPN never gets the NOFORN file');
        for (const p of [`${M}/ops`, `${M}/ops/changes`, `${M}/ops/changes?squashed=false`,
            `/Marti/sync/content?hash=${secret}`]) {
            const r = await call('web-jp', 'GET', p);
            assert.ok(!r.body.includes(secret), `${p}: ${r.body}`);
        }
        assert.ok((await call('web-jp', 'GET', `${M}/ops`)).body.includes(open));
    });

    test('a CoT with dest mission reaches the subscribers only and joins the mission', async () => {
        const b = dev['dev-b'];
        const dm = cotEvent({ uid: 'dm-1', dests: [{ mission: 'ops' }] });
        await b.send(dm);
        await dev['dev-a'].waitUid('dm-1');
        await dev['dev-j'].waitUid('dm-1');
        await barrier(b, [dev['dev-o']]);
        assert.ok(!dev['dev-o'].has('dm-1'), 'not a subscriber');
        await dev['dev-j'].waitFor((e) => changeOf(dev['dev-j'], 'dm-1') === e, { what: 't-x-m-c dm-1' });
        const ch = await ok('web-us', 'GET', `${M}/ops/changes`);
        assert.equal(ch.type, 'MissionChange');
        const add = ch.data.find((c) => c.contentUid === 'dm-1');
        assert.equal(add.type, 'ADD_CONTENT');
        assert.equal(add.creatorUid, 'ANDROID-B');
        for (const c of ch.data) {
            assert.ok(c.creatorUid && c.timestamp && c.serverTime, JSON.stringify(c));
            assert.equal(c.missionName, 'ops');
        }
        // A sender that is not subscribed: refused, and broadcast to no one.
        await dev['dev-o'].send(cotEvent({ uid: 'dm-2', dests: [{ mission: 'ops' }] }));
        await barrier(dev['dev-o'], [dev['dev-a'], dev['dev-j']]);
        assert.ok(!dev['dev-a'].has('dm-2') && !dev['dev-j'].has('dm-2'));
    });

    test('changes: squashed by default, a window with secago', async () => {
        await ok('web-us', 'DELETE', `${M}/ops/contents?uid=marker-1&creatorUid=ANDROID-A`, owner());
        const all = await ok('web-us', 'GET', `${M}/ops/changes?squashed=false`);
        const squashed = await ok('web-us', 'GET', `${M}/ops/changes`);
        assert.deepEqual(all.data.filter((c) => c.contentUid === 'marker-1').map((c) => c.type), ['ADD_CONTENT', 'REMOVE_CONTENT']);
        assert.equal(squashed.data.filter((c) => c.contentUid === 'marker-1').length, 0);
        assert.equal(all.data[0].type, 'CREATE_MISSION');
        assert.ok((await ok('web-us', 'GET', `${M}/ops/changes?secago=3600`)).data.length >= 2);
        assert.equal((await call('web-us', 'PUT', `${M}/ops/contents/missionpackage`, { body: 'PK' })).status, 400, 'not a zip');
    });

    test('unsubscribe: disconnectOnly drops the live binding, false the subscription', async () => {
        let r = await call('web-jp', 'DELETE', `${M}/ops/subscription?uid=ANDROID-J`);
        assert.equal(r.status, 200);
        assert.ok((await ok('web-us', 'GET', `${M}/ops/subscriptions`)).data.includes('ANDROID-J'));
        await dev['dev-b'].send(cotEvent({ uid: 'dm-3', dests: [{ mission: 'ops' }] }));
        await dev['dev-a'].waitUid('dm-3');
        await barrier(dev['dev-b'], [dev['dev-j']]);
        assert.ok(!dev['dev-j'].has('dm-3'));
        r = await call('web-jp', 'DELETE', `${M}/ops/subscription?uid=ANDROID-J&disconnectOnly=false`);
        assert.equal(r.status, 200);
        assert.ok(!(await ok('web-us', 'GET', `${M}/ops/subscriptions`)).data.includes('ANDROID-J'));
    });

    test('logs and invitations', async () => {
        const e = await ok('web-us', 'POST', `${M}/logs/entries`, {
            body: { content: 'ship in', creatorUid: 'ANDROID-A', missionNames: ['ops'], keywords: ['k'] },
        });
        assert.equal(e.data.content, 'ship in');
        const logs = await ok('web-jp', 'GET', `${M}/ops/log`);
        assert.equal(logs.data[0].id, e.data.id);
        await ok('web-us', 'PUT', `${M}/ops/invite/clientUid/ANDROID-O?creatorUid=ANDROID-A`, owner());
        const n = await dev['dev-o'].waitFor((x) => x.type === 't-x-m-i', { what: 't-x-m-i' });
        assert.match(n.detail, /token="[^"]+"/);
        assert.deepEqual((await ok('web-us', 'GET', `${M}/all/invitations?clientUid=ANDROID-O`)).data, ['ops']);
        await ok('web-us', 'PUT', `${M}/ops/role?clientUid=ANDROID-B&role=MISSION_READONLY_SUBSCRIBER`, owner());
        const r = await dev['dev-b'].waitFor((x) => x.type === 't-x-m-r', { what: 't-x-m-r' });
        assert.match(r.detail, /<role type="MISSION_READONLY_SUBSCRIBER"><permissions><permission type="MISSION_READ"\/><\/permissions><\/role>/);
    });

    test('password missions: hidden from lists, readable with the password (checked off the loop)', async () => {
        const c = await ok('web-us', 'PUT', `${M}/vault?creatorUid=ANDROID-A&password=s3cret&group=Cyan`, {}, 201);
        assert.equal(c.data[0].passwordProtected, true);
        assert.ok(!JSON.stringify(c).includes('s3cret'));
        assert.ok(!JSON.stringify(c).includes('argon2'), 'the hash never leaves');
        assert.ok(!(await ok('web-jp', 'GET', M)).data.some((m) => m.name === 'vault'));
        const listed = (await ok('web-jp', 'GET', `${M}?passwordProtected=true`)).data.find((m) => m.name === 'vault');
        assert.deepEqual(listed.uids, []);
        assert.equal((await call('web-jp', 'GET', `${M}/vault`)).status, 403);
        assert.equal((await call('web-jp', 'GET', `${M}/vault?password=wrong`)).status, 403);
        const g = await ok('web-jp', 'GET', `${M}/vault?password=s3cret&uid=ANDROID-J`);
        assert.equal(g.data[0].name, 'vault');
        assert.equal(g.data[0].token.split('.').length, 3, 'an ACCESS token');
        assert.equal((await call('web-jp', 'PUT', `${M}/vault/subscription?uid=ANDROID-J`)).status, 403);
        const s = await ok('web-jp', 'PUT', `${M}/vault/subscription?uid=ANDROID-J&password=s3cret`, {}, 201);
        assert.equal(s.data.role.type, 'MISSION_SUBSCRIBER');
        // The subscription's token opens the mission without the password.
        const t = await ok('web-jp', 'GET', `${M}/vault`, { headers: { Authorization: `Bearer ${s.data.token}` } });
        assert.equal(t.data[0].name, 'vault');
    });

    test('a restart keeps the mission, its contents and changes', async () => {
        await server.restart({ samePorts: true });
        const g = await ok('web-us', 'GET', `${M}/ops?changes=true`);
        assert.ok(g.data[0].uids.some((u) => u.data === 'dm-1'));
        assert.ok(g.data[0].missionChanges.some((c) => c.contentUid === 'dm-1'));
        const jp = await call('web-jp', 'GET', `${M}/ops?changes=true`);
        assert.ok(!jp.body.includes('secret-1'));
        assert.equal((await call('web-jp', 'GET', `${M}/vault?password=s3cret`)).status, 200);
        // Without a TLS key the token key is made at start: the old token is not valid now.
        assert.equal((await ok('web-us', 'GET', `${M}/ops/role`, owner())).data.type, 'MISSION_SUBSCRIBER');
        assert.equal((await ok('web-us', 'GET', `${M}/ops/role`)).data.type, 'MISSION_SUBSCRIBER');
    });

    test('delete: t-x-m-d to connected subscribers, then 404', async () => {
        for (const name of Object.keys(dev)) {
            await dev[name].close();
            dev[name] = await CotClient.connect(server.port(name), { name });
        }
        await dev['dev-a'].send(cotEvent({ uid: 'ANDROID-A', callsign: 'ANDROID-A' }));
        await barrier(dev['dev-a'], [dev['dev-b']]);
        const from = dev['dev-a'].events.length;
        const d = await call('web-us', 'DELETE', `${M}/ops?creatorUid=ANDROID-A`, owner());
        assert.equal(d.status, 403, 'the token from before the restart is gone; the default role may not delete');
        // Another user may not take the owner's subscription over.
        assert.equal((await call('web-jp', 'PUT', `${M}/ops/subscription?uid=ANDROID-A`)).status, 403);
        // The owner's own user subscribes again and gets a token of the running key.
        const s = await ok('web-us', 'PUT', `${M}/ops/subscription?uid=ANDROID-A`, {}, 201);
        assert.equal(s.data.role.type, 'MISSION_OWNER');
        token = s.data.token;
        const del = await ok('web-us', 'DELETE', `${M}/ops?creatorUid=ANDROID-A`, owner());
        assert.equal(del.data[0].name, 'ops');
        const n = await dev['dev-a'].waitFor((e) => e.type === 't-x-m-d', { from, what: 't-x-m-d' });
        assert.match(n.detail, /<mission type="DELETE"/);
        assert.equal((await call('web-us', 'GET', `${M}/ops`)).status, 404);
        assert.deepEqual((await ok('web-us', 'GET', M)).data.map((m) => m.name), ['ok2']);
        assert.equal(notices(dev['dev-o'], 't-x-m-d').length, 0);
    });
});
