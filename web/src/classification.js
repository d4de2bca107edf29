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

// The tetragraphs of the built-in policy (src/label/policy.c): FVEY expands to its nations,
// NATO to none (it survives a roll-up only when every part lists it).
export const TETRAGRAPHS = { FVEY: ['USA', 'AUS', 'CAN', 'GBR', 'NZL'], NATO: [] };
const CONTROL_ALIASES = { NF: 'NOFORN', OC: 'ORCON' };
const isNation = (w) => /^[A-Z]{3}$/.test(w);

// The head of a banner: "SECRET", "//JPN SECRET" (wholly foreign) or "//JOINT SECRET JPN USA".
function parseHead(parts) {
    let head = parts.shift();
    let joint = null, foreign = null;
    if (head === '' && parts.length) {
        const words = parts.shift().toUpperCase().split(/\s+/);
        const first = words.shift();
        const nations = [];
        while (words.length > 1 && isNation(words[words.length - 1]) && words[words.length - 1] !== 'TOP') {
            nations.unshift(words.pop());
        }
        if (first === 'JOINT') joint = nations.sort();
        else foreign = first;
        head = words.join(' ');
    }
    return { head, joint, foreign };
}

// Parse a banner into {level, cui, rel: [codes] | null, controls: [..], fgi: [nations],
// joint: [nations] | null, foreign: nation | null, text}.  No label is UNCLASSIFIED; a
// level name not known here counts as TOP SECRET, so an unknown marking never lowers the
// banner.
export function parseLabel(access) {
    const text = (access || '').trim() || 'UNCLASSIFIED';
    const parts = text.split('//').map((p) => p.trim());
    const { head, joint, foreign } = parseHead(parts);
    const name = head.toUpperCase().replace(/\s+/g, ' ');
    const level = NAMES.has(name) ? NAMES.get(name) : 3;
    let rel = null;
    let fgi = [];
    const controls = [];
    for (const p of parts) {
        if (/^FGI\b/i.test(p)) {
            fgi = p.toUpperCase().split(/\s+/).slice(1).filter(isNation).sort();
            continue;
        }
        for (const c of p.split('/').map((x) => x.trim().toUpperCase().replace(/\s+/g, ' '))) {
            if (c.startsWith('REL TO')) rel = c.slice(6).split(',').map((x) => x.trim()).filter(Boolean);
            else if (c) controls.push(CONTROL_ALIASES[c] ?? c);
        }
    }
    return { level, cui: name === 'CUI', rel, controls, fgi, joint, foreign, text };
}

export function colourOf(label) {
    return label.cui ? CUI_COLOUR : COLOURS[label.level];
}

// Whose information a part is: the JOINT co-owners, the foreign nation, or the home's.
const ownersOf = (l, home) => l.joint ?? (l.foreign ? [l.foreign] : [home]);

// The nations (and tetragraph tokens) a part is released to, its owners included; null:
// no restriction (an unclassified part without REL TO).
function releaseOf(l, home) {
    const owners = ownersOf(l, home);
    if (l.controls.includes('NOFORN') || (!l.rel && l.level > 0)) return new Set(owners);
    if (!l.rel) return null;
    return new Set([...owners, ...l.rel, ...l.rel.flatMap((c) => TETRAGRAPHS[c] ?? [])]);
}

// Whose the roll-up is: one origin throughout is kept; a JOINT is kept while its co-owners
// cover every part and may all receive the whole; else the home's, holding FGI of the rest.
// The parts' own FGI nations are kept, less the result's owners.
function originOf(labels, release, home) {
    const key = (l) => (l.joint ? `J ${l.joint.join(' ')}` : l.foreign ? `F ${l.foreign}` : 'H');
    const held = (owners, more = []) => [...labels.flatMap((l) => l.fgi), ...more].filter((n) => !owners.includes(n));
    if (new Set(labels.map(key)).size === 1) {
        return { joint: labels[0].joint, foreign: labels[0].foreign, fgi: held(ownersOf(labels[0], home)) };
    }
    for (const j of labels.filter((l) => l.joint).map((l) => l.joint)) {
        const covers = labels.every((l) => ownersOf(l, home).every((n) => j.includes(n)));
        if (covers && j.every((n) => release === null || release.has(n))) return { joint: j, foreign: null, fgi: held(j) };
    }
    return { joint: null, foreign: null, fgi: held([home], labels.flatMap((l) => ownersOf(l, home))) };
}

// The REL TO list in canonical order (USA, the other trigraphs, then tetragraphs), trigraphs
// a surviving tetragraph covers left out except USA and the home; null when it would break a
// marking rule (a single code, or no home), which is written NOFORN instead.
function relList(release, home) {
    const tetras = [...release].filter((c) => c.length === 4).sort();
    const covered = new Set(tetras.flatMap((t) => TETRAGRAPHS[t] ?? []));
    const tris = [...release].filter((c) => c.length === 3 && (!covered.has(c) || c === 'USA' || c === home))
        .sort((a, b) => (b === 'USA') - (a === 'USA') || a.localeCompare(b));
    const nations = [...release].filter((c) => c.length === 3);
    if (nations.length < 2 || !release.has(home)) return null;
    return [...tris, ...tetras];
}

function bannerText(level, origin, controls) {
    let head = LEVELS[level];
    if (origin.joint) head = `//JOINT ${head} ${origin.joint.join(' ')}`;
    else if (origin.foreign) head = `//${origin.foreign} ${head}`;
    const fgi = origin.fgi.length ? [`FGI ${[...new Set(origin.fgi)].sort().join(' ')}`] : [];
    return [head, ...fgi, ...(controls.length ? [controls.join('/')] : [])].join('//');
}

// The banner for what is on screen (docs/labels.md, roll-up): the highest level; NOFORN and
// ORCON when any part has them; RELIDO when every classified part has it; the release set
// the parts' sets have in common, written REL TO or NOFORN; JOINT, foreign and FGI origins.
// One classified marking alone is shown as the server wrote it.  `home`: the nation of the
// server's marking system (the built-in policy's: USA); a part without an origin marking is
// the home's.  Returns {level, text, colour}.
export function rollUp(accesses, { home = 'USA' } = {}) {
    const labels = [...new Set([...accesses].map((a) => (a || '').trim() || 'UNCLASSIFIED'))].map(parseLabel);
    if (labels.length === 0) return { level: 0, text: 'UNCLASSIFIED', colour: COLOURS[0] };
    const level = Math.max(...labels.map((l) => l.level));
    if (level === 0) {
        const cui = labels.some((l) => l.cui);
        return { level, text: cui ? 'CUI' : 'UNCLASSIFIED', colour: cui ? CUI_COLOUR : COLOURS[0] };
    }
    const classified = labels.filter((l) => l.level > 0);
    if (classified.length === 1 && labels.every((l) => l === classified[0] || !l.rel && !l.controls.includes('NOFORN'))) {
        return { level, text: classified[0].text, colour: COLOURS[level] };
    }
    let release = null;
    for (const l of labels) {
        const r = releaseOf(l, home);
        if (r) release = release ? new Set([...release].filter((c) => r.has(c))) : r;
    }
    const origin = originOf(labels, release, home);
    const rel = release && !labels.some((l) => l.controls.includes('NOFORN')) ? relList(release, home) : null;
    const controls = [];
    if (labels.some((l) => l.controls.includes('ORCON'))) controls.push('ORCON');
    controls.push(rel ? `REL TO ${rel.join(', ')}` : 'NOFORN');
    const foreignInfo = origin.joint || origin.foreign || origin.fgi.length;
    if (rel && !foreignInfo && classified.every((l) => l.controls.includes('RELIDO'))) controls.push('RELIDO');
    return { level, text: bannerText(level, origin, controls), colour: COLOURS[level] };
}
