// 28-federation: three national nodes kz-usa, kz-jpn and kz-phl, each under
// its own CA from `kizuna ca init`, linked in a triangle over federation v2
// (exactly one side dials each link: USA dials JPN and PHL, JPN dials PHL).
// Each peer entry is an identity (the peer's nation, SECRET, Cyan).  Labelled
// events posted on each node reach exactly the nodes the release rule allows
// for the link's identity, exactly once, with their label and originator
// nation; SECRET//NOFORN never leaves its node.  The receiving node's
// /api/v1/events, read by an input of the originator's nation, is the
// witness.  GET /api/v1/federation and `kizuna fed status` show every link
// up with counters; a node killed with kill -9 relinks on restart.  A second
// topology, a line USA - JPN - PHL, shows that a node does not relay by
// default.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
    cotEvent, postEvent, request, runCli, startServer, uidsOf, uniq, waitUntil,
} from './lib/harness.mjs';
import {
    fedNodeConfig, fedPort, fedStatus, nationalPki, peerEntry, pinFedPort, waitLinks,
} from './lib/fed.mjs';

const NATION = { 'kz-usa': 'USA', 'kz-jpn': 'JPN', 'kz-phl': 'PHL' };
const NAMES = Object.keys(NATION);
const VIEWERS = Object.values(NATION);
const ALL = new Set(VIEWERS);

// Which label goes where: the nations whose identity the release rule lets
// it reach (REL TO lists them; the originator always owns its event).
const LABELS = {
    unclas: { access: 'UNCLASSIFIED', reach: () => ALL },
    relUsaJpn: { access: 'SECRET//REL TO USA, JPN', reach: (o) => new Set(['USA', 'JPN', o]) },
    relAll: { access: 'SECRET//REL TO USA, JPN, PHL', reach: () => ALL },
    noforn: { access: 'SECRET//NOFORN', reach: (o) => new Set([o]) },
};

// Error lines a node may log while a peer is killed on purpose: about links only.
const LINK_ERROR = /fed|peer|link|connect|tls|handshake|grpc|stream/i;

function input(name) {
    return `web-${NATION[name].toLowerCase()}`;
}

// The node `name` in a topology where `dials[name]` lists the peers it dials
// (their federation ports in `ports`) and `links[name]` every peer it has.
// Links named in `v1` ("a|b", names sorted) run federation v1; the others v2.
const isV1 = (v1, a, b) => v1.has([a, b].sort().join('|'));

function nodeConfig(name, pkis, links, dials, ports, v1, relays) {
    const peers = links[name].map((p) => {
        const old = isV1(v1, name, p);
        const port = old ? ports[p]?.v1 : ports[p]?.v2;
        return peerEntry(p, NATION[p], pkis[p].ca, {
            local: NATION[name], protocol: old ? 'v1' : 'v2', relay: relays.has(name),
            ...(dials[name].includes(p) ? { connect: `127.0.0.1:${port}` } : {}),
        });
    });
    const config = fedNodeConfig({ id: name, nation: NATION[name], pki: pkis[name], peers, viewers: VIEWERS });
    if (links[name].some((p) => isV1(v1, name, p)))
        config.federation.listen_v1 = '127.0.0.1:0';
    return config;
}

// The v1 listener's port: key "federation_v1" of the ports file.
async function fedPortV1(server) {
    return waitUntil(() => {
        try {
            const parsed = JSON.parse(fs.readFileSync(server.portsPath, 'utf8'));
            const p = parsed.inputs?.federation_v1;
            return Number.isInteger(p) && p > 0 ? p : false;
        } catch {
            return false;
        }
    }, { timeout: 15000, what: `the federation v1 port in ${server.portsPath}` });
}

// Start the nodes that only accept first, so every dialler knows its ports.
// Each node goes into `nodes` as it starts, so a failure still stops the others.
async function startTopology(nodes, pkis, links, dials, v1 = new Set(), relays = new Set()) {
    const ports = {};
    // A node starts once every node it dials is listening.
    const order = [];
    while (order.length < NAMES.length)
        order.push(NAMES.find((n) => !order.includes(n) && dials[n].every((d) => order.includes(d))));
    for (const name of order) {
        nodes[name] = await startServer({ config: nodeConfig(name, pkis, links, dials, ports, v1, relays) });
        ports[name] = { v2: await fedPort(nodes[name]) };
        if (nodes[name].config.federation.listen_v1)
            ports[name].v1 = await fedPortV1(nodes[name]);
    }
}

// The stored rows of `uid` on `node` that its input of `nation` may read
// (the envelope of /api/v1/events, whatever it is, unwrapped).
async function copies(node, uid, nation) {
    const r = await request(node.port(`web-${nation.toLowerCase()}`), 'GET', `/api/v1/events?uid=${encodeURIComponent(uid)}`);
    assert.equal(r.status, 200, `GET /api/v1/events: ${r.status} ${r.body}`);
    const json = r.json();
    const items = Array.isArray(json) ? json : json.features || json.events || json.items || [];
    const ids = uidsOf(json);
    return items.filter((_, i) => ids[i] === uid);
}

async function count(node, uid, nation) {
    return (await copies(node, uid, nation)).length;
}

function accessOf(row) {
    return row.properties?.access ?? row.access;
}

// Wait until `node` no longer reports `peer` up (down or connecting).
async function waitNotUp(node, name, peer) {
    await waitUntil(async () => {
        const st = await fedStatus(node, input(name));
        return st.peers.find((p) => p.name === peer)?.state !== 'up';
    }, { timeout: 20000, interval: 100, what: `${name} to see ${peer} gone` });
}

async function post(node, name, uid, access) {
    const r = await postEvent(node.port(input(name)), cotEvent({ uid, access, group: { name: 'Cyan' } }));
    assert.equal(r.status, 201, `POST on ${name}: ${r.status} ${r.body}`);
}

// A fresh UNCLASSIFIED marker from every node, seen by every linked node:
// whatever was sent on a link before it has been received.
async function barrier(nodes, links) {
    const marks = {};
    for (const name of Object.keys(nodes)) {
        marks[name] = uniq(`mark-${name}`);
        await post(nodes[name], name, marks[name], 'UNCLASSIFIED');
    }
    for (const [from, uid] of Object.entries(marks))
        for (const to of links[from])
            await waitUntil(async () => (await count(nodes[to], uid, NATION[from])) >= 1,
                { timeout: 20000, interval: 100, what: `marker from ${from} on ${to}` });
}

async function stopAll(nodes) {
    for (const node of Object.values(nodes)) {
        if (!node) continue;
        await node.stop({ expectErrors: true });
        const bad = node.problems({ expectErrors: false }).filter((l) => !LINK_ERROR.test(l));
        assert.deepEqual(bad, [], `error lines not about links:\n${bad.join('\n')}`);
        node.cleanup();
    }
}

describe('federation: a triangle of national nodes', () => {
    const TRIANGLE = { 'kz-usa': ['kz-jpn', 'kz-phl'], 'kz-jpn': ['kz-usa', 'kz-phl'], 'kz-phl': ['kz-usa', 'kz-jpn'] };
    const DIALS = { 'kz-usa': ['kz-jpn', 'kz-phl'], 'kz-jpn': ['kz-phl'], 'kz-phl': [] };
    let root;
    let pkis;
    const nodes = {};
    const sent = [];   // {uid, from, label}

    before(async () => {
        root = fs.mkdtempSync(path.join(os.tmpdir(), 'kizuna-fed-'));
        pkis = {};
        for (const name of NAMES) pkis[name] = await nationalPki(root, name);
        await startTopology(nodes, pkis, TRIANGLE, DIALS);
    });

    after(async () => {
        await stopAll(nodes);
        if (root) fs.rmSync(root, { recursive: true, force: true });
    });

    test('every link comes up on both sides', async () => {
        for (const name of NAMES) {
            const st = await waitLinks(nodes[name], input(name), TRIANGLE[name]);
            assert.deepEqual(st.peers.map((p) => p.name).sort(), [...TRIANGLE[name]].sort());
            for (const p of st.peers) {
                assert.equal(p.protocol, 'v2', JSON.stringify(p));
                for (const k of ['sent', 'received', 'denied', 'duplicates', 'queued'])
                    assert.ok(Number.isInteger(p[k]) && p[k] >= 0, `${name} ${p.name} ${k}: ${JSON.stringify(p)}`);
            }
        }
    });

    test('labelled events reach exactly the nodes the rule allows, once, keeping label and originator', async () => {
        for (const from of NAMES)
            for (const [key, l] of Object.entries(LABELS)) {
                // Under a node's own marking policy REL TO lists its nation (docs/labels.md):
                // a Philippine node cannot write REL TO USA, JPN.
                if (key === 'relUsaJpn' && NATION[from] === 'PHL')
                    continue;
                const uid = uniq(`${key}-${from}`);
                sent.push({ uid, from, key, label: l });
                await post(nodes[from], from, uid, l.access);
            }
        const expected = (s) => TRIANGLE[s.from].filter((to) => s.label.reach(NATION[s.from]).has(NATION[to]));
        for (const s of sent)
            for (const to of expected(s))
                await waitUntil(async () => (await count(nodes[to], s.uid, NATION[s.from])) >= 1,
                    { timeout: 20000, interval: 100, what: `${s.key} from ${s.from} on ${to}` });
        await barrier(nodes, TRIANGLE);
        for (const s of sent) {
            const origin = NATION[s.from];
            const mine = await copies(nodes[s.from], s.uid, origin);
            assert.equal(mine.length, 1, `${s.uid} on its own node ${s.from}`);
            for (const to of TRIANGLE[s.from]) {
                const want = expected(s).includes(to) ? 1 : 0;
                // Read by the originator's nation: it sees the event as its
                // owner, i.e. the receiving node kept the originator nation.
                const rows = await copies(nodes[to], s.uid, origin);
                assert.equal(rows.length, want, `${s.key} (${s.label.access}) from ${s.from} on ${to}`);
                if (want) assert.equal(accessOf(rows[0]), accessOf(mine[0]), `label of ${s.uid} on ${to}`);
            }
        }
    });

    test('NOFORN never leaves: the links count it as denied', async () => {
        for (const name of NAMES) {
            const st = await fedStatus(nodes[name], input(name));
            for (const p of st.peers) {
                assert.equal(p.state, 'up', `${name} -> ${p.name}: ${JSON.stringify(p)}`);
                assert.ok(p.denied >= 1, `${name} -> ${p.name} denied nothing: ${JSON.stringify(p)}`);
                assert.ok(p.sent >= 2 && p.received >= 2, `${name} -> ${p.name} counters: ${JSON.stringify(p)}`);
            }
        }
    });

    test('kizuna fed status prints every link up', async () => {
        for (const name of NAMES) {
            const server = `127.0.0.1:${nodes[name].port(input(name))}`;
            const r = await runCli(['fed', 'status', '-s', server]);
            assert.equal(r.code, 0, `fed status on ${name}: ${r.stdout}${r.stderr}`);
            for (const peer of TRIANGLE[name]) {
                const line = r.stdout.split('\n').find((l) => l.includes(peer));
                assert.ok(line, `fed status on ${name} lacks ${peer}:\n${r.stdout}`);
                assert.match(line, /\bup\b/, `fed status on ${name}, ${peer}:\n${r.stdout}`);
            }
            const j = await runCli(['fed', 'status', '-s', server, '--json']);
            assert.equal(j.code, 0, j.stderr);
            const parsed = JSON.parse(j.stdout);
            assert.deepEqual(parsed.peers.map((p) => p.state), TRIANGLE[name].map(() => 'up'), j.stdout);
        }
    });

    test('a node killed with kill -9 relinks on restart, and traffic flows again', async () => {
        const victim = 'kz-jpn';
        await pinFedPort(nodes[victim]);
        await nodes[victim].kill9();
        for (const name of TRIANGLE[victim]) await waitNotUp(nodes[name], name, victim);
        await nodes[victim].restart({ samePorts: true });
        for (const name of NAMES) await waitLinks(nodes[name], input(name), TRIANGLE[name], { timeout: 30000 });
        const uid = uniq('after-restart');
        await post(nodes['kz-usa'], 'kz-usa', uid, 'SECRET//REL TO USA, JPN, PHL');
        for (const to of ['kz-jpn', 'kz-phl'])
            await waitUntil(async () => (await count(nodes[to], uid, 'USA')) === 1,
                { timeout: 20000, interval: 100, what: `${uid} on ${to} after the restart` });
        const back = uniq('from-restarted');
        await post(nodes[victim], victim, back, 'UNCLASSIFIED');
        for (const to of TRIANGLE[victim])
            await waitUntil(async () => (await count(nodes[to], back, 'JPN')) === 1,
                { timeout: 20000, interval: 100, what: `${back} from the restarted node on ${to}` });
        await barrier(nodes, TRIANGLE);
        for (const to of ['kz-jpn', 'kz-phl']) assert.equal(await count(nodes[to], uid, 'USA'), 1, `${uid} on ${to}`);
    });
});

describe('federation: no relay by default (a line USA - JPN - PHL; JPN - PHL over v1)', () => {
    const LINE = { 'kz-usa': ['kz-jpn'], 'kz-jpn': ['kz-usa', 'kz-phl'], 'kz-phl': ['kz-jpn'] };
    const DIALS = { 'kz-usa': ['kz-jpn'], 'kz-jpn': ['kz-phl'], 'kz-phl': [] };
    let root;
    const nodes = {};

    before(async () => {
        root = fs.mkdtempSync(path.join(os.tmpdir(), 'kizuna-fed-line-'));
        const pkis = {};
        for (const name of NAMES) pkis[name] = await nationalPki(root, name);
        await startTopology(nodes, pkis, LINE, DIALS, new Set(['kz-jpn|kz-phl']));
        for (const name of NAMES) await waitLinks(nodes[name], input(name), LINE[name]);
    });

    after(async () => {
        await stopAll(nodes);
        if (root) fs.rmSync(root, { recursive: true, force: true });
    });

    test('an event from USA received by JPN is not sent on to PHL', async () => {
        const uid = uniq('no-relay');
        await post(nodes['kz-usa'], 'kz-usa', uid, 'SECRET//REL TO USA, JPN, PHL');
        await waitUntil(async () => (await count(nodes['kz-jpn'], uid, 'USA')) === 1,
            { timeout: 20000, interval: 100, what: `${uid} on kz-jpn` });
        // JPN's own marker reaches PHL: the JPN -> PHL link carried anything queued before it.
        await barrier(nodes, LINE);
        assert.equal(await count(nodes['kz-phl'], uid, 'USA'), 0, 'kz-jpn relayed a USA event to kz-phl');
        const st = await fedStatus(nodes['kz-phl'], input('kz-phl'));
        assert.equal(st.peers.length, 1, JSON.stringify(st));
        assert.equal(st.peers[0].protocol, 'v1', JSON.stringify(st));
        assert.ok(st.peers[0].received >= 1 && st.peers[0].sent >= 1, `v1 link carried nothing: ${JSON.stringify(st)}`);
    });
});

describe('federation: a relay (USA - JPN - PHL, JPN relaying)', () => {
    const LINE = { 'kz-usa': ['kz-jpn'], 'kz-jpn': ['kz-usa', 'kz-phl'], 'kz-phl': ['kz-jpn'] };
    const DIALS = { 'kz-usa': ['kz-jpn'], 'kz-jpn': ['kz-phl'], 'kz-phl': [] };
    let root;
    const nodes = {};

    before(async () => {
        root = fs.mkdtempSync(path.join(os.tmpdir(), 'kizuna-fed-relay-'));
        const pkis = {};
        for (const name of NAMES) pkis[name] = await nationalPki(root, name);
        await startTopology(nodes, pkis, LINE, DIALS, new Set(), new Set(['kz-jpn']));
        for (const name of NAMES) await waitLinks(nodes[name], input(name), LINE[name]);
    });

    after(async () => {
        await stopAll(nodes);
        if (root) fs.rmSync(root, { recursive: true, force: true });
    });

    test('JPN passes on what PHL may see, once, and the rule is applied again at each hop', async () => {
        const all = uniq('relay-all');
        const notJpn = uniq('relay-not-jpn');
        const notPhl = uniq('relay-not-phl');
        await post(nodes['kz-usa'], 'kz-usa', all, 'SECRET//REL TO USA, JPN, PHL');
        await post(nodes['kz-usa'], 'kz-usa', notJpn, 'SECRET//REL TO USA, PHL');
        await post(nodes['kz-usa'], 'kz-usa', notPhl, 'SECRET//REL TO USA, JPN');
        await waitUntil(async () => (await count(nodes['kz-phl'], all, 'USA')) === 1,
            { timeout: 20000, interval: 100, what: `${all} relayed to kz-phl` });
        await waitUntil(async () => (await count(nodes['kz-jpn'], notPhl, 'USA')) === 1,
            { timeout: 20000, interval: 100, what: `${notPhl} on kz-jpn` });
        await barrier(nodes, LINE);
        assert.equal(await count(nodes['kz-jpn'], all, 'USA'), 1);
        // Not releasable to JPN: never reaches JPN, so never reaches PHL through it.
        assert.equal(await count(nodes['kz-jpn'], notJpn, 'USA'), 0);
        assert.equal(await count(nodes['kz-phl'], notJpn, 'USA'), 0);
        // Releasable to JPN, not PHL: JPN keeps it, the JPN -> PHL link refuses it.
        assert.equal(await count(nodes['kz-phl'], notPhl, 'USA'), 0);
        // PHL's own events reach USA through JPN, and nothing loops back to its sender.
        const back = uniq('relay-back');
        await post(nodes['kz-phl'], 'kz-phl', back, 'SECRET//REL TO USA, JPN, PHL');
        await waitUntil(async () => (await count(nodes['kz-usa'], back, 'PHL')) === 1,
            { timeout: 20000, interval: 100, what: `${back} relayed to kz-usa` });
        await barrier(nodes, LINE);
        assert.equal(await count(nodes['kz-phl'], back, 'PHL'), 1, 'an event came back to its node');
        assert.equal(await count(nodes['kz-usa'], all, 'USA'), 1, 'an event came back to its node');
        const st = await fedStatus(nodes['kz-jpn'], input('kz-jpn'));
        for (const p of st.peers) assert.ok(p.denied >= 1 || p.name === 'kz-usa', JSON.stringify(p));
    });
});
