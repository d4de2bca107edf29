// 34-federation-outbox: store and forward on one v2 link, kz-usa dialing
// kz-jpn, each under its own CA.  While kz-jpn is down (killed with kill -9)
// kz-usa commits events releasable to Japan and NOFORN ones; kz-usa itself
// is killed with kill -9 and restarted before kz-jpn returns.  When the
// link is back, kz-jpn's store (the witness) holds every committed
// releasable event exactly once and in the order kz-usa committed them, and
// no NOFORN one; kz-usa's GET /api/v1/federation/kz-jpn/sent (role admin)
// lists exactly what crossed, and when.  A peer that stops reading (SIGSTOP)
// while a flood goes out makes the link fall behind, not drop: once the
// peer reads again, it catches up from the log, every event once, in order.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { fedNodeConfig, nationalPki, peerEntry, pinFedPort, waitLinks, fedStatus } from './lib/fed.mjs';
import {
    CotClient, cotEvent, identity, postEvent, request, startServer, tcpInput, uniq, waitUntil,
} from './lib/harness.mjs';

const ROOT = fs.mkdtempSync(path.join(os.tmpdir(), 'kizuna-fed-outbox-'));
process.on('exit', () => fs.rmSync(ROOT, { recursive: true, force: true }));

const REL = 'SECRET//REL TO USA, JPN';
const NOFORN = 'SECRET//NOFORN';

// kz-usa also has an admin input: the sent log is a security officer's.
function adminInput() {
    return {
        name: 'admin', protocol: 'http', listen: '127.0.0.1:0', default_label: 'UNCLASSIFIED',
        identity: identity('officer', ['Cyan'], ['Cyan'], { roles: ['viewer', 'admin'] }),
    };
}

// Every event kz-jpn holds whose uid starts with `prefix`, oldest first (its log order).
async function jpnLog(jpn, prefix) {
    const out = [];
    let cursor = null;
    do {
        const q = `/api/v1/events?limit=1000${cursor ? `&cursor=${cursor}` : ''}`;
        const r = await request(jpn.port('web-jpn'), 'GET', q);
        assert.equal(r.status, 200, r.body);
        const page = r.json();
        for (const ev of page.events)
            if (ev.properties.uid.startsWith(prefix))
                out.push({ uid: ev.properties.uid, access: ev.properties.access, time: ev.properties.time });
        cursor = page.next;
    } while (cursor);
    return out.reverse();
}

async function post(node, uid, access, t) {
    const r = await postEvent(node.port('web-usa'), cotEvent({ uid, access, time: t, start: t }));
    assert.equal(r.status, 201, `POST ${uid}: ${r.status} ${r.body}`);
}

describe('a link that was down gets what it missed, once and in order', () => {
    let pkis, usa, jpn;
    const prefix = uniq('outbox');
    const committed = []; // [uid, access] in kz-usa's commit order
    let n = 0;

    async function postMany(count) {
        for (let i = 0; i < count; i++, n++) {
            const uid = `${prefix}-${String(n).padStart(4, '0')}`;
            const access = n % 4 === 3 ? NOFORN : REL;
            await post(usa, uid, access, new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString());
            committed.push([uid, access]);
        }
    }

    before(async () => {
        pkis = { usa: await nationalPki(ROOT, 'kz-usa'), jpn: await nationalPki(ROOT, 'kz-jpn') };
        jpn = await startServer({
            config: fedNodeConfig({
                id: 'kz-jpn', nation: 'JPN', pki: pkis.jpn, viewers: ['JPN'],
                peers: [peerEntry('kz-usa', 'USA', pkis.usa.ca, { local: 'JPN' })],
            }),
        });
        const port = await pinFedPort(jpn);
        const config = fedNodeConfig({
            id: 'kz-usa', nation: 'USA', pki: pkis.usa, viewers: ['USA'],
            peers: [peerEntry('kz-jpn', 'JPN', pkis.jpn.ca, { local: 'USA', connect: `127.0.0.1:${port}` })],
        });
        config.inputs.push(adminInput(), tcpInput('cot-usa', ['Cyan'], ['Cyan'], {
            identity: identity('cot-usa-user', ['Cyan'], ['Cyan'], { nation: 'USA' }),
        }));
        config.limits = { ...config.limits, out_queue_bytes: 262144 }; // falls behind at 128 KiB
        usa = await startServer({ config });
        await waitLinks(usa, 'web-usa', ['kz-jpn']);
        await waitLinks(jpn, 'web-jpn', ['kz-usa']);
    });

    after(async () => {
        for (const node of [usa, jpn]) {
            await node?.stop({ expectErrors: true });
            node?.cleanup();
        }
    });

    test('events committed while the peer was down, and across a kill -9 of the sender, arrive', async () => {
        await postMany(8); // live
        await waitUntil(async () => (await jpnLog(jpn, prefix)).length === 6,
            { timeout: 10000, interval: 100, what: 'the live events on kz-jpn' });

        await jpn.kill9();
        await waitLinks(usa, 'web-usa', ['kz-jpn'], { state: 'connecting' });
        await postMany(200); // the peer is down: kept
        const before = (await fedStatus(usa, 'web-usa')).peers[0];
        assert.ok(before.queued >= 200, `queued ${before.queued}`);

        await usa.kill9(); // the sender dies with the outbox unsent
        await usa.restart({ samePorts: true, expectErrors: true });
        await postMany(40);

        await jpn.restart({ samePorts: true, expectErrors: true });
        await waitLinks(usa, 'web-usa', ['kz-jpn']);
        await postMany(12); // live again

        const want = committed.filter(([, a]) => a === REL).map(([u]) => u);
        let got;
        await waitUntil(async () => (got = await jpnLog(jpn, prefix)).length >= want.length,
            { timeout: 20000, interval: 200, what: `${want.length} events on kz-jpn` });
        await new Promise((r) => setTimeout(r, 500)); // nothing more may come
        got = await jpnLog(jpn, prefix);
        assert.deepEqual(got.map((e) => e.uid), want, 'every releasable event once, in commit order');
        for (const e of got)
            assert.equal(e.access, REL, JSON.stringify(e));
        const status = (await fedStatus(usa, 'web-usa')).peers[0];
        assert.equal(status.queued, 0, JSON.stringify(status));
        assert.ok(status.denied >= committed.length - want.length, JSON.stringify(status));
    });

    test('the sent log says what crossed to Japan, and when; only to an admin', async () => {
        const since = '2000-01-01T00:00:00Z';
        const r = await request(usa.port('admin'), 'GET', `/api/v1/federation/kz-jpn/sent?since=${since}&limit=10000`);
        assert.equal(r.status, 200, r.body);
        const body = r.json();
        assert.equal(body.peer, 'kz-jpn');
        const ours = body.sent.filter((s) => s.uid?.startsWith(prefix));
        assert.ok(ours.length > 0, r.body.slice(0, 500));
        const want = committed.filter(([, a]) => a === REL).map(([u]) => u);
        assert.deepEqual([...new Set(ours.map((s) => s.uid))].sort(), [...want].sort());
        assert.ok(ours.every((s) => s.label === REL && s.originator === 'USA'), JSON.stringify(ours[0]));
        for (let i = 1; i < body.sent.length; i++)
            assert.ok(Date.parse(body.sent[i].sent) >= Date.parse(body.sent[i - 1].sent), 'oldest first');
        // Paging: one row at a time follows the same order.
        const p1 = (await request(usa.port('admin'), 'GET', '/api/v1/federation/kz-jpn/sent?limit=1')).json();
        assert.equal(p1.sent.length, 1);
        const p2 = (await request(usa.port('admin'), 'GET', `/api/v1/federation/kz-jpn/sent?limit=1&cursor=${p1.next}`)).json();
        assert.deepEqual(p2.sent[0], body.sent[1]);

        const viewer = await request(usa.port('web-usa'), 'GET', '/api/v1/federation/kz-jpn/sent');
        assert.equal(viewer.status, 403, viewer.body);
        const unknown = await request(usa.port('admin'), 'GET', '/api/v1/federation/kz-xyz/sent');
        assert.equal(unknown.status, 404, unknown.body);
        const bad = await request(usa.port('admin'), 'GET', '/api/v1/federation/kz-jpn/sent?since=yesterday');
        assert.equal(bad.status, 400, bad.body);
    });

    test('a peer that stops reading makes the link fall behind, not drop; it catches up in order', async () => {
        const flood = `${prefix}-flood`;
        const client = await CotClient.connect(usa.port('cot-usa'));
        const logFrom = usa.runStderr().length;
        const deniedBefore = (await fedStatus(usa, 'web-usa')).peers[0].denied;
        process.kill(jpn.proc.pid, 'SIGSTOP');
        try {
            const t0 = Date.UTC(2026, 0, 2);
            for (let i = 0; i < 6000; i++) {
                const t = new Date(t0 + i).toISOString();
                client.send(cotEvent({ uid: `${flood}-${i % 50}`, access: REL, time: t, start: t,
                    remarks: 'x'.repeat(300) }));
                if (i % 10 === 0) // NOFORN among them: denied once each, live or from the log
                    client.send(cotEvent({ uid: `${flood}-nf-${i % 7}`, access: NOFORN, time: t,
                        start: t, remarks: 'x'.repeat(300) }));
            }
            await waitUntil(() => usa.runStderr().slice(logFrom).includes('link falls behind'),
                { timeout: 10000, interval: 100, what: 'kz-usa to fall behind' });
        } finally {
            process.kill(jpn.proc.pid, 'SIGCONT');
        }
        let got;
        await waitUntil(async () => (got = await jpnLog(jpn, flood)).length >= 6000,
            { timeout: 30000, interval: 250, what: '6000 flood events on kz-jpn' });
        const times = got.map((e) => Date.parse(e.time));
        assert.equal(got.length, 6000, 'each once');
        assert.deepEqual(times, [...times].sort((a, b) => a - b), 'in order');
        assert.doesNotMatch(usa.runStderr().slice(logFrom), /link down/, 'the link never dropped');
        const status = (await fedStatus(usa, 'web-usa')).peers[0];
        assert.equal(status.denied - deniedBefore, 600, JSON.stringify(status));
        client.close?.();
    });
});
