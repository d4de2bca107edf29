// takproto.mjs - a small, independent TAK protocol v1 codec for tests:
// protobuf wire format written by hand from the field table of
// proto/takmessage.proto, streaming frames (0xbf, varint length), and a TLS
// client that negotiates the switch from XML the way ATAK does.

import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';

import { iso, parseAttrs, parseEvent, uniq, withTimeout } from './harness.mjs';

// ---- protobuf wire format ---------------------------------------------------

export function varint(n) {
    let v = BigInt(n);
    const out = [];
    do {
        let b = Number(v & 0x7fn);
        v >>= 7n;
        if (v) b |= 0x80;
        out.push(b);
    } while (v);
    return Buffer.from(out);
}

const key = (field, wt) => varint((field << 3) | wt);
const str = (f, s) => (s === undefined || s === '' ? [] : [key(f, 2), varint(Buffer.byteLength(s)), Buffer.from(s)]);
const u64 = (f, n) => (!n ? [] : [key(f, 0), varint(n)]);
const dbl = (f, d) => {
    if (d === undefined || d === 0) return [];
    const b = Buffer.alloc(8);
    b.writeDoubleLE(d);
    return [key(f, 1), b];
};
const msg = (f, parts) => {
    if (!parts) return [];
    const body = Buffer.concat(parts);
    return [key(f, 2), varint(body.length), body];
};

// ev: {type, uid, how, access, time, start, stale (ms), lat, lon, hae, ce, le,
//      detail: {xml, contact: {endpoint, callsign}, group: {name, role}, status: {battery},
//               track: {speed, course}, takv: {...}, precisionlocation: {...}}}
export function encodeTakMessage(ev) {
    const d = ev.detail;
    const detail = d && [
        ...str(1, d.xml),
        ...msg(2, d.contact && [...str(1, d.contact.endpoint), ...str(2, d.contact.callsign)]),
        ...msg(3, d.group && [...str(1, d.group.name), ...str(2, d.group.role)]),
        ...msg(4, d.precisionlocation && [...str(1, d.precisionlocation.geopointsrc),
            ...str(2, d.precisionlocation.altsrc)]),
        ...msg(5, d.status && [...u64(1, d.status.battery)]),
        ...msg(6, d.takv && [...str(1, d.takv.device), ...str(2, d.takv.platform),
            ...str(3, d.takv.os), ...str(4, d.takv.version)]),
        ...msg(7, d.track && [...dbl(1, d.track.speed), ...dbl(2, d.track.course)]),
    ];
    const cot = [
        ...str(1, ev.type), ...str(2, ev.access), ...str(5, ev.uid),
        ...u64(6, ev.time), ...u64(7, ev.start), ...u64(8, ev.stale), ...str(9, ev.how),
        ...dbl(10, ev.lat), ...dbl(11, ev.lon), ...dbl(12, ev.hae), ...dbl(13, ev.ce), ...dbl(14, ev.le),
        ...msg(15, detail),
    ];
    return Buffer.concat(msg(2, cot));
}

export function frame(payload) {
    return Buffer.concat([Buffer.from([0xbf]), varint(payload.length), payload]);
}

function readVarint(b, i) {
    let v = 0n;
    let shift = 0n;
    for (;;) {
        if (i >= b.length) return null;
        const x = b[i++];
        v |= BigInt(x & 0x7f) << shift;
        shift += 7n;
        if (!(x & 0x80)) return [v, i];
    }
}

// Field number -> list of raw values (Buffer for length-delimited, BigInt or double otherwise).
function fields(b) {
    const out = {};
    let i = 0;
    while (i < b.length) {
        const [k, j] = readVarint(b, i);
        const f = Number(k >> 3n);
        const wt = Number(k & 7n);
        let v;
        if (wt === 0) [v, i] = readVarint(b, j);
        else if (wt === 1) { v = b.readDoubleLE(j); i = j + 8; }
        else if (wt === 2) {
            const [len, s] = readVarint(b, j);
            v = b.subarray(s, s + Number(len));
            i = s + Number(len);
        } else if (wt === 5) { v = b.readFloatLE(j); i = j + 4; }
        else throw new Error(`wire type ${wt}`);
        (out[f] ||= []).push(v);
    }
    return out;
}

const s1 = (fs_, n) => (fs_[n] ? fs_[n][0].toString() : '');
const n1 = (fs_, n) => (fs_[n] ? Number(fs_[n][0]) : 0);

export function decodeTakMessage(b) {
    const m = fields(b);
    const out = { takControl: !!m[1] };
    if (!m[2]) return out;
    const c = fields(m[2][0]);
    const ev = {
        type: s1(c, 1), access: s1(c, 2), uid: s1(c, 5), time: n1(c, 6), start: n1(c, 7),
        stale: n1(c, 8), how: s1(c, 9), lat: n1(c, 10), lon: n1(c, 11), hae: n1(c, 12),
        ce: n1(c, 13), le: n1(c, 14),
    };
    if (c[15]) {
        const d = fields(c[15][0]);
        ev.detail = { xml: s1(d, 1) };
        const sub = (n, names) => {
            if (!d[n]) return undefined;
            const f = fields(d[n][0]);
            return Object.fromEntries(names.map((nm, i) => [nm, s1(f, i + 1)]));
        };
        ev.detail.contact = sub(2, ['endpoint', 'callsign']);
        ev.detail.group = sub(3, ['name', 'role']);
        if (d[5]) ev.detail.status = { battery: n1(fields(d[5][0]), 1) };
        if (d[7]) {
            const t = fields(d[7][0]);
            ev.detail.track = { speed: n1(t, 1), course: n1(t, 2) };
        }
    }
    out.cotEvent = ev;
    return out;
}

// ---- a TLS client that negotiates ------------------------------------------

export class TakpClient {
    constructor(socket, name) {
        this.socket = socket;
        this.name = name;
        this.buf = Buffer.alloc(0);
        this.proto = false;
        this.xml = [];          // parsed XML events
        this.messages = [];     // decoded TakMessages
        this.waiters = [];
        this.closed = false;
        socket.on('data', (d) => { this.buf = Buffer.concat([this.buf, d]); this.drain(); });
        socket.on('error', (e) => { this.error = e; });
        socket.on('close', () => { this.closed = true; this.wake(); });
    }

    static connect(port, pki, user) {
        return withTimeout(new Promise((resolve, reject) => {
            const s = tls.connect({
                host: '127.0.0.1', port, rejectUnauthorized: false,
                cert: fs.readFileSync(path.join(pki, `${user}.pem`)),
                key: fs.readFileSync(path.join(pki, `${user}.key`)),
            }, () => resolve(new TakpClient(s, user)));
            s.once('error', reject);
        }), 5000, `TLS connect as ${user}`);
    }

    drain() {
        for (;;) {
            if (!this.proto) {
                const s = this.buf.toString('latin1');
                const end = s.indexOf('</event>');
                if (end < 0) break;
                const chunk = this.buf.subarray(0, end + 8).toString('utf8');
                this.buf = this.buf.subarray(end + 8);
                const ev = parseEvent(chunk);
                this.xml.push(ev);
                if (ev.type === 't-x-takp-r' && /status="true"/.test(ev.detail || '')) this.proto = true;
                continue;
            }
            if (this.buf.length < 2) break;
            if (this.buf[0] !== 0xbf) throw new Error(`${this.name}: byte ${this.buf[0]} where a frame starts`);
            const r = readVarint(this.buf, 1);
            if (!r || this.buf.length < r[1] + Number(r[0])) break;
            const payload = this.buf.subarray(r[1], r[1] + Number(r[0]));
            this.buf = this.buf.subarray(r[1] + Number(r[0]));
            this.messages.push({ ...decodeTakMessage(payload), raw: Buffer.from(payload) });
        }
        this.wake();
    }

    wake() {
        const w = this.waiters;
        this.waiters = [];
        for (const f of w) f();
    }

    async waitFor(pred, what, timeout = 5000) {
        const deadline = Date.now() + timeout;
        for (;;) {
            const hit = pred();
            if (hit) return hit;
            if (this.closed) throw new Error(`${this.name}: closed while waiting for ${what}`);
            const left = deadline - Date.now();
            if (left <= 0) throw new Error(`${this.name}: timed out waiting for ${what}`);
            await new Promise((res) => {
                const t = setTimeout(res, left);
                this.waiters.push(() => { clearTimeout(t); res(); });
            });
        }
    }

    write(data) {
        return new Promise((res, rej) => this.socket.write(data, (e) => (e ? rej(e) : res())));
    }

    // Offer -> request -> response; resolves with the offer.
    async negotiate() {
        const offer = await this.waitFor(() => this.xml.find((e) => e.type === 't-x-takp-v'), 'the offer');
        const now = Date.now();
        await this.write(`<?xml version="1.0" encoding="UTF-8"?>\n<event version="2.0" uid="${offer.uid}" `
            + `type="t-x-takp-q" how="m-g" time="${iso(now)}" start="${iso(now)}" stale="${iso(now + 60000)}">`
            + '<point lat="0" lon="0" hae="0" ce="999999" le="999999"/>'
            + '<detail><TakControl><TakRequest version="1"/></TakControl></detail></event>');
        await this.waitFor(() => this.proto, 'the response');
        return offer;
    }

    waitMessage(uid) {
        return this.waitFor(() => this.messages.find((m) => m.cotEvent && m.cotEvent.uid === uid), `uid ${uid}`);
    }

    waitClosed(timeout = 5000) {
        return this.waitFor(() => this.closed, 'close', timeout).catch((e) => {
            if (!this.closed) throw e;
        });
    }

    close() {
        this.socket.destroy();
    }
}

export function takEvent(o = {}) {
    const now = Date.now();
    return {
        type: 'a-f-G-U-C', uid: o.uid ?? uniq('pb'), how: 'm-g', time: now, start: now,
        stale: now + 120000, lat: 35.5, lon: 139.25, hae: 12, ce: 5, le: 9999999, ...o,
    };
}

export { parseAttrs };
