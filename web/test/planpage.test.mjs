// planpage.test.mjs - the plan page's reading of GET /api/v1/plans/{id} (src/plans.js): the
// hash route, the participants' zones, local times, approvals, the buttons the server
// allows and the REST call each makes, refusals and the items on the map.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
    actionRequest, approvalRows, itemFeatures, localTime, nextStage, planActions, planHash, planOfHash, planZones,
    refusalText, timeline, zoneOf,
} from '../src/plans.js';

const KEEN_SWORD = {
    id: 'p-3f2a9c01', title: 'Keen Sword 27', stage: 'final_planning', revision: 5,
    participants: ['USFJ', 'JJOC', 'INDOPACOM'],
    zones: { USFJ: 'Asia/Tokyo', JJOC: 'Asia/Tokyo', INDOPACOM: 'Pacific/Honolulu' },
    own_label: 'SECRET//REL TO USA, JPN',
    required_approvals: [{ nation: 'USA', command: 'USFJ' }, { nation: 'JPN', command: 'JJOC' }],
    approvals: [{ nation: 'JPN', command: 'JJOC', user: 'jjoc-approver', revision: 5, decision: 'approve',
        reason: 'JJOC concurs', time: '2026-12-07T03:39:32Z' }],
    items: [
        { id: 3, time: '2026-10-29T01:00:00Z', description: "Commanders' hot-wash at the BPM", units: [] },
        { id: 1, time: '2026-10-25T00:00:00Z', lat: 35.748, lon: 139.348, place: 'Yokota AB',
            units: ['5AF', 'JASDF-ADC'], description: 'Bilateral air and missile defense drill', label: 'SECRET//REL TO USA, JPN' },
        { id: 2, time: '2026-10-27T22:00:00Z', lat: 26.355, lon: 127.768, place: 'Kadena AB', units: [] },
    ],
    allowed: [],
};

test('the hash route names a plan, and only a plan', () => {
    assert.equal(planHash('p-1'), '#plan/p-1');
    assert.equal(planOfHash('#plan/p-1'), 'p-1');
    assert.equal(planOfHash(planHash('p 1/x')), 'p 1/x');
    for (const h of ['', '#', '#plans', '#plan/', '#plan/a/b', null]) assert.equal(planOfHash(h), null, h);
});

test('zones: the server\'s first, then the table by command and by nation prefix, else UTC', () => {
    assert.equal(zoneOf(KEEN_SWORD, 'INDOPACOM'), 'Pacific/Honolulu');
    assert.equal(zoneOf({ zones: { USFJ: 'America/Chicago' } }, 'USFJ'), 'America/Chicago', 'the server wins');
    assert.equal(zoneOf({}, 'USFJ'), 'Asia/Tokyo', 'US forces in Japan keep Japan time');
    assert.equal(zoneOf({}, 'INDOPACOM'), 'Pacific/Honolulu');
    assert.equal(zoneOf({}, 'JPN-CABINET'), 'Asia/Tokyo');
    assert.equal(zoneOf({}, 'XYZ-HQ'), 'UTC');
});

test('each zone once, in participant order, with the commands in it', () => {
    assert.deepEqual(planZones(KEEN_SWORD), [
        { zone: 'Asia/Tokyo', commands: ['USFJ', 'JJOC'] }, { zone: 'Pacific/Honolulu', commands: ['INDOPACOM'] },
    ]);
});

test('local times as docs/plans.md prints them, across the date line and daylight saving', () => {
    assert.equal(localTime('2026-10-25T00:00:00Z', 'Asia/Tokyo'), '2026-10-25 09:00 JST');
    assert.equal(localTime('2026-10-25T00:00:00Z', 'Pacific/Honolulu'), '2026-10-24 14:00 HST');
    assert.equal(localTime('2026-10-27T22:00:00Z', 'Asia/Tokyo'), '2026-10-28 07:00 JST');
    assert.equal(localTime('2026-10-29T01:00:00Z', 'UTC'), '2026-10-29 01:00 UTC');
    assert.match(localTime('2026-10-25T00:00:00Z', 'Australia/Sydney'), /^2026-10-25 11:00 /, 'AEDT, UTC+11');
    assert.match(localTime('2026-06-25T00:00:00Z', 'Australia/Sydney'), /^2026-06-25 10:00 /, 'AEST, UTC+10');
    assert.match(localTime('2026-07-04T16:00:00Z', 'America/New_York'), /^2026-07-04 12:00 (EDT|GMT-4)$/);
    assert.equal(localTime('not a time', 'Asia/Tokyo'), 'not a time');
});

test('the timeline: items in time order, numbered, in every zone, labels defaulting to the plan\'s', () => {
    const t = timeline(KEEN_SWORD);
    assert.deepEqual(t.map((x) => [x.n, x.id]), [[1, 1], [2, 2], [3, 3]]);
    assert.deepEqual(t[0].local.map((l) => l.text), ['2026-10-25 09:00 JST', '2026-10-24 14:00 HST']);
    assert.deepEqual(t[1].local.map((l) => l.text), ['2026-10-28 07:00 JST', '2026-10-27 12:00 HST']);
    assert.equal(t[2].label, 'SECRET//REL TO USA, JPN');
    assert.equal(t[2].lat, null);
});

test('approvals: every required one, decided on the current revision or pending', () => {
    assert.deepEqual(approvalRows(KEEN_SWORD).map((r) => [r.command, r.decision, r.user]),
        [['USFJ', 'pending', null], ['JJOC', 'approve', 'jjoc-approver']]);
    const stale = { ...KEEN_SWORD, revision: 6 };
    assert.deepEqual(approvalRows(stale).map((r) => r.decision), ['pending', 'pending'], 'an older revision\'s approval');
});

test('stages go forward one at a time', () => {
    assert.equal(nextStage('concept'), 'initial_planning');
    assert.equal(nextStage('final_planning'), 'execution');
    assert.equal(nextStage('assessment'), 'closed');
    assert.equal(nextStage('closed'), null);
    assert.equal(nextStage('weird'), null);
});

test('buttons only for what the server allows', () => {
    assert.deepEqual(planActions(KEEN_SWORD), [], 'nothing allowed, no buttons');
    assert.deepEqual(planActions({ ...KEEN_SWORD, allowed: ['approve', 'reject'] }).map((a) => a.key), ['approve', 'reject']);
    assert.deepEqual(planActions({ ...KEEN_SWORD, allowed: ['advance', 'consult'] }).map((a) => a.text),
        ['Consultation requested', 'Consultation agreed', 'Consultation declined', 'Advance to execution']);
    assert.deepEqual(planActions({ ...KEEN_SWORD, stage: 'closed', allowed: ['advance'] }), []);
    assert.deepEqual(planActions({ ...KEEN_SWORD, allowed: ['unknown'] }), []);
});

test('each button\'s REST call', () => {
    assert.deepEqual(actionRequest(KEEN_SWORD, 'approve', ''),
        { url: '/api/v1/plans/p-3f2a9c01/approvals', body: { revision: 5, decision: 'approve' } });
    assert.deepEqual(actionRequest(KEEN_SWORD, 'reject', 'not yet').body, { revision: 5, decision: 'reject', reason: 'not yet' });
    assert.deepEqual(actionRequest(KEEN_SWORD, 'consult:agreed', 'ok'),
        { url: '/api/v1/plans/p-3f2a9c01/consultation', body: { state: 'agreed', reason: 'ok' } });
    assert.deepEqual(actionRequest(KEEN_SWORD, 'advance'), { url: '/api/v1/plans/p-3f2a9c01/stage', body: { to: 'execution' } });
    assert.throws(() => actionRequest(KEEN_SWORD, 'edit'));
});

test('a refusal shows the server\'s error, status and rule', () => {
    assert.equal(refusalText(409, { error: 'revision 5 of plan p lacks the approval of USFJ (USA)', rule: 'approvals_missing' }),
        'revision 5 of plan p lacks the approval of USFJ (USA) (HTTP 409, rule approvals_missing)');
    assert.equal(refusalText(403, { error: "role 'approver' required" }), "role 'approver' required (HTTP 403)");
    assert.equal(refusalText(500, null), 'refused (HTTP 500)');
});

test('the items with a place as points for the map', () => {
    const f = itemFeatures(KEEN_SWORD);
    assert.equal(f.length, 2);
    assert.deepEqual(f[0].geometry.coordinates, [139.348, 35.748]);
    assert.equal(f[0].properties.name, '#1 Yokota AB');
    assert.equal(f[1].properties.name, '#2 Kadena AB');
});
