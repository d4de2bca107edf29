// 13-reload: SIGHUP re-reads the configuration, nginx-style.  A file that
// does not parse is refused with file:line and the running configuration
// keeps routing and answering; a fixed file with a changed input default
// label applies to new events at once; a change that needs a restart (a
// listen address) is logged as such and nothing of the file is applied.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';

import {
    barrier, CotClient, cotEvent, httpInput, identity, request, startServer, tcpInput, toYaml,
    uniq, waitUntil,
} from './lib/harness.mjs';

const US = identity('us-user', ['Cyan'], ['Cyan'], { nation: 'USA', clearance: 'SECRET' });
const JP = identity('jp-user', ['Cyan'], ['Cyan'], { nation: 'JPN', clearance: 'SECRET' });

function inputs(usLabel) {
    return [
        { ...tcpInput('us'), identity: US, default_label: usLabel },
        { ...tcpInput('jp'), identity: JP },
        { ...httpInput('web'), identity: US },
    ];
}

describe('configuration reload on SIGHUP', () => {
    let server, us, jp;

    // Count the log lines matching re, to wait for the next one.
    const count = (re) => server.stderr.split('\n').filter((l) => re.test(l)).length;

    async function hup(re, what) {
        const before = count(re);
        server.proc.kill('SIGHUP');
        await waitUntil(() => count(re) > before, { what });
    }

    // Write the running configuration with the given inputs.
    function writeConfig(list) {
        fs.writeFileSync(server.configPath, toYaml({ ...server.config, inputs: list }));
    }

    before(async () => {
        server = await startServer({ inputs: inputs('UNCLASSIFIED//REL TO USA, JPN') });
        us = await CotClient.connect(server.port('us'), { name: 'us' });
        jp = await CotClient.connect(server.port('jp'), { name: 'jp' });
    });

    after(async () => {
        await us?.close();
        await jp?.close();
        await server?.stop();
        server?.cleanup();
    });

    test('before any reload, an unlabelled event from us reaches jp', async () => {
        const uid = uniq('before');
        await us.send(cotEvent({ uid }));
        await jp.waitUid(uid);
    });

    test('a broken file is refused with file:line; the server still routes and answers', async () => {
        const good = fs.readFileSync(server.configPath, 'utf8');
        fs.writeFileSync(server.configPath, `${good}limits: [unclosed\n`);
        await hup(/reload: configuration refused/, 'the refusal in the log');
        const line = server.stderr.split('\n').filter((l) => /reload: configuration refused/.test(l)).pop();
        assert.ok(line.includes(server.configPath), line);
        assert.match(line, /\.yaml:\d+/, line);
        const uid = uniq('after-bad');
        await us.send(cotEvent({ uid }));
        await jp.waitUid(uid, { what: 'an event routed with the running configuration' });
        const health = await request(server.port('web'), 'GET', '/healthz');
        assert.equal(health.status, 200);
    });

    test('a fixed file with a changed default label applies to new events', async () => {
        writeConfig(inputs('UNCLASSIFIED//NOFORN')); // USA only (REL TO USA alone is refused)
        await hup(/reload: configuration applied/, 'the configuration to be applied');
        const hidden = uniq('usa-only');
        await us.send(cotEvent({ uid: hidden }));
        // A marker released to both arrives after anything sent before it.
        await barrier(us, [jp], { access: 'UNCLASSIFIED//REL TO USA, JPN' });
        assert.ok(!jp.has(hidden), 'jp received an event labelled USA only');
        let res;
        await waitUntil(async () => {
            res = await request(server.port('web'), 'GET', `/api/v1/events?uid=${hidden}`);
            return res.body.includes(hidden);
        }, { what: 'the event in /api/v1/events' });
        assert.match(res.body, /UNCLASSIFIED\/\/NOFORN/);
    });

    test('a changed listen address needs a restart: logged, nothing applied', async () => {
        const list = inputs('UNCLASSIFIED//REL TO USA, JPN');
        list[2] = { ...list[2], listen: '[::1]:0' };
        writeConfig(list);
        await hup(/reload: configuration not applied/, 'the restart notice');
        assert.match(server.stderr, /key changed but needs a restart.*key=inputs\[2\]\.listen/);
        // The default label of the refused file did not apply either.
        const hidden = uniq('still-usa-only');
        await us.send(cotEvent({ uid: hidden }));
        await barrier(us, [jp], { access: 'UNCLASSIFIED//REL TO USA, JPN' });
        assert.ok(!jp.has(hidden), 'part of a refused file was applied');
        assert.equal((await request(server.port('web'), 'GET', '/healthz')).status, 200);
    });
});
