// 06-malformed: bad input is rejected and counted; the connection that sent
// it keeps working for the next valid event, other clients never notice,
// and a connection that sends nothing but garbage is closed.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
    CotClient, cotEvent, httpInput, metrics, metricValue, request, startServer, tcpInput, uniq,
} from './lib/harness.mjs';

const now = Date.now();
const T = new Date(now).toISOString();
const S = new Date(now + 60000).toISOString();

function ev(attrs, point = 'lat="1" lon="2" hae="3" ce="4" le="5"', detail = '<detail/>') {
    return `<?xml version="1.0" encoding="UTF-8"?>\n<event ${attrs}><point ${point}/>${detail}</event>`;
}

const base = (uid) => `version="2.0" uid="${uid}" type="a-f-G-U-C" how="m-g" time="${T}" start="${T}" stale="${S}"`;

const laughs = '<?xml version="1.0"?>\n<!DOCTYPE event [\n <!ENTITY lol "lol">\n'
    + ' <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">\n'
    + ' <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">\n'
    + ' <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">\n'
    + ' <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">\n'
    + ' <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">\n'
    + ' <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">\n'
    + ' <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">\n'
    + ' <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">\n'
    + ' <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">\n]>\n';

// name, the bytes to send for a bad uid, the reject reasons that may count it.
const CASES = [
    ['not XML', (u) => `<event version="2.0" uid="${u}" this is <<not xml></event>`, ['xml']],
    ['unclosed tag', (u) => ev(base(u), 'lat="1" lon="2" hae="3" ce="4" le="5"', '<detail><contact></detail>'), ['xml']],
    ['bad time', (u) => ev(`version="2.0" uid="${u}" type="a-f-G" how="m-g" time="yesterday" start="${T}" stale="${S}"`), ['time']],
    ['stale before start', (u) => ev(`version="2.0" uid="${u}" type="a-f-G" how="m-g" time="${T}" start="${S}" stale="${T}"`), ['stale']],
    ['lat 91', (u) => ev(base(u), 'lat="91" lon="2" hae="3" ce="4" le="5"'), ['point']],
    ['lon not a number', (u) => ev(base(u), 'lat="1" lon="east" hae="3" ce="4" le="5"'), ['point']],
    ['bad type', (u) => ev(`version="2.0" uid="${u}" type="a--f G" how="m-g" time="${T}" start="${T}" stale="${S}"`), ['type']],
    ['missing uid', () => ev(`version="2.0" type="a-f-G" how="m-g" time="${T}" start="${T}" stale="${S}"`), ['missing']],
    ['missing point', (u) => `<event ${base(u)}><detail/></event>`, ['missing']],
    ['billion laughs', (u) => `${laughs}<event ${base(u)}><point lat="1" lon="2" hae="3" ce="4" le="5"/><detail><remarks>&lol9;</remarks></detail></event>`,
        ['entity', 'junk', 'xml']],
    ['70 KB event', (u) => ev(base(u), undefined, `<detail><remarks>${'y'.repeat(70 * 1024)}</remarks></detail>`), ['too_big']],
    ['too deep', (u) => ev(base(u), undefined, `<detail>${'<a>'.repeat(100)}${'</a>'.repeat(100)}</detail>`), ['depth']],
];

describe('malformed input', () => {
    let server;
    let web;
    let sender;
    let watcher;

    before(async () => {
        server = await startServer({ inputs: [tcpInput('us'), httpInput('web', ['Cyan'])] });
        web = server.port('web');
        sender = await CotClient.connect(server.port('us'), { name: 'sender' });
        watcher = await CotClient.connect(server.port('us'), { name: 'watcher' });
    });

    after(async () => {
        await sender.close();
        await watcher.close();
        // Rejects are logged, but never at level=error.
        await server.stop();
        server.cleanup();
    });

    async function rejects() {
        const m = await metrics(web);
        return (reason) => metricValue(m, 'kizuna_rejects_total', reason ? { reason } : {});
    }

    for (const [name, make, reasons] of CASES) {
        test(`${name}: rejected, counted, connection keeps working`, async () => {
            const before_ = await rejects();
            const bad = uniq('bad');
            const good = uniq('good');
            await sender.send(make(bad) + cotEvent({ uid: good }));
            const got = await watcher.waitUid(good, { what: `the valid event after "${name}"` });
            assert.ok(got);
            assert.equal(watcher.has(bad), false, `"${name}" was delivered`);
            assert.equal(sender.closed, false);
            const after_ = await rejects();
            const rose = reasons.filter((r) => after_(r) > before_(r));
            assert.ok(rose.length > 0,
                `kizuna_rejects_total{reason in ${reasons.join('|')}} did not rise (total ${before_()} -> ${after_()})`);
        });
    }

    test('junk between events is skipped and counted', async () => {
        const before_ = await rejects();
        const u1 = uniq('j1');
        const u2 = uniq('j2');
        await sender.send(`${cotEvent({ uid: u1 })}\nHELLO THIS IS JUNK\n${cotEvent({ uid: u2 })}`);
        await watcher.waitUid(u1);
        await watcher.waitUid(u2);
        assert.ok((await rejects())('junk') > before_('junk'), 'kizuna_rejects_total{reason="junk"} did not rise');
    });

    test('a connection sending only garbage is closed; others are unaffected', async () => {
        const noisy = await CotClient.connect(server.port('us'), { name: 'noisy' });
        const junk = Array.from({ length: 20 }, (_, i) => `<event uid="g${i}" garbage <<</event>`).join('');
        await noisy.send(junk).catch(() => {});
        await noisy.waitClosed(5000);
        const uid = uniq('still-fine');
        await sender.send(cotEvent({ uid }));
        await watcher.waitUid(uid);
        const h = await request(web, 'GET', '/healthz');
        assert.equal(h.status, 200);
    });

    test('a valid event after the strike limit was nearly reached resets the count', async () => {
        const c = await CotClient.connect(server.port('us'), { name: 'almost' });
        const bad = Array.from({ length: 10 }, (_, i) => `<event uid="h${i}" nope</event>`).join('');
        const good = uniq('reset');
        await c.send(bad + cotEvent({ uid: good }) + bad + cotEvent({ uid: uniq('again') }));
        await watcher.waitUid(good);
        const last = uniq('last');
        await c.send(cotEvent({ uid: last }));
        await watcher.waitUid(last);
        assert.equal(c.closed, false, '20 rejects with a valid event between them closed the connection');
        await c.close();
    });
});
