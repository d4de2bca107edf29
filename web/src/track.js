// track.js - what the page reads from a track's GeoJSON Feature (docs/api.md): which
// uid a delete removes, speed and course from the CoT detail, stale or not, and whether
// an update is newer than what is shown.  Pure: unit-tested under node (test/track.test.mjs).

function attr(tag, name) {
    const m = tag.match(new RegExp(`\\s${name}\\s*=\\s*("([^"]*)"|'([^']*)')`));
    return m ? (m[2] ?? m[3]) : undefined;
}

function firstTag(detail, tag) {
    const m = (detail || '').match(new RegExp(`<${tag}\\b[^>]*>`));
    return m ? m[0] : null;
}

// The uid a t-x-d-d (delete) event removes: its <link uid=...>, else null.
export function deleteTarget(feature) {
    const p = feature.properties || {};
    if (p.type !== 't-x-d-d') return null;
    const link = firstTag(p.detail, 'link');
    return link ? attr(link, 'uid') ?? null : null;
}

// Speed (m/s) and course (degrees true) from <track speed course>, each null when absent.
export function motion(feature) {
    const tag = firstTag(feature.properties?.detail, 'track');
    const num = (v) => (v === undefined || v === '' || !Number.isFinite(Number(v)) ? null : Number(v));
    return { speed: tag ? num(attr(tag, 'speed')) : null, course: tag ? num(attr(tag, 'course')) : null };
}

// Drawn as a track: a point whose type is not a t- (control) event.
export function isDrawable(feature) {
    const p = feature.properties || {};
    return feature.geometry?.type === 'Point' && typeof p.type === 'string' && !p.type.startsWith('t-');
}

export function isStale(feature, nowMs) {
    const s = Date.parse(feature.properties?.stale);
    return Number.isFinite(s) && s <= nowMs;
}

// An update replaces what is shown unless it is older (a lower server sequence number).
export function isNewer(next, shown) {
    if (!shown) return true;
    const a = next.properties?.seq, b = shown.properties?.seq;
    return !(Number.isFinite(a) && Number.isFinite(b) && a < b);
}

// Filter groups of the toolbar: CoT affiliation letters by the name people use.
export const AFFILIATION_GROUPS = {
    friend: ['f', 'a'],
    hostile: ['h', 's', 'j', 'k'],
    neutral: ['n'],
    unknown: ['u', 'p', 'o'],
};

// The toolbar's group of a type: one of AFFILIATION_GROUPS, or 'other' (not an atom).
export function affiliationGroup(type) {
    const m = /^a-([a-z])-/.exec(type || '');
    if (!m) return 'other';
    for (const [group, letters] of Object.entries(AFFILIATION_GROUPS)) if (letters.includes(m[1])) return group;
    return 'other';
}

// Filter groups of the toolbar by battle dimension: the CoT type's letter after the
// affiliation (SOF, F, counts as ground); 'other' for anything else (not an atom, X).
export const DIMENSION_GROUPS = {
    air: ['A'],
    ground: ['G', 'F'],
    sea: ['S'],
    subsurface: ['U'],
    space: ['P'],
};

// The toolbar's dimension group of a type: one of DIMENSION_GROUPS, or 'other'.
export function dimensionGroup(type) {
    const m = /^a-[a-z]-([A-Z])(-|$)/.exec(type || '');
    if (!m) return 'other';
    for (const [group, letters] of Object.entries(DIMENSION_GROUPS)) if (letters.includes(m[1])) return group;
    return 'other';
}

// The originator nation of a track ('' when the server did not say).
export function nationOf(feature) {
    return String(feature.properties?.originator ?? '').toUpperCase();
}

// Shown under the filter: its affiliation group and its dimension are on, its type starts
// with the type prefix, its originator nation is the one chosen, and its callsign (or uid)
// contains the text.  Every part left out (or empty) lets everything through.
export function matchesFilter(feature, { text = '', groups, dimensions, nation = '', typePrefix = '' } = {}) {
    const p = feature.properties || {};
    if (groups && !groups.has(affiliationGroup(p.type))) return false;
    if (dimensions && !dimensions.has(dimensionGroup(p.type))) return false;
    const prefix = typePrefix.trim();
    if (prefix && !String(p.type ?? '').startsWith(prefix)) return false;
    const n = nation.trim().toUpperCase();
    if (n && nationOf(feature) !== n) return false;
    const needle = text.trim().toLowerCase();
    return !needle || String(p.callsign ?? p.uid ?? '').toLowerCase().includes(needle);
}
