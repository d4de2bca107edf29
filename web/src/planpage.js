// planpage.js - the page of one plan (#plan/ID) inside the plans panel: its timeline in
// every participant's local time, its approvals of the current revision, the prior
// consultation, the buttons for the changes the server allows the viewer (`allowed`), and
// its items with a place on the map.  Polled every 2 s while open, so a change made
// elsewhere shows without a reload; a refused change shows the server's own error.

import {
    actionRequest, approvalRows, itemFeatures, planActions, planHash, planOfHash, refusalText, timeline,
} from './plans.js';

const $ = (id) => document.getElementById(id);
const el = (tag, { dataset = {}, ...props } = {}, ...children) => {
    const e = Object.assign(document.createElement(tag), props);
    Object.assign(e.dataset, dataset);
    e.append(...children);
    return e;
};

export class PlanPage {
    // `mark(el, banner)` paints a marking; `onChange()` is called when what is on screen
    // changed (the banner follows).
    constructor(map, mark, onChange) {
        this.map = map;
        this.mark = mark;
        this.onChange = onChange;
        this.plan = null;
        this.id = null;
        this.busy = false;
        this.timer = null;
        this.shownKey = '';
        this.features = [];
        // Built before the map loads (main.js); the style is not reliably "loaded" later,
        // while sources update, so the page keeps its own flag.
        this.mapReady = false;
        map.once('load', () => {
            this.mapReady = true;
            this.showItems(this.features);
        });
        $('plan-back').addEventListener('click', () => { window.location.hash = ''; });
        $('plan-show-map').addEventListener('click', () => this.fit());
        window.addEventListener('hashchange', () => this.route());
        document.addEventListener('keydown', (e) => {
            if (e.key === 'Escape' && this.id && !e.target.closest('input')) window.location.hash = '';
        });
        this.route();
    }

    // The labels of what the page shows (for the banner): the plan's roll-up.
    labels() {
        return this.id && this.plan && !$('plans').hidden ? [this.plan.label] : [];
    }

    route() {
        const id = planOfHash(window.location.hash);
        if (id === this.id) return;
        const prev = this.id;
        this.id = id;
        this.plan = null;
        this.shownKey = '';
        clearInterval(this.timer);
        $('plan-error').textContent = '';
        $('plans').classList.toggle('page-open', Boolean(id));
        $('plans-list').hidden = Boolean(id);
        $('plan-page').hidden = !id;
        this.showItems([]);
        if (!id) {
            // Back to the list: the keyboard continues from the plan it came from.
            [...$('plans-list').children].find((li) => li.dataset.plan === prev)?.focus();
            return this.onChange();
        }
        if ($('plans').hidden) $('plans-toggle').click();
        this.refresh();
        this.timer = setInterval(() => this.refresh(), 2000);
        $('plan-back').focus();
    }

    async refresh() {
        const id = this.id;
        let res, plan;
        try {
            res = await fetch(`/api/v1/plans/${encodeURIComponent(id)}`);
            plan = res.ok ? await res.json() : null;
        } catch {
            return; /* the stream's indicator already says the server is away */
        }
        if (id !== this.id) return;
        if (!plan) $('plan-title').textContent = res.status === 404 ? `no plan ${id}` : `plan ${id}: HTTP ${res.status}`;
        else this.render(plan);
    }

    render(plan) {
        // Redraw only when the answer changed: keeps focus on a button between polls.
        const key = JSON.stringify(plan);
        if (key === this.shownKey) return;
        this.shownKey = key;
        this.plan = plan;
        $('plan-title').textContent = plan.title;
        this.mark($('plan-marking-top'), plan.label);
        this.mark($('plan-marking-bottom'), plan.label);
        $('plan-fields').replaceChildren(...this.fields(plan).flatMap(([k, v]) => [
            el('dt', { textContent: k }), el('dd', { textContent: v, dataset: { field: k } }),
        ]));
        $('plan-approvals').replaceChildren(...approvalRows(plan).map((a) => el('tr', { dataset: { command: a.command } },
            el('td', { textContent: a.nation }), el('td', { textContent: a.command }),
            el('td', { textContent: a.decision, className: `decision-${a.decision}` }),
            el('td', { textContent: a.user ? `${a.user}${a.reason ? `: ${a.reason}` : ''}` : '' }))));
        $('plan-timeline').replaceChildren(...timeline(plan).map((t) => this.item(t)));
        this.actions(plan);
        this.showItems(itemFeatures(plan));
        this.onChange();
    }

    fields(p) {
        const consult = p.consultation.replace(/_/g, ' ');
        return [
            ['stage', p.stage.replace(/_/g, ' ')], ['revision', String(p.revision)],
            ['kind', `${p.kind}, legal basis ${p.legal_basis}`], ['lead', p.lead],
            ['participants', p.participants.join(', ')], ['window', `${p.start} .. ${p.end}`],
            ['consultation', p.consultation_authority ? `${consult} (${p.consultation_authority})` : consult],
            ...(p.consultation_reason ? [['consult reason', p.consultation_reason]] : []),
        ];
    }

    item(t) {
        const marking = el('div', { className: 'marking' });
        this.mark(marking, t.label);
        const times = el('ul', { className: 'plan-times' }, ...t.local.map((l) =>
            el('li', { textContent: l.text, title: `${l.zone}: ${l.commands.join(', ')}`, dataset: { zone: l.zone } })));
        const where = t.place || t.lat !== null ? `at ${t.place ?? ''}${t.lat !== null ? ` (${t.lat.toFixed(4)}, ${t.lon.toFixed(4)})` : ''}` : '';
        return el('li', { dataset: { item: String(t.id) } }, marking,
            el('div', { className: 'plan-item-head', textContent: `#${t.n}  ${t.description}` }), times,
            ...(where ? [el('div', { className: 'plan-meta', textContent: where })] : []),
            ...(t.units.length ? [el('div', { className: 'plan-meta', textContent: `units: ${t.units.join(', ')}` })] : []));
    }

    // The buttons the server allows; none (and the reason box hidden) when it allows nothing.
    actions(plan) {
        const acts = planActions(plan);
        $('plan-actions').hidden = acts.length === 0;
        $('plan-action-buttons').replaceChildren(...acts.map((a) => {
            const b = el('button', { type: 'button', textContent: a.text, dataset: { action: a.key } });
            b.addEventListener('click', () => this.act(a.key));
            return b;
        }));
    }

    async act(key) {
        if (this.busy || !this.plan) return;
        this.busy = true;
        const { url, body } = actionRequest(this.plan, key, $('plan-reason').value.trim());
        const error = $('plan-error');
        error.textContent = '';
        try {
            const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
            const answer = await res.json().catch(() => null);
            if (!res.ok) {
                error.textContent = refusalText(res.status, answer);
            } else {
                $('plan-reason').value = '';
                this.render(answer);
            }
        } catch (e) {
            error.textContent = `not sent: ${e.message}`;
        } finally {
            this.busy = false;
        }
    }

    // The plan's items with a place: ringed points with their number and place.
    showItems(features) {
        const data = { type: 'FeatureCollection', features };
        const put = () => {
            const src = this.map.getSource('plan-items');
            if (src) return src.setData(data);
            this.map.addSource('plan-items', { type: 'geojson', data });
            this.map.addLayer({ id: 'plan-items', type: 'circle', source: 'plan-items', paint: {
                'circle-radius': 9, 'circle-color': 'rgba(0,0,0,0)', 'circle-stroke-color': '#d29922', 'circle-stroke-width': 2 } });
        };
        if (this.mapReady) put();
        $('plan-show-map').hidden = features.length === 0;
        this.features = features;
    }

    fit() {
        const pts = (this.features || []).map((f) => f.geometry.coordinates);
        if (!pts.length) return;
        const lons = pts.map((p) => p[0]), lats = pts.map((p) => p[1]);
        this.map.fitBounds([[Math.min(...lons), Math.min(...lats)], [Math.max(...lons), Math.max(...lats)]],
            { padding: 80, maxZoom: 9, duration: 0 });
    }
}

export { planHash };
