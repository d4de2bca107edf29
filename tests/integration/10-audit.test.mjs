// 10-audit: changes of the label policy or of an input's identity or labels
// are written to the keyed, anchored audit log, once per change, and
// `kizuna audit verify` checks the chain: 0 when intact, 1 with a message
// naming what is wrong when a record was edited or the database replaced by
// an older copy.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { httpInput, runCli, startServer, tcpInput } from './lib/harness.mjs';

function records(stdout, object) {
    return stdout.split('\n').filter((l) => l.includes(`object=${object} `));
}

describe('audit log of configuration changes', () => {
    let server;

    before(async () => {
        server = await startServer({ inputs: [tcpInput('us'), httpInput('web')] });
    });

    after(async () => {
        await server.stop();
        server.cleanup();
    });

    test('first start records the label policy and every input', async () => {
        const res = await runCli(['audit', 'list', '--data', server.dataDir]);
        assert.equal(res.code, 0, res.stderr);
        assert.equal(records(res.stdout, 'labels').length, 1);
        assert.equal(records(res.stdout, 'input:us').length, 1);
        assert.match(records(res.stdout, 'input:us')[0], /nation=USA clearance="SECRET"/);
    });

    test('a restart with the same configuration records nothing new', async () => {
        await server.restart();
        const res = await runCli(['audit', 'list', '--data', server.dataDir]);
        assert.equal(records(res.stdout, 'input:us').length, 1);
        assert.equal(records(res.stdout, 'labels').length, 1);
    });

    test('an identity change is recorded, and the chain verifies', async () => {
        server.config.inputs[0].identity = { ...server.config.inputs[0].identity, clearance: 'CONFIDENTIAL' };
        await server.restart();
        const res = await runCli(['audit', 'list', '--data', server.dataDir]);
        const us = records(res.stdout, 'input:us');
        assert.equal(us.length, 2);
        assert.match(us[1], /clearance="CONFIDENTIAL"/);
        assert.equal(records(res.stdout, 'input:web').length, 1);
        const v = await runCli(['audit', 'verify', '--data', server.dataDir]);
        assert.equal(v.code, 0, v.stdout + v.stderr);
        assert.match(v.stdout, /audit chain intact: \d+ records .*end matches audit.head/);
    });

    test('the key and the head anchor live in the data directory, the key 0600', () => {
        const key = fs.statSync(path.join(server.dataDir, 'audit.key'));
        assert.equal(key.size, 32);
        assert.equal(key.mode & 0o777, 0o600);
        assert.match(fs.readFileSync(path.join(server.dataDir, 'audit.head'), 'utf8'), /^kizuna audit head 1\n/);
    });

    test('an older copy of the database swapped in is reported', async () => {
        await server.stop();
        const db = path.join(server.dataDir, 'kizuna.db');
        const old = fs.readFileSync(db);
        server.config.inputs[0].identity = { ...server.config.inputs[0].identity, clearance: 'SECRET' };
        await server.restart();
        await server.stop();
        const now = fs.readFileSync(db);
        fs.writeFileSync(db, old);
        const v = await runCli(['audit', 'verify', '--data', server.dataDir]);
        assert.equal(v.code, 1, v.stdout + v.stderr);
        assert.match(v.stdout, /audit chain BROKEN at its end: the chain ends before audit.head/);
        fs.writeFileSync(db, now);
        const ok = await runCli(['audit', 'verify', '--data', server.dataDir]);
        assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    });

    test('an edited record is reported, with its id', async () => {
        const db = path.join(server.dataDir, 'kizuna.db');
        assert.ok(!fs.existsSync(`${db}-wal`) || fs.statSync(`${db}-wal`).size === 0, 'stopped: no WAL');
        const bytes = fs.readFileSync(db);
        const at = bytes.indexOf('clearance="CONFIDENTIAL"');
        assert.ok(at > 0, 'the record is in the file');
        bytes.write('clearance="UNCLASSIFIED"', at); // same length: the row stays readable
        fs.writeFileSync(db, bytes);
        const v = await runCli(['audit', 'verify', '--data', server.dataDir]);
        assert.equal(v.code, 1, v.stdout + v.stderr);
        assert.match(v.stdout, /audit chain BROKEN at record \d+: the record was edited or forged/);
        const list = await runCli(['audit', 'list', '--data', server.dataDir]);
        assert.match(list.stdout, /clearance="UNCLASSIFIED"/);
    });
});
