// node-tak-missions: Data Sync against @tak-ps/node-tak 12.0.0, the client the
// TAK community scripts TAK Server with.  kizuna serves a `tls` CoT input and
// an `https` Marti input, both with mutual TLS and certificates from `kizuna
// ca init` / `kizuna cert issue`.  node-tak's TAKAPI, with a client
// certificate, runs the Mission, MissionLog and Files calls: create, list,
// get, subscribe, attach a uid sent over a node-tak stream and a file
// uploaded with Files, changes, latest CoT, a log entry, unsubscribe, delete.
// Every answer is checked against the TypeBox schema node-tak declares for it
// (node-tak validates nothing itself, and decodes JSON only when the
// Content-Type is exactly application/json).  A subscribed node-tak stream
// receives t-x-m-c when another client adds content, and a CoT sent into the
// mission reaches its subscribers only.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { CoTParser } from '@tak-ps/node-cot';
import TAK, { APIAuthCertificate, TAKAPI } from '@tak-ps/node-tak';
import { Content } from '@tak-ps/node-tak/lib/api/files';
import {
    MissionRole, TAKItem_MissionSubscriber, TAKList_Mission, TAKList_MissionChange,
} from '@tak-ps/node-tak/lib/api/mission';
import { TAKItem_MissionLog } from '@tak-ps/node-tak/lib/api/mission-log';
import { TAKItem, TAKList } from '@tak-ps/node-tak/lib/api/types';

import { iso, runCli, startServer, uniq, withTimeout } from '../integration/lib/harness.mjs';

const NAME = 'harbour-ops';
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const UID = { alpha: 'ANDROID-ALPHA', bravo: 'ANDROID-BRAVO', charlie: 'ANDROID-CHARLIE' };

// The answer has the shape node-tak declares for it.
function shaped(schema, value, what) {
    const errors = [...Value.Errors(schema, value)].slice(0, 5).map((e) => `${e.path}: ${e.message}`);
    assert.deepEqual(errors, [], `${what}: not node-tak's shape\n${JSON.stringify(value, null, 1)}`);
    return value;
}

function event(uid, { type = 'a-f-G-U-C', callsign = uid, lat = 35.7, lon = 139.3, detail = '' } = {}) {
    const now = Date.now();
    return CoTParser.from_xml(`<event version="2.0" uid="${uid}" type="${type}" how="m-g" time="${iso(now)}" `
        + `start="${iso(now)}" stale="${iso(now + 120000)}">`
        + `<point lat="${lat}" lon="${lon}" hae="10" ce="10" le="9999999.0"/>`
        + `<detail><contact callsign="${callsign}" endpoint="*:-1:stcp"/>`
        + `<__group name="Cyan" role="Team Member"/>${detail}</detail></event>`);
}

describe('Data Sync with @tak-ps/node-tak 12.0.0 over mutual TLS', () => {
    let server;
    let data;
    let pki;
    let api;
    let mission;
    let fileHash;
    const streams = {};

    async function cli(...args) {
        const r = await runCli([...args, '--data', data]);
        assert.equal(r.code, 0, `kizuna ${args.join(' ')}: ${r.stderr}`);
    }

    const pem = (user) => ({
        cert: fs.readFileSync(path.join(pki, `${user}.pem`), 'utf8'),
        key: fs.readFileSync(path.join(pki, `${user}.key`), 'utf8'),
    });

    // A node-tak stream that has sent its own SA, so kizuna binds its uid.
    async function stream(user) {
        const tak = await TAK.connect(new URL(`ssl://127.0.0.1:${server.port('cot-tls')}`), pem(user), { id: user });
        streams[user] = tak;
        tak.received = [];
        tak.on('cot', (cot) => tak.received.push(cot));
        tak.on('error', (e) => { tak.failed = e; });
        await withTimeout(new Promise((resolve) => tak.once('ping', resolve)), 10000, `${user} pong`);
        await tak.write([event(UID[user], { callsign: user.toUpperCase() })]);
        return tak;
    }

    function waitCot(tak, pred, what, ms = 5000) {
        return withTimeout(new Promise((resolve) => {
            const hit = tak.received.find(pred);
            if (hit) return resolve(hit);
            const on = (cot) => {
                if (!pred(cot)) return;
                tak.removeListener('cot', on);
                resolve(cot);
            };
            tak.on('cot', on);
        }), ms, `${tak.id} to receive ${what}`);
    }
    const uidIs = (uid) => (cot) => cot.raw.event._attributes.uid === uid;
    const typeIs = (type, text) => (cot) => cot.raw.event._attributes.type === type
        && (!text || CoTParser.to_xml(cot).includes(text));
    const owner = () => ({ token: mission.token });

    // What kizuna queued for charlie before now has arrived: a later broadcast from alpha came after it.
    async function charlieBarrier() {
        const uid = uniq('barrier');
        await streams.alpha.write([event(uid)]);
        await waitCot(streams.charlie, uidIs(uid), 'the barrier');
    }

    before(async () => {
        data = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'kizuna-nodetak-missions-')), 'data');
        pki = path.join(data, 'pki');
        await cli('ca', 'init');
        for (const u of Object.keys(UID))
            await cli('cert', 'issue', '--user', u, '--nation', 'USA', '--clearance', 'SECRET', '--groups', 'Cyan');
        server = await startServer({
            dataDir: data,
            inputs: [
                { name: 'cot-tls', protocol: 'tls', listen: '127.0.0.1:0', default_label: 'UNCLASSIFIED' },
                { name: 'api-tls', protocol: 'https', listen: '127.0.0.1:0', default_label: 'UNCLASSIFIED' },
            ],
        });
        const { cert, key } = pem('alpha');
        api = await TAKAPI.init(new URL(`https://127.0.0.1:${server.port('api-tls')}`),
            new APIAuthCertificate(cert, key));
        const [alpha, bravo, charlie] = [await stream('alpha'), await stream('bravo'), await stream('charlie')];
        // Each stream's own SA has been routed: its uid is bound.
        await waitCot(bravo, uidIs(UID.alpha), 'alpha SA');
        await waitCot(charlie, uidIs(UID.bravo), 'bravo SA');
        await waitCot(alpha, uidIs(UID.charlie), 'charlie SA');
    });

    after(async () => {
        for (const s of Object.values(streams)) s.destroy();
        if (server) {
            await server.stop();
            server.cleanup();
        }
    });

    test('Mission.create: the creator owns the mission and gets a token', async () => {
        mission = await api.Mission.create({
            name: NAME, creatorUid: UID.alpha, description: 'harbour watch', group: ['Cyan'],
        });
        shaped(TAKList_Mission.properties.data.items, mission, 'create');
        assert.equal(mission.name, NAME);
        assert.match(mission.guid, GUID);
        assert.equal(mission.description, 'harbour watch');
        assert.equal(mission.creatorUid, UID.alpha);
        assert.equal(mission.tool, 'public');
        assert.equal(mission.ownerRole.type, 'MISSION_OWNER');
        assert.equal(mission.token.split('.').length, 3);
    });

    test('Mission.list, get by name and by guid', async () => {
        const list = shaped(TAKList_Mission, await api.Mission.list({}), 'list');
        assert.equal(list.type, 'Mission');
        assert.deepEqual(list.data.map((m) => m.name), [NAME]);
        const byName = await api.Mission.get(NAME, {});
        shaped(TAKList_Mission.properties.data.items, byName, 'get');
        assert.equal(byName.guid, mission.guid);
        const byGuid = await api.Mission.get(mission.guid, {});
        assert.equal(byGuid.name, NAME);
        assert.equal(await api.Mission.access(NAME), true);
        const role = await api.Mission.role(NAME, owner());
        shaped(MissionRole, role, 'role');
        assert.equal(role.type, 'MISSION_OWNER');
    });

    test('Mission.subscribe: bravo subscribes; subscription and subscriptions', async () => {
        const sub = shaped(TAKItem_MissionSubscriber, await api.Mission.subscribe(NAME, { uid: UID.bravo }), 'subscribe');
        assert.equal(sub.type, 'com.bbn.marti.sync.model.MissionSubscription');
        assert.equal(sub.data.clientUid, UID.bravo);
        assert.equal(sub.data.role.type, 'MISSION_SUBSCRIBER');
        const one = await api.Mission.subscription(NAME, { uid: UID.bravo });
        assert.equal(one.clientUid, UID.bravo);
        const all = shaped(TAKList(Type.String()), await api.Mission.subscriptions(NAME), 'subscriptions');
        assert.deepEqual(all.data.sort(), [UID.alpha, UID.bravo]);
    });

    test('attach a uid sent over a node-tak stream: bravo gets t-x-m-c, charlie does not', async () => {
        const marker = uniq('marker');
        await streams.charlie.write([event(marker, { type: 'a-h-G', callsign: 'HOSTILE', lat: 35.65, lon: 139.75 })]);
        await waitCot(streams.alpha, uidIs(marker), 'the marker');
        const from = streams.charlie.received.length;
        const res = shaped(TAKItem(TAKList_Mission.properties.data.items),
            await api.Mission.attachContents(NAME, { uids: [marker] }, owner()), 'attachContents');
        assert.deepEqual(res.data.uids.map((u) => u.data), [marker]);
        assert.equal(res.data.uids[0].details.type, 'a-h-G');
        const n = await waitCot(streams.bravo, typeIs('t-x-m-c', `<contentUid>${marker}</contentUid>`), 't-x-m-c');
        const xml = CoTParser.to_xml(n);
        assert.match(xml, new RegExp(`<mission type="CHANGE"[^>]* name="${NAME}"`));
        assert.match(xml, /<type>ADD_CONTENT<\/type>/);
        await charlieBarrier(); // charlie is no subscriber: nothing came
        assert.equal(streams.charlie.received.slice(from).filter(typeIs('t-x-m-c')).length, 0);
        mission.marker = marker;
    });

    test('Files.upload, then attach its hash', async () => {
        const body = Buffer.from(`harbour chart ${crypto.randomUUID()}\n`);
        const content = await api.Files.upload({
            name: 'chart.txt', contentLength: body.length, keywords: ['harbour'], creatorUid: UID.alpha,
        }, body);
        shaped(Content, content, 'Files.upload');
        fileHash = crypto.createHash('sha256').update(body).digest('hex');
        assert.equal(content.Hash, fileHash);
        assert.equal(content.Name, 'chart.txt');
        assert.equal(content.SubmissionUser, 'alpha');
        const res = await api.Mission.attachContents(NAME, { hashes: [fileHash] }, owner());
        const files = res.data.contents.map((c) => c.data);
        assert.deepEqual(files.map((f) => [f.hash, f.name, f.size]), [[fileHash, 'chart.txt', body.length]]);
        await waitCot(streams.bravo, typeIs('t-x-m-c', fileHash), 't-x-m-c for the file');
        const down = await api.Files.download(fileHash);
        const chunks = [];
        for await (const c of down) chunks.push(c);
        assert.ok(Buffer.concat(chunks).equals(body), 'downloaded bytes differ');
    });

    test('Mission.changes and latestCots', async () => {
        const changes = shaped(TAKList_MissionChange, await api.Mission.changes(NAME, {}), 'changes');
        const added = changes.data.filter((c) => c.type === 'ADD_CONTENT');
        assert.ok(added.some((c) => c.contentUid === mission.marker), JSON.stringify(changes.data));
        assert.ok(added.some((c) => c.contentResource?.hash === fileHash), JSON.stringify(changes.data));
        for (const c of added) {
            assert.equal(c.missionName, NAME);
            assert.ok(c.creatorUid, 'ATAK\'s timeline needs a creatorUid on every change');
        }
        const xml = await api.Mission.latestCots(NAME);
        assert.equal(typeof xml, 'string');
        assert.match(xml, /<events>/);
        const feats = await api.Mission.latestFeats(NAME);
        assert.deepEqual(feats.map((f) => f.id), [mission.marker]);
        assert.deepEqual(feats[0].geometry.coordinates.slice(0, 2), [139.75, 35.65]);
    });

    test('a CoT sent into the mission reaches its subscribers only', async () => {
        const uid = uniq('dest');
        const from = streams.charlie.received.length;
        await streams.alpha.write([event(uid, { detail: `<marti><dest mission="${NAME}"/></marti>` })]);
        await waitCot(streams.bravo, uidIs(uid), 'the mission CoT');
        await charlieBarrier();
        assert.equal(streams.charlie.received.slice(from).filter(uidIs(uid)).length, 0, 'charlie is no subscriber');
        const m = await api.Mission.get(NAME, {});
        assert.ok(m.uids.some((u) => u.data === uid), 'the CoT joined the mission');
    });

    test('MissionLog.create, get and the mission\'s logs', async () => {
        const dtg = new Date().toISOString();
        const entry = shaped(TAKItem_MissionLog, await api.MissionLog.create(NAME, {
            dtg, content: 'vessel sighted', creatorUid: UID.alpha, keywords: ['harbour'],
        }, owner()), 'MissionLog.create');
        assert.equal(entry.data.content, 'vessel sighted');
        assert.deepEqual(entry.data.missionNames, [NAME]);
        // MissionLog.get sends no method, which undici refuses under APIAuthCertificate:
        // the same request through TAKAPI.fetch, with the method.
        const url = new URL(`/Marti/api/missions/logs/entries/${encodeURIComponent(entry.data.id)}`, api.url);
        const got = shaped(TAKItem_MissionLog, await api.fetch(url, { method: 'GET' }), 'logs/entries/{id}');
        assert.equal(got.data.id, entry.data.id);
        const m = await api.Mission.get(NAME, { logs: true });
        assert.deepEqual(m.logs.map((l) => l.id), [entry.data.id]);
        await api.MissionLog.delete(entry.data.id, owner());
        assert.deepEqual((await api.Mission.get(NAME, { logs: true })).logs, []);
    });

    test('Mission.unsubscribe, then delete', async () => {
        await api.Mission.unsubscribe(NAME, { uid: UID.bravo, disconnectOnly: false });
        const all = await api.Mission.subscriptions(NAME);
        assert.deepEqual(all.data, [UID.alpha]);
        const from = streams.alpha.received.length;
        const gone = shaped(TAKList_Mission, await api.Mission.delete(NAME, { creatorUid: UID.alpha }, owner()), 'delete');
        assert.equal(gone.data[0].name, NAME);
        await waitCot(streams.alpha, (c) => streams.alpha.received.indexOf(c) >= from && typeIs('t-x-m-d')(c), 't-x-m-d');
        assert.equal(await api.Mission.access(NAME), false);
        await assert.rejects(api.Mission.get(NAME, {}), (e) => e.status === 404);
        for (const s of Object.values(streams)) assert.equal(s.failed, undefined);
    });
});
