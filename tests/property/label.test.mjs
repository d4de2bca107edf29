// property/label: random (label, identity) pairs decided by the C release rule
// (through label_oracle_driver) and by an independent oracle written here from
// docs/labels.md, working on strings and sets instead of bitmaps. Zero
// disagreements allowed.
//
// KZ_LABEL_DRIVER  path of the driver (set by ctest)
// KZ_SEED          seed to replay a run (printed at start)
// KZ_PAIRS         number of pairs (default 1,000,000)

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';

const DRIVER = process.env.KZ_LABEL_DRIVER;
const PAIRS = Number(process.env.KZ_PAIRS ?? 1_000_000);
const SEED = Number(process.env.KZ_SEED ?? (Date.now() % 2 ** 31));

// ---- the oracle ---------------------------------------------------------

const RANK = {
    UNCLASSIFIED: 1, U: 1, CONFIDENTIAL: 2, C: 2, SECRET: 3, S: 3, 'TOP SECRET': 4, TS: 4,
};
// The ISO codes this test draws from; every one is assigned.
const KNOWN = new Set(['USA', 'JPN', 'PHL', 'AUS', 'KOR', 'GBR', 'CAN', 'NZL', 'FRA', 'DEU',
    'IND', 'ITA', 'ESP', 'NLD', 'NOR', 'POL', 'TUR', 'SGP', 'THA', 'VNM', 'IDN', 'MYS', 'TWN',
    'CHN', 'RUS', 'PRK', 'ABW', 'ZWE']);
// Codes that are not ISO 3166-1 alpha-3 assignments (user-assigned or malformed).
const UNKNOWN = ['XXX', 'ZZZ', 'QQQ', 'AAA', 'XKX', 'US', 'UK', 'EU', 'USAF', 'U5A'];
const TETRA = { FVEY: ['USA', 'AUS', 'CAN', 'GBR', 'NZL'], NATO: [] };
const CAVEAT = { FOUO: 'FOUO', ORCON: 'ORCON', OC: 'ORCON', NOFORN: 'NOFORN', NF: 'NOFORN',
    RELIDO: 'RELIDO' };

const squash = (s) => s.replace(/^[ \t]+|[ \t]+$/g, '').replace(/[ \t]+/g, ' ').toUpperCase();

// Banner -> { rank, rel: Set|null, caveats: Set } or null when it must be refused.
function oracleParse(text) {
    if (text.length > 2048 || /[\x00-\x08\x0a-\x1f\x7f]/.test(text)) return null;
    const cats = text.split('//');
    if (cats.length > 2) return null;
    const rank = RANK[squash(cats[0])];
    if (!rank) return null;
    const label = { rank, rel: null, caveats: new Set() };
    if (cats.length === 1) return label;
    for (const raw of cats[1].split('/')) {
        const c = squash(raw);
        const m = /^REL TO(?: (.*))?$/.exec(c);
        if (m) {
            if (label.rel) return null;
            label.rel = new Set();
            const items = (m[1] ?? '').split(',').map(squash);
            for (const code of items) {
                if (code === '' || code.includes(' ')) return null;
                if (!KNOWN.has(code) && !(code in TETRA)) return null;
                if (label.rel.has(code)) return null;
                label.rel.add(code);
            }
        } else if (c in CAVEAT) {
            if (label.caveats.has(CAVEAT[c])) return null;
            label.caveats.add(CAVEAT[c]);
        } else {
            return null;
        }
    }
    if (label.rel && label.caveats.has('NOFORN')) return null;
    return label;
}

// Nations the label reaches: 'ALL', or a Set.
function reach(label, originator) {
    if (label.rank === 1 && !label.rel && label.caveats.size === 0) return 'ALL';
    const out = new Set(originator ? [originator] : []);
    if (label.rel && !label.caveats.has('NOFORN'))
        for (const code of label.rel) for (const n of TETRA[code] ?? [code]) out.add(n);
    return out;
}

function oracle(text, nation, clearance, originator) {
    const label = oracleParse(text);
    const rank = RANK[squash(clearance)];
    const nat = nation.trim().toUpperCase();
    if (!label || !rank || !KNOWN.has(nat)) return 0;
    if (rank < label.rank) return 0;
    const set = reach(label, KNOWN.has(originator) ? originator : null);
    return set === 'ALL' || set.has(nat) ? 1 : 0;
}

// ---- the generator ------------------------------------------------------

function mulberry32(a) {
    return () => {
        a = (a + 0x6d2b79f5) | 0;
        let t = Math.imul(a ^ (a >>> 15), 1 | a);
        t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

function generator(seed) {
    const rnd = mulberry32(seed);
    const pick = (a) => a[Math.floor(rnd() * a.length)];
    const chance = (p) => rnd() < p;
    const blank = () => pick(['', '', '', ' ', '  ', '\t']);
    const mixed = (s) => [...s].map((c) => (chance(0.5) ? c.toLowerCase() : c)).join('');
    const cased = (s) => pick([s, s, s.toLowerCase(), mixed(s)]);
    const knownList = [...KNOWN];
    const levels = ['UNCLASSIFIED', 'U', 'CONFIDENTIAL', 'C', 'SECRET', 'S', 'TOP SECRET',
        'TOP  SECRET', 'TOP\tSECRET', 'TS'];
    const badLevels = ['SECRETT', 'TOPSECRET', 'RESTRICTED', '', 'UNCLAS', 'S E C R E T'];
    const controls = ['NOFORN', 'NF', 'ORCON', 'OC', 'FOUO', 'RELIDO'];
    const code = () => {
        const r = rnd();
        if (r < 0.7) return pick(['USA', 'JPN', 'PHL', 'AUS', 'KOR', 'GBR', 'CAN', 'NZL']);
        if (r < 0.88) return pick(knownList);
        if (r < 0.99) return pick(Object.keys(TETRA));
        return pick(UNKNOWN);
    };
    const relTo = () => {
        const n = chance(0.02) ? 0 : 1 + Math.floor(rnd() * 6);
        const seen = new Set();
        const codes = [];
        while (codes.length < n) {
            const c = code();
            if (seen.has(c) && !chance(0.05)) continue; // a few duplicates on purpose
            seen.add(c);
            codes.push(cased(c));
        }
        let list = '';
        codes.forEach((c, i) => {
            if (i > 0) list += chance(0.01) ? ' ' : blank() + ',' + blank(); // missing comma
            list += c;
        });
        if (chance(0.01)) list += ',';
        const head = cased('REL') + pick([' ', '  ', '\t']) + cased('TO');
        return head + (list ? ' ' + blank() : '') + list;
    };
    const banner = () => {
        let s = chance(0.04) ? pick(badLevels) : cased(pick(levels));
        const kind = rnd();
        if (kind < 0.25) return blank() + s + blank();
        const parts = [];
        if (kind < 0.8) parts.push(relTo());
        const extra = chance(0.5) ? Math.floor(rnd() * 3) : 0;
        for (let i = 0; i < extra; i++)
            parts.push(cased(pick(chance(0.03) ? ['FOO', 'REL', 'RELTO'] : controls)));
        if (parts.length === 0) parts.push(cased(pick(controls)));
        for (let i = parts.length - 1; i > 0; i--) {
            const j = Math.floor(rnd() * (i + 1));
            [parts[i], parts[j]] = [parts[j], parts[i]];
        }
        const sep = chance(0.03) ? pick(['///', '/']) : pick(['//', '//', ' // ']);
        s += sep + parts.map((p) => blank() + p + blank()).join(chance(0.01) ? '//' : '/');
        if (chance(0.01)) s += pick(['/', '//']);
        return s;
    };
    const allies = ['USA', 'JPN', 'PHL', 'AUS', 'KOR', 'GBR', 'CAN', 'NZL'];
    const nations = [...allies, ...allies, ...allies, ...knownList,
        'usa', ' JPN ', 'XXX', 'US', ''];
    const clearances = ['UNCLASSIFIED', 'CONFIDENTIAL', 'SECRET', 'TOP SECRET', 'SECRET',
        'TOP SECRET', 'TS',
        'U', 'C', 'S', 'TS', 'secret', ' Top  Secret ', 'SECRETT', 'NONE', ''];
    const origins = ['USA', 'USA', 'USA', 'JPN', 'JPN', 'PHL', 'GBR', 'AUS', 'KOR', 'FRA',
        '-', '-', 'XXX'];
    return () => {
        const lab = banner();
        // Keep tabs out of the label field: the driver's lines are tab-separated.
        return [lab.replace(/\t/g, ' '), pick(nations), pick(clearances), pick(origins)];
    };
}

// ---- the run --------------------------------------------------------------

function runDriver(lines) {
    return new Promise((resolve, reject) => {
        const child = spawn(DRIVER, [], { stdio: ['pipe', 'pipe', 'inherit'] });
        const chunks = [];
        child.stdout.on('data', (b) => chunks.push(b));
        child.on('error', reject);
        child.on('close', (code) => {
            if (code === 0) resolve(Buffer.concat(chunks));
            else reject(new Error(`driver exit ${code}`));
        });
        let i = 0;
        const pump = () => {
            while (i < lines.length) {
                const batch = lines.slice(i, i + 4096).join('\n') + '\n';
                i += 4096;
                if (!child.stdin.write(batch)) return child.stdin.once('drain', pump);
            }
            child.stdin.end();
        };
        pump();
    });
}

test(`release rule agrees with the oracle on ${PAIRS} random pairs`, async () => {
    assert.ok(DRIVER, 'KZ_LABEL_DRIVER must name label_oracle_driver');
    console.log(`# seed ${SEED} (replay with KZ_SEED=${SEED})`);
    const next = generator(SEED);
    const rows = new Array(PAIRS);
    const expect = new Uint8Array(PAIRS);
    let refused = 0, released = 0;
    for (let i = 0; i < PAIRS; i++) {
        const r = next();
        rows[i] = r;
        expect[i] = oracle(...r);
        released += expect[i];
        if (!oracleParse(r[0])) refused++;
    }
    const out = await runDriver(rows.map((r) => r.join('\t')));
    assert.equal(out.length, PAIRS * 2, 'one answer line per pair');
    const bad = [];
    for (let i = 0; i < PAIRS; i++) {
        const got = out[2 * i] - 48;
        if (got !== expect[i]) bad.push(i);
    }
    console.log(`# ${PAIRS} pairs: ${released} released, ${PAIRS - released} denied, ` +
        `${refused} labels refused by the parser; ${bad.length} disagreements`);
    for (const i of bad.slice(0, 10))
        console.log(`#   ${JSON.stringify(rows[i])}: C=${1 - expect[i]} oracle=${expect[i]}`);
    assert.equal(bad.length, 0, `disagreements with the oracle (seed ${SEED})`);
    // The run must exercise both answers and the parser's refusals.
    assert.ok(released > PAIRS / 10 && PAIRS - released > PAIRS / 10, 'mix of outcomes');
    assert.ok(refused > PAIRS / 50 && refused < PAIRS / 2, 'mix of valid and invalid labels');
});
