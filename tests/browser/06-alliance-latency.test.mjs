// 06-alliance-latency: the alliance panel's coordination-latency chart on the real binary
// with the shipped alliance model: the pairs of lead commands for the panel's date, and for
// the chosen pair four SVG bars (hub-and-spokes and lattice, mean and worst) whose values
// and lengths are those of GET /api/v1/alliance/path?compare=1 for that date.

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { httpInput, identity, makeConfig, request, SOURCE_DIR, startServer } from '../integration/lib/harness.mjs';
import { launch, openCop, screenshot } from './lib/cop.mjs';

const DATE = '2025-06-09';

const hm = (s) => {
    const m = Math.round(s / 60);
    return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}`;
};

describe('the coordination-latency chart', () => {
    let server, browser, cop, answer;

    before(async () => {
        const config = makeConfig({ inputs: [httpInput('us', ['Cyan'], ['Cyan'], {
            identity: identity('us', ['Cyan'], ['Cyan'], { nation: 'USA', clearance: 'SECRET' }),
        })] });
        config.alliance = path.join(SOURCE_DIR, 'config/alliance/us-japan.yaml');
        server = await startServer({ config });
        const r = await request(server.port('us'), 'GET', `/api/v1/alliance/path?compare=1&at=${DATE}`);
        assert.equal(r.status, 200, r.body);
        answer = r.json();
        browser = await launch();
        cop = await openCop(browser, server.port('us'));
    });

    after(async () => {
        await browser?.close();
        await server?.stop();
    });

    test('the pairs of the panel\'s date', async () => {
        await cop.page.click('#alliance-toggle');
        await cop.page.fill('#alliance-date', DATE);
        await cop.page.waitForFunction((n) => document.querySelectorAll('#latency-pair option').length === n,
            answer.pairs.length, { timeout: 15000 });
        const keys = await cop.page.$$eval('#latency-pair option', (os) => os.map((o) => o.value));
        assert.deepEqual(keys, answer.pairs.map((p) => `${p.a} ${p.b}`));
        assert.ok(keys.includes('USFJ JJOC'), keys.join(', '));
    });

    test('the chosen pair as four bars, hub against lattice', async () => {
        await cop.page.selectOption('#latency-pair', 'USFJ JJOC');
        await cop.page.waitForFunction(() => document.getElementById('latency-caption').textContent.startsWith('USFJ ↔ JJOC'));
        const bars = await cop.page.$$eval('#latency-chart g', (gs) => gs.map((g) => ({
            key: g.dataset.bar, value: g.querySelector('.bar-value').textContent,
            width: Number(g.querySelector('rect').getAttribute('width')),
        })));
        const pair = answer.pairs.find((p) => p.a === 'USFJ' && p.b === 'JJOC');
        assert.deepEqual(bars.map((b) => [b.key, b.value]), [
            ['hub-mean', hm(pair.hub_mean_s)], ['hub-worst', hm(pair.hub_worst_s)],
            ['lattice-mean', hm(pair.lattice_mean_s)], ['lattice-worst', hm(pair.lattice_worst_s)],
        ]);
        const longest = Math.max(pair.hub_mean_s, pair.hub_worst_s, pair.lattice_mean_s, pair.lattice_worst_s);
        const span = Math.max(...bars.map((b) => b.width));
        assert.equal(bars[1].width, Math.round((pair.hub_worst_s / longest) * span), 'bars to scale');
        assert.ok(bars[2].width < bars[0].width, 'the lattice answers faster on average than the hub');
        await cop.page.locator('#latency').screenshot({ path: path.join(process.cwd(), 'browser-artifacts', 'cop-latency-chart.png') });
        await screenshot(cop.page, 'cop-alliance-latency.png');
    });

    test('no console errors, no request off the node', () => {
        assert.deepEqual(cop.problems, []);
    });
});
