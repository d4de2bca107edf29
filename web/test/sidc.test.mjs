// sidc.test.mjs - the CoT type -> MIL-STD-2525C table (src/sidc.js), under node's runner.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import ms from 'milsymbol';

import { affiliationOf, cotToSidc, describeCotType, parseCotType } from '../src/sidc.js';

test('affiliations map to the 2525 standard identity', () => {
    const want = { f: 'F', h: 'H', n: 'N', u: 'U', a: 'A', s: 'S', p: 'P', j: 'J', k: 'K', o: 'O' };
    for (const [cot, id] of Object.entries(want)) assert.equal(cotToSidc(`a-${cot}-G`)[1], id, cot);
});

test('battle dimensions map, and X (other) draws as unknown', () => {
    const want = { G: 'G', A: 'A', S: 'S', U: 'U', P: 'P', F: 'F', X: 'Z' };
    for (const [cot, dim] of Object.entries(want)) assert.equal(cotToSidc(`a-f-${cot}`)[2], dim, cot);
});

test('functions: one letter per CoT segment, padded to 15 characters', () => {
    assert.equal(cotToSidc('a-f-G-U-C-I'), 'SFGPUCI--------');
    assert.equal(cotToSidc('a-h-A-M-F-F'), 'SHAPMFF--------');
    assert.equal(cotToSidc('a-n-S-X'), 'SNSPX----------');
    assert.equal(cotToSidc('a-u-U-S'), 'SUUPS----------');
    assert.equal(cotToSidc('a-f-G'), 'SFGP-----------');
    for (const t of ['a-f-G-U-C-I', 'a-h-A-M-F-F', 'a-f-G']) assert.equal(cotToSidc(t).length, 15);
});

test('at most six function letters; a segment that is not one letter ends them', () => {
    assert.equal(cotToSidc('a-f-G-U-C-I-A-B-C-D'), 'SFGPUCIABC-----');
    assert.equal(cotToSidc('a-f-G-U-C-xy-Z'), 'SFGPUC---------');
});

test('types that are not atoms, or malformed, have no symbol', () => {
    for (const t of ['b-m-p-s-p-i', 't-x-d-d', 'u-d-f', 'a', 'a-f', 'a-z-G', 'a-f-Q', '', null, 42])
        assert.equal(cotToSidc(t), null, String(t));
    assert.equal(parseCotType('b-m-p'), null);
});

test('milsymbol draws every mapped code as a valid symbol', () => {
    for (const t of ['a-f-G-U-C-I', 'a-h-G-U-C-A', 'a-n-S-C', 'a-u-A', 'a-f-G-E-V', 'a-h-S-C-L-D-D']) {
        const sym = new ms.Symbol(cotToSidc(t), { size: 30 });
        assert.ok(sym.isValid(), `${t} -> ${cotToSidc(t)}`);
        assert.match(sym.asSVG(), /^<svg/);
    }
});

test('descriptions for the details panel', () => {
    assert.equal(describeCotType('a-f-G-U-C-I'), 'friend ground, infantry');
    assert.equal(describeCotType('a-h-A-M-F-F-Q'), 'hostile air, fighter');
    assert.equal(describeCotType('a-n-S-Z'), 'neutral sea surface');
    assert.equal(describeCotType('b-m-p'), '');
    assert.equal(affiliationOf('a-h-G'), 'hostile');
    assert.equal(affiliationOf('t-x-d-d'), '');
});
