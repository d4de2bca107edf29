// cop.mjs - the browser COP under test: Debian's chromium (headless, WebGL in
// software) driven by playwright-core from web/node_modules, and a page on a
// kizuna input that records every console error, page error, failed or
// refused request and any request to anything but 127.0.0.1.  A missing
// chromium or playwright-core fails the test that asks for them.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

import { SOURCE_DIR } from '../../integration/lib/harness.mjs';

export const CHROMIUM = process.env.KZ_CHROMIUM || '/usr/bin/chromium';

export async function launch() {
    assert.ok(fs.existsSync(CHROMIUM),
        `${CHROMIUM} not found: the browser tests need Debian's chromium (scripts/deps.sh installs it)`);
    let playwright;
    try {
        playwright = createRequire(path.join(SOURCE_DIR, 'web/package.json'))('playwright-core');
    } catch (e) {
        assert.fail(`playwright-core not installed in web/node_modules (the build's npm ci does it): ${e.message}`);
    }
    return playwright.chromium.launch({
        executablePath: CHROMIUM, headless: true,
        // WebGL in software: the test machines have no GPU.
        args: ['--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--ignore-gpu-blocklist', '--no-sandbox'],
    });
}

// Open the COP on `port` and wait until its stream is live.  `quiet`: URL
// endings whose failure is expected (the stream, which ends when the page
// closes, and what a test that restarts the server interrupts).
export async function openCop(browser, port, { quiet = ['/api/v1/stream'] } = {}) {
    const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
    const problems = [];
    const expected = (url) => quiet.some((q) => url.endsWith(q));
    page.on('console', (m) => {
        if (m.type() === 'error' && !expected(m.location()?.url ?? '')) problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('request', (r) => {
        const u = new URL(r.url());
        if (!['data:', 'blob:'].includes(u.protocol) && u.hostname !== '127.0.0.1') problems.push(`request off the node: ${r.url()}`);
    });
    page.on('response', (r) => { if (r.status() >= 400) problems.push(`${r.status()}: ${r.url()}`); });
    page.on('requestfailed', (r) => { if (!expected(r.url())) problems.push(`failed: ${r.url()}`); });
    const response = await page.goto(`http://127.0.0.1:${port}/`);
    await waitConn(page, 'live', 15000);
    return { page, response, problems };
}

export function waitConn(page, state, timeout = 10000) {
    return page.waitForFunction((s) => document.getElementById('conn').textContent === s, state, { timeout });
}

export function screenshot(page, name) {
    const dir = path.join(process.cwd(), 'browser-artifacts');
    fs.mkdirSync(dir, { recursive: true });
    return page.screenshot({ path: path.join(dir, name) });
}

// The tracks the COP's last frame drew: [{uid, sidc, label, stale, x, y}] (page pixels).
export function drawn(page) {
    return page.evaluate(() => window.kizunaCop.tracks.layer.snapshot());
}

// Wait until the last frame drew `n` tracks.
export function waitDrawn(page, n, timeout = 5000) {
    return page.waitForFunction((n) => window.kizunaCop?.tracks.layer.drawn.length === n, n, { timeout });
}

// Wait until the last frame drew track `uid` with `want`: {xAbove: page x, stale: bool}.
export function waitTrack(page, uid, want, timeout = 5000) {
    return page.waitForFunction(([uid, want]) => {
        const d = window.kizunaCop?.tracks.layer.snapshot().find((x) => x.uid === uid);
        return Boolean(d) && (want.xAbove === undefined || d.x > want.xAbove) &&
            (want.stale === undefined || d.stale === want.stale);
    }, [uid, want], { timeout });
}

export function waitUidDrawn(page, uid, present = true, timeout = 5000) {
    return page.waitForFunction(([uid, present]) =>
        window.kizunaCop?.tracks.layer.drawn.some((d) => d.uid === uid) === present, [uid, present], { timeout });
}
