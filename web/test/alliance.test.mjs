// alliance.test.mjs - the alliance panel's reading of /api/v1/alliance/show (src/alliance.js).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { commandRows, counterpartIds, relationOf } from '../src/alliance.js';

const show = {
    nations: [
        { code: 'USA', commands: [{ id: 'INDOPACOM', name: 'IndoPaCom', nation: 'USA', subordinates: [
            { id: 'USFJ', name: 'US Forces Japan', nation: 'USA', subordinates: [] },
            { id: 'PACFLT', name: 'Pacific Fleet', nation: 'USA', subordinates: [{ id: 'C7F', name: '7th Fleet', nation: 'USA' }] },
        ] }] },
        { code: 'JPN', commands: [{ id: 'JJOC', name: 'JJOC', nation: 'JPN', label: 'CONFIDENTIAL' }] },
    ],
    relations: [
        { type: 'COCOM', from: 'INDOPACOM', to: 'PACFLT' }, { type: 'OPCON', from: 'INDOPACOM', to: 'USFJ' },
        { type: 'ADCON', from: 'INDOPACOM', to: 'USFJ' }, { type: 'OPCON', from: 'PACFLT', to: 'C7F' },
        { type: 'COUNTERPART', from: 'USFJ', to: 'JJOC' },
    ],
};

test('tree order with depths and the superior\'s relationship', () => {
    const rows = commandRows(show);
    assert.deepEqual(rows.map((r) => [r.id, r.depth, r.relation]), [
        ['INDOPACOM', 0, ''], ['USFJ', 1, 'OPCON, ADCON'], ['PACFLT', 1, 'COCOM'], ['C7F', 2, 'OPCON'], ['JJOC', 0, ''],
    ]);
    assert.equal(rows[4].label, 'CONFIDENTIAL');
    assert.equal(rows[0].label, 'UNCLASSIFIED');
});

test('relations and counterparts', () => {
    assert.equal(relationOf(show.relations, 'USFJ', 'JJOC'), 'COUNTERPART');
    assert.equal(relationOf(show.relations, 'JJOC', 'USFJ'), '');
    assert.deepEqual([...counterpartIds({ counterparts: [{ id: 'JJOC' }] })], ['JJOC']);
    assert.equal(counterpartIds(null).size, 0);
});
