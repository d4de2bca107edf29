// 44-plan-allowed: every plan answer carries "allowed", the changes its caller may make
// now, computed by the rules that refuse them (docs/api.md).  Walked with the shipped
// alliance file: a planner may advance (also into a gate still closed, which the server
// then refuses with its rule), an approver of each nation may approve and reject, only the
// consultation authority may record consultation, a viewer may do nothing, and an approver
// of a command outside the plan's chains may not approve.  What "allowed" offers passes;
// what it leaves out is refused.

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { httpInput, identity, makeConfig, request, SOURCE_DIR, startServer } from './lib/harness.mjs';

const who = (name, nation, command, roles) => httpInput(name, ['Cyan'], ['Cyan'], {
    identity: identity(name, ['Cyan'], ['Cyan'], { nation, clearance: 'SECRET', command, roles: ['viewer', ...roles] }),
});

const OPERATION = {
    title: 'Steel Gate', kind: 'operation', legal_basis: 'article_vi', lead: 'USFJ', participants: ['USFJ', 'JJOC'],
    start: '2026-10-23T00:00:00Z', end: '2026-11-01T00:00:00Z', label: 'SECRET//REL TO USA, JPN',
    flags: { combat_from_japan: true },
};

describe('plan "allowed"', () => {
    let server;

    before(async () => {
        const config = makeConfig({ inputs: [
            who('planner', 'USA', 'USFJ', ['planner']), who('viewer', 'USA', 'USFJ', []),
            who('jp-approver', 'JPN', 'JJOC', ['approver']), who('secdef', 'USA', 'USA-SECDEF', ['approver']),
            who('cabinet', 'JPN', 'JPN-CABINET', ['approver']), who('c7f', 'USA', 'C7F', ['approver']),
        ] });
        config.alliance = path.join(SOURCE_DIR, 'config/alliance/us-japan.yaml');
        server = await startServer({ config });
    });

    after(async () => {
        await server.stop();
        server.cleanup();
    });

    const call = (as, method, p, body) => request(server.port(as), method, p, body === undefined ? {}
        : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    const get = async (as, id) => (await call(as, 'GET', `/api/v1/plans/${id}`)).json();
    let plan;

    test('each caller is offered what its identity may do', async () => {
        const r = await call('planner', 'POST', '/api/v1/plans', OPERATION);
        assert.equal(r.status, 201, r.body);
        plan = r.json();
        assert.deepEqual(plan.allowed, ['advance'], 'the creator\'s own answer');
        assert.equal(plan.consultation, 'required');
        assert.deepEqual((await get('viewer', plan.id)).allowed, []);
        assert.deepEqual((await get('jp-approver', plan.id)).allowed, [], 'an operation: the Cabinet approves for Japan, the JJOC is below it');
        assert.deepEqual((await get('cabinet', plan.id)).allowed, ['approve', 'reject', 'consult']);
        assert.deepEqual((await get('secdef', plan.id)).allowed, ['approve', 'reject']);
        assert.deepEqual((await get('c7f', plan.id)).allowed, [], 'C7F is not SECDEF nor above it');
        const list = (await call('viewer', 'GET', '/api/v1/plans')).json();
        assert.deepEqual(list.plans.find((p) => p.id === plan.id).allowed, [], 'the list carries it too');
    });

    test('what is left out is refused, what is offered passes', async () => {
        const body = { revision: plan.revision, decision: 'approve' };
        assert.equal((await call('c7f', 'POST', `/api/v1/plans/${plan.id}/approvals`, body)).status, 403);
        assert.equal((await call('viewer', 'POST', `/api/v1/plans/${plan.id}/stage`, { to: 'initial_planning' })).status, 403);
        assert.equal((await call('jp-approver', 'POST', `/api/v1/plans/${plan.id}/consultation`, { state: 'requested' })).status, 403);
        const r = await call('secdef', 'POST', `/api/v1/plans/${plan.id}/approvals`, body);
        assert.equal(r.status, 200, r.body);
        assert.deepEqual(r.json().allowed, ['approve', 'reject'], 'a decision may be changed');
    });

    test('advance stays offered at a closed gate, and the server says which', async () => {
        for (const to of ['initial_planning', 'main_planning', 'final_planning'])
            assert.equal((await call('planner', 'POST', `/api/v1/plans/${plan.id}/stage`, { to })).status, 200, to);
        assert.deepEqual((await get('planner', plan.id)).allowed, ['advance']);
        const r = await call('planner', 'POST', `/api/v1/plans/${plan.id}/stage`, { to: 'execution' });
        assert.equal(r.status, 409);
        assert.equal(r.json().rule, 'consultation_required');
    });
});
