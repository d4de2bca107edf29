// 20-alliance: the alliance model through the CLI and REST on the real binary
// with the shipped us-japan.yaml: check, dated chains, can-task, counterparts,
// forums, the coordination-latency numbers, the release rule on labelled
// entries, and hot reload on SIGHUP (a bad file keeps the old model serving).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
    httpInput, identity, makeConfig, request, runCli, SOURCE_DIR, startServer, waitUntil,
} from './lib/harness.mjs';

const SHIPPED = path.join(SOURCE_DIR, 'config/alliance/us-japan.yaml');
const DATA = path.join(SOURCE_DIR, 'tests/unit/data/alliance');

describe('kizuna alliance (CLI)', () => {
    test('check: the shipped file is valid', async () => {
        const r = await runCli(['alliance', 'check', SHIPPED]);
        assert.equal(r.code, 0, r.stdout + r.stderr);
        assert.match(r.stdout, /ok \(4 nations, \d+ commands/);
    });

    test('check: every problem as file:line, exit 2', async () => {
        for (const name of ['bad-cycle.yaml', 'bad-parallel.yaml', 'bad-adcon.yaml', 'bad-syntax.yaml']) {
            const file = path.join(DATA, name);
            const line = fs.readFileSync(file, 'utf8').split('\n').findIndex((l) => l.includes('# BAD')) + 1;
            const r = await runCli(['alliance', 'check', file]);
            assert.equal(r.code, 2, `${name}: ${r.stdout}`);
            assert.ok(r.stdout.includes(`${file}:${line}: `), `${name} line ${line}:\n${r.stdout}`);
        }
        assert.equal((await runCli(['alliance', 'check'])).code, 2);
        assert.equal((await runCli(['alliance', '--help'])).code, 0);
    });

    test('chain by date: the GSDF moves from the Minister to the JJOC on 2025-03-24', async () => {
        const at = async (d) => JSON.parse((await runCli(['alliance', '-f', SHIPPED, 'chain', 'JGSDF-GCC', '--at', d, '--json'])).stdout);
        // Before the JJOC the Minister commanded, through the Joint Staff (domain review #9, #10).
        assert.deepEqual((await at('2025-03-23')).chains.OPCON.map((r) => r.from), ['JPN-MOD', 'JPN-CABINET']);
        assert.deepEqual((await at('2025-03-24')).chains.OPCON.map((r) => r.from), ['JJOC', 'JPN-MOD', 'JPN-CABINET']);
        const usfj = JSON.parse((await runCli(['alliance', '-f', SHIPPED, 'chain', 'USFJ', '--at', '2025-03-29', '--json'])).stdout);
        assert.equal(usfj.unit.phase, 'management HQ');
        assert.equal(usfj.chains.COCOM[0].from, 'INDOPACOM');
    });

    test('can-task: yes through the chain, no across national chains', async () => {
        let r = await runCli(['alliance', '-f', SHIPPED, 'can-task', 'INDOPACOM', 'C7F', '--at', '2025-06-01']);
        assert.equal(r.code, 0);
        assert.match(r.stdout, /INDOPACOM MAY task C7F/);
        r = await runCli(['alliance', '-f', SHIPPED, 'can-task', 'JJOC', 'C7F', '--at', '2025-06-01']);
        assert.match(r.stdout, /may NOT/);
        assert.match(r.stdout, /separate national chains/);
        assert.equal((await runCli(['alliance', '-f', SHIPPED, 'chain', 'NOPE'])).code, 2);
    });

    test('path: JJOC at 09:00 JST via INDOPACOM vs the in-theatre counterpart', async () => {
        const at = '2025-06-10T09:00+09:00';
        const direct = JSON.parse((await runCli(['alliance', '-f', SHIPPED, 'path', 'JJOC', 'C7F', '--at', at, '--json'])).stdout);
        const hub = JSON.parse((await runCli(['alliance', '-f', SHIPPED, 'path', 'JJOC', 'C7F', '--at', at, '--via', 'INDOPACOM', '--json'])).stdout);
        assert.deepEqual(direct.routes[0].via, ['JJOC', 'USFJ', 'C7F']);
        assert.equal(direct.routes[0].response_s, 5.5 * 3600);
        assert.equal(hub.routes[0].hops[0].node, 'INDOPACOM');
        assert.equal(hub.routes[0].hops[0].arrive_local, 'Mon 2025-06-09 14:15 -10:00');
        assert.equal(hub.routes[0].response_s, 23.5 * 3600);
        // The doctrinal route INDOPACOM -> PACFLT -> C7F (review #13), and the 24/7 floors.
        const doctrinal = JSON.parse((await runCli(['alliance', '-f', SHIPPED, 'path', 'JJOC', 'C7F', '--at', at, '--via', 'PACFLT', '--json'])).stdout);
        assert.deepEqual(doctrinal.routes[0].via, ['JJOC', 'INDOPACOM', 'PACFLT', 'C7F']);
        assert.equal(doctrinal.routes[0].response_s, 26.25 * 3600);
        const floors = JSON.parse((await runCli(['alliance', '-f', SHIPPED, 'path', 'JJOC-OPS', 'C7F-MOC', '--at', at, '--json'])).stdout);
        assert.deepEqual(floors.routes[0].via, ['JJOC-OPS', 'INDOPACOM-JOC', 'PACFLT-MOC', 'C7F-MOC']);
        assert.equal(floors.routes[0].response_s, 4 * 3600);
        const text = await runCli(['alliance', '-f', SHIPPED, 'path', 'JJOC', 'C7F', '--at', at]);
        assert.match(text.stdout, /answer back at JJOC: Tue 2025-06-10 14:30 \+09:00 after 5h30/);
        const cmp = await runCli(['alliance', '-f', SHIPPED, 'path', '--compare-topology', '--at', at, '--json']);
        const c = JSON.parse(cmp.stdout);
        assert.equal(c.hub, 'INDOPACOM');
        assert.equal(c.pairs.length, 6); // USA, JPN, PHL, AUS
        assert.ok(c.hub_mean_s > c.lattice_mean_s, JSON.stringify(c));
    });
});

describe('REST /api/v1/alliance', () => {
    let server;
    let dir;
    let file;

    before(async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kizuna-alliance-'));
        file = path.join(dir, 'alliance.yaml');
        fs.copyFileSync(SHIPPED, file);
        const config = makeConfig({
            inputs: [
                httpInput('web'),
                httpInput('phl', ['Cyan'], ['Cyan'], { identity: identity('phl-user', ['Cyan'], ['Cyan'], { nation: 'PHL' }) }),
            ],
        });
        config.alliance = file;
        server = await startServer({ config });
    });

    after(async () => {
        await server.stop({ expectErrors: false });
        server.cleanup();
        fs.rmSync(dir, { recursive: true, force: true });
    });

    const get = async (input, p) => {
        const r = await request(server.port(input), 'GET', p);
        return { status: r.status, json: r.body ? JSON.parse(r.body) : null };
    };

    test('show, chain, can-task, counterpart, forums', async () => {
        const show = await get('web', '/api/v1/alliance/show?at=2025-06-01');
        assert.equal(show.status, 200);
        assert.equal(show.json.mode, 'parallel');
        assert.deepEqual(show.json.nations.map((n) => n.code), ['USA', 'JPN', 'PHL', 'AUS']);
        assert.deepEqual(show.json.agreements.map((g) => g.id), ['US-JPN-TREATY', 'JPN-AUS-RAA']);
        const chain = await get('web', '/api/v1/alliance/chain?unit=C7F&at=2025-06-01');
        assert.deepEqual(chain.json.chains.OPCON.map((r) => r.from), ['PACFLT', 'INDOPACOM', 'USA-SECDEF']);
        const yes = await get('web', '/api/v1/alliance/can-task?from=INDOPACOM&to=C7F&at=2025-06-01');
        assert.equal(yes.json.allowed, true);
        const no = await get('web', '/api/v1/alliance/can-task?from=JJOC&to=C7F&at=2025-06-01');
        assert.equal(no.json.allowed, false);
        const cp = await get('web', '/api/v1/alliance/counterpart?unit=USFJ&at=2025-06-01');
        assert.deepEqual(cp.json.counterparts.map((x) => x.id), ['JJOC']);
        const cpOld = await get('web', '/api/v1/alliance/counterpart?unit=USFJ&at=2024-06-01');
        assert.deepEqual(cpOld.json.counterparts.map((x) => x.id), ['JSO']);
        const forums = await get('web', '/api/v1/alliance/forums?at=2025-06-01');
        assert.ok(forums.json.forums.some((f) => f.id === 'BOCC' && f.members.includes('JJOC')));
        assert.equal((await get('web', '/api/v1/alliance/chain?unit=NOPE')).status, 404);
        assert.equal((await get('web', '/api/v1/alliance/chain')).status, 400);
        assert.equal((await get('web', '/api/v1/alliance/chain?unit=C7F&at=yesterday')).status, 400);
    });

    test('path over REST gives the same numbers', async () => {
        const r = await get('web', '/api/v1/alliance/path?from=JJOC&to=C7F&at=2025-06-10T09:00%2B09:00&via=INDOPACOM');
        assert.equal(r.status, 200, JSON.stringify(r.json));
        assert.equal(r.json.routes[0].response_s, 23.5 * 3600);
        const c = await get('web', '/api/v1/alliance/path?compare=1&at=2025-06-10T00:00Z');
        assert.equal(c.json.pairs.length, 6);
    });

    test('release rule: labelled entries are hidden from a caller not in REL TO', async () => {
        fs.copyFileSync(path.join(DATA, 'good.yaml'), file);
        server.proc.kill('SIGHUP');
        await waitUntil(async () => (await get('web', '/api/v1/alliance/show')).json.name === 'test alliance',
            { what: 'reload of the small model' });
        const us = await get('web', '/api/v1/alliance/chain?unit=JFLT&at=2025-01-01');
        assert.equal(us.status, 200);
        const phl = await get('phl', '/api/v1/alliance/chain?unit=JFLT&at=2025-01-01');
        assert.equal(phl.status, 404);
        const show = await get('phl', '/api/v1/alliance/show?at=2025-01-01');
        assert.ok(!JSON.stringify(show.json).includes('JFLT'));
        // Nothing in an answer says that entries were left out, or how many.
        assert.ok(!('hidden' in show.json));
        assert.deepEqual(Object.keys(show.json).sort(), Object.keys((await get('web', '/api/v1/alliance/show?at=2025-01-01')).json).sort());
        // A hidden command is answered exactly like an unknown one, in path too.
        const hiddenPath = await get('phl', '/api/v1/alliance/path?from=JFLT&to=JHQ&at=2025-01-06T09:00Z');
        const unknownPath = await get('phl', '/api/v1/alliance/path?from=NOPE&to=JHQ&at=2025-01-06T09:00Z');
        assert.equal(hiddenPath.status, 404);
        assert.deepEqual(hiddenPath.json, unknownPath.json);
        // Routes between visible commands leave out what the caller may not see.
        const route = await get('phl', '/api/v1/alliance/path?from=FLT&to=JHQ&at=2025-01-06T09:00Z');
        assert.equal(route.status, 200, JSON.stringify(route.json));
        assert.ok(route.json.routes.length > 0);
        assert.ok(!JSON.stringify(route.json).includes('JFLT'));
        const cmp = await get('phl', '/api/v1/alliance/path?compare=1&at=2025-01-06T00:00Z');
        assert.equal(cmp.status, 200, JSON.stringify(cmp.json));
        assert.ok(!JSON.stringify(cmp.json).includes('JFLT'));
    });

    test('hot reload: a bad file is refused and the old model keeps serving', async () => {
        fs.copyFileSync(path.join(DATA, 'bad-cycle.yaml'), file);
        server.proc.kill('SIGHUP');
        await waitUntil(() => /reload refused, keeping the previous model/.test(server.stderr),
            { what: 'the refusal in the log' });
        assert.match(server.stderr, /bad-cycle|alliance\.yaml:41: OPCON from SHIP to COMP closes a cycle/);
        const show = await get('web', '/api/v1/alliance/show');
        assert.equal(show.json.name, 'test alliance');
        fs.copyFileSync(SHIPPED, file);
        server.proc.kill('SIGHUP');
        await waitUntil(async () => (await get('web', '/api/v1/alliance/show')).json.name.startsWith('US-Japan'),
            { what: 'reload of the shipped model' });
    });
});
