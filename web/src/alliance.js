// alliance.js - what the alliance panel shows of GET /api/v1/alliance/show?at=DATE
// (docs/alliance.md): each nation's command tree on that date, every command with the
// relationship its superior holds over it.  Pure: unit-tested under node (test/alliance.test.mjs).

// The relationship types from `from` to `to` on that date (several may hold), joined: "COCOM".
export function relationOf(relations, from, to) {
    return relations.filter((r) => r.from === from && r.to === to).map((r) => r.type).join(', ');
}

// Rows {id, name, nation, depth, relation, label} in tree order, nation by nation.
export function commandRows(show) {
    const rows = [];
    const walk = (c, depth, parent) => {
        rows.push({ id: c.id, name: c.name, nation: c.nation, depth, echelon: c.echelon ?? '',
            relation: parent ? relationOf(show.relations || [], parent, c.id) : '',
            label: c.label ?? 'UNCLASSIFIED' });
        for (const s of c.subordinates || []) walk(s, depth + 1, c.id);
    };
    for (const n of show.nations || []) for (const c of n.commands || []) walk(c, 0, null);
    return rows;
}

// The ids of a counterpart answer ({counterparts: [{id}, ...]}).
export function counterpartIds(answer) {
    return new Set((answer?.counterparts || []).map((c) => c.id));
}

// ---- coordination latency: GET /api/v1/alliance/path?compare=1&at= (docs/alliance.md §6) --

// The pairs of an answer as choices: [{key: "USFJ JJOC", text: "USFJ ↔ JJOC"}].
export function latencyPairs(answer) {
    return (answer?.pairs || []).map((p) => ({ key: `${p.a} ${p.b}`, text: `${p.a} ↔ ${p.b}` }));
}

// The bars of one pair: hub-and-spokes against lattice, mean and worst, in seconds.
export function latencyBars(pair) {
    return [
        { key: 'hub-mean', text: 'hub mean', s: pair.hub_mean_s }, { key: 'hub-worst', text: 'hub worst', s: pair.hub_worst_s },
        { key: 'lattice-mean', text: 'lattice mean', s: pair.lattice_mean_s },
        { key: 'lattice-worst', text: 'lattice worst', s: pair.lattice_worst_s },
    ];
}

// 93780 s -> "26h03", the way the CLI prints a duration.
export function fmtDuration(s) {
    if (!Number.isFinite(s) || s < 0) return '–';
    const m = Math.round(s / 60);
    return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}`;
}

// Horizontal bars in a `width` × `height` box: a label column, then bars scaled to the
// longest; [{key, text, value, x, y, w, h}] in pixels (the value's text right of the bar).
export function barLayout(bars, width, height, { labelW = 90, valueW = 50, gap = 4 } = {}) {
    const max = Math.max(1, ...bars.map((b) => b.s || 0));
    const h = bars.length ? (height - gap * (bars.length - 1)) / bars.length : 0;
    const span = Math.max(0, width - labelW - valueW);
    return bars.map((b, i) => ({
        key: b.key, text: b.text, value: fmtDuration(b.s), x: labelW, y: i * (h + gap), h,
        w: Math.max(1, Math.round(((b.s || 0) / max) * span)),
    }));
}
