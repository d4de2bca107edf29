// 21-readiness: readiness reports through REST and the CLI on the real
// binary with the shipped alliance file: overall = worst, history, roll-up,
// the stale flag, and visibility per identity (a report is national unless
// its label releases it).

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { httpInput, identity, makeConfig, request, runCli, SOURCE_DIR, startServer } from './lib/harness.mjs';

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
        assert.equal(r.json().label, 'SECRET');
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
});
