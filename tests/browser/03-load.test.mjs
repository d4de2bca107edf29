// 03-load: 5 000 tracks moving at 1 Hz, sent over a CoT TCP input to the real binary,
// on the COP in headless chromium.  Measures and reports the frames per second while
// they move (not a pass/fail timing: this machine's software WebGL and the two cores it
// shares set the number); asserts only that every track arrives and the page keeps
// rendering without errors.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { CotClient, cotEvent, httpInput, startServer, tcpInput, uniq } from '../integration/lib/harness.mjs';
import { launch, openCop, screenshot } from './lib/cop.mjs';

const N = Number(process.env.KZ_COP_TRACKS || 5000);
const TYPES = ['a-f-G-U-C-I', 'a-h-G-U-C-A', 'a-n-S-C', 'a-u-A-M-F', 'a-f-S-C-L-D-D', 'a-h-A-M-F-F'];
const run = uniq('load');

// Track i at second s: spread over Japan and its seas, each drifting on its own course.
function position(i, s) {
    const lat = 30 + (i % 100) * 0.12, lon = 128 + Math.floor(i / 100) * 0.3;
    const a = (i * 37) % 360 * Math.PI / 180;
    return { lat: lat + Math.sin(a) * s * 0.01, lon: lon + Math.cos(a) * s * 0.01 };
}

function batch(s) {
    const out = [];
    for (let i = 0; i < N; i++) {
        out.push(cotEvent({ uid: `${run}-${i}`, type: TYPES[i % TYPES.length], callsign: `U${i}`, decl: false,
            point: { ...position(i, s), hae: 0, ce: 10, le: 10 } }));
    }
    return out.join('');
}

describe(`the COP with ${N} moving tracks`, () => {
    let server, browser, cop, feed;

    before(async () => {
        server = await startServer({
            inputs: [tcpInput('cot'), httpInput('web')],
            limits: { max_tracks_per_identity: N + 100 },
        });
        feed = await CotClient.connect(server.port('cot'));
        browser = await launch();
        cop = await openCop(browser, server.port('web'));
    });

    after(async () => {
        await feed?.close();
        await browser?.close();
        await server?.stop();
    });

    test('every track arrives; frames per second while they move at 1 Hz', async () => {
        const t0 = Date.now();
        await feed.send(batch(0));
        await cop.page.waitForFunction((n) => window.kizunaCop?.tracks.shown.size === n, N, { timeout: 60000 });
        const loadMs = Date.now() - t0;
        // Frames while the map pans with every track on it and none moving: the drawing alone.
        const panFps = await cop.page.evaluate(() => new Promise((resolve) => {
            const map = window.kizunaCop.map;
            let n = 0;
            const start = performance.now();
            const onRender = () => { n++; };
            map.on('render', onRender);
            map.panBy([300, 0], { duration: 3000, easing: (t) => t });
            map.once('moveend', () => {
                map.off('render', onRender);
                resolve(n / ((performance.now() - start) / 1000));
            });
        }));
        // Frames for 5 s while every track moves once a second (the feed, the server and
        // the browser share this machine's cores).
        const frames = cop.page.evaluate(() => new Promise((resolve) => {
            let n = 0;
            const start = performance.now();
            const tick = (now) => {
                n++;
                if (now - start < 5000) requestAnimationFrame(tick);
                else resolve(n / ((now - start) / 1000));
            };
            requestAnimationFrame(tick);
        }));
        for (let s = 1; s <= 5; s++) {
            const sent = Date.now();
            await feed.send(batch(s));
            await new Promise((r) => setTimeout(r, Math.max(0, 1000 - (Date.now() - sent))));
        }
        const fps = await frames;
        const drawMs = await cop.page.evaluate(() => {
            const layer = window.kizunaCop.tracks.layer;
            const t = performance.now();
            for (let i = 0; i < 5; i++) layer.draw();
            return (performance.now() - t) / 5;
        });
        await screenshot(cop.page, 'cop-load.png');
        console.log(`# ${N} tracks: shown ${loadMs} ms after sending; ${panFps.toFixed(1)} frames/s panning; ` +
            `${fps.toFixed(1)} frames/s while they move at 1 Hz; one overlay draw ${drawMs.toFixed(1)} ms`);
        assert.equal(await cop.page.evaluate(() => window.kizunaCop.tracks.shown.size), N);
        assert.deepEqual(cop.problems, []);
    });
});
