// 27-plan-cli: `kizuna plan` on the real binary.
//  1. The .ics of a plan read back by a real iCalendar parser (Debian's
//     python3-icalendar): `plan ics --from FILE` needs no server.
//  2. Usage errors (exit 2, nothing sent), and an answer cut short by its
//     peer, which the real server never sends.
//  3. The Keen Sword walk against the real server: a US planner, a Japanese
//     and a US approver, stage by stage to execution, an edit that forces
//     re-approval, an operation held by prior consultation, a caller without
//     clearance that sees nothing, the audit trail and the .ics.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { httpInput, identity, makeConfig, runCli, SOURCE_DIR, startServer } from './lib/harness.mjs';

const SHIPPED = path.join(SOURCE_DIR, 'config/alliance/us-japan.yaml');
const LABEL = 'SECRET//REL TO USA, JPN';
const START = '2026-10-23T00:00:00Z';
const END = '2026-11-01T00:00:00Z';

// ---- a real iCalendar parser ------------------------------------------------

// Debian's interpreter first: a python3 earlier on the PATH (pyenv, a venv)
// need not see the python3-icalendar package.
const PYTHONS = ['/usr/bin/python3', 'python3'];
const PARSE_ICS = `
import icalendar, json, sys
cal = icalendar.Calendar.from_ical(sys.stdin.read())
events = []
for ev in cal.walk('VEVENT'):
    e = {'uid': str(ev['UID']), 'summary': str(ev['SUMMARY']),
         'dtstart': ev.decoded('DTSTART').isoformat(), 'dtstamp': ev.decoded('DTSTAMP').isoformat()}
    if 'DTEND' in ev: e['dtend'] = ev.decoded('DTEND').isoformat()
    if 'LOCATION' in ev: e['location'] = str(ev['LOCATION'])
    if 'GEO' in ev: e['geo'] = [ev['GEO'].latitude, ev['GEO'].longitude]
    if 'DESCRIPTION' in ev: e['description'] = str(ev['DESCRIPTION'])
    events.append(e)
print(json.dumps({'prodid': str(cal['PRODID']), 'version': str(cal['VERSION']), 'events': events}))
`;

function python() {
    for (const bin of PYTHONS) {
        try {
            execFileSync(bin, ['-c', 'import icalendar'], { stdio: 'ignore' });
            return bin;
        } catch { /* the next one */ }
    }
    assert.fail('no python3 with the icalendar module: install python3-icalendar (scripts/deps.sh)');
}

function parseIcs(text) {
    return JSON.parse(execFileSync(python(), ['-c', PARSE_ICS], { input: text, encoding: 'utf8' }));
}

// RFC 5545 §3.1: CRLF only, physical lines of at most 75 octets.
function assertWellFolded(text) {
    assert.ok(text.endsWith('\r\n'));
    assert.doesNotMatch(text.replace(/\r\n/g, ''), /[\r\n]/, 'a bare CR or LF');
    for (const line of text.split('\r\n'))
        assert.ok(Buffer.byteLength(line) <= 75, `line of ${Buffer.byteLength(line)} octets: ${line}`);
}

// A plan object as GET /api/v1/plans/{id} answers it (docs/plans.md).
function samplePlan(extra = {}) {
    return {
        id: 'p-3f2a9c01', revision: 3, title: 'Keen Sword 27', kind: 'exercise', legal_basis: 'training',
        stage: 'main_planning', lead: 'USFJ', participants: ['USFJ', 'JJOC', 'INDOPACOM'],
        zones: { USFJ: 'Asia/Tokyo', JJOC: 'Asia/Tokyo', INDOPACOM: 'Pacific/Honolulu' },
        start: START, end: END,
        flags: { major_deployment_change: false, major_equipment_change: false, combat_from_japan: false },
        own_label: LABEL, label: '//JOINT SECRET JPN USA//REL TO USA, JPN',
        consultation: 'not_required', consultation_authority: null, consultation_reason: null,
        required_approvals: [{ nation: 'USA', command: 'USFJ' }, { nation: 'JPN', command: 'JJOC' }],
        approvals: [{ nation: 'JPN', command: 'JJOC', user: 'jjoc-approver', revision: 3, decision: 'approve',
            reason: null, time: '2026-10-01T00:00:00.000Z' }],
        items: [
            { id: 1, time: '2026-10-25T00:00:00Z', lat: 35.75, lon: 139.35, place: 'Yokota AB',
                units: ['5AF', 'JASDF-ADC'], description: 'Air defense drill, phase 1; live', label: LABEL },
            { id: 2, time: '2026-10-26T06:30:00Z', units: [], description: 'Staff talks\nat the BPM' },
        ],
        revisions: [], created: '2026-09-01T00:00:00.000Z', updated: '2026-09-02T03:04:05.000Z',
        created_by: 'usfj-planner',
        ...extra,
    };
}

describe('plan ics: a real parser reads the calendar', () => {
    let tmp;
    before(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kizuna-plan-ics-')); });
    after(() => fs.rmSync(tmp, { recursive: true, force: true }));

    test('window and items as VEVENTs in UTC, banners, escaping, folding, UTF-8', async () => {
        const title = '日米共同統合演習 Keen Sword 27 — 絆'.repeat(3);
        const file = path.join(tmp, 'plan.json');
        fs.writeFileSync(file, JSON.stringify(samplePlan({ title })));
        const out = path.join(tmp, 'plan.ics');
        const r = await runCli(['plan', 'ics', '--from', file, '-o', out]);
        assert.equal(r.code, 0, r.stderr);
        const text = fs.readFileSync(out, 'utf8');
        assertWellFolded(text);
        assert.match(text, /\r\n [^\r]/, 'the long summary is folded');
        const cal = parseIcs(text);
        assert.equal(cal.prodid, '-//kizuna//plans//EN');
        assert.equal(cal.version, '2.0');
        assert.equal(cal.events.length, 3);
        const [win, yokota, talks] = cal.events;
        assert.equal(win.uid, 'p-3f2a9c01@kizuna');
        assert.equal(win.summary, `(//JOINT SECRET JPN USA//REL TO USA, JPN) ${title}`);
        assert.equal(win.dtstart, '2026-10-23T00:00:00+00:00');
        assert.equal(win.dtend, '2026-11-01T00:00:00+00:00');
        assert.equal(win.dtstamp, '2026-09-02T03:04:05+00:00');
        assert.match(win.description, /^Kind: exercise\nLegal basis: training\nStage: main_planning\n/);
        assert.match(win.description, /\nLabel: \/\/JOINT SECRET JPN USA\/\/REL TO USA, JPN$/);
        assert.equal(yokota.uid, 'p-3f2a9c01-1@kizuna');
        assert.equal(yokota.summary, `(${LABEL}) Air defense drill, phase 1; live`);
        assert.equal(yokota.dtstart, '2026-10-25T00:00:00+00:00');
        assert.equal(yokota.dtend, '2026-10-25T01:00:00+00:00');
        assert.equal(yokota.location, 'Yokota AB');
        assert.deepEqual(yokota.geo, [35.75, 139.35]);
        assert.equal(yokota.description, `Air defense drill, phase 1; live\nUnits: 5AF, JASDF-ADC\nLabel: ${LABEL}`);
        assert.equal(talks.uid, 'p-3f2a9c01-2@kizuna');
        assert.equal(talks.summary, `(${LABEL}) Staff talks`, 'the own label of the plan by default');
        assert.equal(talks.location, undefined);
        assert.equal(talks.geo, undefined);
        assert.equal(talks.description, `Staff talks\nat the BPM\nLabel: ${LABEL}`);
    });

    test('ics --from on stdin to stdout; a file that is not a plan exits 1; ID and --from is a usage error', async () => {
        const r = await runCli(['plan', 'ics', '--from', '-'], { input: JSON.stringify(samplePlan({ items: [] })) });
        assert.equal(r.code, 0, r.stderr);
        assert.equal(parseIcs(r.stdout).events.length, 1);
        const bad = await runCli(['plan', 'ics', '--from', '-'], { input: '{"id":"p-1"}' });
        assert.equal(bad.code, 1);
        assert.match(bad.stderr, /not a plan/);
        assert.equal((await runCli(['plan', 'ics', 'p-1', '--from', '-'])).code, 2);
        assert.equal((await runCli(['plan', 'ics'])).code, 2);
    });
});

// ---- the CLI on its own --------------------------------------------------------

describe('plan CLI: usage errors and a peer that cuts its answer short', () => {
    let tmp;
    // A port nobody listens on: a usage error must exit 2 before any connection.
    const plan = (...args) => runCli(['plan', ...args, '-s', '127.0.0.1:9']);

    before(() => {
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kizuna-plan-cli-'));
    });
    after(() => {
        fs.rmSync(tmp, { recursive: true, force: true });
    });

    test('create: missing fields and bad times are usage errors, nothing is sent', async () => {
        let r = await plan('create', '--title', 'x', '--kind', 'exercise');
        assert.equal(r.code, 2);
        assert.match(r.stderr, /--legal-basis is required/);
        r = await plan('create', '--title', 'x', '--kind', 'exercise', '--legal-basis', 'training', '--lead', 'USFJ',
            '--participants', 'USFJ', '--start', '23 Oct 2026', '--end', END);
        assert.equal(r.code, 2);
        assert.match(r.stderr, /--start '23 Oct 2026' is not an ISO 8601 UTC time/);
    });

    test('an option of another subcommand is refused with the usage', async () => {
        for (const args of [['list', '--title', 'x'], ['show', 'p-1', '--reason', 'x'], ['ics', 'p-1', '--json'],
            ['approve', 'p-1', '--state', 'agreed'], ['show'], ['show', 'a', 'b'], ['frobnicate', 'p-1']]) {
            const r = await plan(...args);
            assert.equal(r.code, 2, `${args.join(' ')}: ${r.code}\n${r.stderr}`);
            assert.match(r.stderr, /usage: kizuna plan/);
            assert.equal(r.stdout, '');
        }
    });

    test('an answer cut short of its Content-Length is an error, not a truncated file', async () => {
        const cut = net.createServer((sock) => sock.once('data', () =>
            sock.end('HTTP/1.0 200 OK\r\nContent-Type: text/calendar\r\nContent-Length: 100\r\n\r\nBEGIN:VCAL')));
        await new Promise((resolve) => cut.listen(0, '127.0.0.1', resolve));
        try {
            const out = path.join(tmp, 'cut.ics');
            const r = await runCli(['plan', 'ics', 'p-1', '-o', out, '-s', `127.0.0.1:${cut.address().port}`]);
            assert.equal(r.code, 1);
            assert.match(r.stderr, /cut short/);
            assert.equal(fs.existsSync(out), false);
        } finally {
            await new Promise((resolve) => cut.close(resolve));
        }
    });
});

// ---- the real server ------------------------------------------------------------

// HTTP inputs whose identities carry the alliance command and the plan roles.
const who = (name, user, nation, command, roles, clearance = 'SECRET') => httpInput(name, ['Cyan'], ['Cyan'],
    { identity: identity(user, ['Cyan'], ['Cyan'], { nation, clearance, command, roles }) });

describe('plan CLI against the server: Keen Sword from concept to execution', () => {
    let server;
    let tmp;
    let id;
    const plan = (as, ...args) => runCli(['plan', ...args, '-s', `127.0.0.1:${server.port(as)}`]);
    const ok = async (as, ...args) => {
        const r = await plan(as, ...args);
        assert.equal(r.code, 0, `plan ${args.join(' ')} as ${as}: ${r.code}\n${r.stderr}`);
        return r.stdout;
    };
    const refused = async (as, rule, ...args) => {
        const r = await plan(as, ...args);
        assert.equal(r.code, 1, `plan ${args.join(' ')} as ${as}: ${r.code}\n${r.stdout}${r.stderr}`);
        assert.match(r.stderr, rule);
        assert.equal(r.stdout, '');
        return r.stderr;
    };
    const show = async (as, planId) => JSON.parse(await ok(as, 'show', planId, '--json'));
    const create = async (as, ...extra) => {
        const out = await ok(as, 'create', '--title', 'Keen Sword 27', '--kind', 'exercise', '--legal-basis', 'training',
            '--lead', 'USFJ', '--participants', 'USFJ,JJOC', '--start', START, '--end', END, '--label', LABEL, ...extra);
        const m = out.match(/^created (p-[a-z0-9-]+): revision 1, stage concept, consultation (\w+), approvals 0\/2$/m);
        assert.ok(m, out);
        return m[1];
    };
    const walk = async (planId, to) => {
        for (const stage of ['initial_planning', 'main_planning', 'final_planning'].slice(0, to))
            assert.match(await ok('us-planner', 'stage', planId, '--to', stage), new RegExp(`stage ${stage}`));
    };

    before(async () => {
        const config = makeConfig({ inputs: [
            who('us-planner', 'usfj-planner', 'USA', 'USFJ', ['viewer', 'planner']),
            who('us-approver', 'usfj-approver', 'USA', 'USFJ', ['viewer', 'approver']),
            who('jp-approver', 'jjoc-approver', 'JPN', 'JJOC', ['viewer', 'approver']),
            who('secdef', 'secdef-approver', 'USA', 'USA-SECDEF', ['viewer', 'approver']),
            who('cabinet', 'cabinet-approver', 'JPN', 'JPN-CABINET', ['viewer', 'approver']),
            who('us-low', 'usfj-clerk', 'USA', 'USFJ', ['viewer'], 'CONFIDENTIAL'),
        ] });
        config.alliance = SHIPPED;
        server = await startServer({ config });
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kizuna-plan-it-'));
    });

    after(async () => {
        await server.stop();
        server.cleanup();
        fs.rmSync(tmp, { recursive: true, force: true });
    });

    test('create, items, list and the timeline in local time', async () => {
        id = await create('us-planner');
        assert.match(await ok('us-planner', 'item', id, '--time', '2026-10-25T00:00:00Z', '--lat', '35.75', '--lon', '139.35',
            '--place', 'Yokota AB', '--units', '5AF,JASDF-ADC', '--description', 'Air defense drill'),
        new RegExp(`^item added to ${id}: revision 2, stage concept`));
        await ok('us-planner', 'item', id, '--time', '2026-10-26T06:30:00Z', '--description', 'Staff talks');
        assert.match(await ok('us-planner', 'list'), new RegExp(`^${id} +concept +3 .*Keen Sword 27`, 'm'));
        const text = await ok('us-planner', 'show', id);
        assert.match(text, new RegExp(`^Keen Sword 27 {2}\\[${id}, revision 3\\]$`, 'm'));
        assert.match(text, /^ {2}participants {2}USFJ \(Asia\/Tokyo\), JJOC \(Asia\/Tokyo\)$/m);
        assert.match(text, /^approvals \(revision 3\): 0 of 2$/m);
        assert.match(text, /^ {2}USA {2}USFJ +pending$/m);
        assert.match(text, /^ {2}JPN {2}JJOC +pending$/m);
        assert.match(text, /^consultation: not_required$/m);
        assert.match(text, /^ {2}#\d+ {2}2026-10-25T00:00:00Z\n {8}Air defense drill\n {8}at Yokota AB \(35\.7500, 139\.3500\)$/m);
        const local = await ok('us-planner', 'show', id, '--local');
        assert.match(local, /^ {2}#\d+ {2}2026-10-25 09:00 JST \(Asia\/Tokyo\)$/m);
        assert.match(local, /^ {2}#\d+ {2}2026-10-26 15:30 JST \(Asia\/Tokyo\)$/m);
    });

    test('stages go forward one at a time; execution needs both approvals of the current revision', async () => {
        await refused('us-planner', /rule stage_order/, 'stage', id, '--to', 'main_planning');
        await walk(id, 3);
        await refused('us-planner', /rule approvals_missing/, 'stage', id, '--to', 'execution');
        await refused('us-planner', /role 'approver' required/, 'approve', id);
        assert.match(await ok('jp-approver', 'approve', id, '--reason', 'JJOC concurs'), /approvals 1\/2$/m);
        await refused('us-approver', /rule stale_revision/, 'approve', id, '--revision', '1');
        await refused('us-planner', /rule approvals_missing/, 'stage', id, '--to', 'execution');
        assert.match(await ok('us-approver', 'approve', id), /approvals 2\/2$/m);
        const p = await show('us-planner', id);
        assert.deepEqual(p.approvals.map((a) => [a.nation, a.command, a.user, a.revision, a.decision]).sort(),
            [['JPN', 'JJOC', 'jjoc-approver', 3, 'approve'], ['USA', 'USFJ', 'usfj-approver', 3, 'approve']]);
    });

    test('an edit after approval makes a new revision and forces re-approval', async () => {
        assert.match(await ok('us-planner', 'edit', id, '--end', '2026-11-02T00:00:00Z'),
            new RegExp(`^edited ${id}: revision 4, stage final_planning, consultation not_required, approvals 0/2$`, 'm'));
        await refused('us-planner', /rule approvals_missing/, 'stage', id, '--to', 'execution');
        // A rejection is recorded with its reason and does not count; a later approval replaces it.
        assert.equal((await plan('jp-approver', 'reject', id)).code, 2); // --reason is required
        await ok('jp-approver', 'reject', id, '--reason', 'range closed that week');
        const r = await show('us-planner', id);
        assert.deepEqual(r.approvals.map((a) => [a.nation, a.decision, a.reason]), [['JPN', 'reject', 'range closed that week']]);
        await ok('us-approver', 'approve', id);
        await refused('us-planner', /rule approvals_missing/, 'stage', id, '--to', 'execution');
        await ok('jp-approver', 'approve', id);
        assert.match(await ok('us-planner', 'stage', id, '--to', 'execution'), /stage execution/);
        const p = await show('us-planner', id);
        assert.equal(p.stage, 'execution');
        assert.equal(p.revision, 4);
        assert.equal(p.revisions.at(-1).changes.end.to, '2026-11-02T00:00:00Z');
    });

    test('a caller without clearance sees nothing of a SECRET plan', async () => {
        await refused('us-low', /HTTP 404/, 'show', id);
        assert.equal(await ok('us-low', 'list'), 'no plans\n');
        await refused('us-low', /HTTP 404/, 'ics', id);
    });

    test('the audit trail reads back and verifies', async () => {
        const text = await ok('us-planner', 'audit', id);
        for (const action of ['plan.create', 'plan.item', 'plan.stage', 'plan.approve', 'plan.edit'])
            assert.match(text, new RegExp(` ${action.replace('.', '\\.')} `), `${action} in\n${text}`);
        assert.match(text, /plan\.approve +jjoc-approver \(identity [^,]+, command JJOC\) revision 3: JJOC concurs$/m);
        assert.match(text, /^verified: yes$/m);
    });

    test('the .ics from the server opens in a real parser', async () => {
        const out = path.join(tmp, 'keen-sword.ics');
        await ok('us-planner', 'ics', id, '-o', out);
        const text = fs.readFileSync(out, 'utf8');
        assertWellFolded(text);
        const cal = parseIcs(text);
        assert.equal(cal.events.length, 3);
        assert.equal(cal.events[0].uid, `${id}@kizuna`);
        assert.match(cal.events[0].summary, /^\(.*SECRET.*\) Keen Sword 27$/);
        assert.equal(cal.events[0].dtend, '2026-11-02T00:00:00+00:00');
        const yokota = cal.events.find((e) => e.location === 'Yokota AB');
        assert.deepEqual(yokota.geo, [35.75, 139.35]);
        assert.equal(yokota.dtstart, '2026-10-25T00:00:00+00:00');
    });

    test('an operation launched from Japan waits for the Cabinet\'s prior consultation', async () => {
        const out = await ok('us-planner', 'create', '--title', 'Op Northern Shield', '--kind', 'operation',
            '--legal-basis', 'other', '--lead', 'USFJ', '--participants', 'USFJ,JJOC', '--start', START, '--end', END,
            '--label', LABEL, '--flag', 'combat_from_japan');
        const op = out.match(/^created (p-[a-z0-9-]+): revision 1, stage concept, consultation required, approvals 0\/\d+$/m)?.[1];
        assert.ok(op, out);
        assert.match(await ok('us-planner', 'show', op), /^consultation: required \(authority JPN-CABINET\)$/m);
        await walk(op, 3);
        await ok('secdef', 'approve', op);
        await ok('cabinet', 'approve', op);
        await refused('us-planner', /rule consultation_required/, 'stage', op, '--to', 'execution');
        await refused('us-approver', /HTTP 403/, 'consult', op, '--state', 'requested');
        await ok('cabinet', 'consult', op, '--state', 'requested', '--reason', 'received from USFJ');
        const no = await ok('cabinet', 'consult', op, '--state', 'declined', '--reason', 'not under Article V');
        assert.match(no, /consultation declined/);
        const why = await refused('us-planner', /rule consultation_declined/, 'stage', op, '--to', 'execution');
        assert.match(why, /not under Article V/);
        assert.match(await ok('us-planner', 'show', op), /^consultation: declined \(authority JPN-CABINET\): not under Article V$/m);
    });

    test('with the consultation agreed, the operation goes to execution', async () => {
        const out = await ok('us-planner', 'create', '--title', 'Op Southern Shield', '--kind', 'operation',
            '--legal-basis', 'other', '--lead', 'USFJ', '--participants', 'USFJ,JJOC', '--start', START, '--end', END,
            '--label', LABEL, '--flag', 'combat_from_japan');
        const op = out.match(/^created (p-[a-z0-9-]+):/m)?.[1];
        assert.ok(op, out);
        await walk(op, 3);
        await ok('secdef', 'approve', op);
        await ok('cabinet', 'approve', op);
        await ok('cabinet', 'consult', op, '--state', 'requested', '--reason', 'received from USFJ');
        await ok('cabinet', 'consult', op, '--state', 'agreed', '--reason', 'consulted 2026-10-20');
        assert.match(await ok('us-planner', 'stage', op, '--to', 'execution'), /stage execution, consultation agreed/);
    });
});
