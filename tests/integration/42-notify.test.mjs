// 42-notify: systemd's notify protocol and /readyz.  The test owns a unix
// datagram socket (a small Python listener: Node has no AF_UNIX datagrams)
// and starts the server with NOTIFY_SOCKET pointing at it and
// WATCHDOG_USEC set, as systemd does for Type=notify with WatchdogSec=.
// READY=1 arrives only once every input listens (after the ports file is
// written), /readyz then answers 200, WATCHDOG=1 keeps arriving, SIGHUP is
// framed by RELOADING=1 and READY=1, and SIGTERM sends STOPPING=1.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { after, describe, test } from 'node:test';

import { httpInput, request, startServer, tcpInput, waitUntil } from './lib/harness.mjs';

// Prints one JSON line per datagram: {"t": wall-clock ms, "msg": "..."}.
const LISTEN = `
import json, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print(json.dumps({"t": 0, "msg": "bound"}), flush=True)
while True:
    data = s.recv(65536)
    print(json.dumps({"t": time.time() * 1000, "msg": data.decode()}), flush=True)
`;

function listen(sock) {
    const py = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
    const child = spawn(py, ['-c', LISTEN, sock], { stdio: ['ignore', 'pipe', 'inherit'] });
    const got = [];
    readline.createInterface({ input: child.stdout }).on('line', (l) => got.push(JSON.parse(l)));
    return { child, got };
}

const has = (got, re, from = 0) => got.slice(from).findIndex((d) => re.test(d.msg)) >= 0;

describe('systemd notify and readiness', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kizuna-notify-'));
    let server;
    let l;

    after(async () => {
        if (server) {
            await server.stop().catch(() => {});
            server.cleanup();
        }
        l?.child.kill();
        fs.rmSync(tmp, { recursive: true, force: true });
    });

    test('READY=1 after the ports file, the watchdog, reload and stop', async () => {
        const sock = path.join(tmp, 'notify.sock');
        l = listen(sock);
        await waitUntil(() => l.got.length > 0, { what: 'the notify listener to bind' });
        server = await startServer({
            inputs: [tcpInput('us'), httpInput('web')],
            env: { NOTIFY_SOCKET: sock, WATCHDOG_USEC: '200000' },
        });
        await waitUntil(() => has(l.got, /^READY=1/m), { what: 'READY=1' });
        const ready = l.got.find((d) => /^READY=1/m.test(d.msg));
        const portsAt = fs.statSync(server.portsPath).mtimeMs;
        assert.ok(portsAt <= ready.t + 1, `READY=1 at ${ready.t} came before the ports file (${portsAt})`);

        const r = await request(server.port('web'), 'GET', '/readyz');
        assert.equal(r.status, 200, r.body);
        assert.deepEqual(r.json(), { ready: true });
        assert.equal((await request(server.port('web'), 'GET', '/healthz')).status, 200);

        // WATCHDOG_USEC=200 ms: a ping every 100 ms.
        await waitUntil(() => l.got.filter((d) => d.msg === 'WATCHDOG=1').length >= 3,
            { timeout: 3000, what: 'three WATCHDOG=1' });
        assert.match(server.stderr, /systemd watchdog.*interval_ms=100/);

        const before = l.got.length;
        server.proc.kill('SIGHUP');
        await waitUntil(() => has(l.got, /^READY=1/m, before), { what: 'READY=1 after the reload' });
        const seq = l.got.slice(before).map((d) => d.msg).filter((m) => m !== 'WATCHDOG=1');
        assert.match(seq[0], /^RELOADING=1\nSTATUS=reloading\nMONOTONIC_USEC=\d+$/);
        assert.match(seq[1], /^READY=1/);

        const end = l.got.length;
        await server.stop();
        await waitUntil(() => has(l.got, /^STOPPING=1/m, end), { what: 'STOPPING=1' });
        server.cleanup();
        server = undefined;
    });
});
