// 04-plans: the COP's plans panel on the real binary with the shipped alliance model: a
// plan created over REST appears, with its stage, its approvals and its own marking; an
// approval made over REST shows on the open page without a reload; the open panel's
// plans count for the classification banner, and closing it lowers the banner again.
// The plan page (#plan/ID): its timeline in every participant's local time (JST, HST),
// its approvals and consultation, an approval made over REST shown without a reload, the
// buttons of a US planner-approver, a refused change showing the server's error, and the
// plan's items on the map.  The buttons of other viewers: 07-plan-roles.

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

const ITEMS = [
    { time: '2026-10-25T00:00:00Z', lat: 35.748, lon: 139.348, place: 'Yokota AB', units: ['5AF', 'JASDF-ADC'],
        description: 'Bilateral air and missile defense drill' },
    { time: '2026-10-27T22:00:00Z', lat: 26.355, lon: 127.768, place: 'Kadena AB', units: ['18WG', 'JASDF-SWAD'],
        description: 'Combat search and rescue' },
];

async function post(server, input, url, body) {
    const r = await request(server.port(input), 'POST', url, { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    assert.ok(r.status === 200 || r.status === 201, `${url}: ${r.status} ${r.body}`);
    return r.json();
}

const text = (page, sel) => page.locator(sel).textContent();
const waitText = (page, sel, want, _why) => page.waitForFunction(([sel, want]) => document.querySelector(sel)?.textContent === want,
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

    test('the open panel raises the banner to its plans\' level, with the full marking', async () => {
        assert.equal(plan.label, '//JOINT SECRET JPN USA//REL TO USA, JPN');
        await waitText(cop.page, '#banner-top', plan.label);
        await waitText(cop.page, '#banner-bottom', plan.label);
    });

    test('an approval made over REST shows without a reload', async () => {
        await post(server, 'jp', `/api/v1/plans/${plan.id}/approvals`, { revision: plan.revision, decision: 'approve' });
        await waitText(cop.page, `#plans-list li[data-plan="${plan.id}"] .plan-approvals`, '1/2 approved');
        await screenshot(cop.page, 'cop-plans.png');
    });

    test('a plan opens its page from the list, by keyboard, with its timeline in local time', async () => {
        plan = await post(server, 'us', `/api/v1/plans/${plan.id}/items`, ITEMS[0]);
        plan = await post(server, 'us', `/api/v1/plans/${plan.id}/items`, ITEMS[1]);
        plan = await request(server.port('us'), 'PATCH', `/api/v1/plans/${plan.id}`, {
            body: JSON.stringify({ participants: ['USFJ', 'JJOC', 'INDOPACOM'] }), headers: { 'content-type': 'application/json' },
        }).then((r) => r.json());
        const li = `#plans-list li[data-plan="${plan.id}"]`;
        await cop.page.focus(li);
        await cop.page.keyboard.press('Enter');
        await cop.page.waitForSelector('#plan-page:not([hidden])');
        assert.equal(new URL(cop.page.url()).hash, `#plan/${plan.id}`);
        await waitText(cop.page, '#plan-title', 'Keen Sword 27');
        await waitText(cop.page, '#plan-fields dd[data-field=revision]', String(plan.revision));
        const times = await cop.page.$$eval('#plan-timeline > li', (lis) => lis.map((li) =>
            [...li.querySelectorAll('.plan-times li')].map((t) => t.textContent)));
        assert.deepEqual(times, [
            ['2026-10-25 09:00 JST', '2026-10-24 14:00 HST'], ['2026-10-28 07:00 JST', '2026-10-27 12:00 HST'],
        ]);
        assert.equal(await text(cop.page, '#plan-fields dd[data-field=consultation]'), 'not required');
        assert.equal(await text(cop.page, '#plan-marking-top'), plan.label);
        await waitText(cop.page, '#banner-top', plan.label, 'the page\'s plan is on screen');
    });

    test('the plan\'s items with a place are on the map', async () => {
        const items = await cop.page.evaluate(() => window.kizunaCop.planPage.features.map((f) => f.properties.name));
        assert.deepEqual(items, ['#1 Yokota AB', '#2 Kadena AB']);
        await cop.page.click('#plan-show-map');
        await cop.page.waitForFunction(() => window.kizunaCop.map.queryRenderedFeatures({ layers: ['plan-items'] }).length === 2);
    });

    test('an approval made over REST shows on the open page without a reload', async () => {
        const row = '#plan-approvals tr[data-command=JJOC] td:nth-child(3)';
        await waitText(cop.page, row, 'pending', 'the edit cleared the approval');
        await post(server, 'jp', `/api/v1/plans/${plan.id}/approvals`, { revision: plan.revision, decision: 'approve', reason: 'JJOC concurs' });
        await waitText(cop.page, row, 'approve');
        assert.equal(await text(cop.page, '#plan-approvals tr[data-command=USFJ] td:nth-child(3)'), 'pending');
        await screenshot(cop.page, 'cop-plan-page.png');
    });

    test('a US planner and approver of USFJ gets its buttons', async () => {
        assert.deepEqual(await cop.page.$$eval('#plan-action-buttons button', (bs) => bs.map((b) => b.dataset.action)),
            ['approve', 'reject', 'advance']);
    });

    test('a change the server refuses shows its error', async () => {
        for (const next of ['initial planning', 'main planning', 'final planning']) {
            await cop.page.click('#plan-action-buttons button[data-action=advance]');
            await waitText(cop.page, '#plan-fields dd[data-field=stage]', next);
        }
        await waitText(cop.page, '#plan-action-buttons button[data-action=advance]', 'Advance to execution');
        await cop.page.click('#plan-action-buttons button[data-action=advance]');
        await cop.page.waitForFunction(() => document.getElementById('plan-error').textContent !== '');
        assert.equal(await text(cop.page, '#plan-error'),
            `revision ${plan.revision} of plan ${plan.id} lacks the approval of USFJ (USA) (HTTP 409, rule approvals_missing)`);
        await screenshot(cop.page, 'cop-plan-refused.png');
        // Approving through the page opens the gate.
        await cop.page.click('#plan-action-buttons button[data-action=approve]');
        await waitText(cop.page, '#plan-approvals tr[data-command=USFJ] td:nth-child(3)', 'approve');
        await cop.page.click('#plan-action-buttons button[data-action=advance]');
        await waitText(cop.page, '#plan-fields dd[data-field=stage]', 'execution');
        // The refusal itself is the one expected error: its 409 and the console's note of it.
        const stageUrl = `/api/v1/plans/${plan.id}/stage`;
        assert.ok(cop.problems.some((p) => p === `409: http://127.0.0.1:${server.port('us')}${stageUrl}`), cop.problems.join('\n'));
        for (let i = cop.problems.length - 1; i >= 0; i--) {
            if (cop.problems[i].startsWith('409: ') || /console: .*status of 409/.test(cop.problems[i])) cop.problems.splice(i, 1);
        }
    });

    test('Escape goes back to the list', async () => {
        await cop.page.locator('#plan-back').focus();
        await cop.page.keyboard.press('Escape');
        await cop.page.waitForSelector('#plan-page', { state: 'hidden' });
        assert.equal(await cop.page.isVisible('#plans-list'), true);
        await cop.page.waitForFunction((id) => document.activeElement?.dataset.plan === id, plan.id, { timeout: 5000 });
    });

    test('closing the panel lowers the banner to what the map shows: the items\' markers', async () => {
        await cop.page.click('#plans-toggle');
        await waitText(cop.page, '#banner-top', 'SECRET//REL TO USA, JPN');
        const markers = await cop.page.evaluate(() => window.kizunaCop.tracks.layer.snapshot()
            .filter((d) => d.uid.startsWith('kizuna.plan.')).map((d) => d.label).sort());
        assert.deepEqual(markers, ['Keen Sword 27 #1 Yokota AB', 'Keen Sword 27 #2 Kadena AB'],
            'the server publishes each item with a place as a marker, named by its callsign');
        assert.deepEqual(cop.problems, []);
    });
});
