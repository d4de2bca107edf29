// 10-audit: changes of the label policy or of an input's identity or labels
// are written to the hash-chained audit log, once per change, and
// `kizuna audit verify` checks the chain.

import assert from 'node:assert/strict';
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
        assert.match(v.stdout, /audit chain intact: \d+ records/);
    });
});
