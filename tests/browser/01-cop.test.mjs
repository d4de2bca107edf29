// 01-cop: the browser COP (web/, docs/web.md) in Debian's chromium, driven by
// playwright-core, against the real binary.  Events are POSTed over the REST API;
// the page must show them as MIL-STD-2525 symbols, move and remove them live, mark the
// screen with the highest label on it, filter by callsign and affiliation, never show a
// JPN viewer a NOFORN track, load
// nothing from outside 127.0.0.1, log no console error, and come with its CSP header.
//
// Chromium is a dependency (scripts/deps.sh installs it): without it this test fails.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
    cotEvent, deleteEvent, httpInput, identity, postEvent, request, SOURCE_DIR, startServer, uniq,
} from '../integration/lib/harness.mjs';

const CHROMIUM = process.env.KZ_CHROMIUM || '/usr/bin/chromium';
const requireWeb = createRequire(path.join(SOURCE_DIR, 'web/package.json'));

function loadPlaywright() {
    assert.ok(fs.existsSync(CHROMIUM),
        `${CHROMIUM} not found: the browser tests need Debian's chromium (scripts/deps.sh installs it)`);
    try {
        return requireWeb('playwright-core');
    } catch (e) {
        assert.fail(`playwright-core not installed in web/node_modules (the build's npm ci does it): ${e.message}`);
    }
}

const US = { nation: 'USA', clearance: 'SECRET' };
const JP = { nation: 'JPN', clearance: 'SECRET' };

const tracks = {
    alpha: { uid: uniq('alpha'), type: 'a-f-G-U-C-I', callsign: 'ALPHA', access: 'UNCLASSIFIED', point: { lat: 35.68, lon: 139.76 } },
    bravo: { uid: uniq('bravo'), type: 'a-h-S-C', callsign: 'BRAVO', access: 'UNCLASSIFIED', point: { lat: 34.2, lon: 137.9 } },
    charlie: { uid: uniq('charlie'), type: 'a-n-A-C-F', callsign: 'CHARLIE', access: 'CONFIDENTIAL//REL TO USA, JPN', point: { lat: 36.4, lon: 136.2 } },
    noforn: { uid: uniq('noforn'), type: 'a-f-G-U-C', callsign: 'NOFORN-1', access: 'SECRET//NOFORN', point: { lat: 35.1, lon: 138.6 } },
};

function event(t, extra = {}) {
    return cotEvent({ uid: t.uid, type: t.type, callsign: t.callsign, access: t.access, point: { hae: 10, ce: 5, le: 5, ...t.point },
        extra: '<track course="90" speed="5"/>', ...extra });
}

async function post(port, xml) {
    const r = await postEvent(port, xml);
    assert.equal(r.status, 201, r.body);
}

// One browser page on an input, recording what would be a failure.
async function openCop(browser, port) {
    const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
    const problems = [];
    page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('request', (r) => {
        const u = new URL(r.url());
        if (!['data:', 'blob:'].includes(u.protocol) && u.hostname !== '127.0.0.1') problems.push(`request off the node: ${r.url()}`);
    });
    page.on('response', (r) => { if (r.status() >= 400) problems.push(`${r.status()}: ${r.url()}`); });
    page.on('requestfailed', (r) => { if (!r.url().endsWith('/api/v1/stream')) problems.push(`failed: ${r.url()}`); });
    const response = await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForFunction(() => document.getElementById('conn').textContent === 'live', null, { timeout: 15000 });
    return { page, response, problems };
}

const count = (page) => page.locator('.kz-track').count();
const waitCount = (page, n) => page.waitForFunction((n) => document.querySelectorAll('.kz-track').length === n, n, { timeout: 5000 });
const banner = (page) => page.evaluate(() => {
    const el = document.getElementById('banner-top');
    const bottom = document.getElementById('banner-bottom');
    return { text: el.textContent, bg: getComputedStyle(el).backgroundColor, bottom: bottom.textContent };
});
const waitBanner = (page, text) => page.waitForFunction((t) => document.getElementById('banner-top').textContent === t, text, { timeout: 5000 });

describe('browser COP', () => {
    let server, browser, us, jp;
    const started = Date.now();

    before(async () => {
        const { chromium } = loadPlaywright();
        server = await startServer({
            inputs: [
                { ...httpInput('web'), identity: identity('web-us', ['Cyan'], ['Cyan'], US) },
                { ...httpInput('web-jp'), identity: identity('web-jp', ['Cyan'], ['Cyan'], JP) },
            ],
        });
        for (const t of [tracks.alpha, tracks.bravo, tracks.charlie]) await post(server.port('web'), event(t));
        browser = await chromium.launch({
            executablePath: CHROMIUM, headless: true,
            // WebGL in software: the test machines have no GPU.
            args: ['--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist', '--no-sandbox'],
        });
        us = await openCop(browser, server.port('web'));
        jp = await openCop(browser, server.port('web-jp'));
    });

    after(async () => {
        await browser?.close();
        await server?.stop();
        console.log(`# browser COP test: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    });

    test('the page comes with a strict Content-Security-Policy', async () => {
        const csp = us.response.headers()['content-security-policy'];
        assert.ok(csp, 'no Content-Security-Policy header');
        assert.match(csp, /default-src 'none'/);
        assert.match(csp, /script-src 'self'(;|$)/);
        assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/);
        const js = await request(server.port('web'), 'GET', '/web/app.js', { headers: { 'accept-encoding': 'gzip' } });
        assert.equal(js.headers['content-encoding'], 'gzip');
        assert.ok(js.headers.etag);
    });

    test('the map shows one symbol per track, with callsigns', async () => {
        await waitCount(us.page, 3);
        await waitCount(jp.page, 3);
        const labels = await us.page.locator('.kz-track .kz-callsign').allTextContents();
        assert.deepEqual(labels.sort(), ['ALPHA', 'BRAVO', 'CHARLIE']);
        const sidc = await us.page.locator(`.kz-track[data-uid="${tracks.alpha.uid}"]`).getAttribute('data-sidc');
        assert.equal(sidc, 'SFGPUCI--------');
        assert.ok(await us.page.locator(`.kz-track[data-uid="${tracks.alpha.uid}"] img`).evaluate((img) => img.complete && img.naturalWidth > 0));
    });

    test('the banner shows the highest label on screen', async () => {
        await waitBanner(us.page, 'CONFIDENTIAL//REL TO USA, JPN');
        const b = await banner(us.page);
        assert.equal(b.bottom, b.text);
        assert.equal(b.bg, 'rgb(0, 51, 160)');
    });

    test('a SECRET//NOFORN track raises the US banner and never reaches the JPN viewer', async () => {
        await post(server.port('web'), event(tracks.noforn));
        await waitCount(us.page, 4);
        await waitBanner(us.page, 'SECRET//NOFORN');
        assert.equal((await banner(us.page)).bg, 'rgb(200, 16, 46)');
        // A later event proves the JPN page has seen everything posted before it.
        const marker = { uid: uniq('marker'), type: 'a-f-G', callsign: 'MARKER', access: 'UNCLASSIFIED', point: { lat: 33.5, lon: 135.5 } };
        await post(server.port('web'), event(marker));
        await waitCount(jp.page, 4);
        assert.equal(await jp.page.locator(`.kz-track[data-uid="${tracks.noforn.uid}"]`).count(), 0);
        assert.equal((await banner(jp.page)).text, 'CONFIDENTIAL//REL TO USA, JPN');
        await post(server.port('web'), deleteEvent(marker.uid));
        await waitCount(jp.page, 3);
    });

    test('a track moves between two reads', async () => {
        const el = us.page.locator(`.kz-track[data-uid="${tracks.alpha.uid}"]`);
        const before = await el.boundingBox();
        await post(server.port('web'), event({ ...tracks.alpha, point: { lat: 35.68, lon: 140.6 } }));
        await us.page.waitForFunction(([uid, x]) => {
            const r = document.querySelector(`.kz-track[data-uid="${uid}"]`).getBoundingClientRect();
            return Math.abs(r.x - x) > 20;
        }, [tracks.alpha.uid, before.x], { timeout: 5000 });
        const after = await el.boundingBox();
        assert.ok(after.x > before.x + 20, `moved east: ${before.x} -> ${after.x}`);
    });

    test('clicking a track opens its details with its own marking', async () => {
        await us.page.locator(`.kz-track[data-uid="${tracks.charlie.uid}"]`).click();
        await us.page.waitForSelector('#details:not([hidden])');
        const field = (k) => us.page.locator(`#details dd[data-field="${k}"]`).textContent();
        assert.equal(await field('callsign'), 'CHARLIE');
        assert.equal(await field('label'), 'CONFIDENTIAL//REL TO USA, JPN');
        assert.equal(await field('speed'), '5.0 m/s (9.7 kn)');
        assert.equal(await field('course'), '90°');
        assert.match(await field('MGRS'), /^5\dS [A-Z]{2} \d{5} \d{5}$/);
        assert.equal(await us.page.locator('#details-marking-top').textContent(), 'CONFIDENTIAL//REL TO USA, JPN');
        await us.page.keyboard.press('Escape');
        await us.page.waitForSelector('#details', { state: 'hidden' });
    });

    test('a deleted track vanishes and the banner comes down', async () => {
        await post(server.port('web'), deleteEvent(tracks.noforn.uid));
        await waitCount(us.page, 3);
        await waitBanner(us.page, 'CONFIDENTIAL//REL TO USA, JPN');
    });

    test('the toolbar filters by callsign and affiliation; the banner follows what is left', async () => {
        const waitVisible = (n) => us.page.waitForFunction((n) => document.querySelectorAll('.kz-track:not(.kz-filtered)').length === n, n, { timeout: 5000 });
        await us.page.fill('#filter-text', 'alp');
        await waitVisible(1);
        assert.equal(await us.page.locator('#count').textContent(), '1 of 3 tracks');
        await waitBanner(us.page, 'UNCLASSIFIED');
        await us.page.fill('#filter-text', '');
        await us.page.uncheck('#filter input[value=friend]');
        await waitVisible(2);
        assert.equal(await us.page.locator(`.kz-track[data-uid="${tracks.alpha.uid}"]`).isVisible(), false);
        await us.page.check('#filter input[value=friend]');
        await waitVisible(3);
        await waitBanner(us.page, 'CONFIDENTIAL//REL TO USA, JPN');
    });

    test('the cursor shows lat/lon and MGRS', async () => {
        await us.page.mouse.move(683, 400);
        await us.page.waitForFunction(() => /°N .*°E\s+\d{2}[A-Z] [A-Z]{2} \d{5} \d{5}$/.test(document.getElementById('cursor').textContent), null, { timeout: 5000 });
    });

    test('a screenshot of the COP (kept in browser-artifacts/)', async () => {
        const dir = path.join(process.cwd(), 'browser-artifacts');
        fs.mkdirSync(dir, { recursive: true });
        await us.page.screenshot({ path: path.join(dir, 'cop-usa.png') });
        await jp.page.screenshot({ path: path.join(dir, 'cop-jpn.png') });
        // The map drew (WebGL in software): the canvas is not blank.
        const painted = await us.page.evaluate(() => {
            const c = document.querySelector('#map canvas');
            return c && c.width > 0 && window.kizunaCop.map.loaded();
        });
        assert.ok(painted, 'the map did not load');
    });

    test('no console errors, no request off the node', async () => {
        assert.deepEqual(us.problems, []);
        assert.deepEqual(jp.problems, []);
    });
});
