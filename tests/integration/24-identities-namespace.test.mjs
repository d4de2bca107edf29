// 24-identities-namespace: configuration identities (inputs[].identity.user)
// and users of the users table (certificates, logins) share one namespace.
// The server refuses, at start and on reload, a configuration whose identity
// is a user; `kizuna user add` and `cert issue` refuse a name a configuration
// identity holds (-c FILE, else the built-in configuration).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
    httpInput, identity, makeConfig, request, runCli, startServer, tcpInput, toYaml, waitUntil,
} from './lib/harness.mjs';

const ID = ['--nation', 'USA', '--clearance', 'SECRET', '--groups', 'Cyan'];

describe('one namespace for identities', () => {
    let dir;
    let data;
    let configFile;

    before(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kizuna-names-'));
        data = path.join(dir, 'data');
        configFile = path.join(dir, 'kizuna.yaml');
        fs.writeFileSync(configFile, toYaml(makeConfig()));
    });

    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    test('user add and cert issue refuse a name a configuration identity holds', async () => {
        let r = await runCli(['user', 'add', 'us-user', ...ID, '-c', configFile, '--data', data]);
        assert.equal(r.code, 2, r.stderr);
        assert.match(r.stderr, /'us-user' is the identity of input 'us' in .*kizuna\.yaml/);
        r = await runCli(['cert', 'issue', '--user', 'web-user', ...ID, '-c', configFile, '--data', data]);
        assert.equal(r.code, 2, r.stderr);
        assert.match(r.stderr, /kizuna cert issue: 'web-user' is the identity of input 'web'/);
        // Without -c the built-in configuration is checked: its identities are local and web.
        r = await runCli(['user', 'add', 'local', ...ID, '--data', data]);
        assert.equal(r.code, 2, r.stderr);
        assert.match(r.stderr, /'local' is the identity of input 'cot' in the built-in configuration/);
        r = await runCli(['user', 'list', '--data', data]);
        assert.equal(r.stdout, '', 'a refused name was stored');
        r = await runCli(['user', 'add', 'alice', ...ID, '-c', configFile, '--data', data]);
        assert.equal(r.code, 0, r.stderr);
    });

    test('kizuna serve refuses a configuration whose identity is a user', async () => {
        const r0 = await runCli(['user', 'add', 'clash', ...ID, '--data', data]);
        assert.equal(r0.code, 0, r0.stderr);
        const clash = makeConfig({ inputs: [tcpInput('cot', ['Cyan'], ['Cyan'], { identity: identity('clash', ['Cyan']) })] });
        const file = path.join(dir, 'clash.yaml');
        fs.writeFileSync(file, toYaml(clash));
        const r = await runCli(['serve', '-c', file, '--data', data], { timeout: 10000 });
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, /input 'cot': identity user 'clash' is also a user in the users table/);
    });

    test('reload refuses such a configuration and keeps the running one', async () => {
        const server = await startServer({ dataDir: data });
        try {
            const list = (await runCli(['user', 'list', '--data', data])).stdout;
            assert.match(list, /^clash\t/m);
            const inputs = [tcpInput('us'), httpInput('web', ['Cyan'], ['Cyan'], { identity: identity('clash', ['Cyan']) })];
            fs.writeFileSync(server.configPath, toYaml({ ...server.config, inputs }));
            server.proc.kill('SIGHUP');
            await waitUntil(() => /reload: configuration refused.*identity user 'clash' is also a user/.test(server.stderr),
                { what: 'the reload refusal' });
            assert.doesNotMatch(server.stderr, /reload: configuration applied/);
            const r = await request(server.port('web'), 'GET', '/api/v1/tracks');
            assert.equal(r.status, 200);
        } finally {
            await server.stop();
            server.cleanup();
        }
    });
});
