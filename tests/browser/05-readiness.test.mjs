// 05-readiness: the COP's readiness board and alliance panel on the real binary with the
// shipped alliance model.  The board: the latest report of each unit the viewer may see, worst C-level first, with the
// four areas, stale reports marked, each row's own marking; a JPN viewer does not get a
// NOFORN report; the open board's labels count for the banner.  The alliance panel: each
// nation's command tree with the superior's relationship, a command's counterparts
// highlighted, another date asked again.

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { httpInput, identity, iso, makeConfig, request, SOURCE_DIR, startServer } from '../integration/lib/harness.mjs';
import { launch, openCop, screenshot } from './lib/cop.mjs';

const input = (name, nation) => httpInput(name, ['Cyan'], ['Cyan'], {
    identity: identity(name, ['Cyan'], ['Cyan'], { nation, clearance: 'SECRET' }),
});

const waitText = (page, sel, want) => page.waitForFunction(([sel, want]) => document.querySelector(sel)?.textContent === want,
    [sel, want], { timeout: 5000 });
const units = (page) => page.locator('#readiness-rows tr').evaluateAll((rows) => rows.map((r) => r.dataset.unit));

describe('the readiness board', () => {
    let server, browser, us, jp;

    before(async () => {
        const config = makeConfig({ inputs: [input('us', 'USA'), input('jp', 'JPN')] });
        config.alliance = path.join(SOURCE_DIR, 'config/alliance/us-japan.yaml');
        server = await startServer({ config });
        const post = async (body) => {
            const r = await request(server.port('us'), 'POST', '/api/v1/readiness',
                { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
            assert.equal(r.status, 201, r.body);
        };
        await post({ unit: 'C7F', p: 1, s: 2, r: 3, t: 1, remarks: 'hull maintenance' }); // SECRET//NOFORN
        await post({ unit: 'IIIMEF', p: 1, s: 1, r: 1, t: 6, label: 'SECRET//REL TO USA, JPN',
            time: iso(Date.now() - 40 * 24 * 3600 * 1000) });
        browser = await launch();
        us = await openCop(browser, server.port('us'));
        jp = await openCop(browser, server.port('jp'));
    });

    after(async () => {
        await browser?.close();
        await server?.stop();
    });

    test('units worst first, with the four areas, stale marked, each with its marking', async () => {
        await waitText(us.page, '#readiness-toggle', 'Readiness (2)');
        await us.page.click('#readiness-toggle');
        assert.deepEqual(await units(us.page), ['C7F', 'IIIMEF']);
        const cells = await us.page.locator('#readiness-rows tr[data-unit="C7F"] td').allTextContents();
        assert.deepEqual(cells, ['C7F', 'C-3', '1', '2', '3', '1', 'SECRET//NOFORN']);
        assert.equal(await us.page.locator('#readiness-rows tr[data-unit="IIIMEF"]').getAttribute('class'), 'stale');
        assert.equal(await us.page.locator('#readiness-rows tr[data-unit="IIIMEF"] td').nth(5).textContent(), '–');
        assert.equal(await us.page.locator('#readiness-rows tr[data-unit="C7F"]').getAttribute('class'), null);
        await waitText(us.page, '#banner-top', 'SECRET//NOFORN');
        await screenshot(us.page, 'cop-readiness.png');
    });

    test('a JPN viewer sees only what is released to it', async () => {
        await waitText(jp.page, '#readiness-toggle', 'Readiness (1)');
        await jp.page.click('#readiness-toggle');
        assert.deepEqual(await units(jp.page), ['IIIMEF']);
        await waitText(jp.page, '#banner-top', 'SECRET//REL TO USA, JPN');
        await jp.page.click('#readiness-toggle');
        await waitText(jp.page, '#banner-top', 'UNCLASSIFIED');
    });

    test('the alliance panel: command trees with their relationships, counterparts highlighted', async () => {
        await us.page.click('#alliance-toggle');
        await us.page.waitForSelector('#alliance-rows li[data-command="USFJ"]');
        const pacflt = us.page.locator('#alliance-rows li[data-command="PACFLT"]');
        assert.match(await pacflt.locator('.rel').textContent(), /COCOM/);
        await us.page.click('#alliance-rows li[data-command="USFJ"]');
        await us.page.waitForSelector('#alliance-rows li.counterpart[data-command="JJOC"]', { timeout: 5000 });
        assert.equal(await us.page.locator('#alliance-rows li.chosen').getAttribute('data-command'), 'USFJ');
        await screenshot(us.page, 'cop-alliance.png');
        // Another date asks again.
        await us.page.fill('#alliance-date', '2024-01-01');
        await us.page.waitForFunction(() => !document.querySelector('#alliance-rows li.chosen'), null, { timeout: 5000 });
        await us.page.click('#alliance-toggle');
    });

    test('no console errors, no request off the node', () => {
        assert.deepEqual(us.problems, []);
        assert.deepEqual(jp.problems, []);
    });
});
