// 08-screens: the COP at a laptop's 1366×768 and on an operations-centre wall screen
// (3840×2160), driven from the keyboard only: every panel opened with Tab and Enter is
// inside the window, between the two classification banners, and overlaps neither the
// filter, the details nor another open panel; the map fills what is left.

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { httpInput, identity, makeConfig, request, SOURCE_DIR, startServer } from '../integration/lib/harness.mjs';
import { launch, openCop, screenshot } from './lib/cop.mjs';

const PANELS = ['plans', 'alliance', 'readiness'];

const planner = httpInput('us', ['Cyan'], ['Cyan'], {
    identity: identity('us', ['Cyan'], ['Cyan'], { nation: 'USA', clearance: 'SECRET', command: 'USFJ', roles: ['viewer', 'planner', 'operator'] }),
});

async function post(server, url, body) {
    const r = await request(server.port('us'), 'POST', url, { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    assert.ok(r.status === 200 || r.status === 201, `${url}: ${r.status} ${r.body}`);
}

// Boxes of the banners, the filter and every visible panel, in page pixels.
function layout(page) {
    return page.evaluate((ids) => {
        const box = (id) => {
            const el = document.getElementById(id);
            if (!el || el.hidden || el.offsetParent === null) return null;
            const r = el.getBoundingClientRect();
            return { id, x: r.left, y: r.top, w: r.width, h: r.height };
        };
        return {
            view: { w: window.innerWidth, h: window.innerHeight },
            top: box('banner-top'), bottom: box('banner-bottom'), map: box('map'), filter: box('filter'),
            panels: ids.map(box).filter(Boolean),
        };
    }, PANELS);
}

const overlap = (a, b) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

function checkLayout(l, what) {
    assert.equal(l.panels.length, PANELS.length, `${what}: every panel open`);
    assert.ok(l.top && l.bottom, `${what}: both banners shown`);
    assert.ok(l.bottom.y + l.bottom.h <= l.view.h + 0.5, `${what}: the bottom banner is inside the window`);
    for (const p of l.panels) {
        assert.ok(p.x >= 0 && p.x + p.w <= l.view.w + 0.5, `${what}: ${p.id} fits across (${JSON.stringify(p)})`);
        assert.ok(p.y >= l.top.y + l.top.h - 0.5 && p.y + p.h <= l.bottom.y + 0.5,
            `${what}: ${p.id} is between the banners (${JSON.stringify(p)})`);
        assert.ok(p.w >= 200 && p.h >= 60, `${what}: ${p.id} is big enough to read`);
        assert.ok(!overlap(p, l.filter), `${what}: ${p.id} does not cover the filter`);
    }
    for (let i = 0; i < l.panels.length; i++)
        for (let j = i + 1; j < l.panels.length; j++)
            assert.ok(!overlap(l.panels[i], l.panels[j]), `${what}: ${l.panels[i].id} and ${l.panels[j].id} overlap`);
    assert.ok(l.map.w >= l.view.w * 0.99 && l.map.h >= (l.bottom.y - l.top.y - l.top.h) * 0.9, `${what}: the map fills the screen`);
}

describe('the COP on a laptop and on a wall screen, from the keyboard', () => {
    let server, browser, cop;

    before(async () => {
        const config = makeConfig({ inputs: [planner] });
        config.alliance = path.join(SOURCE_DIR, 'config/alliance/us-japan.yaml');
        server = await startServer({ config });
        await post(server, '/api/v1/plans', {
            title: 'Orient Shield 27', kind: 'exercise', legal_basis: 'training', lead: 'USFJ', participants: ['USFJ', 'JJOC'],
            start: '2026-10-23T00:00:00Z', end: '2026-11-01T00:00:00Z', label: 'SECRET//REL TO USA, JPN',
        });
        await post(server, '/api/v1/readiness', { unit: 'C7F', p: 1, s: 2, r: 1, t: 1, label: 'SECRET//REL TO USA, JPN' });
        browser = await launch();
        cop = await openCop(browser, server.port('us'));
    });

    after(async () => {
        await browser?.close();
        await server?.stop();
    });

    test('every panel opens from the keyboard and fits at 1366×768 and at 3840×2160', async () => {
        const { page } = cop;
        for (const id of PANELS)
            await page.waitForFunction((id) => !document.getElementById(`${id}-toggle`).hidden, id, { timeout: 10000 });
        // Tab to each toggle and press Enter: no mouse.
        for (const id of PANELS) {
            let focused = null;
            for (let i = 0; i < 40 && focused !== `${id}-toggle`; i++) {
                await page.keyboard.press('Tab');
                focused = await page.evaluate(() => document.activeElement?.id);
            }
            assert.equal(focused, `${id}-toggle`, `Tab reaches the ${id} toggle`);
            await page.keyboard.press('Enter');
            await page.waitForFunction((id) => !document.getElementById(id).hidden, id, { timeout: 5000 });
            assert.equal(await page.locator(`#${id}-toggle`).getAttribute('aria-expanded'), 'true');
        }
        checkLayout(await layout(page), '1366×768');
        await screenshot(page, 'cop-1366x768-panels.png');
        await page.setViewportSize({ width: 3840, height: 2160 });
        await page.waitForFunction(() => window.innerWidth === 3840);
        checkLayout(await layout(page), '3840×2160');
        await screenshot(page, 'cop-3840x2160-panels.png');
        assert.deepEqual(cop.problems, []);
    });
});
