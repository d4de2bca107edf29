// latency.js - the alliance panel's coordination-latency chart: the pairs of lead commands
// from GET /api/v1/alliance/path?compare=1 on the panel's date, and for the chosen pair a
// small SVG bar chart of the response times through the hub and over direct links
// (mean and worst over a week), drawn by hand (no chart library).

import { barLayout, latencyBars, latencyPairs } from './alliance.js';

const $ = (id) => document.getElementById(id);
const SVG = 'http://www.w3.org/2000/svg';

function svg(tag, attrs, text) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    return e;
}

export class LatencyChart {
    constructor() {
        this.answer = null;
        this.date = null;
        $('latency-pair').addEventListener('change', (e) => {
            e.stopPropagation(); // the panel refetches its tree on a change of the date only
            this.draw();
        });
    }

    // The panel is open on `date`: ask once per date (a week of samples per pair).
    async load(date) {
        if (date === this.date) return;
        this.date = date;
        try {
            const res = await fetch(`/api/v1/alliance/path?compare=1&at=${encodeURIComponent(date)}`);
            if (date !== this.date) return;
            if (!res.ok) {
                this.answer = null;
                $('latency-caption').textContent = `not available (${res.status})`;
                return;
            }
            this.answer = await res.json();
        } catch {
            this.date = null;
            return;
        }
        const select = $('latency-pair'), keep = select.value;
        select.replaceChildren(...latencyPairs(this.answer).map((p) =>
            Object.assign(document.createElement('option'), { value: p.key, textContent: p.text })));
        if ([...select.options].some((o) => o.value === keep)) select.value = keep;
        this.draw();
    }

    draw() {
        const chart = $('latency-chart');
        const pair = (this.answer?.pairs || []).find((p) => `${p.a} ${p.b}` === $('latency-pair').value);
        chart.replaceChildren();
        if (!pair) return;
        const width = Number(chart.getAttribute('width')), height = Number(chart.getAttribute('height'));
        for (const b of barLayout(latencyBars(pair), width, height)) {
            const g = svg('g', { 'data-bar': b.key });
            g.append(svg('text', { x: 0, y: b.y + b.h * 0.7, class: 'bar-label' }, b.text),
                svg('rect', { x: b.x, y: b.y, width: b.w, height: b.h, class: `bar ${b.key}` }),
                svg('text', { x: b.x + b.w + 4, y: b.y + b.h * 0.7, class: 'bar-value' }, b.value));
            chart.append(g);
        }
        $('latency-caption').textContent = `${pair.a} ↔ ${pair.b}, both directions every hour for a week from ` +
            `${this.answer.start}, through ${this.answer.hub} or direct` +
            `${pair.direct_link_in_model ? '' : ' (no direct link in the model yet)'}`;
    }
}
