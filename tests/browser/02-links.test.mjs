// 02-links: the COP's links panel against two federated nodes on the real binary
// (a US node that listens, a JPN node that dials it, real PKIs from `kizuna ca init`):
// the US page lists the JPN link as up with its counters moving, and shows it down
// within 5 s of the JPN node stopping.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { cotEvent, postEvent, startServer, uniq } from '../integration/lib/harness.mjs';
import { fedNodeConfig, fedPort, nationalPki, peerEntry, waitLinks } from '../integration/lib/fed.mjs';
import { launch, openCop, screenshot } from './lib/cop.mjs';

const ROOT = fs.mkdtempSync(path.join(os.tmpdir(), 'kizuna-links-'));
process.on('exit', () => fs.rmSync(ROOT, { recursive: true, force: true }));

const cell = (page, peer, n) => page.locator(`#links-rows tr[data-peer="${peer}"] td:nth-child(${n})`).textContent();

describe('the links panel', () => {
    let usa, jpn, browser, cop;

    before(async () => {
        const pki = { usa: await nationalPki(ROOT, 'kz-usa'), jpn: await nationalPki(ROOT, 'kz-jpn') };
        usa = await startServer({
            config: fedNodeConfig({ id: 'kz-usa', nation: 'USA', pki: pki.usa, viewers: ['USA'],
                peers: [peerEntry('kz-jpn', 'JPN', pki.jpn.ca, { local: 'USA' })] }),
        });
        const port = await fedPort(usa);
        jpn = await startServer({
            config: fedNodeConfig({ id: 'kz-jpn', nation: 'JPN', pki: pki.jpn, viewers: ['JPN'],
                peers: [peerEntry('kz-usa', 'USA', pki.usa.ca, { local: 'JPN', connect: `127.0.0.1:${port}` })] }),
        });
        await waitLinks(usa, 'web-usa', ['kz-jpn']);
        browser = await launch();
        cop = await openCop(browser, usa.port('web-usa'));
    });

    after(async () => {
        await browser?.close();
        await jpn?.stop({ expectErrors: true });
        await usa?.stop({ expectErrors: true });
    });

    test('an up link with its counters', async () => {
        await cop.page.waitForSelector('#links:not([hidden]) tr[data-peer="kz-jpn"]', { timeout: 5000 });
        assert.equal(await cell(cop.page, 'kz-jpn', 2), 'up');
        const r = await postEvent(usa.port('web-usa'), cotEvent({ uid: uniq('fed'), callsign: 'ACROSS', access: 'UNCLASSIFIED' }));
        assert.equal(r.status, 201, r.body);
        await cop.page.waitForFunction(() => {
            const td = document.querySelector('#links-rows tr[data-peer="kz-jpn"] td:nth-child(3)');
            return td && Number(td.textContent) >= 1;
        }, null, { timeout: 5000 });
        await screenshot(cop.page, 'cop-links.png');
    });

    test('a link taken down shows down within 5 s', async () => {
        await jpn.stop({ expectErrors: true });
        const t0 = Date.now();
        await cop.page.waitForFunction(() => {
            const td = document.querySelector('#links-rows tr[data-peer="kz-jpn"] td:nth-child(2)');
            return td && td.textContent !== 'up';
        }, null, { timeout: 5000 });
        const state = await cell(cop.page, 'kz-jpn', 2);
        assert.ok(['down', 'connecting'].includes(state), state);
        assert.equal(await cop.page.locator('#links-rows tr[data-peer="kz-jpn"] td:nth-child(2)').getAttribute('class'), `state-${state}`);
        console.log(`# link shown ${state} after ${Date.now() - t0} ms`);
    });

    test('no console errors, no request off the node', () => {
        assert.deepEqual(cop.problems, []);
    });
});
