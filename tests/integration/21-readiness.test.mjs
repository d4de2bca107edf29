// 21-readiness: readiness reports through REST and the CLI on the real
// binary with the shipped alliance file: overall = worst, history, roll-up,
// the stale flag, and visibility per identity (a report is national unless
// its label releases it).  Then, on a model with a NOFORN command, what CoT
// obeys holds for readiness too: the input's ceiling and the group rule
// (security review F18), also after a restart, and a command hidden from
// the caller is answered like an unknown one and never reported on (F19).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
    cotEvent, httpInput, identity, makeConfig, postEvent, request, runCli, SOURCE_DIR, startServer,
} from './lib/harness.mjs';

const SHIPPED = path.join(SOURCE_DIR, 'config/alliance/us-japan.yaml');

const input = (name, nation, clearance = 'SECRET') =>
    httpInput(name, ['Cyan'], ['Cyan'], { identity: identity(`${name}-user`, ['Cyan'], ['Cyan'], { nation, clearance }) });

describe('readiness', () => {
    let server;

    before(async () => {
        const config = makeConfig({ inputs: [input('us', 'USA'), input('jp', 'JPN'), input('us-low', 'USA', 'CONFIDENTIAL')] });
        config.alliance = SHIPPED;
        server = await startServer({ config });
    });

    after(async () => {
        await server.stop();
        server.cleanup();
    });

    const post = (who, body) => request(server.port(who), 'POST', '/api/v1/readiness',
        { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    const get = async (who, p) => {
        const r = await request(server.port(who), 'GET', p);
        assert.equal(r.status, 200, r.body);
        return r.json();
    };

    test('report: overall is the worst area; bad reports are refused', async () => {
        const r = await post('us', { unit: 'C7F', p: 1, s: 2, r: 3, t: 1, remarks: 'hull maintenance' });
        assert.equal(r.status, 201, r.body);
        assert.equal(r.json().overall, 3);
        assert.equal(r.json().label, 'SECRET//NOFORN'); // national by default (review item 6)
        assert.equal((await post('us', { unit: 'C7F', p: 0, s: 1, r: 1, t: 1 })).status, 400);
        assert.equal((await post('us', { unit: 'NOPE', p: 1, s: 1, r: 1, t: 1 })).status, 400);
        // A Japanese identity may not report for a US unit.
        assert.equal((await post('jp', { unit: 'C7F', p: 1, s: 1, r: 1, t: 1 })).status, 403);
    });

    test('visibility per identity through the release rule', async () => {
        assert.equal((await post('us', { unit: 'IIIMEF', p: 1, s: 1, r: 1, t: 2, label: 'SECRET//REL TO USA, JPN' })).status, 201);
        assert.equal((await post('jp', { unit: 'JMSDF-SDF', p: 2, s: 2, r: 2, t: 2 })).status, 201);
        const us = (await get('us', '/api/v1/readiness')).reports.map((x) => x.unit).sort();
        const jp = (await get('jp', '/api/v1/readiness')).reports.map((x) => x.unit).sort();
        const low = (await get('us-low', '/api/v1/readiness')).reports;
        assert.deepEqual(us, ['C7F', 'IIIMEF']);
        assert.deepEqual(jp, ['IIIMEF', 'JMSDF-SDF']);
        assert.deepEqual(low, []);
    });

    test('history, stale flag and roll-up under a command', async () => {
        assert.equal((await post('us', { unit: 'C7F', p: 1, s: 1, r: 1, t: 1, time: '2024-01-01T00:00:00Z' })).status, 201);
        const h = (await get('us', '/api/v1/readiness?unit=C7F&history=1')).history;
        assert.equal(h.length, 2);
        assert.equal(h[0].time, '2024-01-01T00:00:00.000Z');
        assert.equal(h[0].stale, true);
        assert.equal(h[1].stale, false);
        const roll = await get('us', '/api/v1/readiness/rollup?command=INDOPACOM');
        assert.equal(roll.units, 2);
        assert.equal(roll.by_level.C3, 1);
        assert.equal(roll.by_level.C2, 1);
        const jroll = await get('jp', '/api/v1/readiness/rollup?command=INDOPACOM');
        assert.equal(jroll.units, 1); // only IIIMEF is releasable to JPN
    });

    test('CLI: report, list, history, rollup', async () => {
        const s = ['-s', `127.0.0.1:${server.port('us')}`];
        let r = await runCli(['readiness', 'report', ...s, 'USARJ', '2', '1', '1', '1', '--remarks', 'manning']);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(JSON.parse(r.stdout).overall, 2);
        r = await runCli(['readiness', 'list', ...s, 'USARJ']);
        assert.equal(JSON.parse(r.stdout).reports[0].unit, 'USARJ');
        r = await runCli(['readiness', 'rollup', ...s, 'INDOPACOM']);
        assert.equal(JSON.parse(r.stdout).units, 3);
        r = await runCli(['readiness', 'report', ...s, 'USARJ', '9', '1', '1', '1']);
        assert.equal(r.code, 2);
        r = await runCli(['readiness', 'report', ...s, 'NOPE', '1', '1', '1', '1']);
        assert.equal(r.code, 1);
        assert.match(r.stderr, /unknown unit/);
        assert.equal((await runCli(['readiness', '--help'])).code, 0);
    });

    test('level 6 is "not measured"; no subjective C-5; overrides carry a reason code (item 23)', async () => {
        let r = await post('us', { unit: 'C7F', p: 1, s: 6, r: 2, t: 1 });
        assert.equal(r.status, 201, r.body);
        assert.equal(r.json().s, 6);
        assert.equal(r.json().overall, 2);
        r = await post('us', { unit: 'C7F', p: 1, s: 1, r: 3, t: 1, overall: 5, reason_code: 'OTHER', override_reason: 'x' });
        assert.equal(r.status, 400);
        assert.match(r.body, /C-5 means a Service-directed resource action/);
        r = await post('us', { unit: 'C7F', p: 1, s: 1, r: 3, t: 1, overall: 2, override_reason: 'spares' });
        assert.equal(r.status, 400);
        assert.match(r.body, /reason_code/);
        r = await post('us', { unit: 'C7F', p: 1, s: 1, r: 3, t: 1, overall: 2, reason_code: 'R', override_reason: 'spares' });
        assert.equal(r.status, 201, r.body);
        assert.equal(r.json().reason_code, 'R');
        const h = (await get('us', '/api/v1/readiness?unit=C7F&history=1')).history;
        assert.equal(h.at(-1).reason_code, 'R');
        const s = ['-s', `127.0.0.1:${server.port('us')}`];
        let c = await runCli(['readiness', 'report', ...s, 'USARJ', '1', '6', '1', '1']);
        assert.equal(c.code, 0, c.stderr);
        assert.equal(JSON.parse(c.stdout).s, 6);
        c = await runCli(['readiness', 'report', ...s, 'USARJ', '1', '1', '3', '1', '--overall', '2',
            '--reason-code', 'MISSION', '--reason', 'tasked for HADR']);
        assert.equal(c.code, 0, c.stderr);
        assert.equal(JSON.parse(c.stdout).reason_code, 'MISSION');
    });
});

// The small test model plus JCT, a USA command labelled NOFORN, under which SHIP is placed for
// the roll-up.
const GOOD = path.join(SOURCE_DIR, 'tests/unit/data/alliance/good.yaml');
const withNoforn = () => fs.readFileSync(GOOD, 'utf8').replace('relationships:\n',
    '  - {id: JCT, name: joint task force, nation: USA, service: joint, kind: jtf, tz: Asia/Tokyo,\n' +
    '     label: "SECRET//NOFORN"}\nrelationships:\n');

describe('readiness: ceiling, groups and hidden commands', () => {
    let server;
    let dir;
    const who = (name, nation, groups = ['Cyan'], extra = {}) => httpInput(name, groups, groups,
        { identity: identity(`${name}-user`, groups, groups, { nation, clearance: 'SECRET' }), ...extra });

    before(async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kizuna-readiness-'));
        const file = path.join(dir, 'alliance.yaml');
        fs.writeFileSync(file, withNoforn());
        const config = makeConfig({
            inputs: [
                who('us', 'USA'), who('jp', 'JPN'), who('us-red', 'USA', ['Red']),
                who('us-ceil', 'USA', ['Cyan'], { ceiling: 'UNCLASSIFIED' }),
            ],
        });
        config.alliance = file;
        server = await startServer({ config });
    });

    after(async () => {
        await server.stop();
        server.cleanup();
        fs.rmSync(dir, { recursive: true, force: true });
    });

    const post = (name, body) => request(server.port(name), 'POST', '/api/v1/readiness',
        { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    const get = async (name, p) => {
        const r = await request(server.port(name), 'GET', p);
        assert.equal(r.status, 200, r.body);
        return r.json();
    };
    const units = async (name) => (await get(name, '/api/v1/readiness')).reports.map((x) => x.unit).sort();
    const levels = { p: 1, s: 1, r: 1, t: 1 };

    test('F18: a report above the input ceiling is refused as CoT is', async () => {
        const cot = await postEvent(server.port('us-ceil'), cotEvent({ access: 'SECRET' }));
        assert.equal(cot.status, 400);
        for (const label of ['TOP SECRET//NOFORN', 'SECRET', undefined]) {
            const r = await post('us-ceil', { unit: 'FLT', ...levels, ...(label ? { label } : {}) });
            assert.equal(r.status, 400, `${label}: ${r.body}`);
            assert.deepEqual(r.json(), cot.json(), 'the same answer as CoT above the ceiling');
        }
        assert.equal((await post('us-ceil', { unit: 'FLT', ...levels, label: 'UNCLASSIFIED' })).status, 201);
        assert.deepEqual(await units('us-ceil'), ['FLT']);
    });

    test('F18: a report goes to the groups its reporter sends to, as CoT does', async () => {
        assert.equal((await post('us-red', { unit: 'SHIP', ...levels, label: 'SECRET//REL TO USA, JPN' })).status, 201);
        assert.equal((await post('us', { unit: 'COMP', ...levels, label: 'UNCLASSIFIED' })).status, 201);
        assert.deepEqual(await units('us-red'), ['SHIP']);
        assert.deepEqual(await units('us'), ['COMP', 'FLT']);
        assert.deepEqual(await units('jp'), ['COMP', 'FLT']);
        assert.deepEqual((await get('us', '/api/v1/readiness?unit=SHIP&history=1')).history, []);
        assert.equal((await get('us', '/api/v1/readiness/rollup?command=CCMD')).units, 2);
        assert.equal((await get('us-red', '/api/v1/readiness/rollup?command=CCMD')).units, 1);
    });

    test('F19: a hidden command is answered exactly like an unknown one', async () => {
        const hidden = await post('jp', { unit: 'JCT', ...levels });
        const unknown = await post('jp', { unit: 'NOPE', ...levels });
        assert.equal(hidden.status, unknown.status);
        assert.equal(hidden.body.replace('JCT', 'X'), unknown.body.replace('NOPE', 'X'));
        // A caller who may see it still gets the nation rule.
        assert.equal((await post('us', { unit: 'JFLT', ...levels })).status, 403);
    });

    test('F19: reports about a hidden command are never served', async () => {
        // Its own label releases this report to JPN; the command's does not.
        assert.equal((await post('us', { unit: 'JCT', ...levels, label: 'SECRET//REL TO USA, JPN' })).status, 201);
        assert.ok((await units('us')).includes('JCT'));
        assert.ok(!(await units('jp')).includes('JCT'));
        assert.deepEqual((await get('jp', '/api/v1/readiness?unit=JCT')).reports, []);
        const h = await get('jp', '/api/v1/readiness?unit=JCT&history=1');
        const hn = await get('jp', '/api/v1/readiness?unit=NOPE&history=1');
        assert.deepEqual({ ...h, unit: 'X' }, { ...hn, unit: 'X' });
        const roll = await get('jp', '/api/v1/readiness/rollup?command=JCT');
        const rollNope = await get('jp', '/api/v1/readiness/rollup?command=NOPE');
        assert.deepEqual({ ...roll, command: 'X' }, { ...rollNope, command: 'X' });
        assert.equal((await get('us', '/api/v1/readiness/rollup?command=JCT')).units, 1);
    });

    test('F18: the groups are stored with the report: the rule holds after a restart', async () => {
        await server.kill9();
        await server.restart();
        assert.deepEqual(await units('us-red'), ['SHIP']);
        assert.deepEqual(await units('us'), ['COMP', 'FLT', 'JCT']);
        assert.deepEqual(await units('jp'), ['COMP', 'FLT']);
    });
});
