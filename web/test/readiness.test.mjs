// readiness.test.mjs - the readiness board's reading of GET /api/v1/readiness (src/readiness.js).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { areaText, boardRows } from '../src/readiness.js';

test('worst overall first, then by unit; stale kept', () => {
    const rows = boardRows([
        { unit: 'C7F', overall: 3, p: 1, s: 2, r: 3, t: 1, stale: false, label: 'SECRET//NOFORN' },
        { unit: 'IIIMEF', overall: 1, p: 1, s: 1, r: 1, t: 1, stale: true },
        { unit: 'ABC', overall: 3, p: 3, s: 1, r: 1, t: 6 },
    ]);
    assert.deepEqual(rows.map((r) => r.unit), ['ABC', 'C7F', 'IIIMEF']);
    assert.equal(rows[2].stale, true);
    assert.equal(rows[2].label, 'UNCLASSIFIED');
});

test('area 6 is not measured', () => {
    assert.equal(areaText(6), '–');
    assert.equal(areaText(2), '2');
});
