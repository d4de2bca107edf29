// fed.mjs - federation nodes on the real binary: a national PKI made with
// the real CLI (`kizuna ca init`: the CA and the node's certificate, which
// carries serverAuth and clientAuth), a node's configuration with its
// `federation:` section, the federation port from the ports file, and the
// link states from GET /api/v1/federation.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { identity, makeConfig, request, runCli, waitUntil, withPort } from './harness.mjs';

// One nation's PKI in ROOT/pki-NAME: ca.pem, ca.key, crl.pem, server.pem and
// server.key for `hosts` (the node's own name and address: a peer that dials
// checks them).  `data` receives the users table `ca init` creates.
export async function nationalPki(root, name, { hosts = 'localhost,127.0.0.1' } = {}) {
    const dir = path.join(root, `pki-${name}`);
    const data = path.join(root, `ca-data-${name}`);
    const r = await runCli(['ca', 'init', '--dir', dir, '--data', data, '--host', hosts, '--org', name]);
    assert.equal(r.code, 0, `kizuna ca init for ${name}: ${r.stdout}${r.stderr}`);
    const pki = {
        name, dir,
        ca: path.join(dir, 'ca.pem'),
        cert: path.join(dir, 'server.pem'),
        key: path.join(dir, 'server.key'),
        crl: path.join(dir, 'crl.pem'),
    };
    for (const f of [pki.ca, pki.cert, pki.key, pki.crl]) assert.ok(fs.existsSync(f), `ca init wrote no ${f}`);
    return pki;
}

// The node certificate followed by its CA (a TAK Server federate wants the
// issuing CA in the chain), without repeating the CA when server.pem has it.
export function certChain(pki) {
    const leaf = fs.readFileSync(pki.cert, 'utf8');
    const ca = fs.readFileSync(pki.ca, 'utf8').trim();
    return leaf.includes(ca) ? leaf : `${leaf.trimEnd()}\n${ca}\n`;
}

// The `tls:` section of a node: its own certificate from `pki`.
export function tlsSection(pki) {
    return { ca: pki.ca, cert: pki.cert, key: pki.key, crl: pki.crl };
}

// One `federation.peers` entry on a node of nation `local`: the peer node
// `name` of `nation` under the CA file `ca`; `connect` (HOST:PORT) makes this
// side dial.  Identity: the peer's nation, SECRET, group Cyan both ways.  The
// ceiling is SECRET released to both nations of the link: every label that
// may cross it (public, or releasable to both ends) is at most that.
export function peerEntry(name, nation, ca, { local, connect, protocol = 'v2', relay = false, ...extra } = {}) {
    assert.ok(local, `peerEntry ${name}: the local nation is needed for the ceiling`);
    return {
        name, ca, ...(connect ? { connect } : {}), protocol,
        identity: { nation, clearance: 'SECRET', groups_in: ['Cyan'], groups_out: ['Cyan'] },
        default_label: 'UNCLASSIFIED', ceiling: `SECRET//REL TO ${local}, ${nation}`, relay, ...extra,
    };
}

// An HTTP input whose identity is a viewer and operator of `nation`
// (SECRET, Cyan): each node has one per nation, so every event a node holds
// is visible to its originator nation's input there.
export function nationInput(nation) {
    const name = `web-${nation.toLowerCase()}`;
    return {
        name, protocol: 'http', listen: '127.0.0.1:0', default_label: 'UNCLASSIFIED',
        identity: identity(`${name}-user`, ['Cyan'], ['Cyan'], { nation }),
    };
}

// The configuration of node `id` (node.nation `nation`) with its PKI, its
// peers and one viewer input per nation in `viewers`.
export function fedNodeConfig({ id, nation, pki, peers, viewers, listen = '127.0.0.1:0', log = {} }) {
    const config = makeConfig({ node: { id, nation }, inputs: viewers.map(nationInput), log });
    config.tls = tlsSection(pki);
    config.federation = { listen, peers };
    return config;
}

// The federation listener's port: key "federation" of the ports file.
export async function fedPort(server) {
    return waitUntil(() => {
        let parsed;
        try {
            parsed = JSON.parse(fs.readFileSync(server.portsPath, 'utf8'));
        } catch {
            return false;
        }
        const p = parsed.inputs?.federation ?? parsed.federation;
        return Number.isInteger(p) && p > 0 ? p : false;
    }, { timeout: 15000, what: `the federation port in ${server.portsPath}` });
}

// Restarts keep the federation port, so the peers that dial find the node again.
export async function pinFedPort(server) {
    const port = await fedPort(server);
    const fed = server.config.federation;
    server.config = { ...server.config, federation: { ...fed, listen: withPort(fed.listen, port) } };
    return port;
}

// GET /api/v1/federation through input `input`: {peers: [...]}.
export async function fedStatus(server, input) {
    const r = await request(server.port(input), 'GET', '/api/v1/federation', { host: server.host });
    assert.equal(r.status, 200, `GET /api/v1/federation: ${r.status} ${r.body}`);
    const json = r.json();
    assert.ok(Array.isArray(json.peers), `no peers array: ${r.body}`);
    return json;
}

// Wait until every peer in `names` is in `state` on `server`.
export async function waitLinks(server, input, names, { state = 'up', timeout = 20000 } = {}) {
    let last;
    try {
        return await waitUntil(async () => {
            last = await fedStatus(server, input);
            const by = Object.fromEntries(last.peers.map((p) => [p.name, p]));
            return names.every((n) => by[n]?.state === state) && last;
        }, { timeout, interval: 100, what: `links ${names.join(', ')} ${state}` });
    } catch (e) {
        throw new Error(`${e.message}; last status ${JSON.stringify(last)}\nstderr tail:\n${server.runStderr().slice(-3000)}`);
    }
}
