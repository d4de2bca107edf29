// 41-backup: `kizuna backup` while the server takes events, then `kizuna
// restore` into a new data directory and a new node started on it.  Every
// event acknowledged (POST answered 201) before the backup began is there;
// of those acknowledged while it ran, the restored node has a prefix (the
// copy is one snapshot: a commit is in it whole or not at all); an uploaded
// file comes back by its hash, and the audit chain verifies with the key
// that came with the backup.  restore refuses a data directory that is
// not empty (without --force), a file that is not a store, and a schema
// newer than the binary's, each with a message saying so.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';

import {
    CotClient, cotEvent, httpInput, identity, postEvent, request, runCli, startServer, tcpInput,
    uidsOf, uniq,
} from './lib/harness.mjs';

const BEFORE = 40;  // events acknowledged before the backup starts
const NOISE = 2000; // stream events in flight during the backup

const web = () => ({ ...httpInput('web'), identity: identity('web-user', ['Cyan'], ['Cyan'], { nation: 'USA' }) });

describe('backup and restore', () => {
    const servers = [];
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kizuna-backup-'));

    after(async () => {
        for (const s of servers) {
            await s.stop();
            s.cleanup();
        }
        fs.rmSync(tmp, { recursive: true, force: true });
    });

    const post = async (server, uid) => {
        const res = await postEvent(server.port('web'), cotEvent({ uid }));
        assert.equal(res.status, 201, `POST ${uid}: ${res.status} ${res.body}`);
        return uid;
    };
    const listed = async (server, uid) => {
        const got = await request(server.port('web'), 'GET', `/api/v1/events?uid=${encodeURIComponent(uid)}`);
        assert.equal(got.status, 200, got.body);
        return uidsOf(got.json()).includes(uid);
    };

    test('a backup taken under load restores every acknowledged event into a new node', async () => {
        const a = await startServer({ inputs: [tcpInput('us'), web()] });
        servers.push(a);
        const data = crypto.randomBytes(50000).toString('hex'); // text: request() reads utf8
        const hash = crypto.createHash('sha256').update(data).digest('hex');
        const up = await request(a.port('web'), 'POST', '/Marti/sync/upload?name=doc.bin', { body: data });
        assert.equal(up.status, 200, up.body);

        const acked = [];
        for (let i = 0; i < BEFORE; i++) acked.push(await post(a, uniq(`pre${i}`)));

        // Load while the backup runs: a stream burst and a POST loop.
        const noise = await CotClient.connect(a.port('us'), { name: 'noise' });
        const sending = noise.send(Array.from({ length: NOISE }, (_, i) => cotEvent({ uid: `noise-${i}` })));
        const during = [];
        let stop = false;
        const loop = (async () => { while (!stop) during.push(await post(a, uniq('during'))); })();
        await new Promise((r) => setTimeout(r, 100));
        const file = path.join(tmp, 'node-a.kzbak');
        const backup = await runCli(['backup', '--data', a.dataDir, file]);
        stop = true;
        await loop;
        await sending;
        await noise.close();
        assert.equal(backup.code, 0, backup.stderr);
        assert.match(backup.stdout, /1 uploaded file/);
        assert.ok(during.length > 0, 'no event was acknowledged while the backup ran');

        const dataB = path.join(tmp, 'data-b');
        const restore = await runCli(['restore', '--data', dataB, file]);
        assert.equal(restore.code, 0, restore.stderr);
        const b = await startServer({ inputs: [tcpInput('us'), web()], dataDir: dataB });
        servers.push(b);
        for (const uid of acked)
            assert.ok(await listed(b, uid), `${uid} was acknowledged before the backup but is not restored`);
        const present = [];
        for (const uid of during) present.push(await listed(b, uid));
        const cut = present.indexOf(false);
        assert.ok(cut < 0 || present.slice(cut).every((p) => !p),
            `the restored events acknowledged during the backup are not a prefix: ${present.join(',')}`);
        const down = await request(b.port('web'), 'GET', `/Marti/sync/content?hash=${hash}`);
        assert.equal(down.status, 200);
        assert.equal(down.body, data);

        // The new node takes writes on the restored store, and its audit
        // chain (the backup's key, new records appended) verifies.
        const next = await post(b, uniq('after-restore'));
        assert.ok(await listed(b, next));
        const v = await runCli(['audit', 'verify', '--data', dataB]);
        assert.equal(v.code, 0, `audit verify on the restored node: ${v.stdout}${v.stderr}`);
    });

    test('restore refuses a used data directory, a file that is not a store, a newer schema', async () => {
        const file = path.join(tmp, 'node-a.kzbak');
        const used = path.join(tmp, 'used');
        fs.mkdirSync(used);
        fs.writeFileSync(path.join(used, 'something'), 'x');
        let r = await runCli(['restore', '--data', used, file]);
        assert.equal(r.code, 1);
        assert.match(r.stderr, /is not empty.*--force/);
        r = await runCli(['restore', '--data', used, '--force', file]);
        assert.equal(r.code, 0, r.stderr);

        const junk = path.join(tmp, 'junk.kzbak');
        fs.writeFileSync(junk, 'not a database at all, only text, but long enough to look like one');
        r = await runCli(['restore', '--data', path.join(tmp, 'n1'), junk]);
        assert.equal(r.code, 1);
        assert.match(r.stderr, /is not a kizuna store.*nothing was changed/);
        assert.ok(!fs.existsSync(path.join(tmp, 'n1')), 'a refused restore created the data directory');

        // user_version is the big-endian int at offset 60 of the header.
        const newer = path.join(tmp, 'newer.kzbak');
        const bytes = fs.readFileSync(file);
        bytes.writeUInt32BE(bytes.readUInt32BE(60) + 1, 60);
        fs.writeFileSync(newer, bytes);
        r = await runCli(['restore', '--data', path.join(tmp, 'n2'), newer]);
        assert.equal(r.code, 1);
        assert.match(r.stderr, /newer than this kizuna's/);

        r = await runCli(['backup', '--data', path.join(tmp, 'nothing-here'), path.join(tmp, 'x.kzbak')]);
        assert.equal(r.code, 1);
        assert.match(r.stderr, /no store at/);
    });
});
