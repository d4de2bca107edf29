// track.test.mjs - reading tracks from GeoJSON Features (src/track.js).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { deleteTarget, isDrawable, isNewer, isStale, motion } from '../src/track.js';

const f = (props, geometry = { type: 'Point', coordinates: [139, 35] }) => ({ type: 'Feature', geometry, properties: props });

test('a delete names its target in <link uid>', () => {
    assert.equal(deleteTarget(f({ type: 't-x-d-d', detail: '<link uid="abc" type="a-f-G" relation="none"/><__forcedelete/>' })), 'abc');
    assert.equal(deleteTarget(f({ type: 't-x-d-d', detail: "<link relation='none' uid='x-1'/>" })), 'x-1');
    assert.equal(deleteTarget(f({ type: 't-x-d-d' })), null);
    assert.equal(deleteTarget(f({ type: 'a-f-G', detail: '<link uid="abc"/>' })), null);
});

test('speed and course from <track>', () => {
    assert.deepEqual(motion(f({ detail: '<contact callsign="A"/><track course="270.5" speed="12"/>' })), { speed: 12, course: 270.5 });
    assert.deepEqual(motion(f({ detail: '<contact callsign="A"/>' })), { speed: null, course: null });
    assert.deepEqual(motion(f({})), { speed: null, course: null });
    assert.deepEqual(motion(f({ detail: '<track speed="fast"/>' })), { speed: null, course: null });
});

test('what is drawn, stale, newer', () => {
    assert.ok(isDrawable(f({ type: 'a-f-G-U-C' })));
    assert.ok(isDrawable(f({ type: 'b-m-p-s-p-i' })));
    assert.ok(!isDrawable(f({ type: 't-x-c-t' })));
    assert.ok(!isDrawable(f({ type: 'a-f-G' }, { type: 'LineString', coordinates: [] })));
    assert.ok(isStale(f({ stale: '2020-01-01T00:00:00Z' }), Date.now()));
    assert.ok(!isStale(f({ stale: '2999-01-01T00:00:00Z' }), Date.now()));
    assert.ok(isNewer(f({ seq: 5 }), f({ seq: 4 })));
    assert.ok(!isNewer(f({ seq: 3 }), f({ seq: 4 })));
    assert.ok(isNewer(f({ seq: 3 }), undefined));
});

test('affiliation groups for the toolbar', async () => {
    const { affiliationGroup } = await import('../src/track.js');
    assert.equal(affiliationGroup('a-f-G-U-C'), 'friend');
    assert.equal(affiliationGroup('a-a-A'), 'friend');
    assert.equal(affiliationGroup('a-h-S-C'), 'hostile');
    assert.equal(affiliationGroup('a-s-G'), 'hostile');
    assert.equal(affiliationGroup('a-n-A'), 'neutral');
    assert.equal(affiliationGroup('a-u-U'), 'unknown');
    assert.equal(affiliationGroup('b-m-p-s-p-i'), 'other');
    assert.equal(affiliationGroup(undefined), 'other');
});

test('the filter: groups and callsign text', async () => {
    const { matchesFilter } = await import('../src/track.js');
    const alpha = f({ type: 'a-f-G', callsign: 'ALPHA-1', uid: 'u1' });
    const noCall = f({ type: 'a-h-G', uid: 'ship-42' });
    assert.ok(matchesFilter(alpha, {}));
    assert.ok(matchesFilter(alpha, { text: ' alp ' }));
    assert.ok(!matchesFilter(alpha, { text: 'bravo' }));
    assert.ok(matchesFilter(noCall, { text: 'SHIP' }), 'the uid stands in for a missing callsign');
    assert.ok(!matchesFilter(alpha, { groups: new Set(['hostile']) }));
    assert.ok(matchesFilter(noCall, { groups: new Set(['hostile']), text: '42' }));
});

test('dimension groups for the toolbar', async () => {
    const { dimensionGroup } = await import('../src/track.js');
    assert.equal(dimensionGroup('a-f-A-M-F'), 'air');
    assert.equal(dimensionGroup('a-h-G-U-C'), 'ground');
    assert.equal(dimensionGroup('a-f-F'), 'ground');
    assert.equal(dimensionGroup('a-n-S-C'), 'sea');
    assert.equal(dimensionGroup('a-u-U'), 'subsurface');
    assert.equal(dimensionGroup('a-f-P-S'), 'space');
    assert.equal(dimensionGroup('a-f-X'), 'other');
    assert.equal(dimensionGroup('a-f-GX'), 'other');
    assert.equal(dimensionGroup('b-m-p-s-p-i'), 'other');
    assert.equal(dimensionGroup(undefined), 'other');
});

test('the filter: dimensions, type prefix and originator nation', async () => {
    const { matchesFilter, nationOf } = await import('../src/track.js');
    const ship = f({ type: 'a-h-S-C', callsign: 'SHIP', originator: 'JPN' });
    const jet = f({ type: 'a-f-A-M-F-F', callsign: 'JET', originator: 'usa' });
    const anon = f({ type: 'a-u-G', callsign: 'ANON' });
    assert.equal(nationOf(jet), 'USA');
    assert.equal(nationOf(anon), '');
    assert.ok(matchesFilter(ship, { dimensions: new Set(['sea', 'air']) }));
    assert.ok(!matchesFilter(ship, { dimensions: new Set(['air']) }));
    assert.ok(matchesFilter(jet, { typePrefix: ' a-f-A ' }));
    assert.ok(!matchesFilter(jet, { typePrefix: 'a-h' }));
    assert.ok(!matchesFilter(jet, { typePrefix: 'a-f-a' }), 'CoT types are case-sensitive');
    assert.ok(matchesFilter(jet, { nation: 'usa' }));
    assert.ok(!matchesFilter(ship, { nation: 'USA' }));
    assert.ok(!matchesFilter(anon, { nation: 'USA' }), 'no originator: not any chosen nation');
    assert.ok(matchesFilter(anon, { nation: '' }));
    assert.ok(matchesFilter(ship, { nation: 'JPN', dimensions: new Set(['sea']), typePrefix: 'a-h', text: 'sh' }));
});
