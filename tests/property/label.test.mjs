// property/label: random (label, identity, ceiling) rows decided by the C code
// (through label_oracle_driver) and by an independent oracle written here from
// docs/labels.md, working on strings and sets instead of bitmaps. Checked per
// row: the release rule, kz_label_dominated() against a random ceiling, and the
// canonical form (format(parse(x)) matches the oracle's string and is a fixed
// point). Banners include the marking rules, FGI, wholly foreign (//JPN) and
// JOINT heads and CUI. Runs under the built-in policy and under a configured one (a
// `labels:` section with FVEY narrowed, a custom tetragraph and custom level
// names). Zero disagreements allowed.
//
// KZ_LABEL_DRIVER     path of the driver (set by ctest)
// KZ_PROPERTY_SEED    seed to replay a run (printed at start; KZ_SEED also works)
// KZ_PAIRS            rows per policy (default 300,000)

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';

const DRIVER = process.env.KZ_LABEL_DRIVER;
const PAIRS = Number(process.env.KZ_PAIRS ?? 300_000);
const SEED = Number(process.env.KZ_PROPERTY_SEED ?? process.env.KZ_SEED ?? (Date.now() % 2 ** 31));
const MAX_LEN = 2048;

// ---- the policies -------------------------------------------------------

const US_NAMES = [['UNCLASSIFIED', 'U'], ['CONFIDENTIAL', 'C'], ['SECRET', 'S'], ['TOP SECRET', 'TS']];

// Level names per rank (first = canonical) and tetragraphs (code -> members).
const BUILTIN = {
    name: 'built-in',
    names: US_NAMES,
    tetra: { FVEY: ['USA', 'AUS', 'CAN', 'GBR', 'NZL'], NATO: [] },
};
// The `labels:` section of the configured policy; CONFIGURED is what docs/labels.md says it means:
// the configured names first, the US names as aliases, exactly the tetragraphs listed.
const LABELS_SECTION = {
    tetragraphs: { FVEY: ['USA', 'GBR'], ANZU: ['AUS', 'NZL', 'USA'] },
    level_names: { SECRET: ['極秘', 'HIMITSU'], 'TOP SECRET': ['KIMITSU'] },
};
const CONFIGURED = {
    name: 'configured',
    names: [US_NAMES[0], US_NAMES[1], ['極秘', 'HIMITSU', ...US_NAMES[2]], ['KIMITSU', ...US_NAMES[3]]],
    tetra: LABELS_SECTION.tetragraphs,
};

// ---- the oracle ---------------------------------------------------------

// The ISO codes this test draws from; every one is assigned.
const KNOWN = new Set(['USA', 'JPN', 'PHL', 'AUS', 'KOR', 'GBR', 'CAN', 'NZL', 'FRA', 'DEU',
    'IND', 'ITA', 'ESP', 'NLD', 'NOR', 'POL', 'TUR', 'SGP', 'THA', 'VNM', 'IDN', 'MYS', 'TWN',
    'CHN', 'RUS', 'PRK', 'ABW', 'ZWE']);
// Codes that are not ISO 3166-1 alpha-3 assignments (user-assigned or malformed).
const UNKNOWN = ['XXX', 'ZZZ', 'QQQ', 'AAA', 'XKX', 'US', 'UK', 'EU', 'USAF', 'U5A'];
const CAVEAT = { FOUO: 'FOUO', ORCON: 'ORCON', OC: 'ORCON', NOFORN: 'NOFORN', NF: 'NOFORN',
    RELIDO: 'RELIDO' };
const REGISTER = ['FOUO', 'ORCON', 'NOFORN', 'REL TO', 'RELIDO'];

// Matching ignores ASCII case only: 'ſ'.toUpperCase() is 'S' in JavaScript, not in a banner.
const upper = (s) => s.replace(/[a-z]+/g, (c) => c.toUpperCase());
// Runs of blanks become one space, outer blanks go (no /[ \t]+$/: quadratic on 2 kB of blanks).
function squash(s) {
    const t = s.replace(/[ \t]+/g, ' ');
    return upper(t.slice(t.startsWith(' ') ? 1 : 0, t.endsWith(' ') ? -1 : undefined));
}

// Rank 1..4 of a level name under the policy, 0 for none.
function rankOf(policy, name) {
    policy.rank ??= new Map(policy.names.flatMap((names, r) => names.map((x) => [upper(x), r + 1])));
    return policy.rank.get(squash(name)) ?? 0;
}

// The home nation of both policies here (the driver builds them without a node.nation).
const HOME = 'USA';
const isTrigraph = (w) => KNOWN.has(w); // the generator draws nations from KNOWN and UNKNOWN only

// The level of a head: a level name or CUI (UNCLASSIFIED with the CUI control).
function headLevel(policy, label, name) {
    if (squash(name) === 'CUI') {
        label.caveats.add('CUI');
        return 1;
    }
    return rankOf(policy, name);
}

// Blank-separated nations (FGI, JOINT): false on an unknown or repeated one.
function addOrigins(label, words) {
    for (const w of words) {
        if (!isTrigraph(w) || label.origins.has(w)) return false;
        label.origins.add(w);
    }
    return true;
}

// "//CCC LEVEL" or "//JOINT LEVEL CCC CCC..." (squashed); false when refused.
function parseOwnerHead(policy, label, head) {
    const words = head.split(' ');
    if (words.length < 2) return false;
    if (words[0] === 'JOINT') {
        let n = words.length;
        while (n > 2 && isTrigraph(words[n - 1])) n--;
        label.rank = headLevel(policy, label, words.slice(1, n).join(' '));
        label.mark = 'JOINT';
        return label.rank > 0 && addOrigins(label, words.slice(n)) && label.origins.size >= 2;
    }
    if (!isTrigraph(words[0]) || words[0] === HOME) return false;
    label.mark = 'FOREIGN';
    label.origins.add(words[0]);
    label.rank = headLevel(policy, label, words.slice(1).join(' '));
    return label.rank > 0;
}

// Banner -> { rank, rel: Set|null, caveats: Set, mark, origins: Set } or null when refused.
function oracleParse(policy, text) {
    if (Buffer.byteLength(text) > MAX_LEN || /[\x00-\x08\x0a-\x1f\x7f]/.test(text)) return null;
    const label = { rank: 0, rel: null, caveats: new Set(), mark: null, origins: new Set() };
    const lead = text.replace(/^[ \t]+/, '');
    let cats;
    if (lead.startsWith('//')) {
        cats = lead.slice(2).split('//');
        if (squash(cats[0]) === '' || !parseOwnerHead(policy, label, squash(cats[0]))) return null;
    } else {
        cats = text.split('//');
        label.rank = headLevel(policy, label, cats[0]);
        if (!label.rank) return null;
    }
    cats = cats.slice(1);
    const fgi = cats.length ? squash(cats[0]) : '';
    if (fgi === 'FGI' || fgi.startsWith('FGI ')) {
        const words = fgi.slice(3).trim().split(' ').filter((w) => w);
        if (label.mark || !words.length || !addOrigins(label, words) || label.origins.has(HOME)) return null;
        label.mark = 'FGI';
        cats = cats.slice(1);
    }
    if (cats.length > 1) return null;
    if (cats.length === 0) return markingRulesHold(policy, label) ? label : null;
    for (const raw of cats[0].split('/')) {
        const c = squash(raw);
        const m = /^REL TO(?: (.*))?$/.exec(c);
        if (m) {
            if (label.rel) return null;
            label.rel = new Set();
            const items = (m[1] ?? '').split(',').map(squash);
            for (const code of items) {
                if (code === '' || code.includes(' ')) return null;
                if (!KNOWN.has(code) && !(code in policy.tetra)) return null;
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
    return markingRulesHold(policy, label) ? label : null;
}

// The marking rules (docs/labels.md, "Marking rules"); both policies here have home USA.
function markingRulesHold(policy, label) {
    const c = label.caveats;
    if (label.rel && c.has('NOFORN')) return false;
    if (c.has('NOFORN') && c.has('RELIDO')) return false; // ISM-ID-00169
    if (c.has('FOUO') && label.rank !== 1) return false; // ISM-ID-00030
    if (c.has('ORCON') && label.rank === 1) return false; // ISM-ID-00028
    if (c.has('RELIDO') && label.mark) return false; // ISM-ID-00233/00234
    if (c.has('CUI') && (c.has('FOUO') || label.mark)) return false;
    const needsHome = label.mark !== 'FOREIGN' && (label.mark !== 'JOINT' || label.origins.has(HOME));
    if (label.rel && needsHome && !label.rel.has(HOME)) return false; // ISM-ID-00214
    if (label.rel && label.rel.size < 2) return false; // ISM-ID-00319
    return true;
}

// Nations the label reaches: 'ALL', or a Set.
function reach(policy, label, originator) {
    if (label.rank === 1 && !label.rel && label.caveats.size === 0 && !label.mark) return 'ALL';
    // Owners: the originator, or the wholly foreign nation, or the JOINT co-owners (FGI: provenance).
    const owned = label.mark === 'FOREIGN' || label.mark === 'JOINT';
    const out = new Set(owned ? label.origins : KNOWN.has(originator) ? [originator] : []);
    if (label.rel && !label.caveats.has('NOFORN'))
        for (const code of label.rel) for (const n of policy.tetra[code] ?? [code]) out.add(n);
    return out;
}

function mayRelease(policy, label, originator, nation, clearance) {
    const rank = rankOf(policy, clearance);
    const nat = nation.trim().toUpperCase();
    if (!label || !rank || !KNOWN.has(nat) || rank < label.rank) return 0;
    const set = reach(policy, label, originator);
    return set === 'ALL' || set.has(nat) ? 1 : 0;
}

// Not above the ceiling: level not higher, and every nation the ceiling reaches a reaches too.
function dominated(policy, a, aOrigin, c, cOrigin) {
    if (!a || !c || a.rank > c.rank) return 0;
    const ra = reach(policy, a, aOrigin), rc = reach(policy, c, cOrigin);
    if (ra === 'ALL') return 1;
    if (rc === 'ALL') return 0;
    return [...rc].every((n) => ra.has(n)) ? 1 : 0;
}

function canonical(policy, label) {
    const controls = REGISTER.filter((c) => label.caveats.has(c) || (c === 'REL TO' && label.rel))
        .map((c) => {
            if (c !== 'REL TO') return c;
            const codes = [...label.rel];
            const tri = codes.filter((x) => !(x in policy.tetra) && x !== 'USA').sort();
            const tetra = codes.filter((x) => x in policy.tetra).sort();
            return 'REL TO ' + [...(label.rel.has('USA') ? ['USA'] : []), ...tri, ...tetra].join(', ');
        });
    const level = label.caveats.has('CUI') ? 'CUI' : policy.names[label.rank - 1][0];
    const nations = [...label.origins].sort().join(' ');
    const head = label.mark === 'FOREIGN' ? `//${nations} ${level}`
        : label.mark === 'JOINT' ? `//JOINT ${level} ${nations}`
            : label.mark === 'FGI' ? `${level}//FGI ${nations}` : level;
    return controls.length ? `${head}//${controls.join('/')}` : head;
}

// The driver's answer line "RDF\tCANON" for one row.
function oracle(policy, [text, nation, clearance, origin, ceiling, ceilOrigin]) {
    const label = oracleParse(policy, text);
    const ceil = oracleParse(policy, ceiling);
    const r = mayRelease(policy, label, origin, nation, clearance);
    const d = dominated(policy, label, origin, ceil, ceilOrigin);
    return `${r}${d}${label ? 1 : 0}\t${label ? canonical(policy, label) : '-'}`;
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

// Look-alikes: full-width letters, Cyrillic/Greek homoglyphs, letters JavaScript (not ASCII)
// upper-cases to S/I/K, non-ASCII blanks. Every one must be refused.
const LOOKALIKE_LEVELS = ['ＳＥＣＲＥＴ', 'SЕCRET', 'ſecret', 'TOP\u00a0SECRET', 'TOP\u3000SECRET',
    'CONFıDENTıAL', 'ΤS', 'Ｕ', 'SECRET\u200b', '極 秘', '極祕'];
const LOOKALIKE_CONTROLS = ['NОFORN', 'ＮＦ', 'relıdo', 'ORCОN', 'FOUO\u00a0', 'REL\u00a0TO USA',
    'REL TO ＵＳＡ', 'REL TO UЅA', 'REL TO ᴜsa', 'REL TO ĸor', 'REL TO \u212aOR', 'REL TO ＦＶＥＹ'];
const CONTROL_BYTES = [...Array(32).keys()].filter((c) => c !== 9).map((c) => String.fromCharCode(c))
    .concat(['\x7f', '\n', '\r', '\0']);

function generator(seed, policy) {
    const rnd = mulberry32(seed);
    const pick = (a) => a[Math.floor(rnd() * a.length)];
    const chance = (p) => rnd() < p;
    const blank = () => pick(['', '', '', ' ', '  ', '\t', ' \t ']);
    const mixed = (s) => [...s].map((c) => (chance(0.5) ? c.toLowerCase() : c)).join('');
    const cased = (s) => pick([s, s, s.toLowerCase(), mixed(s)]);
    const knownList = [...KNOWN];
    const custom = ['極秘', 'HIMITSU', 'KIMITSU'];
    const levels = ['UNCLASSIFIED', 'U', 'CONFIDENTIAL', 'C', 'SECRET', 'S', 'TOP SECRET',
        'TOP  SECRET', 'TOP\tSECRET', 'TS', ...(policy === CONFIGURED ? custom : [])];
    // Under the built-in policy the configured names are unknown, and the other way round NATO.
    const badLevels = ['SECRETT', 'TOPSECRET', 'RESTRICTED', '', 'UNCLAS', 'S E C R E T',
        ...(policy === CONFIGURED ? [] : custom)];
    const controls = ['NOFORN', 'NF', 'ORCON', 'OC', 'FOUO', 'RELIDO'];
    const tetras = Object.keys(policy.tetra);
    const unknown = [...UNKNOWN, ...['FVEY', 'NATO', 'ANZU'].filter((t) => !(t in policy.tetra))];
    const code = () => {
        const r = rnd();
        if (r < 0.7) return pick(['USA', 'JPN', 'PHL', 'AUS', 'KOR', 'GBR', 'CAN', 'NZL']);
        if (r < 0.88) return pick(knownList);
        if (r < 0.99) return pick(tetras);
        return pick(unknown);
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
        // Mostly well-formed: USA listed (ISM-ID-00214), as real banners do.
        if (n > 0 && !seen.has('USA') && chance(0.9)) codes.splice(Math.floor(rnd() * n), 1, cased('USA'));
        let list = '';
        codes.forEach((c, i) => {
            if (i > 0) list += chance(0.01) ? ' ' : blank() + ',' + blank(); // missing comma
            list += c;
        });
        if (chance(0.01)) list += ',';
        const head = cased('REL') + pick([' ', '  ', '\t']) + cased('TO');
        return head + (list ? ' ' + blank() : '') + list;
    };
    const level = () => {
        if (chance(0.03)) return pick(badLevels);
        if (chance(0.02)) return pick(LOOKALIKE_LEVELS);
        return cased(pick(levels));
    };
    const control = () => {
        if (chance(0.03)) return cased(pick(['FOO', 'REL', 'RELTO']));
        if (chance(0.03)) return pick(LOOKALIKE_CONTROLS);
        return cased(pick(controls));
    };
    // Whose it is: wholly foreign, JOINT, FGI (review item 5), or CUI in place of the level.
    const nationWord = () => cased(chance(0.95) ? pick(['USA', 'JPN', 'PHL', 'KOR', 'GBR', 'AUS']) : pick(unknown));
    const nationWords = () => Array.from({ length: 1 + Math.floor(rnd() * 3) }, nationWord).join(pick([' ', '  ', '\t']));
    const head = () => {
        const r = rnd();
        if (r < 0.04) return blank() + '//' + blank() + nationWord() + ' ' + level();
        if (r < 0.08) return '//' + cased('JOINT') + ' ' + level() + ' ' + nationWords();
        if (r < 0.12) return level() + pick(['//', ' // ']) + cased('FGI') + ' ' + nationWords();
        if (r < 0.14) return cased('CUI');
        return level();
    };
    const plain = () => {
        const s = head();
        const kind = rnd();
        if (kind < 0.25) return blank() + s + blank();
        const parts = [];
        if (kind < 0.8) parts.push(relTo());
        if (chance(0.02)) parts.push(relTo()); // a second REL TO
        const extra = chance(0.5) ? Math.floor(rnd() * 3) : 0;
        for (let i = 0; i < extra; i++) parts.push(control());
        if (parts.length === 0) parts.push(control());
        for (let i = parts.length - 1; i > 0; i--) {
            const j = Math.floor(rnd() * (i + 1));
            [parts[i], parts[j]] = [parts[j], parts[i]];
        }
        const sep = chance(0.03) ? pick(['///', '/']) : pick(['//', '//', ' // ']);
        let out = s + sep + parts.map((p) => blank() + p + blank()).join(chance(0.01) ? '//' : '/');
        if (chance(0.01)) out += pick(['/', '//']);
        return out;
    };
    // Pad a banner with blanks at a separator or an end to a byte length near the limit.
    const long = (s) => {
        const want = MAX_LEN - 24 + Math.floor(rnd() * 48) - Buffer.byteLength(s);
        if (want <= 0) return s;
        let pad = '';
        while (pad.length < want) pad += pick([' ', '\t', '  \t', '\t\t ']).repeat(1 + (rnd() * 64) | 0);
        pad = pad.slice(0, want);
        const at = [...s.matchAll(/\/|,|$/g)].map((m) => m.index);
        const i = chance(0.2) ? 0 : pick(at);
        return s.slice(0, i) + pad + s.slice(i);
    };
    const withControlByte = (s) => {
        const i = Math.floor(rnd() * (s.length + 1));
        return s.slice(0, i) + pick(CONTROL_BYTES) + s.slice(i);
    };
    const banner = () => {
        let s = plain();
        if (chance(0.015)) s = long(s);
        if (chance(0.015)) s = withControlByte(s);
        return s;
    };
    const allies = ['USA', 'JPN', 'PHL', 'AUS', 'KOR', 'GBR', 'CAN', 'NZL'];
    const nations = [...allies, ...allies, ...allies, ...knownList,
        'usa', ' JPN ', 'XXX', 'US', ''];
    // Mostly valid clearances, high ones more often: an invalid identity is denied everything.
    const clearances = ['UNCLASSIFIED', 'CONFIDENTIAL', 'SECRET', 'TOP SECRET', 'SECRET',
        'TOP SECRET', 'TS', 'U', 'C', 'S', 'TS', 'secret', ' Top  Secret ', 'TOP SECRET', 'TS',
        'SECRET', 'TOP SECRET', 'SECRET', 'SECRETT', 'NONE', '',
        ...(policy === CONFIGURED ? ['極秘', 'himitsu', 'KIMITSU', 'KIMITSU'] : ['極秘'])];
    const origins = ['USA', 'USA', 'USA', 'JPN', 'JPN', 'PHL', 'GBR', 'AUS', 'KOR', 'FRA',
        '-', '-', 'XXX'];
    return () => [banner(), pick(nations), pick(clearances), pick(origins), plain(), pick(origins)];
}

// ---- the run --------------------------------------------------------------

const hex = (s) => Buffer.from(s).toString('hex');

function runDriver(args, rows) {
    return new Promise((resolve, reject) => {
        const child = spawn(DRIVER, args, { stdio: ['pipe', 'pipe', 'inherit'] });
        const chunks = [];
        child.stdout.on('data', (b) => chunks.push(b));
        child.on('error', reject);
        child.on('close', (code) => {
            if (code === 0) resolve(Buffer.concat(chunks).toString('utf8').split('\n'));
            else reject(new Error(`driver exit ${code}`));
        });
        let i = 0;
        const line = (r) => [hex(r[0]), r[1], r[2], r[3], hex(r[4]), r[5]].join('\t');
        const pump = () => {
            while (i < rows.length) {
                const batch = rows.slice(i, i + 4096).map(line).join('\n') + '\n';
                i += 4096;
                if (!child.stdin.write(batch)) return child.stdin.once('drain', pump);
            }
            child.stdin.end();
        };
        pump();
    });
}

// Rows that reach the branches the audit found dead, counted so they stay live.
function coverage(policy, rows) {
    const c = { tab: 0, control: 0, nonAscii: 0, over: 0, nearLimitOk: 0, secondRel: 0,
        fgi: 0, foreign: 0, joint: 0, cui: 0 };
    for (const [text] of rows) {
        const label = oracleParse(policy, text);
        const ok = label !== null;
        if (ok && label.mark) c[label.mark.toLowerCase()]++;
        if (ok && label.caveats.has('CUI')) c.cui++;
        const bytes = Buffer.byteLength(text);
        if (ok && text.includes('\t')) c.tab++;
        if (/[\x00-\x08\x0a-\x1f\x7f]/.test(text)) c.control++;
        if (/[^\x00-\x7f]/.test(text)) c.nonAscii++;
        if (bytes > MAX_LEN) c.over++;
        if (ok && bytes > MAX_LEN - 24) c.nearLimitOk++;
        if ((text.match(/REL[ \t]+TO/gi) ?? []).length > 1) c.secondRel++;
    }
    return c;
}

let tmp;
after(() => tmp && fs.rmSync(tmp, { recursive: true, force: true }));

function driverArgs(policy) {
    if (policy === BUILTIN) return [];
    tmp ??= fs.mkdtempSync(path.join(os.tmpdir(), 'kz-property-'));
    const file = path.join(tmp, 'labels.yaml');
    fs.writeFileSync(file, JSON.stringify({ labels: LABELS_SECTION })); // JSON is YAML
    return ['-c', file];
}

console.log(`# seed ${SEED} (replay with KZ_PROPERTY_SEED=${SEED})`);

for (const [k, policy] of [BUILTIN, CONFIGURED].entries()) {
    test(`${policy.name} policy: release, dominance and canonical form agree with the oracle ` +
        `on ${PAIRS} random rows`, async () => {
        assert.ok(DRIVER, 'KZ_LABEL_DRIVER must name label_oracle_driver');
        const next = generator((SEED + k * 0x9e3779b9) | 0, policy);
        const rows = Array.from({ length: PAIRS }, next);
        const expect = rows.map((r) => oracle(policy, r));
        const out = await runDriver(driverArgs(policy), rows);
        assert.equal(out.length, PAIRS + 1, 'one answer line per row');
        const bad = [];
        const n = { released: 0, refused: 0, dominated: 0 };
        for (let i = 0; i < PAIRS; i++) {
            if (out[i] !== expect[i]) bad.push(i);
            n.released += expect[i][0] === '1';
            n.dominated += expect[i][1] === '1';
            n.refused += expect[i][2] === '0';
        }
        const cov = coverage(policy, rows);
        console.log(`# ${policy.name}: ${PAIRS} rows, ${n.released} released, ` +
            `${n.dominated} dominated, ${n.refused} labels refused; ${bad.length} disagreements; ` +
            `coverage ${JSON.stringify(cov)}`);
        for (const i of bad.slice(0, 10))
            console.log(`#   row ${i} ${JSON.stringify(rows[i])}: C=${JSON.stringify(out[i])} ` +
                `oracle=${JSON.stringify(expect[i])}`);
        assert.equal(bad.length, 0, `disagreements with the oracle (replay with ` +
            `KZ_PROPERTY_SEED=${SEED})`);
        // The run must exercise both answers of each check and the parser's refusals.
        const mix = (x) => x > PAIRS / 20 && PAIRS - x > PAIRS / 20;
        assert.ok(mix(n.released), 'mix of releases');
        assert.ok(mix(n.dominated), 'mix of dominance answers');
        assert.ok(n.refused > PAIRS / 50 && n.refused < PAIRS / 2, 'mix of valid and invalid');
        for (const [what, count] of Object.entries(cov))
            assert.ok(count > PAIRS / 2000, `too few rows with ${what}: ${count}`);
    });
}
