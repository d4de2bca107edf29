// 22-readiness-durability: a 201 from POST /api/v1/readiness means
// committed.  Kill the server with SIGKILL right after the answers, start it
// again on the same data directory, and every report must be back with its
// history, still filtered by the release rule per identity.  A report whose
// client hung up before the answer is committed all the same.

import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { httpInput, identity, makeConfig, request, SOURCE_DIR, startServer, waitUntil } from './lib/harness.mjs';

const SHIPPED = path.join(SOURCE_DIR, 'config/alliance/us-japan.yaml');
const DELAY_MS = 150;

const input = (name, nation, clearance = 'SECRET') =>
    httpInput(name, ['Cyan'], ['Cyan'], { identity: identity(`${name}-user`, ['Cyan'], ['Cyan'], { nation, clearance }) });

describe('readiness durability across kill -9', () => {
    let server;

    before(async () => {
        // A long batch window: an answer that came before the commit would show.
        const config = makeConfig({
            inputs: [input('us', 'USA'), input('jp', 'JPN'), input('us-low', 'USA', 'CONFIDENTIAL')],
            store: { max_delay_ms: DELAY_MS },
        });
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
    const units = async (who) => (await get(who, '/api/v1/readiness')).reports.map((x) => x.unit).sort();

    // Reports from each nation; C7F has a history of three, one with an override.
    const reports = [
        ['us', { unit: 'C7F', p: 1, s: 2, r: 3, t: 1, time: '2025-01-01T00:00:00Z', remarks: 'hull maintenance' }],
        ['us', { unit: 'C7F', p: 1, s: 1, r: 1, t: 1, time: '2025-03-01T00:00:00Z' }],
        ['us', { unit: 'C7F', p: 2, s: 1, r: 1, t: 4, overall: 2, reason_code: 'T', override_reason: 'training waived', time: '2025-02-01T00:00:00Z' }],
        ['us', { unit: 'IIIMEF', p: 1, s: 1, r: 1, t: 2, label: 'SECRET//REL TO USA, JPN' }],
        ['jp', { unit: 'JMSDF-SDF', p: 2, s: 2, r: 2, t: 2 }],
    ];

    const checkAll = async (when) => {
        assert.deepEqual(await units('us'), ['C7F', 'IIIMEF', 'USARJ'], when);
        assert.deepEqual(await units('jp'), ['IIIMEF', 'JMSDF-SDF'], when);
        assert.deepEqual(await units('us-low'), [], when);
        const h = (await get('us', '/api/v1/readiness?unit=C7F&history=1')).history;
        assert.deepEqual(h.map((x) => x.time), ['2025-01-01T00:00:00.000Z', '2025-02-01T00:00:00.000Z',
            '2025-03-01T00:00:00.000Z'], when);
        assert.deepEqual(h.map((x) => x.overall), [3, 2, 1], when);
        assert.equal(h[0].remarks, 'hull maintenance', when);
        assert.equal(h[0].reporter, 'us-user', when);
        assert.equal(h[1].override_reason, 'training waived', when);
        assert.equal(h[1].reason_code, 'T', when);
        assert.ok(h.every((x) => x.label === 'SECRET//NOFORN'), when);
        const latest = (await get('us', '/api/v1/readiness?unit=C7F')).reports;
        assert.equal(latest.length, 1, when);
        assert.equal(latest[0].time, '2025-03-01T00:00:00.000Z', when);
        // A Japanese caller sees none of C7F's history, and no sign of it.
        assert.deepEqual((await get('jp', '/api/v1/readiness?unit=C7F&history=1')).history, [], when);
        const iii = (await get('jp', '/api/v1/readiness?unit=IIIMEF&history=1')).history;
        assert.equal(iii.length, 1, when);
        assert.equal(iii[0].label, 'SECRET//REL TO USA, JPN', when);
        const roll = await get('jp', '/api/v1/readiness/rollup?command=INDOPACOM');
        assert.equal(roll.units, 1, when);
    };

    test('POST answers 201 only after the commit', async () => {
        for (const [who, body] of reports) {
            const t0 = Date.now();
            const r = await post(who, body);
            assert.equal(r.status, 201, r.body);
            assert.equal(r.json().unit, body.unit);
            assert.ok(Date.now() - t0 >= DELAY_MS - 20, `201 after ${Date.now() - t0} ms, batch window ${DELAY_MS} ms`);
        }
    });

    test('a report whose client hangs up before the answer is still committed', async () => {
        const body = JSON.stringify({ unit: 'USARJ', p: 2, s: 1, r: 1, t: 1, remarks: 'gone before the ack' });
        await new Promise((resolve, reject) => {
            const sock = net.connect(server.port('us'), '127.0.0.1', () => {
                sock.write(`POST /api/v1/readiness HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n` +
                    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`, () => {
                    sock.destroy();
                    resolve();
                });
            });
            sock.on('error', reject);
        });
        await waitUntil(async () => (await units('us')).includes('USARJ'), { what: 'USARJ committed after the hang-up' });
    });

    test('kill -9 and restart: every report and its history are back, per identity', async () => {
        await checkAll('before kill -9');
        await server.kill9();
        await server.restart();
        assert.match(server.stderr, /readiness: reports restored.*loaded=6 skipped=0/);
        await checkAll('after kill -9 and restart');
        // Twice: a restart does not duplicate what it loaded.
        await server.kill9();
        await server.restart();
        await checkAll('after a second restart');
        assert.equal((await get('us', '/api/v1/readiness?unit=C7F&history=1')).history.length, 3);
    });
});
