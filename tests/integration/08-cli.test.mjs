// 08-cli: the client subcommands against a running server, and the exit
// codes of every subcommand and its second-level commands (0 ok, 1 runtime
// error, 2 usage, with the usage on stderr), and `label check`'s exit 2.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
    barrier, CotClient, cotEvent, httpInput, runCli, spawnCli, startServer, tcpInput, uniq,
} from './lib/harness.mjs';

// Every subcommand of `kizuna --help`, and the second-level commands that
// parse options of their own.
const SUBCOMMANDS = ['serve', 'send', 'tail', 'sim', 'version', 'label', 'alliance', 'readiness',
    'plan', 'fed', 'ca', 'cert', 'user', 'audit'];
const PLAN_SUBCOMMANDS = ['create', 'list', 'show', 'edit', 'item', 'approve', 'reject', 'consult',
    'stage', 'audit', 'ics'];
const SUBSUBCOMMANDS = [['label', 'check'], ['alliance', 'check'], ['readiness', 'report'],
    ['readiness', 'list'], ...PLAN_SUBCOMMANDS.map((sub) => ['plan', sub]), ['fed', 'status'],
    ['ca', 'init'],
    ['cert', 'issue'], ['cert', 'revoke'], ['user', 'add'], ['user', 'list'], ['audit', 'list'],
    ['audit', 'verify']];

function freePort() {
    return new Promise((resolve, reject) => {
        const s = net.createServer();
        s.listen(0, '127.0.0.1', () => {
            const { port } = s.address();
            s.close(() => resolve(port));
        });
        s.on('error', reject);
    });
}

describe('usage and exit codes', () => {
    for (const cmd of SUBCOMMANDS) {
        test(`kizuna ${cmd} --help exits 0 and prints usage`, async () => {
            const r = await runCli([cmd, '--help']);
            assert.equal(r.code, 0, r.stderr);
            assert.match(r.stdout, new RegExp(`usage: kizuna ${cmd}`));
        });
        test(`kizuna ${cmd} --no-such-option exits 2`, async () => {
            const r = await runCli([cmd, '--no-such-option']);
            assert.equal(r.code, 2, `${cmd}: ${r.code}\n${r.stderr}`);
            assert.notEqual(r.stderr, '');
            assert.match(r.stderr, new RegExp(`usage: kizuna ${cmd}`), 'the usage goes to stderr');
            assert.equal(r.stdout, '');
        });
    }

    for (const args of SUBSUBCOMMANDS) {
        const name = args.join(' ');
        test(`kizuna ${name}: --help exits 0, an unknown option 2 with the usage on stderr`, async () => {
            const help = await runCli([...args, '--help']);
            assert.equal(help.code, 0, `${name} --help: ${help.code}\n${help.stderr}`);
            assert.match(help.stdout, new RegExp(`usage: kizuna ${args[0]}`));
            const bad = await runCli([...args, '--no-such-option']);
            assert.equal(bad.code, 2, `${name} --no-such-option: ${bad.code}\n${bad.stderr}`);
            assert.match(bad.stderr, new RegExp(`usage: kizuna ${args[0]}`));
            assert.equal(bad.stdout, '');
        });
    }

    test('kizuna label check: 0 and the canonical form for a good label, 2 for a bad one', async () => {
        const ok = await runCli(['label', 'check', 'secret // rel to jpn,usa']);
        assert.equal(ok.code, 0, ok.stderr);
        assert.equal(ok.stdout, 'SECRET//REL TO USA, JPN\n');
        for (const label of ['BOGUS//REL TO USA', 'SECRET//REL TO', '']) {
            const r = await runCli(['label', 'check', label]);
            assert.equal(r.code, 2, `'${label}' -> ${r.code}\n${r.stdout}${r.stderr}`);
            assert.match(r.stderr, /kizuna label check: /, 'the error is on stderr');
        }
        const mixed = await runCli(['label', 'check', 'SECRET//REL TO USA', 'BOGUS']);
        assert.equal(mixed.code, 2, 'one bad label among good ones still exits 2');
        assert.equal((await runCli(['label', 'check'])).code, 2, 'no label at all is a usage error');
    });

    test('kizuna with no or an unknown command exits 2; --help exits 0', async () => {
        assert.equal((await runCli([])).code, 2);
        assert.equal((await runCli(['frobnicate'])).code, 2);
        assert.equal((await runCli(['--help'])).code, 0);
    });

    test('bad option values exit 2', async () => {
        for (const args of [['send', '-s', 'nohostport'], ['tail', '-s', 'host:99999'], ['sim', '-n', '0'],
            ['sim', '-r', 'fast'], ['send', 'a', 'b']]) {
            const r = await runCli(args);
            assert.equal(r.code, 2, `${args.join(' ')} -> ${r.code}\n${r.stderr}`);
        }
    });

    test('kizuna version names itself and its libraries', async () => {
        const r = await runCli(['version']);
        assert.equal(r.code, 0);
        assert.match(r.stdout, /^kizuna 0\.1\.0$/m);
        for (const lib of ['libuv', 'expat', 'sqlite', 'jansson'])
            assert.match(r.stdout, new RegExp(`^${lib} \\d+\\.\\d+`, 'm'));
    });

    test('send to a port nobody listens on exits 1', async () => {
        const port = await freePort();
        const r = await runCli(['send', '-s', `127.0.0.1:${port}`, '-'], { input: cotEvent() });
        assert.equal(r.code, 1, r.stderr);
    });
});

describe('client subcommands against a server', () => {
    let server;
    let watcher;
    let addr;
    let tmp;

    before(async () => {
        server = await startServer({ inputs: [tcpInput('us'), httpInput('web', ['Cyan'])] });
        addr = `127.0.0.1:${server.port('us')}`;
        watcher = await CotClient.connect(server.port('us'), { name: 'watcher' });
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kizuna-cli-'));
    });

    after(async () => {
        await watcher.close();
        await server.stop();
        server.cleanup();
        fs.rmSync(tmp, { recursive: true, force: true });
    });

    test('send FILE delivers every event and reports the count', async () => {
        const uids = [uniq('f1'), uniq('f2'), uniq('f3')];
        const file = path.join(tmp, 'three.xml');
        fs.writeFileSync(file, uids.map((uid) => cotEvent({ uid })).join('\n\n  \t\n'));
        const r = await runCli(['send', '-s', addr, file]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, /sent 3 events/);
        for (const uid of uids) await watcher.waitUid(uid);
    });

    test('send - reads stdin', async () => {
        const uid = uniq('stdin');
        const r = await runCli(['send', '-s', addr], { input: cotEvent({ uid, decl: false }) });
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, /sent 1 events/);
        await watcher.waitUid(uid);
    });

    test('send refuses the whole input when one event is invalid', async () => {
        const ok1 = uniq('ok1');
        const ok2 = uniq('ok2');
        const input = [cotEvent({ uid: ok1 }), cotEvent({ uid: uniq('bad'), point: { lat: 91 } }), cotEvent({ uid: ok2 })].join('\n');
        const r = await runCli(['send', '-s', addr, '-'], { input });
        assert.equal(r.code, 1);
        assert.match(r.stderr, /event 2\b/);
        assert.doesNotMatch(r.stderr, /sent \d+ events/);
        const probe = await CotClient.connect(server.port('us'), { name: 'probe' });
        await barrier(probe, [watcher]);
        await probe.close();
        assert.equal(watcher.has(ok1) || watcher.has(ok2), false, 'send sent part of an invalid input');
    });

    test('send of a missing file exits 1', async () => {
        const r = await runCli(['send', '-s', addr, path.join(tmp, 'nope.xml')]);
        assert.equal(r.code, 1);
    });

    test('tail --json prints replayed and live events as Features; SIGINT exits 0', async () => {
        const old = uniq('tail-old');
        await watcher.send(cotEvent({ uid: old, callsign: 'TAIL-OLD' }));
        const tail = spawnCli(['tail', '-s', addr, '--json']);
        try {
            const parsed = () => tail.lines.map((l) => JSON.parse(l));
            await tail.waitFor(() => parsed().some((f) => f.properties?.uid === old), { what: 'replayed event on tail' });
            const live = uniq('tail-live');
            await watcher.send(cotEvent({ uid: live, callsign: 'TAIL-LIVE', point: { lat: 26.3, lon: 127.8 } }));
            await tail.waitFor(() => parsed().some((f) => f.properties?.uid === live), { what: 'live event on tail' });
            const f = parsed().find((x) => x.properties?.uid === live);
            assert.equal(f.type, 'Feature');
            assert.deepEqual(f.geometry.coordinates.slice(0, 2), [127.8, 26.3]);
            assert.equal(f.properties.callsign, 'TAIL-LIVE');
        } finally {
            const exit = await tail.stop('SIGINT');
            assert.equal(exit.code, 0, tail.stderr);
        }
    });

    test('tail prints one canonical XML event per line', async () => {
        const tail = spawnCli(['tail', '-s', addr]);
        try {
            await tail.waitFor((c) => /connected/.test(c.stderr), { what: 'tail to connect' });
            const uid = uniq('tail-xml');
            await watcher.send(cotEvent({ uid, extra: '<remarks>line one\nline two</remarks>' }));
            const line = await tail.waitFor((c) => c.lines.find((l) => l.includes(uid)), { what: 'XML line' });
            assert.match(line, /^<event [^\n]*<\/event>$/);
            assert.match(line, new RegExp(`uid="${uid}"`));
        } finally {
            assert.equal((await tail.stop('SIGTERM')).code, 0);
        }
    });

    test('sim -n 5 -r 2 --duration 3 sends 5 moving allied units', async () => {
        const from = watcher.events.length;
        const r = await runCli(['sim', '-s', addr, '-n', '5', '-r', '2', '--duration', '3', '--seed', '7']);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, /\d+ events sent/);
        const probe = await CotClient.connect(server.port('us'), { name: 'probe' });
        await barrier(probe, [watcher]);
        await probe.close();
        const sim = watcher.events.slice(from).filter((e) => e.uid?.startsWith('kizuna-sim-'));
        const units = new Map();
        for (const e of sim) units.set(e.uid, [...(units.get(e.uid) || []), e]);
        assert.equal(units.size, 5, `units seen: ${[...units.keys()].join(', ')}`);
        assert.ok(sim.length >= 20 && sim.length <= 40, `${sim.length} reports from 5 units at 2 Hz for 3 s`);
        for (const [uid, reports] of units) {
            const e = reports[reports.length - 1];
            assert.match(e.type, /^a-f-[GSA]-/, `${uid} type ${e.type}`);
            assert.ok(e.callsign && /^[A-Z0-9-]+-\d+$/.test(e.callsign), `${uid} callsign ${e.callsign}`);
            assert.match(e.detail, /<__group name="[^"]+" role="[^"]+"\/>/);
            // sim sends no access attribute, so the input's default label applies.
            assert.equal(e.attrs.access, 'UNCLASSIFIED', 'sim events must take the input default label');
            assert.ok(Date.parse(e.stale) - Date.parse(e.time) >= 30000, 'stale at least 30 s ahead');
            assert.ok(Math.abs(e.point.lat) <= 90 && Math.abs(e.point.lon) <= 180);
            if (reports.length > 1) {
                const a = reports[0].point;
                const b = e.point;
                assert.ok(a.lat !== b.lat || a.lon !== b.lon, `${uid} did not move`);
            }
        }
    });

    test('tail and sim reconnect when the server restarts', async () => {
        await watcher.close();
        const tail = spawnCli(['tail', '-s', addr, '--json']);
        const sim = spawnCli(['sim', '-s', addr, '-n', '2', '-r', '5', '--duration', '30']);
        try {
            await tail.waitFor((c) => c.lines.some((l) => l.includes('kizuna-sim-')), { what: 'sim events on tail' });
            await server.restart({ samePorts: true });
            assert.equal(`127.0.0.1:${server.port('us')}`, addr);
            const mark = tail.lines.length;
            await tail.waitFor((c) => c.lines.length > mark, { timeout: 15000, what: 'tail output after restart' });
            // Fresh positions from the reconnected sim, not only the replay.
            const t0 = Date.now();
            await tail.waitFor((c) => c.lines.slice(mark).map((l) => JSON.parse(l))
                .some((f) => f.properties?.uid?.startsWith('kizuna-sim-') && Date.parse(f.properties.time) > t0),
            { timeout: 15000, what: 'new sim positions after restart' });
        } finally {
            assert.equal((await sim.stop('SIGINT')).code, 0, sim.stderr);
            assert.equal((await tail.stop('SIGINT')).code, 0, tail.stderr);
            watcher = await CotClient.connect(server.port('us'), { name: 'watcher' });
        }
    });

    test('sim and tail run without a server and stop cleanly', async () => {
        const port = await freePort();
        const tail = spawnCli(['tail', '-s', `127.0.0.1:${port}`]);
        await tail.waitFor((c) => /retrying/.test(c.stderr), { what: 'tail retry message' });
        assert.equal((await tail.stop('SIGINT')).code, 0);
        const r = await runCli(['sim', '-s', `127.0.0.1:${port}`, '--duration', '1']);
        assert.equal(r.code, 1, 'sim that never reached a server should fail');
    });
});
