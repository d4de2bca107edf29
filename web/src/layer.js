// layer.js - the tracks drawn on a canvas over the map: each one's MIL-STD-2525 symbol
// (milsymbol, one sprite per SIDC) with its callsign beneath, faded when stale, ringed
// when selected.  One canvas instead of one DOM element per track keeps thousands of
// moving tracks cheap; it is redrawn with every frame the map renders (pan, zoom, rotate)
// and once per animation frame after the tracks change.
//
// The symbols are composited here, in script, into one image that is put on the canvas
// whole: a canvas's drawImage calls are rasterized by the GPU, and with the software GL of
// a machine without one (SwiftShader) 5 000 of them cost most of a second per frame,
// while one image of the screen's size costs a few milliseconds.

import ms from 'milsymbol';

const SYMBOL_SIZE = 24;
const MAX_LABELS = 600; // more tracks in view than this: symbols only, no callsigns
const DOT = { w: 12, h: 12, ax: 6, ay: 6 };
const DRAW_SHARE = 8;     // redraws for changes: at most an eighth of the time,
const DRAW_WAIT_MAX = 500; // but at least two a second (ms)
const STALE_ALPHA = 0.35;

// A sprite from a canvas drawn at `dpr`: {px: RGBA pixels (px32: as words), pw, ph: their
// size, runs: [y, x0, x1] of each row's opaque runs, soft: [x, y] of its other pixels that
// are not transparent, w, h: the size in CSS pixels, ax, ay: the anchor in CSS pixels}.
function sprite(canvas, dpr, ax, ay) {
    const pw = canvas.width, ph = canvas.height;
    const px = canvas.getContext('2d', { willReadFrequently: true }).getImageData(0, 0, pw, ph).data;
    const runs = [], soft = [];
    for (let y = 0; y < ph; y++) {
        for (let x = 0; x < pw;) {
            const a = px[(y * pw + x) * 4 + 3];
            if (a === 255) {
                const x0 = x;
                while (x < pw && px[(y * pw + x) * 4 + 3] === 255) x++;
                runs.push(y, x0, x);
                continue;
            }
            if (a > 0) soft.push(x, y);
            x++;
        }
    }
    return { px, px32: new Uint32Array(px.buffer), pw, ph, runs: Int32Array.from(runs), soft: Int32Array.from(soft),
        w: pw / dpr, h: ph / dpr, ax, ay };
}

function symbolSprite(sidc) {
    const sym = new ms.Symbol(sidc, { size: SYMBOL_SIZE });
    const dpr = window.devicePixelRatio || 1;
    const size = sym.getSize(), anchor = sym.getAnchor();
    const img = sym.asCanvas(dpr);
    const w = img.width / dpr, h = img.height / dpr;
    return sprite(img, dpr, anchor.x * (w / size.width), anchor.y * (h / size.height));
}

function dotSprite() {
    const dpr = window.devicePixelRatio || 1;
    const c = document.createElement('canvas');
    c.width = Math.ceil(DOT.w * dpr);
    c.height = Math.ceil(DOT.h * dpr);
    const ctx = c.getContext('2d', { willReadFrequently: true });
    ctx.scale(dpr, dpr);
    ctx.beginPath();
    ctx.arc(DOT.ax, DOT.ay, 5, 0, 2 * Math.PI);
    ctx.fillStyle = '#d29922';
    ctx.fill();
    ctx.strokeStyle = '#000';
    ctx.lineWidth = 1;
    ctx.stroke();
    return sprite(c, dpr, DOT.ax, DOT.ay);
}

// Draw sprite s at pixel (x0, y0) of the image `out` ({data: RGBA, data32: the same as
// words, width, height}), its opacity times `alpha`: source-over, on straight (not
// premultiplied) alpha like ImageData's.  Opaque runs are copied as 32-bit words, the few
// soft pixels of the edges blended; a faded sprite is blended whole.
function blit(out, s, x0, y0, alpha) {
    const clip = {
        xa: Math.max(0, -x0), xb: Math.min(s.pw, out.width - x0),
        ya: Math.max(0, -y0), yb: Math.min(s.ph, out.height - y0),
    };
    if (alpha !== 1) return blitFaded(out, s, x0, y0, alpha, clip);
    const { data: dst, data32: dst32, width } = out;
    const { px: src, px32: src32, pw, runs, soft } = s;
    const { xa, xb, ya, yb } = clip;
    for (let i = 0; i < runs.length; i += 3) {
        const y = runs[i];
        if (y < ya || y >= yb) continue;
        const a = Math.max(runs[i + 1], xa), b = Math.min(runs[i + 2], xb);
        for (let x = a, si = y * pw + a, di = (y0 + y) * width + x0 + a; x < b; x++) dst32[di++] = src32[si++];
    }
    for (let i = 0; i < soft.length; i += 2) {
        const x = soft[i], y = soft[i + 1];
        if (x < xa || x >= xb || y < ya || y >= yb) continue;
        const si = y * pw + x, di = (y0 + y) * width + x0 + x;
        if (dst32[di] === 0) dst32[di] = src32[si];
        else blend(dst, di * 4, src, si * 4, src[si * 4 + 3]);
    }
}

function blitFaded(out, s, x0, y0, alpha, { xa, xb, ya, yb }) {
    const { data: dst, width } = out;
    const src = s.px;
    for (let y = ya; y < yb; y++) {
        let si = (y * s.pw + xa) * 4, di = ((y0 + y) * width + x0 + xa) * 4;
        for (let x = xa; x < xb; x++, si += 4, di += 4) if (src[si + 3]) blend(dst, di, src, si, src[si + 3] * alpha);
    }
}

function blend(dst, di, src, si, sa) {
    const da = dst[di + 3];
    const keep = da * (255 - sa) / 255, out = sa + keep;
    dst[di] = (src[si] * sa + dst[di] * keep) / out;
    dst[di + 1] = (src[si + 1] * sa + dst[di + 1] * keep) / out;
    dst[di + 2] = (src[si + 2] * sa + dst[di + 2] * keep) / out;
    dst[di + 3] = out;
}

export class TrackLayer {
    constructor(map) {
        this.map = map;
        this.items = new Map(); // uid -> {lngLat, sidc, label, stale, hidden}
        this.icons = new Map(); // sidc ('' for a dot) -> sprite (symbolSprite)
        this.frame = null;      // the symbols' image, reused while the size stays
        this.selected = null;
        this.drawn = [];        // what the last frame showed: {uid, x, y, box}
        this.queued = false;
        this.lastDraw = 0;      // when the last draw began (performance.now())
        this.drawMs = 0;        // and how long it took
        this.canvas = document.createElement('canvas');
        this.canvas.className = 'kz-tracks';
        map.getCanvasContainer().appendChild(this.canvas);
        map.on('render', () => this.draw());
        map.on('resize', () => this.queue());
    }

    set(uid, item) {
        this.items.set(uid, item);
        this.queue();
    }

    delete(uid) {
        this.items.delete(uid);
        this.queue();
    }

    select(uid) {
        this.selected = uid;
        this.queue();
    }

    // Redraw at the next frame, unless the map is moving (its render draws us anyway).
    // Redraws for changes take at most 1/DRAW_SHARE of the time: after a draw of d ms the
    // next waits until DRAW_SHARE × d ms (DRAW_WAIT_MAX at most) after it began.  A few
    // tracks redraw every frame; thousands, whose events arrive spread over each second,
    // a few times a second.
    queue() {
        if (this.queued || this.map.isMoving()) return;
        this.queued = true;
        const frame = () => requestAnimationFrame(() => {
            this.queued = false;
            this.draw();
        });
        const wait = this.lastDraw + Math.min(DRAW_SHARE * this.drawMs, DRAW_WAIT_MAX) - performance.now();
        if (wait > 0) setTimeout(frame, wait);
        else frame();
    }

    // The sprite of a SIDC (a dot without one): its pixels at the canvas's resolution and
    // its size and anchor in CSS pixels.
    icon(sidc) {
        const key = sidc || '';
        let icon = this.icons.get(key);
        if (!icon) {
            icon = sidc ? symbolSprite(sidc) : dotSprite();
            this.icons.set(key, icon);
        }
        return icon;
    }

    resize() {
        const dpr = window.devicePixelRatio || 1;
        const gl = this.map.getCanvas();
        const w = gl.clientWidth, h = gl.clientHeight;
        if (this.canvas.width !== Math.round(w * dpr) || this.canvas.height !== Math.round(h * dpr)) {
            this.canvas.width = Math.round(w * dpr);
            this.canvas.height = Math.round(h * dpr);
            this.canvas.style.width = `${w}px`;
            this.canvas.style.height = `${h}px`;
        }
        return { w, h, dpr };
    }

    draw() {
        const t0 = performance.now();
        const { w, h, dpr } = this.resize();
        const ctx = this.canvas.getContext('2d');
        const drawn = [];
        for (const [uid, it] of this.items) {
            if (it.hidden) continue;
            const p = this.map.project(it.lngLat);
            const icon = this.icon(it.sidc);
            const box = { x: p.x - icon.ax, y: p.y - icon.ay, w: icon.w, h: icon.h };
            if (box.x > w || box.y > h || box.x + box.w < 0 || box.y + box.h < 0) continue;
            drawn.push({ uid, x: p.x, y: p.y, box, it, icon });
        }
        if (this.canvas.width && this.canvas.height) ctx.putImageData(this.compose(drawn, dpr), 0, 0);
        ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
        const sel = drawn.find((d) => d.uid === this.selected);
        if (sel) this.drawRing(ctx, sel.box);
        if (drawn.length <= MAX_LABELS) for (const d of drawn) this.drawLabel(ctx, d);
        ctx.globalAlpha = 1;
        this.drawn = drawn;
        this.lastDraw = t0;
        this.drawMs = performance.now() - t0;
    }

    // Every symbol drawn, over a transparent image of the canvas's size.
    compose(drawn, dpr) {
        const { width, height } = this.canvas;
        if (this.frame?.width !== width || this.frame?.height !== height) {
            this.frame = new ImageData(width, height);
            this.frame.data32 = new Uint32Array(this.frame.data.buffer);
        }
        this.frame.data32.fill(0);
        for (const { box, it, icon } of drawn) {
            blit(this.frame, icon, Math.round(box.x * dpr), Math.round(box.y * dpr), it.stale ? STALE_ALPHA : 1);
        }
        return this.frame;
    }

    drawRing(ctx, box) {
        ctx.globalAlpha = 1;
        ctx.strokeStyle = '#58a6ff';
        ctx.lineWidth = 2;
        ctx.strokeRect(box.x - 3, box.y - 3, box.w + 6, box.h + 6);
    }

    drawLabel(ctx, { x, box, it }) {
        ctx.globalAlpha = it.stale ? STALE_ALPHA : 1;
        ctx.font = '11px system-ui, sans-serif';
        ctx.textAlign = 'center';
        ctx.textBaseline = 'top';
        ctx.lineWidth = 3;
        ctx.strokeStyle = 'rgba(0, 0, 0, 0.85)';
        ctx.strokeText(it.label, x, box.y + box.h + 2);
        ctx.fillStyle = '#ffffff';
        ctx.fillText(it.label, x, box.y + box.h + 2);
    }

    // The uid of the topmost track drawn at point {x, y} (map pixels), or null.
    hit({ x, y }) {
        for (let i = this.drawn.length - 1; i >= 0; i--) {
            const b = this.drawn[i].box;
            if (x >= b.x - 2 && x <= b.x + b.w + 2 && y >= b.y - 2 && y <= b.y + b.h + 2) return this.drawn[i].uid;
        }
        return null;
    }

    // What the last frame showed, in page coordinates (for tests and the console).
    snapshot() {
        const r = this.map.getCanvas().getBoundingClientRect();
        return this.drawn.map(({ uid, x, y, it }) => ({
            uid, sidc: it.sidc, label: it.label, stale: it.stale, x: r.left + x, y: r.top + y,
        }));
    }
}
