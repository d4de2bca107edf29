// 04-plans: the COP's plans panel on the real binary with the shipped alliance model: a
// plan created over REST appears, with its stage, its approvals and its own marking; an
// approval made over REST shows on the open page without a reload; the open panel's
// plans count for the classification banner, and closing it lowers the banner again.

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

describe('the plans panel', () => {
    let server, browser, cop, plan;

    before(async () => {
        const config = makeConfig({ inputs: [who('us', 'USA', 'USFJ', ['planner', 'approver']), who('jp', 'JPN', 'JJOC', ['approver'])] });
        config.alliance = path.join(SOURCE_DIR, 'config/alliance/us-japan.yaml');
        server = await startServer({ config });
        browser = await launch();
        cop = await openCop(browser, server.port('us'));
    });

    after(async () => {
        await browser?.close();
        await server?.stop();
    });

    test('a plan created over REST appears with its stage, approvals and marking', async () => {
        await waitText(cop.page, '#plans-toggle', 'Plans (0)');
        plan = await post(server, 'us', '/api/v1/plans', PLAN);
        await waitText(cop.page, '#plans-toggle', 'Plans (1)');
        assert.equal(await text(cop.page, '#banner-top'), 'UNCLASSIFIED', 'a closed panel is not on screen');
        await cop.page.click('#plans-toggle');
        const li = `#plans-list li[data-plan="${plan.id}"]`;
        await cop.page.waitForSelector(li);
        assert.equal(await text(cop.page, `${li} .plan-title`), 'Keen Sword 27');
        assert.equal(await text(cop.page, `${li} .plan-stage`), 'concept');
        assert.equal(await text(cop.page, `${li} .plan-approvals`), '0/2 approved');
        assert.equal(await text(cop.page, `${li} .marking`), plan.label);
    });

    test('the open panel raises the banner to its plans\' level', async () => {
        await waitText(cop.page, '#banner-top', 'SECRET//REL TO USA, JPN');
    });

    test('an approval made over REST shows without a reload', async () => {
        await post(server, 'jp', `/api/v1/plans/${plan.id}/approvals`, { revision: plan.revision, decision: 'approve' });
        await waitText(cop.page, `#plans-list li[data-plan="${plan.id}"] .plan-approvals`, '1/2 approved');
        await screenshot(cop.page, 'cop-plans.png');
    });

    test('closing the panel lowers the banner', async () => {
        await cop.page.click('#plans-toggle');
        await waitText(cop.page, '#banner-top', 'UNCLASSIFIED');
        assert.deepEqual(cop.problems, []);
    });
});
