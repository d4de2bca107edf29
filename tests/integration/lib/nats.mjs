// nats.mjs - a real nats-server (Debian's) for the cluster tests: a free port on 127.0.0.1,
// a temporary directory, JetStream on (-js, for the latest-state KV), stopped by pid.  Every
// wait is bounded.  `restart()` brings it back on the same port (the instances' reconnects).
// `maxPayload`: the server's max_payload (bytes), through a configuration file.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { freePort, waitUntil, withTimeout } from './harness.mjs';

const NATS_BIN = process.env.NATS_SERVER_BIN || 'nats-server';
const live = new Set();

process.on('exit', () => {
    for (const p of live) {
        try { process.kill(p.pid, 'SIGKILL'); } catch { /* gone */ }
    }
});

export { freePort };

function canConnect(port) {
    return new Promise((resolve) => {
        const s = net.connect({ port, host: '127.0.0.1' });
        s.once('data', (d) => { s.destroy(); resolve(String(d).startsWith('INFO')); });
        s.once('error', () => resolve(false));
        s.setTimeout(500, () => { s.destroy(); resolve(false); });
    });
}

export class NatsServer {
    constructor(port, dir, { maxPayload } = {}) {
        this.port = port;
        this.dir = dir;
        this.maxPayload = maxPayload;
        this.url = `nats://127.0.0.1:${port}`;
        this.log = '';
        this.proc = null;
    }

    async start() {
        const args = ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', path.join(this.dir, 'js')];
        if (this.maxPayload) {
            const conf = path.join(this.dir, 'nats.conf');
            fs.writeFileSync(conf, `max_payload: ${this.maxPayload}\n`);
            args.push('-c', conf);
        }
        const proc = spawn(NATS_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
        this.proc = proc;
        live.add(proc);
        proc.stdout.on('data', (d) => { this.log += d; });
        proc.stderr.on('data', (d) => { this.log += d; });
        proc.exited = new Promise((resolve) => proc.once('exit', () => { live.delete(proc); resolve(); }));
        await waitUntil(async () => proc.exitCode === null && canConnect(this.port),
            { timeout: 10000, interval: 50, what: `nats-server on port ${this.port}` });
        return this;
    }

    // SIGTERM by pid, SIGKILL after 5 s.
    async stop() {
        const proc = this.proc;
        if (!proc || proc.exitCode !== null) return;
        this.proc = null;
        proc.kill('SIGTERM');
        try {
            await withTimeout(proc.exited, 5000, 'nats-server to exit');
        } catch {
            proc.kill('SIGKILL');
            await withTimeout(proc.exited, 5000, 'nats-server to die');
        }
    }

    async kill9() {
        const proc = this.proc;
        if (!proc) return;
        this.proc = null;
        proc.kill('SIGKILL');
        await withTimeout(proc.exited, 5000, 'nats-server to die');
    }

    async restart() {
        await this.stop();
        return this.start();
    }

    cleanup() {
        fs.rmSync(this.dir, { recursive: true, force: true });
    }
}

export async function startNats(opts = {}) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kizuna-nats-'));
    const n = new NatsServer(await freePort(), dir, opts);
    try {
        return await n.start();
    } catch (e) {
        await n.stop();
        n.cleanup();
        throw e;
    }
}
