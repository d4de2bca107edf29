// rollup.test.mjs - the banner's roll-up of what is on screen against the table of
// docs/labels.md (roll-up): REL TO intersections with tetragraphs, NOFORN, ORCON, RELIDO,
// wholly foreign, JOINT and FGI origins (src/classification.js).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { parseLabel, rollUp } from '../src/classification.js';

const roll = (...parts) => rollUp(parts).text;

test('origin markings are read: JOINT co-owners, a wholly foreign nation, FGI nations', () => {
    const j = parseLabel('//JOINT SECRET USA JPN//REL TO USA, JPN');
    assert.deepEqual([j.level, j.joint, j.foreign, j.rel], [2, ['JPN', 'USA'], null, ['USA', 'JPN']]);
    const f = parseLabel('//JPN SECRET//REL TO USA, JPN');
    assert.deepEqual([f.level, f.joint, f.foreign], [2, null, 'JPN']);
    const g = parseLabel('SECRET//FGI KOR JPN//REL TO USA, JPN');
    assert.deepEqual([g.fgi, g.controls], [['JPN', 'KOR'], []]);
    assert.deepEqual(parseLabel('TS//NF/OC').controls, ['NOFORN', 'ORCON']);
    assert.equal(parseLabel('//JOINT TOP SECRET USA JPN').level, 3);
});

test('the table of docs/labels.md', () => {
    assert.equal(roll('SECRET//REL TO USA, JPN, PHL', 'CONFIDENTIAL//REL TO USA, JPN, KOR'), 'SECRET//REL TO USA, JPN');
    assert.equal(roll('SECRET//REL TO USA, FVEY', 'SECRET//REL TO USA, GBR, JPN'), 'SECRET//REL TO USA, GBR');
    assert.equal(roll('SECRET//REL TO USA, FVEY', 'SECRET//REL TO USA, FVEY'), 'SECRET//REL TO USA, FVEY');
    assert.equal(roll('SECRET//REL TO USA, JPN', 'CONFIDENTIAL//NOFORN'), 'SECRET//NOFORN');
    assert.equal(roll('UNCLASSIFIED', 'CONFIDENTIAL//NOFORN'), 'CONFIDENTIAL//NOFORN');
    assert.equal(roll('SECRET//REL TO USA, JPN', 'CONFIDENTIAL'), 'SECRET//NOFORN');
    assert.equal(roll('SECRET//REL TO USA, JPN/RELIDO', 'SECRET//REL TO USA, JPN'), 'SECRET//REL TO USA, JPN');
    assert.equal(roll('SECRET//RELIDO', 'SECRET//NOFORN'), 'SECRET//NOFORN');
    assert.equal(roll('UNCLASSIFIED//FOUO/REL TO USA, JPN', 'SECRET//REL TO USA, JPN'), 'SECRET//REL TO USA, JPN');
    assert.equal(roll('//JOINT SECRET JPN USA//REL TO USA, JPN', 'CONFIDENTIAL//REL TO USA, JPN, PHL'),
        '//JOINT SECRET JPN USA//REL TO USA, JPN');
    assert.equal(roll('//JOINT SECRET JPN USA', 'SECRET//NOFORN'), 'SECRET//FGI JPN//NOFORN');
});

test('RELIDO when every classified part has it', () => {
    assert.equal(roll('SECRET//REL TO USA, JPN/RELIDO', 'CONFIDENTIAL//REL TO USA, JPN, PHL/RELIDO'),
        'SECRET//REL TO USA, JPN/RELIDO');
});

test('ORCON and NOFORN from any part', () => {
    assert.equal(roll('SECRET//ORCON/REL TO USA, JPN', 'CONFIDENTIAL//REL TO USA, JPN'), 'SECRET//ORCON/REL TO USA, JPN');
    assert.equal(roll('TOP SECRET//REL TO USA, JPN', 'SECRET//NOFORN'), 'TOP SECRET//NOFORN');
});

test('foreign information beside the home\'s is held as FGI', () => {
    assert.equal(roll('//JPN SECRET//REL TO USA, JPN', 'SECRET//REL TO USA, JPN'), 'SECRET//FGI JPN//REL TO USA, JPN');
    assert.equal(roll('SECRET//FGI KOR//REL TO USA, JPN, KOR', 'SECRET//REL TO USA, JPN'), 'SECRET//FGI KOR//REL TO USA, JPN');
    assert.equal(roll('//JPN SECRET//REL TO USA, JPN', '//JPN CONFIDENTIAL//REL TO USA, JPN, PHL'),
        '//JPN SECRET//REL TO USA, JPN', 'one foreign origin throughout is kept');
});

test('a JOINT is kept while its co-owners cover every part and may receive the whole', () => {
    assert.equal(roll('//JOINT SECRET JPN USA//REL TO USA, JPN', '//JPN SECRET//REL TO USA, JPN'),
        '//JOINT SECRET JPN USA//REL TO USA, JPN');
    assert.equal(roll('//JOINT SECRET JPN USA//REL TO USA, JPN', '//PHL SECRET//REL TO USA, JPN, PHL'),
        'SECRET//FGI JPN PHL//REL TO USA, JPN', 'PHL is no co-owner');
});

test('a single classified marking is the banner as written', () => {
    assert.equal(roll('//JOINT SECRET JPN USA//REL TO USA, JPN'), '//JOINT SECRET JPN USA//REL TO USA, JPN');
    assert.equal(roll('//JOINT SECRET JPN USA//REL TO USA, JPN', 'UNCLASSIFIED', ''), '//JOINT SECRET JPN USA//REL TO USA, JPN');
    assert.equal(rollUp(['//JOINT SECRET JPN USA//REL TO USA, JPN']).level, 2);
});

test('a REL TO that would break a marking rule is written NOFORN', () => {
    assert.equal(roll('SECRET//REL TO USA, JPN', 'SECRET//REL TO USA, GBR'), 'SECRET//NOFORN', 'USA alone');
    assert.equal(rollUp(['SECRET//REL TO USA, JPN', 'SECRET//REL TO JPN, PHL'], { home: 'JPN' }).text, 'SECRET//NOFORN',
        'JPN alone, under a JPN-home policy');
    assert.equal(rollUp(['SECRET//REL TO USA, JPN, PHL', 'SECRET//REL TO JPN, PHL'], { home: 'JPN' }).text,
        'SECRET//REL TO JPN, PHL');
});
