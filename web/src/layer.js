// layer.js - the tracks drawn on a 2D canvas over the map: each one's MIL-STD-2525
// symbol (milsymbol, one cached image per SIDC) with its callsign beneath, faded when
// stale, ringed when selected.  One canvas instead of one DOM element per track keeps
// thousands of moving tracks cheap; it is redrawn with every frame the map renders
// (pan, zoom, rotate) and once per animation frame after the tracks change.

import ms from 'milsymbol';

const SYMBOL_SIZE = 24;
const MAX_LABELS = 600; // more tracks in view than this: symbols only, no callsigns
const DOT = { w: 12, h: 12, ax: 6, ay: 6 };
const BATCH_ABOVE = 1000; // tracks over which redraws for changes are batched

export class TrackLayer {
    constructor(map) {
        this.map = map;
        this.items = new Map(); // uid -> {lngLat, sidc, label, stale, hidden}
        this.icons = new Map(); // sidc -> {img, w, h, ax, ay}
        this.selected = null;
        this.drawn = [];        // what the last frame showed: {uid, x, y, box}
        this.queued = false;
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
    // With many tracks, changes are gathered for a fifth of a second first: they move
    // once a second, and each frame drawn costs the map's own frames.
    queue() {
        if (this.queued || this.map.isMoving()) return;
        this.queued = true;
        const frame = () => requestAnimationFrame(() => {
            this.queued = false;
            this.draw();
        });
        if (this.items.size > BATCH_ABOVE) setTimeout(frame, 200);
        else frame();
    }

    icon(sidc) {
        if (!sidc) return DOT;
        let icon = this.icons.get(sidc);
        if (!icon) {
            const sym = new ms.Symbol(sidc, { size: SYMBOL_SIZE });
            const dpr = window.devicePixelRatio || 1;
            const size = sym.getSize(), anchor = sym.getAnchor();
            const img = sym.asCanvas(dpr);
            // Drawn at the canvas's own pixel size: no scaling on each draw.
            icon = { img, w: img.width / dpr, h: img.height / dpr, ax: anchor.x * (img.width / dpr / size.width),
                ay: anchor.y * (img.height / dpr / size.height) };
            this.icons.set(sidc, icon);
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
        const { w, h, dpr } = this.resize();
        // A CPU canvas: thousands of small images raster faster there than through a
        // (possibly software) GPU, and the result is one layer to composite.
        const ctx = this.canvas.getContext('2d', { willReadFrequently: true });
        ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
        ctx.clearRect(0, 0, w, h);
        const drawn = [];
        for (const [uid, it] of this.items) {
            if (it.hidden) continue;
            const p = this.map.project(it.lngLat);
            const icon = this.icon(it.sidc);
            const box = { x: p.x - icon.ax, y: p.y - icon.ay, w: icon.w, h: icon.h };
            if (box.x > w || box.y > h || box.x + box.w < 0 || box.y + box.h < 0) continue;
            drawn.push({ uid, x: p.x, y: p.y, box, it, icon });
        }
        for (const d of drawn) this.drawSymbol(ctx, d);
        if (drawn.length <= MAX_LABELS) for (const d of drawn) this.drawLabel(ctx, d);
        this.drawn = drawn;
    }

    drawSymbol(ctx, { uid, x, y, box, it, icon }) {
        ctx.globalAlpha = it.stale ? 0.35 : 1;
        if (icon === DOT) {
            ctx.beginPath();
            ctx.arc(x, y, 5, 0, 2 * Math.PI);
            ctx.fillStyle = '#d29922';
            ctx.fill();
            ctx.strokeStyle = '#000';
            ctx.lineWidth = 1;
            ctx.stroke();
        } else {
            ctx.drawImage(icon.img, box.x, box.y, box.w, box.h);
        }
        if (uid === this.selected) {
            ctx.globalAlpha = 1;
            ctx.strokeStyle = '#58a6ff';
            ctx.lineWidth = 2;
            ctx.strokeRect(box.x - 3, box.y - 3, box.w + 6, box.h + 6);
        }
    }

    drawLabel(ctx, { x, box, it }) {
        ctx.globalAlpha = it.stale ? 0.35 : 1;
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
