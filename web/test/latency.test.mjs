// latency.test.mjs - the coordination-latency chart's reading of GET
// /api/v1/alliance/path?compare=1 (src/alliance.js): pairs, bars, durations and the layout.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { barLayout, fmtDuration, latencyBars, latencyPairs } from '../src/alliance.js';

const PAIR = { a: 'USFJ', b: 'JJOC', direct_link_in_model: true, hub_mean_s: 129600, hub_worst_s: 340200,
    lattice_mean_s: 68340, lattice_worst_s: 236700 };

test('the pairs of an answer as choices', () => {
    assert.deepEqual(latencyPairs({ pairs: [PAIR, { a: 'JJOC', b: 'AFP-GHQ' }] }),
        [{ key: 'USFJ JJOC', text: 'USFJ ↔ JJOC' }, { key: 'JJOC AFP-GHQ', text: 'JJOC ↔ AFP-GHQ' }]);
    assert.deepEqual(latencyPairs(null), []);
});

test('four bars: hub and lattice, mean and worst', () => {
    assert.deepEqual(latencyBars(PAIR).map((b) => [b.key, b.s]),
        [['hub-mean', 129600], ['hub-worst', 340200], ['lattice-mean', 68340], ['lattice-worst', 236700]]);
});

test('durations as the CLI prints them', () => {
    assert.equal(fmtDuration(129600), '36h00');
    assert.equal(fmtDuration(94500), '26h15');
    assert.equal(fmtDuration(68340), '18h59');
    assert.equal(fmtDuration(0), '0h00');
    assert.equal(fmtDuration(undefined), '–');
});

test('bars scaled to the longest, stacked without overlap inside the box', () => {
    const l = barLayout(latencyBars(PAIR), 340, 120);
    assert.equal(l.length, 4);
    assert.equal(l[1].w, 340 - 90 - 50, 'the worst hub time fills the span');
    assert.equal(l[0].w, Math.round((129600 / 340200) * 200));
    for (let i = 1; i < l.length; i++) assert.ok(l[i].y >= l[i - 1].y + l[i - 1].h, 'no overlap');
    assert.ok(l[3].y + l[3].h <= 120 + 1e-9);
    assert.equal(l[2].value, '18h59');
    assert.deepEqual(barLayout([], 100, 100), []);
    assert.equal(barLayout([{ key: 'z', text: 'zero', s: 0 }], 340, 20)[0].w, 1, 'a zero still shows');
});
