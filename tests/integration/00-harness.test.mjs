// 00-harness: the harness itself cannot swallow a crash.  A server that dies
// behind the test's back (SIGKILL, SIGSEGV, a sanitizer abort) is reported
// with its exit status and stderr by stop(), restart() and kill9(); stderr
// survives a restart.  Each case kills the real binary behind the harness's
// back and asserts that the harness's check reports it, so this file passes
// exactly when the harness would fail a test that hit the same crash.

import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { startServer } from './lib/harness.mjs';

const servers = [];

async function fresh() {
    const s = await startServer();
    servers.push(s);
    return s;
}

after(() => {
    for (const s of servers) s.cleanup();
});

// The signal a process dies of: under AddressSanitizer (abort_on_error=1) a
// SIGSEGV is caught, reported and turned into SIGABRT.
function died(signal) {
    return signal === 'SIGSEGV' ? '(SIGSEGV|SIGABRT)' : signal;
}

describe('the harness reports exits nobody asked for', () => {
    for (const signal of ['SIGKILL', 'SIGSEGV']) {
        test(`${signal} behind the harness's back fails stop()`, async () => {
            const server = await fresh();
            server.proc.kill(signal);
            await server.exited;
            await assert.rejects(server.stop(), (e) => {
                assert.match(e.message, new RegExp(`exited without being asked \\(code=null signal=${died(signal)}\\)`));
                assert.match(e.message, /stderr tail:/);
                return true;
            });
            assert.deepEqual(server.exitProblems(), [], 'an exit is reported once, not again at process exit');
        });
    }

    test('a crash before restart() fails the restart, with the stderr of the run that crashed', async () => {
        const server = await fresh();
        const firstRun = server.stderr;
        assert.ok(firstRun.length > 0, 'kizuna serve logs something at startup');
        server.proc.kill('SIGSEGV');
        await server.exited;
        await assert.rejects(server.restart(), (e) => {
            assert.match(e.message, new RegExp(`signal=${died('SIGSEGV')}`));
            assert.ok(e.message.includes(firstRun.trim().split('\n')[0]), 'the report carries the crashed run\'s stderr');
            return true;
        });
        assert.match(server.exitInfo.signal, new RegExp(died('SIGSEGV')));
    });

    test('sanitizer output of a process that aborts is in the exit report', async () => {
        const server = await fresh();
        await server.stop();
        // A stand-in for an ASan abort: the report on stderr, then SIGABRT.
        server.spawn('/bin/sh', ['-c',
            'echo "==42==ERROR: AddressSanitizer: heap-use-after-free on address 0x1" >&2; kill -ABRT $$']);
        await server.exited;
        const [report, ...more] = server.exitProblems();
        assert.deepEqual(more, []);
        assert.match(report, /signal=SIGABRT/);
        assert.match(report, /AddressSanitizer: heap-use-after-free/);
        assert.throws(() => server.check(false), /AddressSanitizer/, 'check() also flags the sanitizer line');
    });

    test('an exit the test asked for (kill9, stop) is not a problem; stderr is kept across restarts', async () => {
        const server = await fresh();
        const firstRun = server.stderr;
        await server.kill9();
        await server.restart();
        assert.ok(server.stderr.startsWith(firstRun), 'restart() kept the first run\'s stderr');
        assert.match(server.stderr, /----- harness: run 2 of kizuna serve -----/);
        await server.restart();
        assert.match(server.stderr, /----- harness: run 3 of kizuna serve -----/);
        await server.stop();
        assert.deepEqual(server.exitProblems(), []);
    });
});
