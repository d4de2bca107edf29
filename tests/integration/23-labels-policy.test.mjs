// 23-labels-policy: the configured marking policy (`labels:`) on the real
// binary.  The configuration narrows FVEY to USA and GBR and names SECRET
// HIMITSU; every place that parses a label follows it: CoT events, the
// alliance model, readiness reports, `kizuna label check -c` and
// `kizuna alliance -c`.  With the
// built-in policy (FVEY = the five nations) AUS would see all of it.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
    barrier, CotClient, cotEvent, httpInput, identity, makeConfig, request, runCli, startServer,
    tcpInput, toYaml, tracks, uidsOf, uniq,
} from './lib/harness.mjs';

const LABELS = { tetragraphs: { FVEY: ['USA', 'GBR'], ANZU: ['AUS', 'NZL', 'USA'] }, level_names: { SECRET: ['HIMITSU'] } };

// A small model: one command each under REL TO FVEY, under a custom level name, and open.
const MODEL = `name: policy alliance
nations:
  - {code: USA, name: United States, tz: Asia/Tokyo}
  - {code: AUS, name: Australia, tz: Australia/Sydney}
commands:
  - {id: HQ, name: headquarters, nation: USA, service: joint, kind: ccmd, tz: Asia/Tokyo}
  - {id: FVEYCELL, name: five eyes cell, nation: USA, service: joint, kind: jfhq, tz: Asia/Tokyo,
     label: "SECRET//REL TO USA, FVEY"}
  - {id: ANZUCELL, name: anzus cell, nation: USA, service: joint, kind: jfhq, tz: Asia/Tokyo,
     label: "HIMITSU//REL TO USA, ANZU"}
relationships:
  - {type: COCOM, from: HQ, to: FVEYCELL}
  - {type: COCOM, from: HQ, to: ANZUCELL}
`;

function nationInputs(name, nation) {
    const id = identity(`${name}-user`, ['Cyan'], ['Cyan'], { nation, clearance: 'SECRET' });
    return [{ ...tcpInput(name), identity: id, ceiling: 'SECRET' }, { ...httpInput(`web-${name}`), identity: id }];
}

describe('the configured marking policy', () => {
    let server;
    let dir;
    let configFile;
    let modelFile;

    before(async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kizuna-policy-'));
        modelFile = path.join(dir, 'alliance.yaml');
        fs.writeFileSync(modelFile, MODEL);
        const config = makeConfig({
            inputs: [...nationInputs('us', 'USA'), ...nationInputs('au', 'AUS'), ...nationInputs('gb', 'GBR')],
        });
        config.alliance = modelFile;
        config.labels = LABELS;
        configFile = path.join(dir, 'kizuna.yaml');
        fs.writeFileSync(configFile, toYaml(config));
        server = await startServer({ config });
    });

    after(async () => {
        await server.stop();
        server.cleanup();
        fs.rmSync(dir, { recursive: true, force: true });
    });

    test('a CoT event REL TO FVEY reaches GBR, not AUS (FVEY narrowed in labels:)', async () => {
        const au = await CotClient.connect(server.port('au'), { name: 'au' });
        const gb = await CotClient.connect(server.port('gb'), { name: 'gb' });
        const src = await CotClient.connect(server.port('us'), { name: 'src' });
        const fvey = uniq('fvey');
        const anzu = uniq('anzu');
        await src.send(cotEvent({ uid: fvey, access: 'SECRET//REL TO USA, FVEY' }) +
            cotEvent({ uid: anzu, access: 'HIMITSU//REL TO USA, ANZU' }));
        await barrier(src, [au, gb]);
        assert.equal(au.has(fvey), false, 'AUS received a REL TO FVEY event');
        assert.equal(gb.has(fvey), true, 'GBR did not receive a REL TO FVEY event');
        assert.equal(au.has(anzu), true, 'AUS did not receive a REL TO ANZU event');
        assert.equal(gb.has(anzu), false, 'GBR received a REL TO ANZU event');
        const ev = gb.events.find((e) => e.uid === fvey);
        assert.equal(ev.access, 'HIMITSU//REL TO USA, FVEY', 'the canonical form uses the configured level name');
        for (const c of [au, gb, src]) await c.close();
        const auTracks = uidsOf(await tracks(server.port('web-au')));
        assert.ok(!auTracks.includes(fvey) && auTracks.includes(anzu), JSON.stringify(auTracks));
        assert.ok(uidsOf(await tracks(server.port('web-gb'))).includes(fvey));
    });

    test('the alliance model parses under the policy: REL TO FVEY is hidden from AUS', async () => {
        const show = async (input) => {
            const r = await request(server.port(input), 'GET', '/api/v1/alliance/show');
            assert.equal(r.status, 200, r.body);
            return r.body;
        };
        assert.match(server.stderr, /alliance: model loaded/);
        const au = await show('web-au');
        assert.ok(!au.includes('FVEYCELL'), 'AUS sees the REL TO FVEY command');
        assert.ok(au.includes('ANZUCELL'), 'AUS does not see the REL TO ANZU command');
        const gb = await show('web-gb');
        assert.ok(gb.includes('FVEYCELL') && !gb.includes('ANZUCELL'), gb);
        const hidden = await request(server.port('web-au'), 'GET', '/api/v1/alliance/chain?unit=FVEYCELL');
        assert.equal(hidden.status, 404);
    });

    test('readiness reports parse under the policy: REL TO FVEY is hidden from AUS', async () => {
        const post = (body) => request(server.port('web-us'), 'POST', '/api/v1/readiness',
            { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
        let r = await post({ unit: 'FVEYCELL', p: 1, s: 1, r: 1, t: 1, label: 'SECRET//REL TO USA, FVEY' });
        assert.equal(r.status, 201, r.body);
        r = await post({ unit: 'ANZUCELL', p: 2, s: 2, r: 2, t: 2, label: 'HIMITSU//REL TO USA, ANZU' });
        assert.equal(r.status, 201, r.body);
        const units = async (input) => {
            const g = await request(server.port(input), 'GET', '/api/v1/readiness');
            assert.equal(g.status, 200, g.body);
            return JSON.parse(g.body).reports.map((x) => x.unit).sort();
        };
        assert.deepEqual(await units('web-au'), ['ANZUCELL']);
        assert.deepEqual(await units('web-gb'), ['FVEYCELL']);
    });

    test('kizuna label check -c uses the configured policy', async () => {
        let r = await runCli(['label', 'check', '-c', configFile, 'secret//rel to fvey, usa', 'h']);
        assert.equal(r.code, 2, r.stdout + r.stderr); // "H" is no name of this policy
        assert.match(r.stdout, /^HIMITSU\/\/REL TO USA, FVEY$/m);
        r = await runCli(['label', 'check', '-c', configFile, 'himitsu//rel to anzu, usa']);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, 'HIMITSU//REL TO USA, ANZU\n');
        // Configured tetragraphs replace the built-in set; the built-in policy knows neither name.
        assert.equal((await runCli(['label', 'check', '-c', configFile, 'SECRET//REL TO USA, NATO'])).code, 2);
        r = await runCli(['label', 'check', 'himitsu//rel to anzu, usa']);
        assert.equal(r.code, 2);
        assert.equal((await runCli(['label', 'check', 'SECRET//REL TO USA, NATO'])).stdout, 'SECRET//REL TO USA, NATO\n');
        assert.equal((await runCli(['label', 'check', '-c', path.join(dir, 'none.yaml'), 'U'])).code, 2);
    });

    test('the policy\'s home nation is node.nation: REL TO lists it, roll-ups mark the others FGI', async () => {
        const config = makeConfig({ node: { nation: 'JPN' }, inputs: nationInputs('jp', 'JPN') });
        config.labels = LABELS;
        const file = path.join(dir, 'kizuna-jpn.yaml');
        fs.writeFileSync(file, toYaml(config));
        // Under a JPN home the mirror of ISM-ID-00214 holds: JPN, not USA, must be listed.
        let r = await runCli(['label', 'check', '-c', file, 'HIMITSU//REL TO JPN, AUS']);
        assert.equal(r.code, 0, r.stderr);
        // The order stays CAPCO's under every home (USA first, then alphabetical): the wire form.
        assert.equal(r.stdout, 'HIMITSU//REL TO AUS, JPN\n');
        r = await runCli(['label', 'check', '-c', file, 'HIMITSU//REL TO USA, GBR']);
        assert.equal(r.code, 2);
        assert.match(r.stderr, /REL TO must list JPN/);
        r = await runCli(['label', 'check', '-c', file, 'HIMITSU//FGI USA//REL TO USA, JPN']);
        assert.equal(r.stdout, 'HIMITSU//FGI USA//REL TO USA, JPN\n');
        r = await runCli(['label', 'check', '-c', configFile, 'HIMITSU//FGI USA//REL TO USA, JPN']);
        assert.equal(r.code, 2); // USA home: FGI never names the home nation
    });

    test('kizuna alliance -c uses the configured policy; without it the custom names do not parse', async () => {
        let r = await runCli(['alliance', '-c', configFile, 'check', modelFile]);
        assert.equal(r.code, 0, r.stdout + r.stderr);
        r = await runCli(['alliance', 'check', modelFile]);
        assert.equal(r.code, 2, r.stdout);
        assert.match(r.stdout, /alliance\.yaml:9: bad label 'HIMITSU\/\/REL TO USA, ANZU'/);
        r = await runCli(['alliance', '-c', configFile, '-f', modelFile, 'show', '--json']);
        assert.equal(r.code, 0, r.stderr);
        assert.ok(JSON.parse(r.stdout).nations.length === 2);
    });
});
