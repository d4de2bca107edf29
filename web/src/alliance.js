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
