// classification.js - read a label's banner (the `access` of a track) for the screen:
// its level, the conventional colour, and the roll-up of everything on screen for the
// top and bottom banners.  Pure: unit-tested under node (test/classification.test.mjs).
// The server decides what a viewer may see; this only marks what it was given.

export const LEVELS = ['UNCLASSIFIED', 'CONFIDENTIAL', 'SECRET', 'TOP SECRET'];

// The conventional banner colours: green U, blue C, red S, orange TS; CUI purple.
export const COLOURS = [
    { bg: '#007a33', fg: '#ffffff' },
    { bg: '#0033a0', fg: '#ffffff' },
    { bg: '#c8102e', fg: '#ffffff' },
    { bg: '#ff8c00', fg: '#000000' },
];
export const CUI_COLOUR = { bg: '#502b85', fg: '#ffffff' };

// Level names of the built-in policy and the example Japanese one (docs/labels.md).
const NAMES = new Map([
    ['UNCLASSIFIED', 0], ['U', 0], ['CUI', 0], ['公開', 0],
    ['CONFIDENTIAL', 1], ['C', 1], ['RESTRICTED', 1], ['秘', 1],
    ['SECRET', 2], ['S', 2], ['極秘', 2], ['特定秘密', 2],
    ['TOP SECRET', 3], ['TS', 3], ['機密', 3],
]);

// Parse a banner into {level, cui, rel: [nations] | null, controls: [..], text}.  No
// label is UNCLASSIFIED; a level name not known here counts as TOP SECRET, so an
// unknown marking never lowers the banner.
export function parseLabel(access) {
    const text = (access || '').trim() || 'UNCLASSIFIED';
    const parts = text.split('//').map((p) => p.trim());
    let head = parts.shift();
    if (head === '' && parts.length) {
        // "//JPN SECRET" (a foreign level) or "//JOINT SECRET USA JPN": the level alone.
        const words = parts.shift().split(/\s+/);
        words.shift();
        while (words.length > 1 && /^[A-Z]{3}$/i.test(words[words.length - 1]) &&
               words[words.length - 1].toUpperCase() !== 'TOP') words.pop();
        head = words.join(' ');
    }
    const name = head.toUpperCase().replace(/\s+/g, ' ');
    const level = NAMES.has(name) ? NAMES.get(name) : 3;
    let rel = null;
    const controls = [];
    for (const p of parts) {
        for (const c of p.split('/').map((x) => x.trim().toUpperCase())) {
            if (c.startsWith('REL TO')) rel = c.slice(6).split(',').map((x) => x.trim()).filter(Boolean);
            else if (c === 'NF') controls.push('NOFORN');
            else if (c && !c.startsWith('FGI')) controls.push(c);
        }
    }
    return { level, cui: name === 'CUI', rel, controls, text };
}

export function colourOf(label) {
    return label.cui ? CUI_COLOUR : COLOURS[label.level];
}

// The banner for a set of labels: the highest level; NOFORN or ORCON when any carries it;
// REL TO the nations every classified one is released to (none left: NOFORN).
// Returns {level, text, colour}.
export function rollUp(accesses) {
    const labels = [...accesses].map(parseLabel);
    if (labels.length === 0) return { level: 0, text: 'UNCLASSIFIED', colour: COLOURS[0] };
    const level = Math.max(...labels.map((l) => l.level));
    if (level === 0) {
        const cui = labels.some((l) => l.cui);
        return { level, text: cui ? 'CUI' : 'UNCLASSIFIED', colour: cui ? CUI_COLOUR : COLOURS[0] };
    }
    const noforn = labels.some((l) => l.controls.includes('NOFORN'));
    const orcon = labels.some((l) => l.controls.includes('ORCON'));
    const classified = labels.filter((l) => l.level > 0);
    let rel = classified[0].rel || [];
    for (const l of classified) rel = rel.filter((n) => (l.rel || []).includes(n));
    const controls = [];
    if (orcon) controls.push('ORCON');
    if (noforn) controls.push('NOFORN');
    else if (classified.every((l) => l.rel)) controls.push(rel.length > 1 ? `REL TO ${rel.join(', ')}` : 'NOFORN');
    const text = [LEVELS[level], ...(controls.length ? [controls.join('/')] : [])].join('//');
    return { level, text, colour: COLOURS[level] };
}
