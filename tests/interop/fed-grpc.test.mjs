// fed-grpc: TAK federation v2 conformance against an independent gRPC
// implementation.  @grpc/grpc-js 1.14.7 with @grpc/proto-loader 0.8.1 loads
// kizuna's proto/fig.proto (TAK Server's names and field numbers) and plays a
// TAK Server federate over mutual TLS, under its own CA from `kizuna ca
// init`, in both roles:
//   a) kizuna dials it: the test serves ServerFederateGroupsStream,
//      ServerEventStream, ClientEventStream and HealthCheck the way TAK
//      Server does (FederationServer.java);
//   b) it dials kizuna with TAK Server's outgoing call sequence (TakFigClient).
// Events cross both ways with their `access` label; a NOFORN event never
// reaches the federate; a certificate from an unknown CA is refused in the
// handshake and kizuna logs it.
//
// TAK Server answers ServerEventStream with one Subscription at once and
// keeps the stream open, which a client-streaming call cannot express in
// grpc-js; both roles declare that one method with a response stream (the
// wire is the same: HTTP/2 messages on one stream).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
    cotEvent, postEvent, SOURCE_DIR, startServer, tracks, uidsOf, uniq, waitUntil, withTimeout,
} from '../integration/lib/harness.mjs';
import {
    certChain, fedNodeConfig, fedPort, fedStatus, nationalPki, peerEntry, waitLinks,
} from '../integration/lib/fed.mjs';

const PROTO_DIR = path.join(SOURCE_DIR, 'proto');
const SERVICE = 'com.atakmap.FederatedChannel';
const HEALTH_INTERVAL_MS = 3000;       // TAK's healthCheckIntervalSeconds default
const HEALTH_SLACK_MS = 1000;          // timers on a loaded 2-core machine
const TAK_TIMEOUT_MS = 15000;          // TAK's clientTimeoutTime: no health check, stream cut

// fig.proto as grpc-js sees it, with ServerEventStream answering as a stream.
function loadService(protoLoader) {
    const def = protoLoader.loadSync('fig.proto', {
        includeDirs: [PROTO_DIR], keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true,
    });
    assert.ok(def[SERVICE], `proto/fig.proto has no service ${SERVICE}`);
    const svc = { ...def[SERVICE] };
    for (const m of ['ServerFederateGroupsStream', 'ServerEventStream', 'ClientEventStream', 'HealthCheck'])
        assert.ok(svc[m], `FederatedChannel has no ${m}`);
    svc.ServerEventStream = { ...svc.ServerEventStream, responseStream: true };
    return svc;
}

// A GeoEvent the way TAK Server fills one (ProtoBufHelper): typed fields out
// of <detail>, the rest of it in `other`.
function geoEvent(uid, { access = 'UNCLASSIFIED', callsign = 'TAK-FED', now = Date.now() } = {}) {
    return {
        sendTime: now, startTime: now, staleTime: now + 120000,
        lat: 14.6, lon: 121.0, hae: 20, ce: 10, le: 9999999,
        uid, type: 'a-f-G-U-C', coordSource: 'm-g',
        other: '<detail><remarks>from a TAK Server federate</remarks></detail>',
        screenName: callsign, groupName: 'Cyan', groupRole: 'Team Member', access,
    };
}

function fedEvent(ev, serverId) {
    return {
        event: ev,
        federateProvenance: [{ federationServerId: serverId, federationServerName: '' }],
        federateHops: { currentHops: 1, maxHops: -1 },
    };
}

function subscription(serverId, type, version = true) {
    return {
        identity: { name: serverId, uid: serverId, description: 'grpc-js TAK federate', type, serverId },
        filter: '',
        ...(version ? { version: { major: 5, minor: 4, patch: 0, branch: 'RELEASE', variant: '' } } : {}),
    };
}

// Resolves once `arr` has an element matching pred.
function waitIn(arr, pred, what, timeout = 20000) {
    return waitUntil(() => arr.find(pred), { timeout, interval: 50, what });
}

// ---- the TAK Server federate, server role ----------------------------------

// Serves FederatedChannel like TAK Server's FederationServer: the first
// FederateGroups says SERVING, ServerEventStream is answered with a
// Subscription at once, HealthCheck answers SERVING once a ClientEventStream
// exists (NOT_CONNECTED before).
class TakServer {
    constructor(grpc, svc, serverId) {
        this.grpc = grpc;
        this.serverId = serverId;
        this.calls = [];            // method names, in order
        this.subscriptions = [];    // {method, sub}
        this.health = [];           // {at, status}
        this.received = [];         // FederatedEvents from kizuna
        this.downstreams = [];      // our ClientEventStream calls (we write to kizuna)
        this.server = new grpc.Server();
        this.server.addService(svc, this.handlers());
    }

    handlers() {
        const note = (name) => this.calls.push(name);
        const keepOpen = (call) => call.on('error', () => { /* the peer went away */ });
        return {
            ServerFederateGroupsStream: (call) => {
                note('ServerFederateGroupsStream');
                this.subscriptions.push({ method: 'ServerFederateGroupsStream', sub: call.request });
                keepOpen(call);
                call.write({ streamUpdate: { status: 'SERVING' }, federateGroups: ['Cyan'] });
            },
            ServerEventStream: (call) => {
                note('ServerEventStream');
                keepOpen(call);
                call.write(subscription(this.serverId, 'FEDERATION_TAK_SERVER', false));
                call.on('data', (m) => this.received.push(m));
            },
            ClientEventStream: (call) => {
                note('ClientEventStream');
                this.subscriptions.push({ method: 'ClientEventStream', sub: call.request });
                keepOpen(call);
                this.downstreams.push(call);
                call.on('cancelled', () => { this.downstreams = this.downstreams.filter((c) => c !== call); });
            },
            HealthCheck: (call, cb) => {
                note('HealthCheck');
                const status = this.downstreams.length ? 'SERVING' : 'NOT_CONNECTED';
                this.health.push({ at: Date.now(), asked: call.request.status, status });
                cb(null, { status });
            },
            ClientROLStream: (call) => { note('ClientROLStream'); keepOpen(call); },
            ServerROLStream: (call) => { note('ServerROLStream'); keepOpen(call); },
            ClientFederateGroupsStream: (call) => { note('ClientFederateGroupsStream'); keepOpen(call); },
        };
    }

    // Mutual TLS: kizuna's certificate must chain to kizuna's CA.
    listen(pki, trustCa) {
        const creds = this.grpc.ServerCredentials.createSsl(fs.readFileSync(trustCa),
            [{ cert_chain: Buffer.from(certChain(pki)), private_key: fs.readFileSync(pki.key) }], true);
        return new Promise((resolve, reject) => this.server.bindAsync('127.0.0.1:0', creds,
            (err, port) => (err ? reject(err) : resolve(this.port = port))));
    }

    send(ev) {
        assert.ok(this.downstreams.length, 'kizuna has no ClientEventStream open');
        for (const c of this.downstreams) c.write(fedEvent(ev, this.serverId));
    }

    close() {
        this.server.forceShutdown();
    }
}

// ---- the TAK Server federate, client role ----------------------------------

// Dials kizuna with TakFigClient's sequence over one HTTP/2 connection:
// ServerFederateGroupsStream; on SERVING, ServerEventStream; then
// ClientEventStream; HealthCheck every 3 s.
class TakClient {
    constructor(grpc, svc, target, pki, trustCa, serverId) {
        const Client = grpc.makeGenericClientConstructor(svc, 'FederatedChannel');
        const creds = grpc.credentials.createSsl(fs.readFileSync(trustCa), fs.readFileSync(pki.key),
            Buffer.from(certChain(pki)));
        this.grpc = grpc;
        this.serverId = serverId;
        // kizuna's certificate names localhost (and 127.0.0.1, which RFC 6066 keeps out of SNI).
        this.client = new Client(target, creds, { 'grpc.ssl_target_name_override': 'localhost' });
        this.groups = [];
        this.answers = [];          // Subscriptions kizuna answered ServerEventStream with
        this.received = [];
        this.health = [];
        this.errors = [];
    }

    async open() {
        const sub = subscription(this.serverId, 'FEDERATION_TAK_CLIENT');
        this.groupsCall = this.client.ServerFederateGroupsStream(sub);
        this.track(this.groupsCall, 'ServerFederateGroupsStream');
        this.groupsCall.on('data', (g) => this.groups.push(g));
        await waitIn(this.groups, (g) => g.streamUpdate?.status === 'SERVING', 'FederateGroups SERVING');
        this.up = this.client.ServerEventStream();
        this.track(this.up, 'ServerEventStream');
        this.up.on('data', (s) => this.answers.push(s));
        this.down = this.client.ClientEventStream(sub);
        this.track(this.down, 'ClientEventStream');
        this.down.on('data', (m) => this.received.push(m));
        this.checkHealth();
        this.timer = setInterval(() => this.checkHealth(), HEALTH_INTERVAL_MS);
    }

    track(call, name) {
        call.on('error', (e) => this.errors.push({ name, code: e.code, details: e.details }));
    }

    checkHealth() {
        this.client.HealthCheck({ status: 'SERVING' }, (err, res) => {
            this.health.push(err ? { at: Date.now(), error: err.code } : { at: Date.now(), status: res.status });
        });
    }

    send(ev) {
        this.up.write(fedEvent(ev, this.serverId));
    }

    close() {
        clearInterval(this.timer);
        for (const c of [this.groupsCall, this.up, this.down]) c?.cancel?.();
        this.up?.end?.();
        this.client.close();
    }
}

// ---- the tests ---------------------------------------------------------------

describe('federation v2 with @grpc/grpc-js as a TAK Server federate', () => {
    let grpc;
    let svc;
    let root;
    let pki;                 // kizuna's (kz-usa)
    let takJpn;              // the federate kizuna dials
    let takPhl;              // the federate that dials kizuna
    let rogue;               // a CA nobody configured
    let tak;                 // TakServer
    let node;
    let port;                // kizuna's federation port
    const clients = [];

    before(async () => {
        grpc = await import('@grpc/grpc-js');
        const protoLoader = await import('@grpc/proto-loader');
        svc = loadService(protoLoader.default ?? protoLoader);
        root = fs.mkdtempSync(path.join(os.tmpdir(), 'kizuna-fedgrpc-'));
        pki = await nationalPki(root, 'kz-usa');
        takJpn = await nationalPki(root, 'tak-jpn');
        takPhl = await nationalPki(root, 'tak-phl');
        rogue = await nationalPki(root, 'rogue');
        tak = new TakServer(grpc, svc, 'tak-jpn');
        const takPort = await tak.listen(takJpn, pki.ca);
        node = await startServer({
            config: fedNodeConfig({
                id: 'kz-usa', nation: 'USA', pki, viewers: ['USA'],
                peers: [
                    peerEntry('tak-jpn', 'JPN', takJpn.ca, { local: 'USA', connect: `127.0.0.1:${takPort}` }),
                    peerEntry('tak-phl', 'PHL', takPhl.ca, { local: 'USA' }),
                ],
            }),
        });
        port = await fedPort(node);
    });

    after(async () => {
        for (const c of clients) c.close();
        tak?.close();
        if (node) {
            await node.stop({ expectErrors: true });
            const bad = node.problems().filter((l) => !/fed|peer|link|tls|handshake|certificate|grpc/i.test(l));
            assert.deepEqual(bad, [], `error lines not about federation:\n${bad.join('\n')}`);
            node.cleanup();
        }
        if (root) fs.rmSync(root, { recursive: true, force: true });
    });

    async function post(uid, access) {
        const r = await postEvent(node.port('web-usa'), cotEvent({ uid, access, group: { name: 'Cyan' } }));
        assert.equal(r.status, 201, `POST /api/v1/events: ${r.status} ${r.body}`);
    }

    async function inTracks(uid) {
        return waitUntil(async () => uidsOf(await tracks(node.port('web-usa'))).includes(uid),
            { timeout: 20000, interval: 100, what: `${uid} in kizuna's /api/v1/tracks` });
    }

    test('a) kizuna dials: TAK call sequence, the link comes up', async () => {
        await waitIn(tak.calls, (c) => c === 'ServerEventStream', 'kizuna to open ServerEventStream');
        await waitIn(tak.calls, (c) => c === 'ClientEventStream', 'kizuna to open ClientEventStream');
        const first = (m) => tak.calls.indexOf(m);
        assert.ok(first('ServerFederateGroupsStream') >= 0, `calls: ${tak.calls.join(', ')}`);
        assert.ok(first('ServerFederateGroupsStream') < first('ServerEventStream'),
            `ServerEventStream before the groups said SERVING: ${tak.calls.join(', ')}`);
        const sub = tak.subscriptions.find((s) => s.method === 'ClientEventStream').sub;
        assert.ok(sub.identity, `ClientEventStream subscription without identity: ${JSON.stringify(sub)}`);
        await waitIn(tak.health, (h) => h.status === 'SERVING', 'a health check answered SERVING');
        await waitLinks(node, 'web-usa', ['tak-jpn']);
    });

    test('a) kizuna\'s health checks arrive at least every 3 s', async () => {
        const from = tak.health.length;
        await waitUntil(() => tak.health.length >= from + 4, { timeout: 5 * HEALTH_INTERVAL_MS + 5000, what: 'four more health checks' });
        const at = tak.health.map((h) => h.at);
        for (let i = 1; i < at.length; i++)
            assert.ok(at[i] - at[i - 1] <= HEALTH_INTERVAL_MS + HEALTH_SLACK_MS, `health checks ${at[i] - at[i - 1]} ms apart`);
        assert.ok(tak.health.every((h) => h.asked === 'SERVING'), JSON.stringify(tak.health));
    });

    test('a) events posted on kizuna reach the federate as GeoEvent with access; NOFORN never', async () => {
        const rel = uniq('to-tak-rel');
        const noforn = uniq('to-tak-noforn');
        const marker = uniq('to-tak-marker');
        await post(rel, 'SECRET//REL TO USA, JPN');
        await post(noforn, 'SECRET//NOFORN');
        await post(marker, 'UNCLASSIFIED');
        const got = await waitIn(tak.received, (m) => m.event?.uid === rel, `${rel} on ServerEventStream`);
        assert.equal(got.event.access, 'SECRET//REL TO USA, JPN');
        assert.equal(got.event.type, 'a-f-G-U-C');
        assert.ok(got.event.sendTime > 0 && got.event.staleTime > got.event.startTime, JSON.stringify(got.event));
        const m = await waitIn(tak.received, (x) => x.event?.uid === marker, `${marker} on ServerEventStream`);
        assert.equal(m.event.access, 'UNCLASSIFIED');
        assert.equal(tak.received.filter((x) => x.event?.uid === noforn).length, 0, 'the NOFORN event crossed');
        assert.equal(tak.received.filter((x) => x.event?.uid === rel).length, 1, 'sent more than once');
    });

    test('a) events the federate streams appear in kizuna\'s tracks', async () => {
        const uid = uniq('from-tak-jpn');
        tak.send(geoEvent(uid, { access: 'UNCLASSIFIED' }));
        await inTracks(uid);
        const f = (await tracks(node.port('web-usa'))).features.find((x) => (x.properties?.uid ?? x.id) === uid);
        assert.equal(f.properties.access, 'UNCLASSIFIED');
        assert.equal(f.properties.callsign, 'TAK-FED');
    });

    test('b) the federate dials kizuna: TAK client sequence, events both ways', async () => {
        const c = new TakClient(grpc, svc, `127.0.0.1:${port}`, takPhl, pki.ca, 'tak-phl');
        clients.push(c);
        const opened = Date.now();
        await c.open();
        const answer = await waitIn(c.answers, () => true, 'kizuna\'s Subscription on ServerEventStream');
        assert.ok(answer.identity, `Subscription without identity: ${JSON.stringify(answer)}`);
        await waitIn(c.health, (h) => h.status === 'SERVING', 'HealthCheck SERVING from kizuna');
        await waitLinks(node, 'web-usa', ['tak-phl']);

        const out = uniq('kz-to-phl');
        await post(out, 'SECRET//REL TO USA, PHL');
        const got = await waitIn(c.received, (m) => m.event?.uid === out, `${out} on ClientEventStream`);
        assert.equal(got.event.access, 'SECRET//REL TO USA, PHL');

        const jpnOnly = uniq('kz-to-jpn-only');
        const marker = uniq('kz-marker');
        await post(jpnOnly, 'SECRET//REL TO USA, JPN');
        await post(marker, 'UNCLASSIFIED');
        await waitIn(c.received, (m) => m.event?.uid === marker, `${marker} on ClientEventStream`);
        assert.ok(!c.received.some((m) => m.event?.uid === jpnOnly), 'an event not releasable to PHL crossed');

        const inbound = uniq('from-tak-phl');
        c.send(geoEvent(inbound, { callsign: 'PHL-FED' }));
        await inTracks(inbound);

        // With health checks every 3 s the streams outlive TAK's 15 s cut-off.
        await new Promise((r) => setTimeout(r, Math.max(0, opened + TAK_TIMEOUT_MS + 2000 - Date.now())));
        const late = uniq('kz-late');
        await post(late, 'UNCLASSIFIED');
        await waitIn(c.received, (m) => m.event?.uid === late, `${late} after 15 s`);
        assert.deepEqual(c.errors, [], `calls failed: ${JSON.stringify(c.errors)}`);
        assert.ok(c.health.every((h) => !h.error), JSON.stringify(c.health));
        const st = await fedStatus(node, 'web-usa');
        for (const p of st.peers) assert.equal(p.state, 'up', JSON.stringify(st));
    });

    test('a certificate from an unknown CA is refused in the handshake, and logged', async () => {
        const mark = node.runStderr().length;
        const c = new TakClient(grpc, svc, `127.0.0.1:${port}`, rogue, pki.ca, 'rogue');
        const err = await withTimeout(new Promise((resolve) => c.client.HealthCheck({ status: 'SERVING' },
            { deadline: Date.now() + 10000 }, (e, res) => resolve(e ?? { ok: res }))), 15000, 'the rogue health check');
        c.close();
        assert.ok(err.code !== undefined, `the rogue federate got an answer: ${JSON.stringify(err)}`);
        assert.equal(err.code, grpc.status.UNAVAILABLE, `${err.code} ${err.details}`);
        await waitUntil(() => node.runStderr().slice(mark).split('\n')
            .find((l) => /fed|peer|tls|handshake|certificate/i.test(l) && /unknown|refus|reject|verif|untrusted/i.test(l)),
        { timeout: 10000, what: 'kizuna to log the refused federate' });
        const st = await fedStatus(node, 'web-usa');
        assert.deepEqual(st.peers.map((p) => p.name), ['tak-jpn', 'tak-phl'], 'the rogue was admitted');
    });
});
