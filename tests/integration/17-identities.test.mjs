// 17-identities: identities are bound, never claimed.  Each test replays the
// input of a security-review finding: clientEndPoints shows only checked
// facts (F4, S1-1), a callsign or uid belongs to its holder (F8), a delete
// reaches only those who see the track it removes (F16), client control
// messages are consumed (F17), missions are not broadcast, one sender
// cannot fill the state (F11), and a re-created user name inherits nothing
// of the old user's (F6).

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
    barrier, CotClient, cotEvent, deleteEvent, httpInput, identity, iso, metric, postEvent, request,
    runCli, startServer, tcpInput, tracks, uidsOf, uniq, waitUntil,
} from './lib/harness.mjs';

function nationInput(name, nation, protocol = 'tcp') {
    const base = protocol === 'tcp' ? tcpInput(name) : httpInput(name);
    return { ...base, identity: identity(`${name}-user`, ['Cyan'], ['Cyan'], { nation }) };
}

async function rejects(port, reason) {
    return metric(port, 'kizuna_rejects_total', { reason });
}

async function clientEndPoints(port) {
    const res = await request(port, 'GET', '/Marti/api/clientEndPoints');
    assert.equal(res.status, 200, res.body);
    return res;
}

describe('identities are bound, never claimed', () => {
    let server;
    let us1;
    let us2;
    let kor;
    let jpn;
    const uids = {};

    before(async () => {
        server = await startServer({
            inputs: [
                nationInput('us', 'USA'), nationInput('kor', 'KOR'), nationInput('jpn', 'JPN'),
                nationInput('web-us', 'USA', 'http'), nationInput('web-jpn', 'JPN', 'http'),
            ],
        });
        us1 = await CotClient.connect(server.port('us'), { name: 'us1' });
        us2 = await CotClient.connect(server.port('us'), { name: 'us2' });
        kor = await CotClient.connect(server.port('kor'), { name: 'kor' });
        jpn = await CotClient.connect(server.port('jpn'), { name: 'jpn' });
        const clients = [['ANDROID-us1', us1], ['US2', us2], ['KOR1', kor], ['JPN1', jpn]];
        for (const [name, cl] of clients) {
            uids[name] = uniq(`sa-${name}`);
            await cl.send(cotEvent({ uid: uids[name], callsign: name, group: { name: 'Cyan' } }));
        }
        for (const [name, cl] of clients)
            for (const [other] of clients) if (other !== name) await cl.waitUid(uids[other]);
    });

    after(async () => {
        for (const cl of [us1, us2, kor, jpn]) await cl.close();
        await server.stop();
        server.cleanup();
    });

    test('F4: clientEndPoints never shows a NOFORN marker name or a refused callsign', async () => {
        await us1.send(cotEvent({
            uid: uniq('nf-marker'), type: 'b-m-p-s-m', access: 'SECRET//NOFORN', callsign: 'OPERATION NIGHTFALL',
        }));
        await us1.send(cotEvent({
            uid: uids['ANDROID-us1'], access: 'SECRET//REL TO XYZ', callsign: 'REFUSED-NAME', group: { name: 'Cyan' },
        }));
        await barrier(us1, [us2]);
        const res = await clientEndPoints(server.port('web-jpn'));
        assert.doesNotMatch(res.body, /NIGHTFALL|REFUSED-NAME/);
        const me = res.json().data.find((c) => c.uid === uids['ANDROID-us1']);
        assert.ok(me, `ANDROID-us1 is listed: ${res.body}`);
        assert.equal(me.callsign, 'ANDROID-us1');
    });

    test('F8: a callsign held by another client is refused and directed delivery reaches its holder', async () => {
        const claimed0 = await rejects(server.port('web-us'), 'claimed');
        const spoof = uniq('kor-spoof');
        await kor.send(cotEvent({ uid: spoof, callsign: 'US2', group: { name: 'Cyan' } }));
        await barrier(kor, [us1]);
        assert.equal(us1.has(spoof), false, 'the claiming report was routed');
        assert.equal(await rejects(server.port('web-us'), 'claimed'), claimed0 + 1);
        const dm = uniq('to-us2');
        await us1.send(cotEvent({ uid: dm, type: 'b-t-f', access: 'SECRET//REL TO USA, KOR', dests: [{ callsign: 'US2' }] }));
        await us2.waitUid(dm);
        await barrier(us1, [kor]);
        assert.equal(kor.has(dm), false, 'KOR received a message addressed to US2');
    });

    test('F8: a refused event reusing a uid binds nothing; uid-addressed messages reach the holder', async () => {
        // JPN reuses US2's uid: refused (it belongs to US2).
        await jpn.send(cotEvent({ uid: uids.US2, callsign: 'JPN1', group: { name: 'Cyan' } }));
        // US2 places a hostile a-* marker: its uid is still its own report's.
        await us2.send(cotEvent({ uid: uniq('hostile'), type: 'a-h-G' }));
        await barrier(jpn, [us1]);
        const dm = uniq('to-us2-uid');
        await us1.send(cotEvent({ uid: dm, type: 'b-t-f', access: 'SECRET//REL TO USA, JPN', dests: [{ uid: uids.US2 }] }));
        await us2.waitUid(dm);
        await barrier(us1, [jpn]);
        assert.equal(jpn.has(dm), false, 'JPN received a message addressed to US2\'s uid');
    });

    test('F16: a delete of a NOFORN track reaches only those who may see it', async () => {
        const hostile = uniq('NF-HOSTILE');
        await us1.send(cotEvent({ uid: hostile, type: 'a-h-G-U-C-F', access: 'SECRET//NOFORN' }));
        await us2.waitUid(hostile);
        const del = uniq('del');
        await us1.send(deleteEvent(hostile, del));
        await us2.waitUid(del);
        await barrier(us1, [jpn, kor]);
        assert.equal(jpn.has(del), false, 'JPN got the delete of a NOFORN track');
        assert.equal(kor.has(del), false, 'KOR got the delete of a NOFORN track');
        // Stored with the track's label: the USA reads it, JPN does not.
        await waitUntil(async () => {
            const mine = await request(server.port('web-us'), 'GET', `/api/v1/events?uid=${del}`);
            return uidsOf(mine.json()).includes(del);
        }, { what: 'the delete to be stored' });
        const q = await request(server.port('web-jpn'), 'GET', `/api/v1/events?uid=${del}`);
        assert.equal(q.status, 200, q.body);
        assert.deepEqual(uidsOf(q.json()), [], 'JPN reads the delete of a NOFORN track');
    });

    test('F17: a client-sent TAK response is consumed, never routed, stored or replayed', async () => {
        const now = Date.now();
        const forged = cotEvent({
            uid: uniq('takp'), type: 't-x-takp-r', how: 'm-g', stale: iso(now + 365 * 86400000),
            extra: '<TakControl><TakResponse status="true"/></TakControl>',
        });
        await kor.send(forged);
        await barrier(kor, [us1]);
        assert.equal(us1.events.some((e) => e.type.startsWith('t-x-takp')), false, 'routed');
        const late = await CotClient.connect(server.port('us'), { name: 'late' });
        await barrier(us1, [late]);
        assert.equal(late.events.some((e) => e.type.startsWith('t-x-takp')), false, 'replayed');
        await late.close();
        const res = await postEvent(server.port('web-us'), forged);
        assert.equal(res.status, 400, res.body);
        assert.match(res.body, /control/);
        const q = await request(server.port('web-us'), 'GET', '/api/v1/events?type=t-x-takp-r');
        assert.deepEqual(uidsOf(q.json()), [], 'stored');
    });

    test('an event addressed to a mission is not broadcast, and is counted', async () => {
        const before_ = await rejects(server.port('web-us'), 'mission');
        const uid = uniq('to-mission');
        await us1.send(cotEvent({ uid, type: 'b-m-p-s-m', dests: [{ mission: 'ops' }] }));
        await barrier(us1, [us2, jpn]);
        assert.equal(us2.has(uid) || jpn.has(uid), false, 'a mission event was broadcast');
        const res = await postEvent(server.port('web-us'), cotEvent({ uid: uniq('post-mission'), dests: [{ mission: 'ops' }] }));
        assert.equal(res.status, 400, res.body);
        assert.equal(await rejects(server.port('web-us'), 'mission'), before_ + 2);
    });
});

describe('F11: one sender cannot exhaust shared state', () => {
    let server;

    before(async () => {
        server = await startServer({
            inputs: [nationInput('jpn', 'JPN'), nationInput('web-us', 'USA', 'http')],
            limits: { max_tracks: 300, max_tracks_per_identity: 100, max_stale_s: 3600 },
        });
    });

    after(async () => {
        await server.stop();
        server.cleanup();
    });

    test('400 far-stale uids from one client fill its budget, not the state', async () => {
        const jpn = await CotClient.connect(server.port('jpn'), { name: 'jpn' });
        const xml = [];
        for (let i = 0; i < 400; i++)
            xml.push(cotEvent({ uid: `flood-${i}`, type: 'a-h-G', stale: '9999-12-31T23:59:59Z', decl: false }));
        await jpn.send(xml);
        const web = server.port('web-us');
        let budget = 0;
        const deadline = Date.now() + 10000;
        // Refused one by one; after 16 refusals in a row the stream is closed.
        while (budget < 16 && Date.now() < deadline) budget = await rejects(web, 'budget');
        assert.ok(budget >= 16, `budget refusals: ${budget}`);
        const res = await postEvent(web, cotEvent({ uid: uniq('us-new') }));
        assert.equal(res.status, 201, `another sender is refused: ${res.body}`);
        const t = await tracks(web);
        const flood = t.features.filter((f) => f.properties.uid?.startsWith('flood-') || String(f.id).startsWith('flood-'));
        assert.equal(flood.length, 100);
        for (const f of flood) {
            const stale = Date.parse(f.properties.stale);
            assert.ok(stale <= Date.now() + 3600 * 1000, `stale not clamped: ${f.properties.stale}`);
        }
        await jpn.close();
        await server.restart();
        const again = await postEvent(server.port('web-us'), cotEvent({ uid: uniq('us-after') }));
        assert.equal(again.status, 201, again.body);
    });
});

// curl with a client certificate from the data directory's pki/.
function curl(port, urlPath, pki, user, { method, body } = {}) {
    const args = ['-sk', '--max-time', '15', '-o', '-', '-w', '\n%{http_code}',
        '--cert', path.join(pki, `${user}.pem`), '--key', path.join(pki, `${user}.key`)];
    if (method) args.push('-X', method);
    if (body !== undefined) args.push('--data-binary', '@-');
    args.push(`https://127.0.0.1:${port}${urlPath}`);
    return new Promise((resolve) => {
        const p = execFile('curl', args, { timeout: 20000, encoding: 'utf8' }, (err, stdout) => {
            const cut = stdout.lastIndexOf('\n');
            resolve({ status: Number(stdout.slice(cut + 1)), body: stdout.slice(0, cut) });
        });
        if (body !== undefined) p.stdin.end(body);
    });
}

describe('F6: a re-created user name inherits nothing', () => {
    let server;
    let data;
    let pki;

    async function cli(...args) {
        const r = await runCli([...args, '--data', data]);
        assert.equal(r.code, 0, `kizuna ${args.join(' ')}: ${r.stderr}`);
    }

    before(async () => {
        data = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'kizuna-ids-')), 'data');
        pki = path.join(data, 'pki');
        await cli('ca', 'init');
        await cli('cert', 'issue', '--user', 'liaison', '--nation', 'JPN', '--clearance', 'SECRET', '--groups', 'Cyan');
        server = await startServer({
            dataDir: data,
            inputs: [{ name: 'api-tls', protocol: 'https', listen: '127.0.0.1:0', default_label: 'UNCLASSIFIED' }],
        });
    });

    after(async () => {
        await server.stop();
        server.cleanup();
    });

    test('the JPN liaison\'s originator-only event stays JPN after the name is reissued to KOR', async () => {
        const port = server.port('api-tls');
        const uid = uniq('liaison-secret');
        const post = await curl(port, '/api/v1/events', pki, 'liaison',
            { method: 'POST', body: cotEvent({ uid, access: 'SECRET//NOFORN' }) });
        assert.equal(post.status, 201, post.body);
        await cli('user', 'del', 'liaison');
        await waitUntil(async () => (await curl(port, '/api/v1/tracks', pki, 'liaison')).status !== 200,
            { timeout: 10000, what: 'the deleted user to be refused' });
        await cli('cert', 'issue', '--user', 'liaison', '--nation', 'KOR', '--clearance', 'SECRET', '--groups', 'Cyan');
        const seen = async () => {
            const r = await curl(port, `/api/v1/events?uid=${uid}`, pki, 'liaison');
            return r.status === 200 && r;
        };
        const r = await waitUntil(seen, { timeout: 10000, what: 'the re-created user to be accepted' });
        assert.deepEqual(uidsOf(JSON.parse(r.body)), [], `the KOR user reads the JPN event: ${r.body}`);
        await server.restart();
        const t = await curl(server.port('api-tls'), '/api/v1/tracks', pki, 'liaison');
        assert.equal(t.status, 200, t.body);
        assert.equal(uidsOf(JSON.parse(t.body)).includes(uid), false, 'restored state shows it to KOR');
    });
});
