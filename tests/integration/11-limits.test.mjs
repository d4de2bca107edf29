// 11-limits: the connection limit refuses the connection over it (and is
// counted) while the others carry on; a silent connection is closed after
// limits.idle_timeout_s, one that keeps talking stays open past it.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
    barrier, CotClient, httpInput, metric, pingEvent, startServer, tcpInput, waitUntil,
} from './lib/harness.mjs';

describe('connection limits', () => {
    let server;

    before(async () => {
        server = await startServer({
            inputs: [tcpInput('us'), httpInput('web')],
            limits: { max_connections: 2, idle_timeout_s: 3 },
        });
    });

    after(async () => {
        await server.stop();
        server.cleanup();
    });

    test('the connection over max_connections is refused and counted; the others carry on', async () => {
        const web = server.port('web');
        const refused0 = await metric(web, 'kizuna_connection_refusals_total');
        const a = await CotClient.connect(server.port('us'), { name: 'a' });
        const b = await CotClient.connect(server.port('us'), { name: 'b' });
        await waitUntil(async () => (await metric(web, 'kizuna_connections', { kind: 'cot' })) === 2,
            { what: 'two CoT connections' });
        const c = await CotClient.connect(server.port('us'), { name: 'c' });
        await c.waitClosed(5000);
        assert.equal(await metric(web, 'kizuna_connection_refusals_total'), refused0 + 1);
        await barrier(a, [b]);
        await a.close();
        await b.close();
    });

    test('a connection silent for idle_timeout_s is closed', async () => {
        const quiet = await CotClient.connect(server.port('us'), { name: 'quiet' });
        const t0 = Date.now();
        await quiet.waitClosed(8000);
        const waited = Date.now() - t0;
        assert.ok(waited >= 2900, `closed after ${waited} ms, before the 3 s idle timeout`);
    });

    // The silent connection opened beside it is the clock: when the server closes that one, the
    // talker has outlived an idle timeout, and it must outlive a second one as well.
    test('a connection that keeps talking survives idle_timeout_s', async () => {
        const talker = await CotClient.connect(server.port('us'), { name: 'talker' });
        const quiet = await CotClient.connect(server.port('us'), { name: 'quiet-clock' });
        const ping = async () => {
            const from = talker.events.length;
            await talker.send(pingEvent());
            await talker.waitFor((e) => e.type === 't-x-c-t-r', { what: 'pong', from });
            await new Promise((r) => setTimeout(r, 500));
        };
        while (!quiet.closed) await ping();
        const second = await CotClient.connect(server.port('us'), { name: 'quiet-clock-2' });
        while (!second.closed) await ping();
        assert.equal(talker.closed, false, 'the talking connection was closed as idle');
        await ping();
        await talker.close();
    });
});
