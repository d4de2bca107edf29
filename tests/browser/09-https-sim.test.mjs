// 09-https-sim: the COP as an operations centre opens it, over `https` with a client
// certificate from the node's CA, while `kizuna sim` feeds the node.  Chromium presents
// the viewer's certificate (playwright's client-certificate proxy, which verifies the
// server against the node's CA); the page sees the simulated units its certificate's
// nation may see, and they move.  A browser without a certificate gets no page.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';

import { cotEvent, deleteEvent, runCli, spawnCli, startServer, tcpInput, uniq, withTimeout } from '../integration/lib/harness.mjs';
import { launch, screenshot, waitConn } from './lib/cop.mjs';

const UNITS = 40;

describe('the COP over https with a client certificate, fed by kizuna sim', () => {
    let dir, data, pki, server, browser, sim, page;
    const problems = [];

    const cli = async (...args) => {
        const r = await runCli([...args, '--data', data]);
        assert.equal(r.code, 0, `kizuna ${args.join(' ')}: ${r.stderr}`);
    };

    before(async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kizuna-cop-https-'));
        data = path.join(dir, 'data');
        pki = path.join(data, 'pki');
        await cli('ca', 'init', '--host', 'localhost,127.0.0.1');
        await cli('cert', 'issue', '--user', 'watch-jp', '--nation', 'JPN', '--clearance', 'SECRET', '--groups', 'Cyan');
        server = await startServer({
            dataDir: data,
            inputs: [
                { name: 'cop-tls', protocol: 'https', listen: '127.0.0.1:0', default_label: 'UNCLASSIFIED' },
                tcpInput('sim', ['Cyan'], ['Cyan'], { default_label: 'CONFIDENTIAL//REL TO USA, JPN' }),
                tcpInput('us-ops', ['Cyan'], ['Cyan'], { default_label: 'SECRET//REL TO USA, JPN' }),
            ],
        });
        sim = spawnCli(['sim', '-s', `127.0.0.1:${server.port('sim')}`, '-n', String(UNITS), '-r', '1',
            '--duration', '120', '--seed', '7']);
        // The proxy playwright puts between chromium and the node verifies the node's
        // certificate with Node's default trust store: the node's CA joins it.
        tls.setDefaultCACertificates([...tls.getCACertificates('default'), fs.readFileSync(path.join(pki, 'ca.pem'), 'utf8')]);
        browser = await launch();
    });

    after(async () => {
        sim?.child.kill('SIGTERM');
        await browser?.close();
        await server?.stop();
        fs.rmSync(dir, { recursive: true, force: true });
    });

    test('the viewer\'s certificate opens the page; every simulated unit arrives and moves', async () => {
        const origin = `https://127.0.0.1:${server.port('cop-tls')}`;
        const context = await browser.newContext({
            viewport: { width: 1366, height: 768 },
            clientCertificates: [{ origin, certPath: path.join(pki, 'watch-jp.pem'), keyPath: path.join(pki, 'watch-jp.key') }],
        });
        page = await context.newPage();
        page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
        page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
        page.on('request', (r) => {
            const u = new URL(r.url());
            if (!['data:', 'blob:'].includes(u.protocol) && u.origin !== origin) problems.push(`request off the node: ${r.url()}`);
        });
        page.on('response', (r) => { if (r.status() >= 400) problems.push(`${r.status()}: ${r.url()}`); });
        const res = await page.goto(`${origin}/`);
        assert.equal(res.status(), 200);
        await waitConn(page, 'live', 15000);

        // Every unit the simulator drives, at its 1 Hz, with the input's label under the banner.
        await page.waitForFunction((n) => window.kizunaCop?.tracks.shown.size === n, UNITS, { timeout: 15000 })
            .catch(async (e) => {
                const n = await page.evaluate(() => [window.kizunaCop?.tracks.shown.size, window.kizunaCop?.tracks.layer.drawn.length]);
                throw new Error(`${e.message}; tracks, drawn: ${n}; problems: ${problems}`);
            });
        const banner = await page.locator('#banner-top').textContent();
        assert.equal(banner, 'CONFIDENTIAL//REL TO USA, JPN');
        const where = () => page.evaluate(() =>
            [...window.kizunaCop.tracks.shown].map(([uid, f]) => [uid, f.geometry.coordinates.join(',')]));
        const first = await where();
        // The basemap's coastlines are in: the screenshot shows the whole map.
        await page.waitForFunction(() => window.kizunaCop.map.areTilesLoaded(), null, { timeout: 10000 });
        await screenshot(page, 'cop-https-sim.png');
        // Within a few reports, most units have moved.
        await page.waitForFunction((before) => {
            const now = window.kizunaCop.tracks.shown;
            const moved = before.filter(([uid, at]) => now.get(uid)?.geometry.coordinates.join(',') !== at);
            return moved.length >= before.length / 2;
        }, first, { timeout: 20000 });
        assert.equal(sim.exitInfo, undefined, 'kizuna sim is still running');
        assert.deepEqual(problems.filter((p) => !p.includes('/api/v1/stream')), []);
    });

    test('while the simulator runs: a `kizuna send` track within 1 s, NOFORN never, a delete removes it', async () => {
        const send = async (xml) => {
            const r = await runCli(['send', '-s', `127.0.0.1:${server.port('us-ops')}`, '-'], { input: xml });
            assert.equal(r.code, 0, r.stderr);
        };
        const shown = (uid) => page.evaluate((uid) => window.kizunaCop.tracks.shown.has(uid), uid);
        const noforn = cotEvent({ uid: uniq('nf'), type: 'a-f-S-X', point: { lat: 34.9, lon: 139.1 }, callsign: 'NF-1', access: 'SECRET//NOFORN' });
        const rel = cotEvent({ uid: uniq('rel'), type: 'a-f-S-X', point: { lat: 34.8, lon: 139.2 }, callsign: 'REL-1' });
        const relUid = rel.match(/uid="([^"]+)"/)[1];
        await send(noforn);
        const t0 = Date.now();
        await send(rel);
        await page.waitForFunction((uid) => window.kizunaCop.tracks.shown.has(uid), relUid, { timeout: 1000 });
        console.log(`# kizuna send -> on the https page in ${Date.now() - t0} ms with ${UNITS} simulated units moving`);
        await page.waitForFunction(() => document.getElementById('banner-top').textContent === 'SECRET//REL TO USA, JPN',
            null, { timeout: 2000 });
        assert.equal(await page.evaluate(() => window.kizunaCop.tracks.shown.size), UNITS + 1, 'the NOFORN track never reaches JPN');
        assert.equal(await shown(noforn.match(/uid="([^"]+)"/)[1]), false);
        await send(deleteEvent(relUid));
        await page.waitForFunction((uid) => !window.kizunaCop.tracks.shown.has(uid), relUid, { timeout: 2000 });
        await page.waitForFunction(() => document.getElementById('banner-top').textContent === 'CONFIDENTIAL//REL TO USA, JPN',
            null, { timeout: 2000 });
        assert.equal(sim.exitInfo, undefined, 'kizuna sim is still running');
        assert.deepEqual(problems.filter((p) => !p.includes('/api/v1/stream')), []);
        await page.context().close();
    });

    test('a browser without a client certificate gets no page', async () => {
        const context = await browser.newContext({ ignoreHTTPSErrors: true });
        const bare = await context.newPage();
        await assert.rejects(bare.goto(`https://127.0.0.1:${server.port('cop-tls')}/`, { timeout: 10000 }));
        await context.close();
        // The node names the refusal; nothing was answered over the connection.
        await withTimeout((async () => {
            while (!/certificate|handshake/i.test(server.stderr)) await new Promise((r) => setTimeout(r, 50));
        })(), 5000, 'the refused handshake in the log');
    });
});
