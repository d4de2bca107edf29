// plans.test.mjs - the plans panel's reading of GET /api/v1/plans (src/plans.js).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { byStage, planSummary } from '../src/plans.js';

const plan = (o) => ({
    id: 'p-1', title: 'Keen Sword', stage: 'concept', revision: 2, consultation: 'not_required',
    required_approvals: [{ nation: 'USA', command: 'USFJ' }, { nation: 'JPN', command: 'JJOC' }],
    approvals: [], label: '//JOINT SECRET JPN USA//REL TO USA, JPN', ...o,
});

test('approvals count only approvals of the current revision', () => {
    const s = planSummary(plan({ approvals: [
        { command: 'USFJ', revision: 1, decision: 'approve' },
        { command: 'JJOC', revision: 2, decision: 'approve' },
        { command: 'USFJ', revision: 2, decision: 'reject' },
    ] }));
    assert.equal(s.approved, 1);
    assert.equal(s.required, 2);
    assert.equal(s.label, '//JOINT SECRET JPN USA//REL TO USA, JPN');
});

test('plans in stage order, then by title', () => {
    const order = byStage([
        plan({ id: 'c', title: 'C', stage: 'execution' }), plan({ id: 'a', title: 'B', stage: 'concept' }),
        plan({ id: 'b', title: 'A', stage: 'concept' }), plan({ id: 'd', title: 'D', stage: 'weird' }),
        plan({ id: 'e', title: 'E', stage: 'main_planning' }),
    ]).map((p) => p.id);
    assert.deepEqual(order, ['b', 'a', 'e', 'c', 'd']);
});
