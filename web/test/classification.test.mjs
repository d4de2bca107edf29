// classification.test.mjs - banner levels, colours and the on-screen roll-up (src/classification.js).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { colourOf, parseLabel, rollUp } from '../src/classification.js';

test('levels by name, abbreviation and the Japanese policy names', () => {
    const want = {
        UNCLASSIFIED: 0, U: 0, 'CONFIDENTIAL//REL TO USA, JPN': 1, 'SECRET//NOFORN': 2, 'S//NF': 2,
        'TOP SECRET': 3, 'top  secret//rel to USA, GBR': 3, '極秘': 2, '秘': 1, '機密': 3,
        '//JPN SECRET': 2, '//JOINT SECRET USA JPN': 2, '//JOINT TOP SECRET USA JPN': 3, '': 0,
    };
    for (const [banner, level] of Object.entries(want)) assert.equal(parseLabel(banner).level, level, banner);
});

test('an unknown level never lowers the banner', () => {
    assert.equal(parseLabel('COSMIC WHATEVER').level, 3);
});

test('controls and REL TO are read', () => {
    const l = parseLabel('SECRET//REL TO USA, JPN');
    assert.deepEqual(l.rel, ['USA', 'JPN']);
    assert.deepEqual(parseLabel('SECRET//NF').controls, ['NOFORN']);
});

test('conventional colours', () => {
    assert.equal(colourOf(parseLabel('UNCLASSIFIED')).bg, '#007a33');
    assert.equal(colourOf(parseLabel('CONFIDENTIAL')).bg, '#0033a0');
    assert.equal(colourOf(parseLabel('SECRET')).bg, '#c8102e');
    assert.equal(colourOf(parseLabel('TOP SECRET')).bg, '#ff8c00');
});

test('roll-up: the highest level with the common releasability', () => {
    assert.equal(rollUp([]).text, 'UNCLASSIFIED');
    assert.equal(rollUp(['UNCLASSIFIED', 'UNCLASSIFIED']).text, 'UNCLASSIFIED');
    assert.equal(rollUp(['UNCLASSIFIED', 'SECRET//REL TO USA, JPN']).text, 'SECRET//REL TO USA, JPN');
    assert.equal(rollUp(['CONFIDENTIAL//REL TO USA, JPN, AUS', 'SECRET//REL TO USA, JPN']).text,
        'SECRET//REL TO USA, JPN');
    assert.equal(rollUp(['SECRET//REL TO USA, JPN', 'SECRET//REL TO USA, PHL']).text, 'SECRET//NOFORN');
    assert.equal(rollUp(['SECRET//NOFORN', 'CONFIDENTIAL//REL TO USA, JPN']).text, 'SECRET//NOFORN');
    assert.equal(rollUp(['SECRET', 'UNCLASSIFIED']).text, 'SECRET');
    assert.equal(rollUp(['TOP SECRET//REL TO USA, JPN', 'SECRET//REL TO USA, JPN']).level, 3);
    assert.equal(rollUp(['SECRET//ORCON/NOFORN']).text, 'SECRET//ORCON/NOFORN');
});
