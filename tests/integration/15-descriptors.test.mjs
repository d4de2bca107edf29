// 15-descriptors: the server checks limits.max_connections against
// RLIMIT_NOFILE at start, and when descriptors run out anyway (EMFILE) the
// refusal is logged and counted, and HTTP answers again once descriptors
// free up (security review F13).  The server runs under util-linux prlimit.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';

import {
    CotClient, httpInput, makeConfig, metric, request, Server, tcpInput, toYaml, waitUntil,
} from './lib/harness.mjs';

const NOFILE = 512;

// A server whose soft and hard RLIMIT_NOFILE are `nofile` from the start.
function limitedServer(nofile, limits) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kizuna-it-'));
    const dataDir = path.join(dir, 'data');
    fs.mkdirSync(dataDir, { recursive: true });
    const server = new Server({ dir, dataDir });
    server.config = makeConfig({ inputs: [tcpInput('us'), httpInput('web')], limits });
    const spawn = server.spawn.bind(server);
    server.spawn = (bin, args) => spawn('prlimit', [`--nofile=${nofile}:${nofile}`, '--', bin, ...args]);
    return server;
}

describe('descriptor limits (F13)', () => {
    const servers = [];

    after(async () => {
        for (const s of servers) {
            if (!s.exitInfo) await s.stop({ expectErrors: true });
            s.cleanup();
        }
    });

    test('a configuration that needs more descriptors than the limit is refused at start', async () => {
        const server = limitedServer(NOFILE, { max_connections: 400 });
        servers.push(server);
        await assert.rejects(server.start(), (e) => {
            assert.match(e.message, /descriptor limit too low for limits.max_connections/);
            assert.match(e.message, /max_connections=400 needed=596 \(400 CoT \+ 196 reserve for HTTP and the rest\) limit=512/);
            assert.match(e.message, /lower limits.max_connections to 316/);
            return true;
        });
    });

    test('out of descriptors: refusals are logged and counted, /healthz answers once they free up', async () => {
        const server = limitedServer(NOFILE, { max_connections: 64 });
        servers.push(server);
        await server.start();
        assert.match(server.stderr, /descriptor budget.*needed=260 limit=512/);
        const web = server.port('web');
        assert.equal((await request(web, 'GET', '/healthz')).status, 200);

        // Leave the server a handful of descriptors, well below max_connections.
        const pid = server.proc.pid;
        const used = fs.readdirSync(`/proc/${pid}/fd`).length;
        const limit = used + 8;
        execFileSync('prlimit', ['--pid', String(pid), `--nofile=${limit}:${limit}`]);

        const clients = [];
        for (let i = 0; i < 30; i++) clients.push(await CotClient.connect(server.port('us')));
        await waitUntil(() => /connection refused: out of file descriptors.*input=us/.test(server.stderr),
            { timeout: 5000, what: 'the EMFILE log line' });
        await waitUntil(() => clients.some((c) => c.closed), { what: 'a refused connection closed' });
        const lines = server.stderr.match(/out of file descriptors/g).length;
        assert.ok(lines <= 3, `the EMFILE line is rate-limited (${lines} lines)`);

        // Free the descriptors: HTTP answers again, and the refusals were counted.
        for (const c of clients) c.close();
        await waitUntil(async () => {
            try {
                return (await request(web, 'GET', '/healthz', { timeout: 1000 })).status === 200;
            } catch {
                return false;
            }
        }, { timeout: 10000, interval: 200, what: '/healthz after descriptors freed up' });
        assert.ok(await metric(web, 'kizuna_accept_errors_total', { reason: 'emfile' }) > 0);
        await server.stop();
    });

    test('a reload whose max_connections does not fit is refused; the running configuration stays', async () => {
        const server = limitedServer(NOFILE, { max_connections: 64 });
        servers.push(server);
        await server.start();
        const refusals = () => (server.stderr.match(/reload: configuration refused/g) || []).length;
        fs.writeFileSync(server.configPath,
            toYaml({ ...server.config, limits: { ...server.config.limits, max_connections: 400 } }));
        server.proc.kill('SIGHUP');
        await waitUntil(() => refusals() > 0, { what: 'the reload refusal' });
        assert.match(server.stderr, /descriptor limit too low for limits.max_connections" max_connections=400/);
        assert.doesNotMatch(server.stderr, /reload: configuration applied/);
        assert.equal((await request(server.port('web'), 'GET', '/healthz')).status, 200);
        await server.stop({ expectErrors: true });
    });
});
