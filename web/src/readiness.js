// readiness.js - what the readiness board shows of GET /api/v1/readiness (docs/alliance.md):
// the latest report of each unit the viewer may see, worst overall C-level first.
// Pure: unit-tested under node (test/readiness.test.mjs).

// Area values: 1..5, and 6 for "not measured".
export function areaText(v) {
    return v === 6 ? '–' : String(v ?? '?');
}

// Rows {unit, overall, p, s, r, t, stale, label, time}, worst first (C-5 before C-1), then by unit.
export function boardRows(reports) {
    return reports
        .map((x) => ({ unit: x.unit, overall: x.overall, p: x.p, s: x.s, r: x.r, t: x.t, stale: Boolean(x.stale),
            label: x.label ?? 'UNCLASSIFIED', time: x.time }))
        .sort((a, b) => b.overall - a.overall || a.unit.localeCompare(b.unit));
}
