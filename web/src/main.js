// main.js - the COP page: the offline map, tracks from /api/v1/tracks then live from
// /api/v1/stream (SSE, reconnecting), MIL-STD-2525 symbols, the details panel, the
// classification banners and the federation links.  Everything is fetched from the page's
// own origin (the server's Content-Security-Policy allows nothing else).

import * as maplibregl from 'maplibre-gl';
import { forward as toMgrs } from 'mgrs';

import { colourOf, parseLabel, rollUp } from './classification.js';
import { TrackLayer } from './layer.js';
import { commandRows, counterpartIds } from './alliance.js';
import { LatencyChart } from './latency.js';
import { PlanPage } from './planpage.js';
import { byStage, planHash } from './plans.js';
import { areaText, boardRows } from './readiness.js';
import { cotShape } from './shapes.js';
import { cotToSidc, describeCotType } from './sidc.js';
import { deleteTarget, isDrawable, isNewer, isStale, matchesFilter, motion, nationOf } from './track.js';

const asset = (name) => new URL(name, import.meta.url).href;
const $ = (id) => document.getElementById(id);

// ---- the map ---------------------------------------------------------------------------

async function loadStyle() {
    const style = await (await fetch(asset('basemap.json'))).json();
    for (const src of Object.values(style.sources)) src.data = asset(src.data);
    return style;
}

function createMap(style) {
    maplibregl.setWorkerUrl(asset('maplibre-gl-worker.mjs'));
    const map = new maplibregl.Map({
        container: 'map', style, center: [137.5, 35.5], zoom: 4.3, attributionControl: false,
        renderWorldCopies: false,
    });
    map.addControl(new maplibregl.NavigationControl({ visualizePitch: true }), 'top-right');
    map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-right');
    map.on('mousemove', (e) => showCursor(e.lngLat));
    return map;
}

function fmtDeg(v, pos, neg) {
    return `${Math.abs(v).toFixed(5)}°${v >= 0 ? pos : neg}`;
}

function mgrsOf(lon, lat) {
    try {
        // 53SQU2903340648 -> 53S QU 29033 40648, the way it is read out.
        return toMgrs([lon, lat], 5).replace(/^(\d{1,2}[A-Z])([A-Z]{2})(\d{5})(\d{5})$/, '$1 $2 $3 $4');
    } catch {
        return 'outside MGRS';
    }
}

function showCursor({ lng, lat }) {
    $('cursor').textContent = `${fmtDeg(lat, 'N', 'S')} ${fmtDeg(lng, 'E', 'W')}  ${mgrsOf(lng, lat)}`;
}

// ---- drawings --------------------------------------------------------------------------

// Drawings and routes (shapes.js) in a GeoJSON source under the tracks, updated once a frame.
class Drawings {
    constructor(map) {
        this.map = map;
        this.shapes = new Map(); // uid -> GeoJSON Feature
        this.ready = false;
        this.queued = false;
        map.on('load', () => {
            map.addSource('drawings', { type: 'geojson', data: this.collection() });
            map.addLayer({ id: 'drawings-fill', type: 'fill', source: 'drawings',
                filter: ['==', ['geometry-type'], 'Polygon'], paint: { 'fill-color': ['to-color', ['get', 'fill']] } });
            map.addLayer({ id: 'drawings-line', type: 'line', source: 'drawings',
                paint: { 'line-color': ['to-color', ['get', 'stroke']], 'line-width': ['get', 'width'] } });
            this.ready = true;
        });
    }

    collection() {
        return { type: 'FeatureCollection', features: [...this.shapes.values()] };
    }

    set(uid, shape) {
        this.shapes.set(uid, shape);
        this.queue();
    }

    delete(uid) {
        if (this.shapes.delete(uid)) this.queue();
    }

    queue() {
        if (this.queued) return;
        this.queued = true;
        requestAnimationFrame(() => {
            this.queued = false;
            if (this.ready) this.map.getSource('drawings').setData(this.collection());
            else this.map.once('load', () => this.map.getSource('drawings').setData(this.collection()));
        });
    }

    // The labels of the drawings with a vertex inside `bounds`.
    labelsIn(bounds) {
        const out = [];
        for (const s of this.shapes.values()) {
            const g = s.geometry;
            const pts = g.type === 'Polygon' ? g.coordinates[0] : g.coordinates;
            if (pts.some((c) => bounds.contains(c))) out.push(s.properties.access);
        }
        return out;
    }
}

// ---- tracks ----------------------------------------------------------------------------

class Tracks {
    constructor(map) {
        this.map = map;
        this.drawings = new Drawings(map);
        this.layer = new TrackLayer(map);
        this.shown = new Map(); // uid -> the newest Feature
        this.selected = null;
        this.bannerQueued = false;
        this.inbox = []; // stream events not applied yet (receive)
        this.filter = { text: '', groups: new Set(['friend', 'hostile', 'neutral', 'unknown', 'other']) };
        this.nations = new Set(); // originator nations seen, for the filter's choice
        this.panelLabels = () => []; // labels of what open panels show (plans)
        map.on('moveend', () => this.queueBanner());
        map.on('click', (e) => this.select(this.layer.hit(e.point)));
        map.on('mousemove', (e) => {
            map.getCanvas().style.cursor = this.layer.hit(e.point) ? 'pointer' : '';
        });
        setInterval(() => this.refreshStale(), 1000);
    }

    // An event from the stream: kept (unparsed) and applied with the others of the same
    // frame, so thousands of events a second cost one pass and one redraw, not one each.
    // The timer applies them too while the page is hidden and draws no frames.
    receive(data) {
        this.inbox.push(data);
        if (this.inbox.length > 1) return;
        requestAnimationFrame(() => this.applyInbox());
        setTimeout(() => this.applyInbox(), 250);
    }

    applyInbox() {
        const inbox = this.inbox;
        this.inbox = [];
        for (const data of inbox) {
            try {
                this.apply(JSON.parse(data));
            } catch (e) {
                console.error(e); // one bad event does not take the others with it
            }
        }
    }

    apply(feature) {
        const gone = deleteTarget(feature);
        if (gone) return this.remove(gone);
        const shape = cotShape(feature);
        if (shape) {
            this.drawings.set(shape.properties.uid, shape);
            return this.queueBanner();
        }
        if (!isDrawable(feature)) return;
        const uid = feature.properties.uid ?? feature.id;
        const old = this.shown.get(uid);
        if (old && !isNewer(feature, old)) return;
        this.shown.set(uid, feature);
        this.draw(uid, feature, Date.now());
        if (!old) this.queueCount();
        if (!old && nationOf(feature) && !this.nations.has(nationOf(feature))) this.addNation(nationOf(feature));
        this.queueBanner();
        if (this.selected === uid) showDetails(feature);
    }

    draw(uid, feature, now) {
        const p = feature.properties;
        const [lon, lat] = feature.geometry.coordinates;
        this.layer.set(uid, {
            lngLat: [lon, lat], sidc: cotToSidc(p.type), label: p.callsign ?? p.uid,
            stale: isStale(feature, now), hidden: !matchesFilter(feature, this.filter),
        });
    }

    remove(uid) {
        this.drawings.delete(uid);
        if (!this.shown.delete(uid)) return this.queueBanner();
        this.layer.delete(uid);
        if (this.selected === uid) this.select(null);
        this.queueCount();
        this.queueBanner();
    }

    select(uid) {
        const f = uid ? this.shown.get(uid) : null;
        this.selected = f ? uid : null;
        this.layer.select(this.selected);
        if (f) showDetails(f);
        else $('details').hidden = true;
        this.queueBanner();
    }

    refreshStale() {
        const now = Date.now();
        for (const [uid, f] of this.shown) {
            const it = this.layer.items.get(uid);
            if (it && it.stale !== isStale(f, now)) this.draw(uid, f, now);
        }
    }

    // Keyboard: the next (step 1) or previous (-1) track on screen by callsign, selected.
    step(dir) {
        const on = this.layer.drawn.map((d) => ({ uid: d.uid, label: d.it.label }))
            .sort((a, b) => a.label.localeCompare(b.label) || a.uid.localeCompare(b.uid));
        if (!on.length) return;
        const i = on.findIndex((d) => d.uid === this.selected);
        const next = i < 0 ? (dir > 0 ? 0 : on.length - 1) : (i + dir + on.length) % on.length;
        this.select(on[next].uid);
    }

    // The toolbar changed: hide what it leaves out (off screen for the banner too).
    setFilter(filter) {
        this.filter = filter;
        const now = Date.now();
        for (const [uid, f] of this.shown) this.draw(uid, f, now);
        this.showCount();
        this.queueBanner();
    }

    // The filter's nation choice lists every originator nation seen, in order.
    addNation(nation) {
        this.nations.add(nation);
        const select = $('filter-nation');
        const options = [...this.nations].sort().map((n) => Object.assign(document.createElement('option'), { value: n, textContent: n }));
        const chosen = select.value;
        select.replaceChildren(select.options[0], ...options);
        select.value = chosen;
    }

    queueCount() {
        if (this.countQueued) return;
        this.countQueued = true;
        requestAnimationFrame(() => {
            this.countQueued = false;
            this.showCount();
        });
    }

    showCount() {
        let n = 0;
        for (const f of this.shown.values()) if (matchesFilter(f, this.filter)) n++;
        const text = n === this.shown.size ? `${n} tracks` : `${n} of ${this.shown.size} tracks`;
        if ($('count').textContent !== text) $('count').textContent = text;
    }

    queueBanner() {
        if (this.bannerQueued) return;
        this.bannerQueued = true;
        requestAnimationFrame(() => {
            this.bannerQueued = false;
            this.showBanner();
        });
    }

    // The banner marks what is on screen: the tracks inside the view and the open panel.
    showBanner() {
        const bounds = this.map.getBounds();
        const labels = [];
        for (const [uid, f] of this.shown) {
            const [lon, lat] = f.geometry.coordinates;
            const visible = matchesFilter(f, this.filter) && bounds.contains([lon, lat]);
            if (uid === this.selected || visible) labels.push(f.properties.access);
        }
        labels.push(...this.drawings.labelsIn(bounds), ...this.panelLabels());
        const b = rollUp(labels);
        // Unchanged: left alone (each change of the page costs a frame to composite).
        const key = `${b.text}|${b.colour.bg}|${b.colour.fg}|${b.level}`;
        if (key === this.bannerKey) return;
        this.bannerKey = key;
        for (const id of ['banner-top', 'banner-bottom']) {
            const el = $(id);
            el.textContent = b.text;
            el.style.background = b.colour.bg;
            el.style.color = b.colour.fg;
            el.dataset.level = String(b.level);
        }
    }
}

// ---- the details panel -----------------------------------------------------------------

function mark(el, access) {
    const l = parseLabel(access);
    const c = colourOf(l);
    el.textContent = l.text;
    el.style.background = c.bg;
    el.style.color = c.fg;
}

function showDetails(feature) {
    const p = feature.properties;
    const [lon, lat, hae] = feature.geometry.coordinates;
    const { speed, course } = motion(feature);
    const rows = [
        ['callsign', p.callsign ?? '–'], ['uid', p.uid],
        ['type', `${p.type}${describeCotType(p.type) ? ` (${describeCotType(p.type)})` : ''}`],
        ['symbol', cotToSidc(p.type) ?? '–'], ['time', p.time], ['stale', p.stale],
        ['position', `${fmtDeg(lat, 'N', 'S')} ${fmtDeg(lon, 'E', 'W')}`], ['MGRS', mgrsOf(lon, lat)],
        ['altitude', hae === undefined ? '–' : `${hae} m HAE`],
        ['speed', speed === null ? '–' : `${speed.toFixed(1)} m/s (${(speed * 1.943844).toFixed(1)} kn)`],
        ['course', course === null ? '–' : `${course.toFixed(0)}°`],
        ['label', p.access ?? 'UNCLASSIFIED'], ['originator', p.originator ?? '–'],
        ['group', p.group ? `${p.group}${p.role ? ` / ${p.role}` : ''}` : '–'], ['remarks', p.remarks ?? '–'],
    ];
    const dl = $('details-fields');
    dl.replaceChildren(...rows.flatMap(([k, v]) => {
        const dt = document.createElement('dt');
        const dd = document.createElement('dd');
        dt.textContent = k;
        dd.textContent = v;
        dd.dataset.field = k;
        return [dt, dd];
    }));
    $('details-title').textContent = p.callsign ?? p.uid;
    mark($('details-marking-top'), p.access);
    mark($('details-marking-bottom'), p.access);
    $('details').hidden = false;
}

// ---- data ------------------------------------------------------------------------------

async function loadTracks(tracks) {
    const res = await fetch('/api/v1/tracks', { headers: { accept: 'application/geo+json' } });
    if (!res.ok) throw new Error(`GET /api/v1/tracks: ${res.status}`);
    for (const f of (await res.json()).features) tracks.apply(f);
}

// EventSource reconnects by itself after a network error; each new connection replays the
// current state first.  An answer that is not a stream (a 503 while the server starts, a
// 403) closes it for good: a new one is opened 3 s later.
function openStream(tracks) {
    const conn = $('conn');
    const es = new EventSource('/api/v1/stream');
    es.addEventListener('open', () => {
        conn.textContent = 'live';
        conn.className = 'conn-up';
    });
    es.addEventListener('error', () => {
        conn.className = 'conn-down';
        if (es.readyState !== EventSource.CLOSED) {
            conn.textContent = 'reconnecting';
            return;
        }
        conn.textContent = 'stream refused, retrying';
        setTimeout(() => openStream(tracks), 3000);
    });
    es.addEventListener('cot', (e) => tracks.receive(e.data));
}

function linkRow(peer) {
    const tr = document.createElement('tr');
    for (const v of [peer.name, peer.state, peer.sent, peer.received, peer.denied, peer.queued]) {
        const td = document.createElement('td');
        td.textContent = String(v ?? '–');
        tr.append(td);
    }
    tr.children[1].className = `state-${peer.state}`;
    tr.dataset.peer = peer.name;
    return tr;
}

async function pollLinks() {
    try {
        const res = await fetch('/api/v1/federation');
        if (!res.ok) return;
        const { peers } = await res.json();
        $('links').hidden = peers.length === 0;
        $('links-rows').replaceChildren(...peers.map(linkRow));
    } catch {
        /* the stream's indicator already says the server is away */
    }
}

function wireFilter(tracks) {
    const form = $('filter');
    const read = () => ({
        text: $('filter-text').value,
        groups: new Set([...form.querySelectorAll('input[name=group]:checked')].map((i) => i.value)),
        dimensions: new Set([...form.querySelectorAll('input[name=dimension]:checked')].map((i) => i.value)),
        typePrefix: $('filter-type').value,
        nation: $('filter-nation').value,
    });
    form.addEventListener('input', () => tracks.setFilter(read()));
    form.addEventListener('submit', (e) => e.preventDefault());
}

// ---- plans -----------------------------------------------------------------------------

function planItem(p) {
    const li = document.createElement('li');
    li.dataset.plan = p.id;
    const top = document.createElement('div');
    top.className = 'marking';
    mark(top, p.label);
    const body = document.createElement('div');
    body.className = 'plan-body';
    const cells = [
        ['plan-title', p.title], ['plan-approvals', `${p.approved}/${p.required} approved`],
        ['plan-meta plan-stage', p.stage.replace(/_/g, ' ')], ['plan-meta', `consultation ${p.consultation.replace(/_/g, ' ')}`],
    ];
    for (const [cls, text] of cells) body.append(Object.assign(document.createElement('span'), { className: cls, textContent: text }));
    li.append(top, body);
    // A click (or Enter) opens the plan's page.
    li.tabIndex = 0;
    const open = () => { window.location.hash = planHash(p.id); };
    li.addEventListener('click', open);
    li.addEventListener('keydown', (e) => { if (e.key === 'Enter') open(); });
    return li;
}

function readinessRow(x) {
    const tr = document.createElement('tr');
    tr.dataset.unit = x.unit;
    if (x.stale) {
        tr.className = 'stale';
        tr.title = `stale report (${x.time ?? 'time unknown'})`;
    }
    const cells = [x.unit, `C-${x.overall}`, areaText(x.p), areaText(x.s), areaText(x.r), areaText(x.t)];
    for (const [i, v] of cells.entries()) {
        const td = Object.assign(document.createElement('td'), { textContent: v });
        if (i === 1) td.className = `c-level c-${x.overall}`;
        tr.append(td);
    }
    const label = Object.assign(document.createElement('td'), { className: 'marking' });
    mark(label, x.label);
    tr.append(label);
    return tr;
}

// One command of the alliance tree: a click (or Enter) asks for its counterparts on the
// panel's date and highlights them.
function commandItem(c) {
    const li = document.createElement('li');
    li.dataset.command = c.id;
    li.tabIndex = 0;
    li.style.paddingLeft = `${4 + c.depth * 14}px`;
    if (c.depth === 0) li.className = 'nation-0';
    li.append(Object.assign(document.createElement('span'), { textContent: `${c.name} (${c.id})` }));
    if (c.relation) li.append(Object.assign(document.createElement('span'), { className: 'rel', textContent: c.relation }));
    li.title = `${c.nation}${c.echelon ? `, ${c.echelon}` : ''}`;
    const choose = async () => {
        const res = await fetch(`/api/v1/alliance/counterpart?unit=${encodeURIComponent(c.id)}&at=${$('alliance-date').value}`);
        const ids = res.ok ? counterpartIds(await res.json()) : new Set();
        for (const el of $('alliance-rows').children) {
            el.classList.toggle('chosen', el.dataset.command === c.id);
            el.classList.toggle('counterpart', ids.has(el.dataset.command));
        }
    };
    li.addEventListener('click', choose);
    li.addEventListener('keydown', (e) => { if (e.key === 'Enter') choose(); });
    return li;
}

// A panel opened from the status line: `url` is polled every 3 s, `read` turns its JSON
// into items, `render` into DOM; while the panel is open, its items' labels count for the
// banner.
// `lazy`: the button is always there and the panel asks only while it is open (the alliance
// model may be absent: its 503 comes only when somebody looks).
function wirePanel(tracks, { id, url, read, render, name, every = 3000, lazy = false }) {
    const panel = $(id), toggle = $(`${id}-toggle`), list = panel.querySelector('ol, tbody');
    let items = [];
    const refresh = async () => {
        if (lazy && panel.hidden) return;
        try {
            const res = await fetch(typeof url === 'function' ? url() : url);
            if (!res.ok) {
                if (lazy) list.replaceChildren(Object.assign(document.createElement('li'), { textContent: `not available (${res.status})` }));
                return;
            }
            items = read(await res.json());
            toggle.hidden = false;
            toggle.textContent = `${name} (${items.length})`;
            // Keep the keyboard where it was: the same entry (same data- key) takes focus again.
            const was = list.contains(document.activeElement) ? JSON.stringify(document.activeElement.dataset) : null;
            list.replaceChildren(...items.map(render));
            if (was) [...list.children].find((el) => JSON.stringify(el.dataset) === was)?.focus();
            tracks.queueBanner();
        } catch {
            /* the stream's indicator already says the server is away */
        }
    };
    toggle.addEventListener('click', () => {
        panel.hidden = !panel.hidden;
        toggle.setAttribute('aria-expanded', String(!panel.hidden));
        tracks.queueBanner();
        if (!panel.hidden) refresh();
    });
    toggle.hidden = !lazy;
    refresh();
    setInterval(refresh, every);
    panel.addEventListener('change', refresh);
    return () => (panel.hidden || list.hidden ? [] : items.map((x) => x.label));
}

function wirePanels(tracks) {
    $('alliance-date').value = new Date().toISOString().slice(0, 10);
    const latency = new LatencyChart();
    const labels = [
        wirePanel(tracks, { id: 'plans', name: 'Plans', url: '/api/v1/plans', read: (j) => byStage(j.plans), render: planItem }),
        wirePanel(tracks, { id: 'readiness', name: 'Readiness', url: '/api/v1/readiness',
            read: (j) => boardRows(j.reports), render: readinessRow }),
        wirePanel(tracks, { id: 'alliance', name: 'Alliance', every: 60000, lazy: true, render: commandItem,
            read: (j) => {
                latency.load($('alliance-date').value);
                return commandRows(j);
            },
            url: () => `/api/v1/alliance/show?at=${$('alliance-date').value}` }),
    ];
    const page = new PlanPage(tracks.map, mark, () => tracks.queueBanner());
    window.kizunaCop.planPage = page;
    tracks.panelLabels = () => [...labels.flatMap((f) => f()), ...page.labels()];
}

async function main() {
    const map = createMap(await loadStyle());
    const tracks = new Tracks(map);
    window.kizunaCop = { map, tracks }; // for the browser tests and the console
    wireFilter(tracks);
    wirePanels(tracks);
    $('details-close').addEventListener('click', () => tracks.select(null));
    document.addEventListener('keydown', (e) => {
        if (e.key === 'Escape') tracks.select(null);
        if (e.target.closest('input, textarea, select')) return;
        if (e.key === ']') tracks.step(1);
        if (e.key === '[') tracks.step(-1);
    });
    await loadTracks(tracks);
    openStream(tracks);
    pollLinks();
    setInterval(pollLinks, 2000);
}

main().catch((e) => {
    $('conn').textContent = `error: ${e.message}`;
    console.error(e);
});
