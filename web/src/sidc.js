// sidc.js - CoT type -> MIL-STD-2525C symbol identification code (15 characters),
// the table milsymbol draws from.  Pure: no DOM, unit-tested under node (test/sidc.test.mjs).
//
// A CoT atom type is a-<affiliation>-<dimension>[-<function>...], taken from 2525B's
// hierarchy: "a-f-G-U-C-I" is a friendly ground unit, combat, infantry, which is the
// 2525C code S F G P UCI--- -- -- -: coding scheme S (warfighting), the standard identity,
// the battle dimension, status P (present), then one function letter per CoT segment.

// CoT affiliation letter -> 2525 standard identity and its name.
export const AFFILIATIONS = {
    p: { id: 'P', name: 'pending' },
    u: { id: 'U', name: 'unknown' },
    a: { id: 'A', name: 'assumed friend' },
    f: { id: 'F', name: 'friend' },
    n: { id: 'N', name: 'neutral' },
    s: { id: 'S', name: 'suspect' },
    h: { id: 'H', name: 'hostile' },
    j: { id: 'J', name: 'joker' },
    k: { id: 'K', name: 'faker' },
    o: { id: 'O', name: 'none specified' },
};

// CoT battle dimension -> 2525 battle dimension and its name.  CoT's X (other) has no
// 2525 dimension: drawn as unknown (Z).
export const DIMENSIONS = {
    P: { id: 'P', name: 'space' },
    A: { id: 'A', name: 'air' },
    G: { id: 'G', name: 'ground' },
    S: { id: 'S', name: 'sea surface' },
    U: { id: 'U', name: 'subsurface' },
    F: { id: 'F', name: 'special operations forces' },
    X: { id: 'Z', name: 'other' },
};

// A few function codes by name, for the details panel (the rest show their letters).
export const FUNCTIONS = {
    'G-U-C': 'combat unit',
    'G-U-C-I': 'infantry',
    'G-U-C-A': 'armour',
    'G-U-C-F': 'field artillery',
    'G-U-C-R': 'reconnaissance',
    'G-U-S': 'combat service support',
    'G-E-V': 'ground vehicle',
    'G-I': 'installation',
    'A-M-F': 'military fixed wing',
    'A-M-F-F': 'fighter',
    'A-M-H': 'military rotary wing',
    'A-C-F': 'civil fixed wing',
    'S-C': 'surface combatant',
    'S-C-L-D-D': 'destroyer',
    'S-X': 'non-military vessel',
    'U-S': 'submarine',
};

const FUNCTION_LETTER = /^[A-Z]$/;

// The parts of a CoT atom type, or null when `type` is not one (b-, t-, u-... types,
// malformed affiliation or dimension).
export function parseCotType(type) {
    if (typeof type !== 'string') return null;
    const parts = type.split('-');
    if (parts[0] !== 'a' || parts.length < 3) return null;
    const aff = AFFILIATIONS[parts[1]];
    const dim = DIMENSIONS[parts[2]];
    if (!aff || !dim) return null;
    const fn = [];
    for (const p of parts.slice(3)) {
        if (!FUNCTION_LETTER.test(p) || fn.length === 6) break;
        fn.push(p);
    }
    return { affiliation: parts[1], dimension: parts[2], function: fn };
}

// The 15-character 2525C SIDC for a CoT type, or null (not an atom type).
export function cotToSidc(type) {
    const t = parseCotType(type);
    if (!t) return null;
    const fn = t.function.join('').padEnd(6, '-');
    return `S${AFFILIATIONS[t.affiliation].id}${DIMENSIONS[t.dimension].id}P${fn}-----`;
}

// A line for people: "friend ground, infantry" ("" when not an atom type).
export function describeCotType(type) {
    const t = parseCotType(type);
    if (!t) return '';
    const base = `${AFFILIATIONS[t.affiliation].name} ${DIMENSIONS[t.dimension].name}`;
    for (let n = t.function.length; n > 0; n--) {
        const name = FUNCTIONS[[t.dimension, ...t.function.slice(0, n)].join('-')];
        if (name) return `${base}, ${name}`;
    }
    return base;
}

// Affiliation name for filters and panels ("" when not an atom type).
export function affiliationOf(type) {
    const t = parseCotType(type);
    return t ? AFFILIATIONS[t.affiliation].name : '';
}
