// plans.js - what the plans panel shows of GET /api/v1/plans (docs/plans.md): the plans
// in stage order, each with its approvals of the current revision against those it needs.
// Pure: unit-tested under node (test/plans.test.mjs).

export const STAGES = ['concept', 'initial_planning', 'main_planning', 'final_planning', 'execution', 'assessment'];

// {id, title, stage, approved, required, consultation, label} of one plan.
export function planSummary(plan) {
    const approved = (plan.approvals || []).filter((a) => a.decision === 'approve' && a.revision === plan.revision);
    return {
        id: plan.id, title: plan.title, stage: plan.stage, revision: plan.revision,
        approved: approved.length, required: (plan.required_approvals || []).length,
        consultation: plan.consultation, label: plan.label ?? plan.own_label ?? 'UNCLASSIFIED',
    };
}

// The summaries by stage, in the order plans move through them (unknown stages last).
export function byStage(plans) {
    const rank = (s) => (STAGES.includes(s) ? STAGES.indexOf(s) : STAGES.length);
    return plans.map(planSummary).sort((a, b) => rank(a.stage) - rank(b.stage) || a.title.localeCompare(b.title));
}

// ---- the plan page (#plan/ID): GET /api/v1/plans/{id} ---------------------------------

// The hash route of a plan's page, and the plan id a hash names (null: no page).
export const planHash = (id) => `#plan/${encodeURIComponent(id)}`;
export function planOfHash(hash) {
    const m = /^#plan\/([^/]+)$/.exec(hash || '');
    return m ? decodeURIComponent(m[1]) : null;
}

// A participant the alliance model gives no zone: its usual zone by command id, then by the
// nation of its id's prefix (JPN-CABINET), else UTC.  The server's `zones` always wins.
export const FALLBACK_ZONES = {
    INDOPACOM: 'Pacific/Honolulu', PACFLT: 'Pacific/Honolulu', USFJ: 'Asia/Tokyo', C7F: 'Asia/Tokyo',
    JJOC: 'Asia/Tokyo', 'AFP-GHQ': 'Asia/Manila', 'AUS-HQJOC': 'Australia/Sydney',
    USA: 'America/New_York', JPN: 'Asia/Tokyo', PHL: 'Asia/Manila', AUS: 'Australia/Sydney',
};

export function zoneOf(plan, command) {
    const z = plan.zones?.[command] ?? FALLBACK_ZONES[command] ?? FALLBACK_ZONES[command.split('-')[0]];
    return z ?? 'UTC';
}

// The distinct zones of the participants, in participant order: [{zone, commands: [...]}].
export function planZones(plan) {
    const out = [];
    for (const c of plan.participants || []) {
        const zone = zoneOf(plan, c);
        const row = out.find((r) => r.zone === zone);
        if (row) row.commands.push(c);
        else out.push({ zone, commands: [c] });
    }
    return out;
}

// Abbreviations of the zones without daylight saving time whose abbreviation the browser's
// locale data may not know (en-US writes Asia/Tokyo as "GMT+9"); others come from Intl.
const ABBREVIATIONS = { 'Asia/Tokyo': 'JST', 'Pacific/Honolulu': 'HST', 'Asia/Manila': 'PHT', 'Asia/Seoul': 'KST', UTC: 'UTC' };

// "2026-10-25 09:00 JST" for an ISO time in an IANA zone (Intl, no library).
export function localTime(iso, zone) {
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return iso ?? '–';
    const parts = Object.fromEntries(new Intl.DateTimeFormat('en-US', {
        timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
        hourCycle: 'h23', timeZoneName: 'short',
    }).formatToParts(d).map((p) => [p.type, p.value]));
    let abbr = ABBREVIATIONS[zone] ?? parts.timeZoneName;
    if (/^GMT/.test(abbr) && zone.startsWith('Australia/')) {
        abbr = new Intl.DateTimeFormat('en-AU', { timeZone: zone, timeZoneName: 'short' })
            .formatToParts(d).find((p) => p.type === 'timeZoneName')?.value ?? abbr;
    }
    return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute} ${abbr}`;
}

// The items in time order, each with its time in every participant zone:
// [{id, n, time, local: [{zone, commands, text}], description, place, units, label, lat, lon}].
export function timeline(plan) {
    const zones = planZones(plan);
    return [...(plan.items || [])].sort((a, b) => a.time.localeCompare(b.time) || a.id - b.id).map((it, i) => ({
        id: it.id, n: i + 1, time: it.time, description: it.description ?? '', place: it.place ?? null,
        units: it.units || [], label: it.label ?? plan.own_label ?? 'UNCLASSIFIED',
        lat: it.lat ?? null, lon: it.lon ?? null,
        local: zones.map((z) => ({ zone: z.zone, commands: z.commands, text: localTime(it.time, z.zone) })),
    }));
}

// Each required approval with the decision on the current revision, or pending:
// [{nation, command, decision: 'approve' | 'reject' | 'pending', user, time, reason}].
export function approvalRows(plan) {
    return (plan.required_approvals || []).map((r) => {
        const a = (plan.approvals || []).find((x) => x.nation === r.nation && x.revision === plan.revision);
        return { nation: r.nation, command: r.command, decision: a ? a.decision : 'pending',
            user: a?.user ?? null, time: a?.time ?? null, reason: a?.reason ?? null };
    });
}

export function nextStage(stage) {
    const i = [...STAGES, 'closed'].indexOf(stage);
    return i >= 0 && i < STAGES.length ? [...STAGES, 'closed'][i + 1] : null;
}

// The buttons for the changes the server says the viewer may make (`allowed`, docs/api.md):
// [{key, text}], in a fixed order; `consult` gives one button per state.
export function planActions(plan) {
    const allowed = new Set(plan.allowed || []);
    const out = [];
    if (allowed.has('approve')) out.push({ key: 'approve', text: `Approve revision ${plan.revision}` });
    if (allowed.has('reject')) out.push({ key: 'reject', text: `Reject revision ${plan.revision}` });
    if (allowed.has('consult')) {
        for (const s of ['requested', 'agreed', 'declined']) out.push({ key: `consult:${s}`, text: `Consultation ${s}` });
    }
    const next = nextStage(plan.stage);
    if (allowed.has('advance') && next) out.push({ key: 'advance', text: `Advance to ${next.replace(/_/g, ' ')}` });
    return out;
}

// The REST call of a button: {url, body} (docs/plans.md, REST API).
export function actionRequest(plan, key, reason) {
    const base = `/api/v1/plans/${encodeURIComponent(plan.id)}`;
    const why = reason ? { reason } : {};
    if (key === 'approve' || key === 'reject') {
        return { url: `${base}/approvals`, body: { revision: plan.revision, decision: key, ...why } };
    }
    if (key.startsWith('consult:')) return { url: `${base}/consultation`, body: { state: key.slice(8), ...why } };
    if (key === 'advance') return { url: `${base}/stage`, body: { to: nextStage(plan.stage) } };
    throw new Error(`unknown plan action '${key}'`);
}

// A refusal as the page shows it: the server's own error, its status and rule.
export function refusalText(status, answer) {
    const rule = answer?.rule ? `, rule ${answer.rule}` : '';
    return `${answer?.error ?? 'refused'} (HTTP ${status}${rule})`;
}

// The items with a place as GeoJSON points for the map.
export function itemFeatures(plan) {
    return timeline(plan).filter((t) => t.lat !== null && t.lon !== null).map((t) => ({
        type: 'Feature', geometry: { type: 'Point', coordinates: [t.lon, t.lat] },
        properties: { plan: plan.id, item: t.id, n: t.n, name: `#${t.n}${t.place ? ` ${t.place}` : ''}`, label: t.label },
    }));
}
