// 26-plans: joint plans on the real binary with the shipped alliance file.
// A bilateral exercise walked from concept to execution by a US planner, a
// Japanese approver and a US approver; an edit after approval that forces
// re-approval; an operation flagged combat_from_japan blocked until the
// Cabinet's consultation is agreed, and kept blocked when declined; the
// approval rules (wrong nation, wrong command, wrong role, stale revision);
// a participant without clearance that sees nothing of a SECRET plan (404);
// the audit trail read back and verified; everything again after a restart.

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
    barrier, CotClient, httpInput, identity, makeConfig, request, SOURCE_DIR, startServer, tcpInput,
} from './lib/harness.mjs';

const SHIPPED = path.join(SOURCE_DIR, 'config/alliance/us-japan.yaml');

const who = (name, nation, command, roles, clearance = 'SECRET') => httpInput(name, ['Cyan'], ['Cyan'], {
    identity: identity(name, ['Cyan'], ['Cyan'], { nation, clearance, command, roles: ['viewer', ...roles] }),
});

const INPUTS = [
    who('us-planner', 'USA', 'USFJ', ['planner']),
    who('us-approver', 'USA', 'USFJ', ['approver']),
    who('jp-approver', 'JPN', 'JJOC', ['approver']),
    who('jp-planner', 'JPN', 'JJOC', ['planner']),
    who('jp-uncleared', 'JPN', 'JJOC', ['planner'], 'CONFIDENTIAL'),
    who('secdef', 'USA', 'USA-SECDEF', ['approver']),
    who('cabinet', 'JPN', 'JPN-CABINET', ['approver']),
    who('c7f-approver', 'USA', 'C7F', ['approver']),
    who('us-viewer', 'USA', 'USFJ', []),
    // Devices on the map: who receives a plan's markers.
    ...[['jp-dev', 'JPN', 'SECRET'], ['phl-dev', 'PHL', 'SECRET'], ['us-low-dev', 'USA', 'CONFIDENTIAL'], ['us-dev', 'USA', 'SECRET']]
        .map(([name, nation, clearance]) => tcpInput(name, ['Cyan'], ['Cyan'], {
            identity: identity(name, ['Cyan'], ['Cyan'], { nation, clearance }), default_label: 'UNCLASSIFIED',
        })),
];

const KEEN_SWORD = {
    title: 'Keen Sword 27', kind: 'exercise', legal_basis: 'training', lead: 'USFJ',
    participants: ['USFJ', 'JJOC'], start: '2026-10-23T00:00:00Z', end: '2026-11-01T00:00:00Z',
    label: 'SECRET//REL TO USA, JPN',
};

describe('plans', () => {
    let server;

    before(async () => {
        const config = makeConfig({ inputs: INPUTS });
        config.alliance = SHIPPED;
        server = await startServer({ config });
    });

    after(async () => {
        await server.stop();
        server.cleanup();
    });

    const call = (as, method, p, body) => request(server.port(as), method, p, body === undefined ? {}
        : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    const ok = async (as, method, p, body, status = 200) => {
        const r = await call(as, method, p, body);
        assert.equal(r.status, status, `${as} ${method} ${p}: ${r.body}`);
        return r.json();
    };
    const refused = async (as, method, p, body, status, rule) => {
        const r = await call(as, method, p, body);
        assert.equal(r.status, status, `${as} ${method} ${p}: ${r.body}`);
        if (rule)
            assert.equal(r.json().rule, rule, r.body);
        return r.json();
    };
    const stage = (as, id, to) => call(as, 'POST', `/api/v1/plans/${id}/stage`, { to });
    const forward = async (as, id, ...stages) => {
        for (const to of stages)
            assert.equal((await stage(as, id, to)).status, 200, `to ${to}`);
    };
    const approve = (as, id, revision) => ok(as, 'POST', `/api/v1/plans/${id}/approvals`, { revision, decision: 'approve' });

    test('a bilateral exercise from concept to execution', async () => {
        const p = await ok('us-planner', 'POST', '/api/v1/plans', KEEN_SWORD, 201);
        assert.match(p.id, /^p-[0-9a-f]{8}$/);
        assert.equal(p.revision, 1);
        assert.equal(p.stage, 'concept');
        assert.equal(p.consultation, 'not_required');
        assert.deepEqual(p.required_approvals.map((a) => a.command).sort(), ['JJOC', 'USFJ']);
        assert.equal(p.zones.JJOC, 'Asia/Tokyo');
        assert.match(p.label, /JOINT/);
        const item = await ok('us-planner', 'POST', `/api/v1/plans/${p.id}/items`, {
            time: '2026-10-25T00:00:00Z', lat: 35.75, lon: 139.35, place: 'Yokota AB', units: ['5AF', 'JASDF-ADC'],
            description: 'Bilateral air defence serial',
        }, 201);
        assert.equal(item.revision, 2);
        assert.equal(item.items.length, 1);
        assert.equal(item.items[0].label, 'SECRET//REL TO USA, JPN');
        await forward('us-planner', p.id, 'initial_planning', 'main_planning', 'final_planning');
        // Not without both nations' approvals of the current revision.
        await refused('us-planner', 'POST', `/api/v1/plans/${p.id}/stage`, { to: 'execution' }, 409, 'approvals_missing');
        await approve('jp-approver', p.id, 2);
        const r = await refused('us-planner', 'POST', `/api/v1/plans/${p.id}/stage`, { to: 'execution' }, 409, 'approvals_missing');
        assert.match(r.error, /USFJ/);
        const both = await approve('us-approver', p.id, 2);
        assert.deepEqual(both.approvals.map((a) => [a.nation, a.decision, a.revision]).sort(),
            [['JPN', 'approve', 2], ['USA', 'approve', 2]]);
        const live = await ok('us-planner', 'POST', `/api/v1/plans/${p.id}/stage`, { to: 'execution' });
        assert.equal(live.stage, 'execution');
        // Stages go one step at a time, and an executing plan is not edited.
        await refused('us-planner', 'POST', `/api/v1/plans/${p.id}/stage`, { to: 'closed' }, 409, 'stage_order');
        await refused('us-planner', 'PATCH', `/api/v1/plans/${p.id}`, { title: 'late' }, 409, 'stage_order');
    });

    test('an edit after approval makes a new revision and needs approval again', async () => {
        const p = await ok('jp-planner', 'POST', '/api/v1/plans', { ...KEEN_SWORD, title: 'Keen Edge 28', lead: 'JJOC' }, 201);
        await approve('jp-approver', p.id, 1);
        await approve('us-approver', p.id, 1);
        const e = await ok('us-planner', 'PATCH', `/api/v1/plans/${p.id}`, { title: 'Keen Edge 28 (CPX)' });
        assert.equal(e.revision, 2);
        assert.deepEqual(e.approvals, []);
        const diff = e.revisions.at(-1);
        assert.equal(diff.revision, 2);
        assert.deepEqual(diff.changes.title, { from: 'Keen Edge 28', to: 'Keen Edge 28 (CPX)' });
        // An approval of the old revision is refused as stale.
        await refused('jp-approver', 'POST', `/api/v1/plans/${p.id}/approvals`, { revision: 1, decision: 'approve' }, 409, 'stale_revision');
        await forward('jp-planner', p.id, 'initial_planning', 'main_planning', 'final_planning');
        await refused('jp-planner', 'POST', `/api/v1/plans/${p.id}/stage`, { to: 'execution' }, 409, 'approvals_missing');
        await approve('jp-approver', p.id, 2);
        await approve('us-approver', p.id, 2);
        await forward('jp-planner', p.id, 'execution');
    });

    test('approval rules: wrong role, wrong command, wrong nation, a rejection needs a reason', async () => {
        const p = await ok('us-planner', 'POST', '/api/v1/plans', { ...KEEN_SWORD, title: 'Resolute Dragon 27' }, 201);
        const url = `/api/v1/plans/${p.id}/approvals`;
        let r = await refused('us-planner', 'POST', url, { revision: 1, decision: 'approve' }, 403);
        assert.match(r.error, /approver/);
        r = await refused('c7f-approver', 'POST', url, { revision: 1, decision: 'approve' }, 403);
        assert.match(r.error, /C7F.*USFJ/);
        // An approver of a nation with no participant approves nothing here.
        await refused('us-viewer', 'POST', url, { revision: 1, decision: 'approve' }, 403);
        await refused('jp-approver', 'POST', url, { revision: 1, decision: 'reject' }, 400);
        const rej = await ok('jp-approver', 'POST', url, { revision: 1, decision: 'reject', reason: 'range not cleared' });
        assert.equal(rej.approvals[0].decision, 'reject');
        await approve('us-approver', p.id, 1);
        await forward('us-planner', p.id, 'initial_planning', 'main_planning', 'final_planning');
        // A rejection is not an approval.
        await refused('us-planner', 'POST', `/api/v1/plans/${p.id}/stage`, { to: 'execution' }, 409, 'approvals_missing');
        // Malformed bodies.
        await refused('jp-approver', 'POST', url, { decision: 'approve' }, 400);
        await refused('us-planner', 'POST', '/api/v1/plans', { ...KEEN_SWORD, kind: 'war' }, 400);
        await refused('us-planner', 'POST', '/api/v1/plans', { ...KEEN_SWORD, participants: ['USFJ', 'NOPE'] }, 400);
        await refused('us-planner', 'POST', '/api/v1/plans', { ...KEEN_SWORD, lead: 'C7F' }, 400);
        await refused('us-planner', 'POST', '/api/v1/plans', { ...KEEN_SWORD, label: 'SECRET//NOFORN' }, 400);
        // A planner of a command that does not take part.
        await refused('us-planner', 'POST', '/api/v1/plans', { ...KEEN_SWORD, lead: 'JJOC', participants: ['JJOC'] }, 403);
    });

    test('combat from Japan: blocked until the Cabinet agrees, and while it declines', async () => {
        const op = {
            ...KEEN_SWORD, title: 'Regional contingency', kind: 'operation', legal_basis: 'article_vi',
            flags: { combat_from_japan: true },
        };
        const p = await ok('us-planner', 'POST', '/api/v1/plans', op, 201);
        assert.equal(p.consultation, 'required');
        assert.equal(p.consultation_authority, 'JPN-CABINET');
        assert.deepEqual(p.required_approvals.map((a) => a.command).sort(), ['JPN-CABINET', 'USA-SECDEF']);
        await approve('secdef', p.id, 1);
        await approve('cabinet', p.id, 1);
        await forward('us-planner', p.id, 'initial_planning', 'main_planning', 'final_planning');
        await refused('us-planner', 'POST', `/api/v1/plans/${p.id}/stage`, { to: 'execution' }, 409, 'consultation_required');
        // Only the authority's approvers record the consultation.
        const url = `/api/v1/plans/${p.id}/consultation`;
        await refused('jp-approver', 'POST', url, { state: 'agreed' }, 403);
        await refused('secdef', 'POST', url, { state: 'agreed' }, 403);
        await ok('cabinet', 'POST', url, { state: 'requested' });
        await refused('us-planner', 'POST', `/api/v1/plans/${p.id}/stage`, { to: 'execution' }, 409, 'consultation_required');
        await refused('cabinet', 'POST', url, { state: 'declined' }, 400);
        await ok('cabinet', 'POST', url, { state: 'declined', reason: 'not in the interest of the security of Japan' });
        const r = await refused('us-planner', 'POST', `/api/v1/plans/${p.id}/stage`, { to: 'execution' }, 409, 'consultation_declined');
        assert.match(r.error, /not in the interest/);
        const agreed = await ok('cabinet', 'POST', url, { state: 'agreed', reason: 'Cabinet decision' });
        assert.equal(agreed.consultation, 'agreed');
        await forward('us-planner', p.id, 'execution');
    });

    test('Article V defence of Japan needs no prior consultation', async () => {
        const p = await ok('us-planner', 'POST', '/api/v1/plans', {
            ...KEEN_SWORD, title: 'Defence of Japan', kind: 'operation', legal_basis: 'article_v',
            flags: { combat_from_japan: true },
        }, 201);
        assert.equal(p.consultation, 'not_required');
        await refused('cabinet', 'POST', `/api/v1/plans/${p.id}/consultation`, { state: 'agreed' }, 400);
    });

    test('a participant without clearance sees nothing of a SECRET plan', async () => {
        const p = await ok('us-planner', 'POST', '/api/v1/plans', { ...KEEN_SWORD, title: 'Orient Shield 27' }, 201);
        const r = await call('jp-uncleared', 'GET', `/api/v1/plans/${p.id}`);
        assert.equal(r.status, 404);
        const unknown = await call('jp-uncleared', 'GET', '/api/v1/plans/p-00000000');
        assert.equal(r.body.replace(p.id, 'X'), unknown.body.replace('p-00000000', 'X'));
        const list = await ok('jp-uncleared', 'GET', '/api/v1/plans');
        assert.equal(list.plans.length, 0);
        await refused('jp-uncleared', 'POST', `/api/v1/plans/${p.id}/stage`, { to: 'initial_planning' }, 404);
        await refused('jp-uncleared', 'GET', `/api/v1/plans/${p.id}/audit`, undefined, 404);
        await refused('jp-uncleared', 'GET', `/api/v1/plans/${p.id}.ics`, undefined, 404);
        // An item above a cleared reader's reach is left out; the plan is still there.
        await ok('us-planner', 'POST', `/api/v1/plans/${p.id}/items`, {
            time: '2026-10-24T00:00:00Z', description: 'US-only serial', label: 'SECRET//NOFORN',
        }, 201);
        const jp = await ok('jp-approver', 'GET', `/api/v1/plans/${p.id}`);
        assert.equal(jp.items.length, 0);
        const us = await ok('us-approver', 'GET', `/api/v1/plans/${p.id}`);
        assert.equal(us.items.length, 1);
    });

    test('the audit trail is read back and verified', async () => {
        const p = await ok('us-planner', 'POST', '/api/v1/plans', { ...KEEN_SWORD, title: 'Audited' }, 201);
        await ok('us-planner', 'PATCH', `/api/v1/plans/${p.id}`, { title: 'Audited twice' });
        await approve('jp-approver', p.id, 2);
        await forward('us-planner', p.id, 'initial_planning');
        const a = await ok('us-viewer', 'GET', `/api/v1/plans/${p.id}/audit`);
        assert.equal(a.verified, true, a.problem);
        assert.deepEqual(a.records.map((r) => r.action), ['plan.create', 'plan.edit', 'plan.approve', 'plan.stage']);
        assert.deepEqual(a.records.map((r) => r.actor), ['us-planner', 'us-planner', 'jp-approver', 'us-planner']);
        const approval = a.records[2].detail;
        assert.equal(approval.command, 'JJOC');
        assert.equal(approval.revision, 2);
        assert.equal(a.records[3].detail.stage, 'initial_planning');
        assert.ok(a.records.every((r) => r.object === `plan:${p.id}`));
    });

    test("the plan's items reach, as CoT, only who may see them, and go when it closes", async () => {
        const dev = {};
        for (const name of ['jp-dev', 'phl-dev', 'us-low-dev', 'us-dev'])
            dev[name] = await CotClient.connect(server.port(name), { name });
        try {
            const p = await ok('us-planner', 'POST', '/api/v1/plans', { ...KEEN_SWORD, title: 'Mapped' }, 201);
            await ok('us-planner', 'POST', `/api/v1/plans/${p.id}/items`, {
                time: '2026-10-25T00:00:00Z', lat: 26.35, lon: 127.77, place: 'Kadena', units: ['18WG'],
                description: 'Airfield defence',
            }, 201);
            const uid = `kizuna.plan.${p.id}.1`;
            const got = await dev['jp-dev'].waitUid(uid);
            assert.equal(got.access, 'SECRET//REL TO USA, JPN');
            assert.equal(got.type, 'b-m-p-s-m');
            await dev['us-dev'].waitUid(uid);
            await barrier(dev['us-dev'], [dev['phl-dev'], dev['us-low-dev']]);
            assert.equal(dev['phl-dev'].has(uid), false);
            assert.equal(dev['us-low-dev'].has(uid), false);
            // A device that connects later gets it from the latest state.
            const late = await CotClient.connect(server.port('jp-dev'), { name: 'late' });
            await late.waitUid(uid);
            late.close();
            // Closing the plan removes the marker.
            await approve('jp-approver', p.id, 2);
            await approve('us-approver', p.id, 2);
            await forward('us-planner', p.id, 'initial_planning', 'main_planning', 'final_planning', 'execution',
                'assessment', 'closed');
            const del = await dev['jp-dev'].waitFor((e) => e.type === 't-x-d-d' && e.xml.includes(uid),
                { what: 'the removal' });
            assert.ok(del);
            const tracks = await ok('us-viewer', 'GET', '/api/v1/tracks');
            assert.equal(JSON.stringify(tracks).includes(uid), false);
        } finally {
            for (const c of Object.values(dev))
                c.close();
        }
    });

    test('plans survive a restart', async () => {
        const before = await ok('us-viewer', 'GET', '/api/v1/plans');
        await server.restart();
        const after = await ok('us-viewer', 'GET', '/api/v1/plans');
        assert.deepEqual(after, before);
    });
});
