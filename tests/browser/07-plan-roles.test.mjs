// 07-plan-roles: the plan page's buttons follow what the server allows each viewer (the
// plan's "allowed"), on the real binary with the shipped alliance model: a viewer who may
// not act sees none, a Japanese approver of the JJOC may approve or reject a bilateral
// exercise but not move its stage, and the Cabinet, the consultation authority of an
// operation flagged combat_from_japan, records the prior consultation through the page (its
// decline without a reason refused first, with the server's 400 shown).

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { httpInput, identity, makeConfig, request, SOURCE_DIR, startServer } from '../integration/lib/harness.mjs';
import { launch, openCop, screenshot } from './lib/cop.mjs';

const who = (name, nation, command, roles) => httpInput(name, ['Cyan'], ['Cyan'], {
    identity: identity(name, ['Cyan'], ['Cyan'], { nation, clearance: 'SECRET', command, roles: ['viewer', ...roles] }),
});

const PLAN = {
    title: 'Keen Sword 27', kind: 'exercise', legal_basis: 'training', lead: 'USFJ', participants: ['USFJ', 'JJOC'],
    start: '2026-10-23T00:00:00Z', end: '2026-11-01T00:00:00Z', label: 'SECRET//REL TO USA, JPN',
};

async function post(server, input, url, body) {
    const r = await request(server.port(input), 'POST', url, { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    assert.ok(r.status === 200 || r.status === 201, `${url}: ${r.status} ${r.body}`);
    return r.json();
}

const text = (page, sel) => page.locator(sel).textContent();
const waitText = (page, sel, want) => page.waitForFunction(([sel, want]) => document.querySelector(sel)?.textContent === want,
    [sel, want], { timeout: 5000 });
const buttons = (page) => page.$$eval('#plan-action-buttons button', (bs) => bs.map((b) => b.dataset.action));

// A COP on `input` with the page of plan `id` open (a link to #plan/ID).
async function planPage(browser, server, input, id, quiet) {
    const cop = await openCop(browser, server.port(input), quiet ? { quiet: ['/api/v1/stream', ...quiet] } : undefined);
    await cop.page.evaluate((id) => { window.location.hash = `#plan/${id}`; }, id);
    await cop.page.waitForSelector('#plan-page:not([hidden])');
    return cop;
}

describe('the plan page\'s buttons by viewer', () => {
    let server, browser, plan;

    before(async () => {
        const config = makeConfig({ inputs: [who('us', 'USA', 'USFJ', ['planner']), who('jp', 'JPN', 'JJOC', ['approver']),
            who('viewer', 'USA', 'USFJ', []), who('cabinet', 'JPN', 'JPN-CABINET', ['approver'])] });
        config.alliance = path.join(SOURCE_DIR, 'config/alliance/us-japan.yaml');
        server = await startServer({ config });
        plan = await post(server, 'us', '/api/v1/plans', PLAN);
        browser = await launch();
    });

    after(async () => {
        await browser?.close();
        await server?.stop();
    });

    test('a viewer who may not act sees no buttons', async () => {
        const cop = await planPage(browser, server, 'viewer', plan.id);
        await waitText(cop.page, '#plan-title', 'Keen Sword 27');
        assert.deepEqual(await buttons(cop.page), []);
        assert.equal(await cop.page.isVisible('#plan-actions'), false);
        await screenshot(cop.page, 'cop-plan-page-viewer.png');
        assert.deepEqual(cop.problems, []);
        await cop.page.close();
    });

    test('a Japanese approver may decide but not move the stage', async () => {
        const cop = await planPage(browser, server, 'jp', plan.id);
        await waitText(cop.page, '#plan-title', 'Keen Sword 27');
        assert.deepEqual(await buttons(cop.page), ['approve', 'reject']);
        await cop.page.click('#plan-action-buttons button[data-action=approve]');
        await waitText(cop.page, '#plan-approvals tr[data-command=JJOC] td:nth-child(3)', 'approve');
        assert.deepEqual(cop.problems, []);
        await cop.page.close();
    });

    test('the consultation authority records the prior consultation through the page', async () => {
        const op = await post(server, 'us', '/api/v1/plans', { ...PLAN, title: 'Steel Gate', kind: 'operation',
            legal_basis: 'article_vi', flags: { combat_from_japan: true } });
        const cab = await planPage(browser, server, 'cabinet', op.id, [`/api/v1/plans/${op.id}/consultation`]);
        await waitText(cab.page, '#plan-fields dd[data-field=consultation]', 'required (JPN-CABINET)');
        assert.deepEqual(await buttons(cab.page), ['approve', 'reject', 'consult:requested', 'consult:agreed', 'consult:declined']);
        await cab.page.click('#plan-action-buttons button[data-action="consult:declined"]');
        await waitText(cab.page, '#plan-error', 'a declined consultation needs a reason (HTTP 400)');
        await cab.page.fill('#plan-reason', 'agreed at the SCC');
        await cab.page.click('#plan-action-buttons button[data-action="consult:agreed"]');
        await waitText(cab.page, '#plan-fields dd[data-field=consultation]', 'agreed (JPN-CABINET)');
        assert.equal(await text(cab.page, '#plan-fields dd[data-field="consult reason"]'), 'agreed at the SCC');
        assert.equal(await text(cab.page, '#plan-error'), '');
        await screenshot(cab.page, 'cop-plan-consultation.png');
        assert.deepEqual(cab.problems.filter((p) => p !== `400: http://127.0.0.1:${server.port('cabinet')}/api/v1/plans/${op.id}/consultation`), []);
        await cab.page.close();
    });
});
