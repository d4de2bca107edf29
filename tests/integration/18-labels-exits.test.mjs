// 18-labels-exits: the release rule at the two exits 09 does not reach,
// directed delivery (marti/dest) and /Marti/api/clientEndPoints, with events
// that originate in each nation (a JPN national-only event is withheld from
// USA viewers, a USA NOFORN one from JPN), and the labels of restored state
// after a restart (test audit S1-3).

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
    barrier, CotClient, cotEvent, httpInput, identity, metric, request, startServer, tcpInput, tracks,
    uidsOf, uniq,
} from './lib/harness.mjs';

const NATIONS = { us: 'USA', jp: 'JPN', kr: 'KOR' };

function inputs() {
    const out = [];
    for (const [name, nation] of Object.entries(NATIONS)) {
        const id = identity(`${name}-user`, ['Cyan'], ['Cyan'], { nation });
        out.push({ ...tcpInput(name), identity: id });
        out.push({ ...httpInput(`web-${name}`), identity: { ...id, user: `web-${name}-user` } });
    }
    return out;
}

// Each nation's own report (its position, labelled), and the nations that may see it.
const REPORTS = {
    us: { callsign: 'US-NF', access: 'SECRET//NOFORN', seenBy: ['us'] },
    // A wholly Japanese report (//JPN, domain review item 5): Japan's own, whoever relays it.
    jp: { callsign: 'JPN-NAT', access: '//JPN SECRET', seenBy: ['jp'] },
    kr: { callsign: 'KOR-REL', access: 'SECRET//REL TO USA, KOR', seenBy: ['us', 'kr'] },
};

describe('labels at the directed and client-list exits, and across a restart', () => {
    let server;
    const clients = {};
    const uids = {};

    before(async () => {
        server = await startServer({ inputs: inputs() });
        for (const name of Object.keys(NATIONS))
            clients[name] = await CotClient.connect(server.port(name), { name });
        for (const [name, r] of Object.entries(REPORTS)) {
            uids[name] = uniq(`sa-${name}`);
            await clients[name].send(cotEvent({
                uid: uids[name], callsign: r.callsign, access: r.access, group: { name: 'Cyan' },
            }));
        }
        for (const [name, r] of Object.entries(REPORTS))
            for (const viewer of r.seenBy) if (viewer !== name) await clients[viewer].waitUid(uids[name]);
    });

    after(async () => {
        for (const cl of Object.values(clients)) if (cl) await cl.close();
        await server.stop();
        server.cleanup();
    });

    test('directed: each nation\'s message reaches its addressee only when the label allows', async () => {
        const web = server.port('web-us');
        const checks0 = await metric(web, 'kizuna_release_checks_total', { exit: 'directed' });
        const denials0 = await metric(web, 'kizuna_release_denials_total', { exit: 'directed' });
        const cases = [
            { from: 'jp', to: 'us', access: '//JPN SECRET', arrives: false },
            { from: 'jp', to: 'us', access: '//JPN SECRET//REL TO USA, JPN', arrives: true },
            { from: 'kr', to: 'us', access: '//JOINT SECRET KOR USA', arrives: true },
            { from: 'kr', to: 'jp', access: '//JOINT SECRET KOR USA', arrives: false },
            { from: 'jp', to: 'us', access: 'SECRET//NOFORN', arrives: false },
            { from: 'jp', to: 'us', access: 'SECRET//REL TO USA, JPN', arrives: true },
            { from: 'us', to: 'jp', access: 'SECRET//NOFORN', arrives: false },
            { from: 'us', to: 'jp', access: 'SECRET//REL TO USA, JPN', arrives: true },
            { from: 'kr', to: 'jp', access: 'SECRET//REL TO USA, KOR', arrives: false },
            { from: 'kr', to: 'us', access: 'SECRET//REL TO USA, KOR', arrives: true },
        ];
        for (const c of cases) {
            c.uid = uniq(`dm-${c.from}-${c.to}`);
            await clients[c.from].send(cotEvent({
                uid: c.uid, type: 'b-t-f', how: 'h-g-i-g-o', access: c.access,
                dests: [{ callsign: REPORTS[c.to].callsign }],
            }));
        }
        for (const c of cases) if (c.arrives) await clients[c.to].waitUid(c.uid);
        for (const name of Object.keys(NATIONS)) await barrier(clients[name], Object.values(clients).filter((x) => x !== clients[name]));
        for (const c of cases) {
            assert.equal(clients[c.to].has(c.uid), c.arrives, `${c.access} from ${c.from} to ${c.to}`);
            for (const other of Object.keys(NATIONS).filter((n) => n !== c.to && n !== c.from))
                assert.equal(clients[other].has(c.uid), false, `${c.uid} reached ${other}, not its addressee`);
        }
        assert.equal(await metric(web, 'kizuna_release_checks_total', { exit: 'directed' }) - checks0, cases.length);
        assert.equal(await metric(web, 'kizuna_release_denials_total', { exit: 'directed' }) - denials0,
            cases.filter((c) => !c.arrives).length);
    });

    test('clientEndPoints lists a client only to those who may see its report', async () => {
        for (const viewer of Object.keys(NATIONS)) {
            const res = await request(server.port(`web-${viewer}`), 'GET', '/Marti/api/clientEndPoints');
            assert.equal(res.status, 200, res.body);
            const listed = res.json().data.map((c) => c.callsign);
            for (const [name, r] of Object.entries(REPORTS))
                assert.equal(listed.includes(r.callsign), r.seenBy.includes(viewer),
                    `${r.callsign} (${r.access}) listed to ${viewer}: ${res.body}`);
        }
        assert.ok(await metric(server.port('web-us'), 'kizuna_release_denials_total', { exit: 'marti_clients' }) >= 4);
    });

    test('after a restart, restored tracks keep their labels at every exit', async () => {
        for (const cl of Object.values(clients)) await cl.close();
        await server.restart();
        for (const viewer of Object.keys(NATIONS)) {
            const port = server.port(`web-${viewer}`);
            const want = Object.entries(REPORTS).filter(([, r]) => r.seenBy.includes(viewer)).map(([n]) => uids[n]).sort();
            const mine = (list) => list.filter((u) => Object.values(uids).includes(u)).sort();
            assert.deepEqual(mine(uidsOf(await tracks(port))), want, `/api/v1/tracks for ${viewer}`);
            const ev = await request(port, 'GET', '/api/v1/events?limit=10000');
            assert.equal(ev.status, 200);
            assert.deepEqual([...new Set(mine(uidsOf(ev.json())))], want, `/api/v1/events for ${viewer}`);
            const late = await CotClient.connect(server.port(viewer), { name: `late-${viewer}` });
            const marker = uniq('after');
            const probe = await CotClient.connect(server.port(viewer), { name: `probe-${viewer}` });
            await probe.send(cotEvent({ uid: marker }));
            await late.waitUid(marker);
            assert.deepEqual(mine(late.events.map((e) => e.uid)), want, `replay to ${viewer}`);
            await late.close();
            await probe.close();
        }
        clients.us = clients.jp = clients.kr = null;
    });
});
