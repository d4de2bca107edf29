// 39-plan-missions: a joint plan published as a Data Sync mission, on the
// real binary with the shipped alliance file.  The mission named like the
// plan's id holds the uids of the plan's placed items and the plan's
// calendar (an .ics in the file store, attached by hash); its
// classification is the plan's label and its default role read-only; no
// field user (nor the planner, through Marti) writes it; a revision
// reaches a subscribed stream client as t-x-m-c, a US-only item never
// reaches a JPN subscriber; closing the plan archives the mission, which
// survives a restart.  Mission packages: PUT .../contents/missionpackage
// adds a zip's files and the uids of its CoT; a zip bomb and a zip of too
// many entries are refused.

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
    barrier, CotClient, cotEvent, httpInput, identity, makeConfig, request, SOURCE_DIR, startServer, tcpInput,
    waitUntil,
} from './lib/harness.mjs';
import { zipOf } from './lib/zip.mjs';

const SHIPPED = path.join(SOURCE_DIR, 'config/alliance/us-japan.yaml');

const who = (name, nation, command, roles, clearance = 'SECRET') => httpInput(name, ['Cyan'], ['Cyan'], {
    identity: identity(name, ['Cyan'], ['Cyan'], { nation, clearance, command, roles: ['viewer', ...roles] }),
    default_label: 'UNCLASSIFIED',
});
const device = (name, nation) => tcpInput(name, ['Cyan'], ['Cyan'], {
    identity: identity(name, ['Cyan'], ['Cyan'], { nation, clearance: 'SECRET' }), default_label: 'UNCLASSIFIED',
});

const INPUTS = [
    who('us-planner', 'USA', 'USFJ', ['planner']),
    who('us-approver', 'USA', 'USFJ', ['approver']),
    who('jp-approver', 'JPN', 'JJOC', ['approver']),
    who('us-viewer', 'USA', 'USFJ', []),
    who('jp-viewer', 'JPN', 'JJOC', []),
    device('us-dev', 'USA'),
    device('jp-dev', 'JPN'),
];

const PLAN = {
    title: 'Orient Shield 27', kind: 'exercise', legal_basis: 'training', lead: 'USFJ',
    participants: ['USFJ', 'JJOC'], start: '2026-10-23T00:00:00Z', end: '2026-11-01T00:00:00Z',
    label: 'SECRET//REL TO USA, JPN',
};
const M = '/Marti/api/missions';

describe('plans as missions', () => {
    let server;
    const dev = {};
    let plan;

    const call = (as, method, p, body, headers = {}) => request(server.port(as), method, p, body === undefined ? { headers }
        : { body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
            headers: { 'content-type': 'application/json', ...headers } });
    const ok = async (as, method, p, body, status = 200) => {
        const r = await call(as, method, p, body);
        assert.equal(r.status, status, `${as} ${method} ${p}: ${r.body}`);
        return r.body ? r.json() : null;
    };
    const mission = async (as, name) => (await ok(as, 'GET', `${M}/${name}`)).data[0];
    const hashes = (m) => m.contents.map((c) => c.data.hash);
    const uids = (m) => m.uids.map((u) => u.data);
    const item = (id, n) => `kizuna.plan.${id}.${n}`;
    const addItem = (body) => ok('us-planner', 'POST', `/api/v1/plans/${plan.id}/items`,
        { time: '2026-10-25T00:00:00Z', lat: 35.75, lon: 139.35, ...body }, 201);
    // The mission once it holds `n` uids (the plan flow follows each commit).
    const settled = async (as, pred) => {
        let m;
        await waitUntil(async () => (m = await mission(as, plan.id)) && pred(m), { what: 'the plan mission', timeout: 8000 });
        return m;
    };

    before(async () => {
        const config = makeConfig({ inputs: INPUTS, limits: { max_file_bytes: 1 << 20 } });
        config.alliance = SHIPPED;
        server = await startServer({ config });
        for (const [name, uid] of [['us-dev', 'ANDROID-US'], ['jp-dev', 'ANDROID-JP']]) {
            dev[name] = await CotClient.connect(server.port(name), { name });
            await dev[name].send(cotEvent({ uid, callsign: uid }));
        }
        await barrier(dev['us-dev'], [dev['jp-dev']]);
        await barrier(dev['jp-dev'], [dev['us-dev']]);
    });

    after(async () => {
        for (const c of Object.values(dev)) await c.close();
        await server.stop();
        server.cleanup();
    });

    test("a plan's mission: its items' uids, its calendar, its label, read-only", async () => {
        plan = await ok('us-planner', 'POST', '/api/v1/plans', PLAN, 201);
        await addItem({ place: 'Camp Zama', description: 'Bilateral staff serial' });
        await addItem({ description: 'US-only serial', label: 'SECRET//NOFORN' });
        const m = await settled('us-viewer', (x) => x.uids.length === 2 && x.contents.length === 1);
        assert.equal(m.name, plan.id);
        assert.equal(m.classification, plan.own_label);
        assert.equal(m.description, PLAN.title);
        assert.equal(m.creatorUid, 'kizuna');
        assert.equal(m.defaultRole.type, 'MISSION_READONLY_SUBSCRIBER');
        assert.deepEqual(uids(m).sort(), [item(plan.id, 1), item(plan.id, 2)]);
        const ics = m.contents[0].data;
        assert.equal(ics.name, `${plan.id}.ics`);
        assert.equal(ics.mimeType, 'text/calendar');
        assert.equal(ics.submitter, 'kizuna');
        const cal = await call('jp-viewer', 'GET', `/Marti/sync/content?hash=${ics.hash}`);
        assert.equal(cal.status, 200);
        assert.match(cal.body, /^BEGIN:VCALENDAR/);
        assert.match(cal.body, /Bilateral staff serial/);
        assert.doesNotMatch(cal.body, /US-only/, 'the calendar holds only what the plan label covers');
        // A JPN reader sees the mission without the US-only item.
        const jp = await mission('jp-viewer', plan.id);
        assert.deepEqual(uids(jp), [item(plan.id, 1)]);
        assert.deepEqual(hashes(jp), [ics.hash]);
    });

    test('no one writes it through Marti: 403', async () => {
        for (const as of ['us-viewer', 'us-planner'])
            assert.equal((await call(as, 'PUT', `${M}/${plan.id}/contents`, { uids: ['ANDROID-US'] })).status, 403);
        assert.equal((await call('us-viewer', 'DELETE', `${M}/${plan.id}`)).status, 403);
        assert.equal((await call('us-viewer', 'PUT', `${M}/${plan.id}?description=mine`)).status, 403);
        const s = await ok('jp-viewer', 'PUT', `${M}/${plan.id}/subscription?uid=ANDROID-JP`, undefined, 201);
        assert.equal(s.data.role.type, 'MISSION_READONLY_SUBSCRIBER');
        await ok('us-viewer', 'PUT', `${M}/${plan.id}/subscription?uid=ANDROID-US`, undefined, 201);
        // A subscriber's CoT with a mission dest does not join it either.
        const cot = cotEvent({ uid: 'intruder-1', callsign: 'x', dests: [{ mission: plan.id }] });
        await dev['us-dev'].send(cot);
        await barrier(dev['us-dev'], [dev['jp-dev']]);
        assert.equal(uids(await mission('us-viewer', plan.id)).includes('intruder-1'), false);
    });

    test('a revision reaches subscribers as t-x-m-c, a US-only item never a JPN one', async () => {
        const fromJ = dev['jp-dev'].events.length;
        await addItem({ place: 'Yokota AB', description: 'Air defence serial' });
        const third = item(plan.id, 3);
        for (const d of ['us-dev', 'jp-dev'])
            await dev[d].waitFor((e) => e.type === 't-x-m-c' && e.detail.includes(`<contentUid>${third}</contentUid>`),
                { what: `t-x-m-c ${third} to ${d}` });
        const secret = item(plan.id, 4);
        await addItem({ description: 'US-only follow-on', label: 'SECRET//NOFORN' });
        await dev['us-dev'].waitFor((e) => e.type === 't-x-m-c' && e.detail.includes(secret), { what: 't-x-m-c NOFORN' });
        const m = await settled('us-viewer', (x) => x.uids.length === 4);
        const newest = hashes(m)[0];
        assert.equal(hashes(m).length, 1, 'the old calendar left the mission');
        // The JPN subscriber got the new calendar of the same commit, and never the US-only item.
        await dev['jp-dev'].waitFor((e) => e.type === 't-x-m-c' && e.detail.includes(newest), { what: 'the new calendar' });
        const toJ = dev['jp-dev'].events.slice(fromJ);
        assert.ok(toJ.every((e) => !e.xml.includes(secret) && !e.xml.includes(item(plan.id, 2))));
        const ch = await ok('jp-viewer', 'GET', `${M}/${plan.id}/changes?squashed=false`);
        assert.ok(ch.data.every((c) => c.contentUid !== secret));
    });

    test('closing the plan archives its mission, kept after a restart', async () => {
        for (const as of ['jp-approver', 'us-approver'])
            await ok(as, 'POST', `/api/v1/plans/${plan.id}/approvals`, { revision: 5, decision: 'approve' });
        for (const to of ['initial_planning', 'main_planning', 'final_planning', 'execution', 'assessment', 'closed'])
            assert.equal((await call('us-planner', 'POST', `/api/v1/plans/${plan.id}/stage`, { to })).status, 200, to);
        const m = await settled('us-viewer', (x) => x.keywords.includes('archived'));
        assert.equal(m.uids.length, 4, 'kept for the record');
        assert.equal((await call('us-viewer', 'PUT', `${M}/${plan.id}/contents`, { uids: ['ANDROID-US'] })).status, 403);
        await server.restart();
        const again = await mission('us-viewer', plan.id);
        assert.deepEqual(again.keywords, ['archived']);
        assert.deepEqual(uids(again).sort(), uids(m).sort());
        assert.equal((await call('us-viewer', 'PUT', `${M}/${plan.id}/contents`, { uids: ['ANDROID-US'] })).status, 403);
    });

    test('a mission package adds its files and the uids of its CoT', async () => {
        const created = await ok('us-viewer', 'POST', `${M}/pkg?creatorUid=ANDROID-US`, undefined, 201);
        const token = created.data[0].token;
        const cot = cotEvent({ uid: 'pkg-marker-1', callsign: 'P1' });
        const zip = zipOf([
            ['MANIFEST/manifest.xml', '<MissionPackageManifest version="2"><Configuration>'
                + '<Parameter name="uid" value="pkg-1"/><Parameter name="name" value="pkg"/></Configuration>'
                + '<Contents><Content ignore="false" zipEntry="a/marker.cot"/><Content ignore="false" zipEntry="b/notes.txt"/>'
                + '</Contents></MissionPackageManifest>'],
            ['a/marker.cot', cot],
            ['b/notes.txt', 'harbour notes\n'],
        ]);
        const r = await request(server.port('us-viewer'), 'PUT', `${M}/pkg/contents/missionpackage?creatorUid=ANDROID-US`,
            { body: zip, headers: { 'content-type': 'application/x-zip-compressed', MissionAuthorization: `Bearer ${token}` } });
        assert.equal(r.status, 200, r.body);
        assert.equal(r.headers['content-type'], 'application/json');
        const j = r.json();
        assert.equal(j.type, 'Mission');
        const m = j.data; // as PUT .../contents answers: the Mission
        assert.deepEqual(uids(m), ['pkg-marker-1']);
        // The package itself is kept in the file store; its files are the mission's contents.
        assert.deepEqual(m.contents.map((c) => c.data.name), ['notes.txt']);
        const notes = m.contents.find((c) => c.data.name === 'notes.txt').data.hash;
        assert.equal((await call('us-viewer', 'GET', `/Marti/sync/content?hash=${notes}`)).body, 'harbour notes\n');
    });

    test('a zip bomb and a zip of too many entries are refused', async () => {
        const created = await ok('us-viewer', 'POST', `${M}/bombs?creatorUid=ANDROID-US`, undefined, 201);
        const headers = { 'content-type': 'application/x-zip-compressed', MissionAuthorization: `Bearer ${created.data[0].token}` };
        const put = (body) => request(server.port('us-viewer'), 'PUT', `${M}/bombs/contents/missionpackage`, { body, headers });
        // 4 MiB of zeros compress to a few KiB: over max_file_bytes once inflated.
        const bomb = zipOf([['MANIFEST/manifest.xml', '<MissionPackageManifest/>'], ['zeros.bin', Buffer.alloc(4 << 20)]]);
        assert.ok(bomb.length < 64 << 10);
        assert.equal((await put(bomb)).status, 413);
        const many = zipOf([['MANIFEST/manifest.xml', '<MissionPackageManifest/>'],
            ...Array.from({ length: 1100 }, (_, i) => [`f/${i}.txt`, `${i}`])]);
        assert.equal((await put(many)).status, 413);
        assert.equal((await put(Buffer.from('not a zip'))).status, 400);
        const m = await mission('us-viewer', 'bombs');
        assert.equal(m.contents.length, 0);
        assert.equal(m.uids.length, 0);
    });
});
