/*
 * latency.c - how long a request takes through the alliance: routes over
 * command and coordination links, each hop timed in the node's own time
 * zone (transit, waiting for the next duty window, handling), and the
 * answer coming back the same way.  Times are UTC seconds inside; local
 * times appear only in the JSON for display.
 */
#include <stdlib.h>
#include <string.h>

#include "alliance/internal.h"

#define MAX_HOPS 5 /* links per route: bounds the enumeration */
#define MAX_PATHS 4096
#define WEEK_S (7 * 86400)

static const char *const wd_names[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};

/* ---- duty hours ------------------------------------------------------------ */

static int day_index(const char *s)
{
    for (int i = 0; i < 7; i++)
        if (strncmp(s, wd_names[i], 3) == 0)
            return i;
    return -1;
}

static int parse_days(const char *s, uint8_t *days)
{
    *days = 0;
    while (*s) {
        int a = day_index(s), b = a;
        if (a < 0)
            return KZ_ERR_PARSE;
        s += 3;
        if (*s == '-') {
            if ((b = day_index(s + 1)) < 0)
                return KZ_ERR_PARSE;
            s += 4;
        }
        for (int i = a;; i = (i + 1) % 7) {
            *days = (uint8_t)(*days | 1u << i);
            if (i == b)
                break;
        }
        if (*s == ',')
            s++;
        else if (*s)
            return KZ_ERR_PARSE;
    }
    return *days ? KZ_OK : KZ_ERR_PARSE;
}

int kz__duty_parse(const char *s, struct kz_duty *out)
{
    unsigned h1, m1, h2, m2;
    int n = 0;

    if (strcmp(s, "24/7") == 0) {
        *out = (struct kz_duty){.always = true, .days = 0x7f};
        return KZ_OK;
    }
    if (sscanf(s, "%2u:%2u-%2u:%2u%n", &h1, &m1, &h2, &m2, &n) != 4 || h1 > 23 || h2 > 24 ||
        m1 > 59 || m2 > 59 || h1 * 60 + m1 >= h2 * 60 + m2 || h2 * 60 + m2 > 1440)
        return KZ_ERR_PARSE;
    *out = (struct kz_duty){false, (uint16_t)(h1 * 60 + m1), (uint16_t)(h2 * 60 + m2), 0x1f};
    while (s[n] == ' ')
        n++;
    return s[n] ? parse_days(s + n, &out->days) : KZ_OK;
}

/* ---- local time ------------------------------------------------------------ */

static int32_t offset(const char *tz, int64_t t)
{
    int32_t off = 0;
    if (kz_tz_offset(tz, t, &off) != KZ_OK)
        off = 0; /* the validator refused unknown zones; keep UTC as a last resort */
    return off;
}

/* UTC of a local wall-clock time; a time in a DST gap lands after the gap. */
static int64_t local_to_utc(const char *tz, int64_t l)
{
    int64_t u = l - offset(tz, l);
    return l - offset(tz, u);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/*
 * The first duty moment at or after t and the end of that window.  Looks
 * eight days ahead: every weekly schedule has a window in that range.
 */
static void next_window(const struct kz_command *c, int64_t t, int64_t *start, int64_t *end)
{
    int64_t l = t + offset(c->tz, t), day = floor_div(l, 86400);

    for (int d = -1; d <= 8; d++) {
        int64_t dd = day + d;
        int wd = (int)(((dd + 3) % 7 + 7) % 7); /* 1970-01-01 was a Thursday */
        if (!(c->duty.days & 1u << wd))
            continue;
        int64_t s = local_to_utc(c->tz, dd * 86400 + c->duty.start * 60);
        int64_t e = local_to_utc(c->tz, dd * 86400 + c->duty.end * 60);
        if (t < e) {
            *start = t > s ? t : s;
            *end = e;
            return;
        }
    }
    *start = *end = t; /* unreachable for a valid schedule */
}

/* Spend `work_s` of duty time at c from t; *began is when work started. */
static int64_t work(const struct kz_command *c, int64_t t, int64_t work_s, int64_t *began)
{
    int64_t s, e;

    if (c->duty.always) {
        *began = t;
        return t + work_s;
    }
    next_window(c, t, &s, &e);
    *began = s;
    while (work_s > e - s) {
        work_s -= e - s;
        next_window(c, e, &s, &e);
    }
    return s + work_s;
}

static void local_str(const struct kz_command *c, int64_t t, char *buf, size_t len)
{
    int32_t off = offset(c->tz, t);
    int64_t l = t + off, day = floor_div(l, 86400), sec = l - day * 86400, y;
    unsigned m, d;

    kz_civil_from_days(day, &y, &m, &d);
    snprintf(buf, len, "%s %04d-%02u-%02u %02d:%02d %c%02d:%02d", wd_names[((day + 3) % 7 + 7) % 7],
             (int)y, m, d, (int)(sec / 3600), (int)(sec / 60 % 60), off < 0 ? '-' : '+',
             abs(off) / 3600, abs(off) / 60 % 60);
}

static json_t *utc_json(int64_t t)
{
    char buf[KZ_TIME_STRLEN];
    kz_time_format(t * 1000000, buf);
    return json_string(buf);
}

/* ---- the graph ------------------------------------------------------------- */

struct graph {
    const struct kz_alliance *a;
    unsigned n;
    /* adj[i * n + j]: why i and j may talk (relation type name / forum id), or NULL. */
    const char **adj;
};

static int cmd_index(const struct kz_alliance *a, const char *id)
{
    const struct kz_command *c = kz_alliance_command(a, id);
    return c ? (int)(c - a->commands) : -1;
}

static void link_nodes(struct graph *g, int i, int j, const char *why)
{
    if (i < 0 || j < 0 || i == j)
        return;
    if (!g->adj[(unsigned)i * g->n + (unsigned)j])
        g->adj[(unsigned)i * g->n + (unsigned)j] = g->adj[(unsigned)j * g->n + (unsigned)i] = why;
}

static void graph_build(struct graph *g, const struct kz_alliance *a, int32_t day)
{
    g->a = a;
    g->n = a->n_commands;
    g->adj = kz_xcalloc((size_t)g->n * g->n + 1, sizeof(char *));
    for (unsigned i = 0; i < a->n_relations; i++) {
        const struct kz_relation *r = &a->relations[i];
        if (kz_day_in(r->valid_from, r->valid_to, day))
            link_nodes(g, cmd_index(a, r->from), cmd_index(a, r->to), kz_rel_type_name(r->type));
    }
    for (unsigned i = 0; i < a->n_commands; i++) /* a staff cell or floor talks to its HQ */
        if (a->commands[i].part_of)
            link_nodes(g, (int)i, cmd_index(a, a->commands[i].part_of), "ORGANIC");
    for (unsigned i = 0; i < a->n_forums; i++) {
        const struct kz_forum *f = &a->forums[i];
        if (!kz_day_in(f->valid_from, f->valid_to, day) || strcmp(f->state, "inactive") == 0)
            continue;
        for (unsigned x = 0; x < f->n_members; x++)
            for (unsigned y = x + 1; y < f->n_members; y++)
                link_nodes(g, cmd_index(a, f->members[x]), cmd_index(a, f->members[y]), f->id);
    }
    for (unsigned i = 0; i < g->n; i++) { /* a command that does not exist that day */
        const struct kz_command *c = &a->commands[i];
        if (kz_day_in(c->valid_from, c->valid_to, day))
            continue;
        for (unsigned j = 0; j < g->n; j++)
            g->adj[i * g->n + j] = g->adj[j * g->n + i] = NULL;
    }
}

struct path {
    int node[MAX_HOPS + 1];
    unsigned len; /* nodes */
};

struct paths {
    struct path *v;
    unsigned n;
};

/* Simple paths of exactly `len` nodes from cur to `to`. */
static void dfs(const struct graph *g, struct path *cur, int to, unsigned len, struct paths *out)
{
    int last = cur->node[cur->len - 1];

    if (last == to || cur->len == len) {
        if (last == to && cur->len == len && out->n < MAX_PATHS)
            out->v[out->n++] = *cur;
        return;
    }
    for (unsigned j = 0; j < g->n; j++) {
        bool seen = false;
        if (!g->adj[(unsigned)last * g->n + j])
            continue;
        for (unsigned k = 0; k < cur->len && !seen; k++)
            seen = cur->node[k] == (int)j;
        if (seen)
            continue;
        cur->node[cur->len++] = (int)j;
        dfs(g, cur, to, len, out);
        cur->len--;
    }
}

/*
 * Shortest first, so that the MAX_PATHS bound, when a dense model reaches
 * it, drops the longest routes and never a short one.
 */
static void enumerate(const struct graph *g, int from, int to, struct paths *out)
{
    out->v = kz_xcalloc(MAX_PATHS, sizeof(struct path));
    out->n = 0;
    for (unsigned len = 2; len <= MAX_HOPS + 1 && out->n < MAX_PATHS; len++) {
        struct path cur = {.node = {from}, .len = 1};
        dfs(g, &cur, to, len, out);
    }
}

/* ---- timing ---------------------------------------------------------------- */

static int64_t handling_s(const struct kz_alliance *a, const struct kz_command *c)
{
    return (int64_t)(c->handling_min ? c->handling_min : a->handling_min) * 60;
}

/* Response time of `p` from t0; with `hops` != NULL the timeline is added to it. */
static int64_t simulate(const struct graph *g, const struct path *p, int64_t t0, json_t *hops)
{
    const struct kz_alliance *a = g->a;
    int64_t t = t0, transit = (int64_t)a->transit_min * 60, began;
    char buf[64];

    for (unsigned i = 1; i < p->len; i++) {
        const struct kz_command *c = &a->commands[p->node[i]];
        int64_t arrive = (t += transit);
        t = work(c, t, handling_s(a, c), &began);
        if (!hops)
            continue;
        json_t *h = json_object();
        json_object_set_new(h, "node", json_string(c->id));
        json_object_set_new(
            h, "link", json_string(g->adj[(unsigned)p->node[i - 1] * g->n + (unsigned)p->node[i]]));
        json_object_set_new(h, "tz", json_string(c->tz));
        json_object_set_new(h, "arrive", utc_json(arrive));
        local_str(c, arrive, buf, sizeof(buf));
        json_object_set_new(h, "arrive_local", json_string(buf));
        local_str(c, began, buf, sizeof(buf));
        json_object_set_new(h, "start_local", json_string(buf));
        local_str(c, t, buf, sizeof(buf));
        json_object_set_new(h, "done_local", json_string(buf));
        json_object_set_new(h, "wait_s", json_integer(began - arrive));
        json_object_set_new(h, "handling_s", json_integer(handling_s(a, c)));
        json_array_append_new(hops, h);
    }
    /* The answer: each intermediate relays it back in its own duty hours. */
    for (unsigned i = p->len - 1; i-- > 1;)
        t = work(&a->commands[p->node[i]], t + transit, (int64_t)a->relay_min * 60, &began);
    /* Read at the origin when its next duty window opens. */
    return work(&a->commands[p->node[0]], t + transit, 0, &began) - t0;
}

struct timed {
    unsigned path;
    int64_t resp;
};

static int cmp_timed(const void *x, const void *y)
{
    const struct timed *a = x, *b = y;
    if (a->resp != b->resp)
        return (a->resp > b->resp) - (a->resp < b->resp);
    return (a->path > b->path) - (a->path < b->path);
}

static json_t *route_json(const struct graph *g, const struct path *p, int64_t t0, int64_t resp)
{
    json_t *r = json_object(), *via = json_array(), *hops = json_array();
    char buf[64];

    for (unsigned i = 0; i < p->len; i++)
        json_array_append_new(via, json_string(g->a->commands[p->node[i]].id));
    json_object_set_new(r, "via", via);
    json_object_set_new(r, "response_s", json_integer(resp));
    json_object_set_new(r, "answer", utc_json(t0 + resp));
    local_str(&g->a->commands[p->node[0]], t0 + resp, buf, sizeof(buf));
    json_object_set_new(r, "answer_local", json_string(buf));
    simulate(g, p, t0, hops);
    json_object_set_new(r, "hops", hops);
    return r;
}

static bool path_has(const struct path *p, int node)
{
    for (unsigned i = 0; i < p->len; i++)
        if (p->node[i] == node)
            return true;
    return false;
}

static void set_opt_str(json_t *o, const char *key, const char *s)
{
    if (s)
        json_object_set_new(o, key, json_string(s));
}

int kz_alliance_paths(const struct kz_alliance *a, const char *from, const char *to,
                      const char *via, int64_t t0_s, unsigned max_routes, json_t **out)
{
    int fi = cmd_index(a, from), ti = cmd_index(a, to), vi = via ? cmd_index(a, via) : -1;
    struct graph g;
    struct paths ps;
    char buf[64];

    if (fi < 0 || ti < 0 || fi == ti || (via && vi < 0))
        return fi < 0 || ti < 0 || vi < 0 ? KZ_ERR_NOTFOUND : KZ_ERR_INVAL;
    graph_build(&g, a, kz_day_of_us(t0_s * 1000000));
    enumerate(&g, fi, ti, &ps);
    struct timed *tv = kz_xcalloc(ps.n + 1, sizeof(*tv));
    unsigned nt = 0;
    for (unsigned i = 0; i < ps.n; i++)
        if (!via || path_has(&ps.v[i], vi))
            tv[nt++] = (struct timed){i, simulate(&g, &ps.v[i], t0_s, NULL)};
    qsort(tv, nt, sizeof(*tv), cmp_timed);
    json_t *o = json_object(), *routes = json_array();
    json_object_set_new(o, "from", json_string(from));
    json_object_set_new(o, "to", json_string(to));
    json_object_set_new(o, "start", utc_json(t0_s));
    local_str(&a->commands[fi], t0_s, buf, sizeof(buf));
    json_object_set_new(o, "start_local", json_string(buf));
    set_opt_str(o, "via", via);
    for (unsigned i = 0; i < nt && i < max_routes; i++)
        json_array_append_new(routes, route_json(&g, &ps.v[tv[i].path], t0_s, tv[i].resp));
    json_object_set_new(o, "routes", routes);
    free(tv);
    free(ps.v);
    free(g.adj);
    *out = o;
    return KZ_OK;
}

/* ---- hub-and-spokes versus lattice ------------------------------------------ */

/* Hypothetical direct link (lattice) or a detour through the hub. */
static int64_t pair_time(const struct graph *g, int a, int b, int hub, bool via_hub, int64_t t0)
{
    struct path p = {.node = {a, b}, .len = 2};
    if (via_hub && hub != a && hub != b)
        p = (struct path){.node = {a, hub, b}, .len = 3};
    return simulate(g, &p, t0, NULL);
}

struct stat {
    int64_t sum, worst;
    unsigned n;
};

static void stat_add(struct stat *s, int64_t v)
{
    s->sum += v;
    s->n++;
    s->worst = v > s->worst ? v : s->worst;
}

static json_t *pair_json(const struct graph *g, int a, int b, int hub, int64_t t0)
{
    struct stat st[2] = {{0, 0, 0}, {0, 0, 0}};
    json_t *o = json_object();

    for (int64_t h = 0; h < WEEK_S; h += 3600)
        for (int k = 0; k < 2; k++) {
            stat_add(&st[k], pair_time(g, a, b, hub, k == 0, t0 + h));
            stat_add(&st[k], pair_time(g, b, a, hub, k == 0, t0 + h));
        }
    json_object_set_new(o, "a", json_string(g->a->commands[a].id));
    json_object_set_new(o, "b", json_string(g->a->commands[b].id));
    json_object_set_new(o, "direct_link_in_model",
                        json_boolean(g->adj[(unsigned)a * g->n + (unsigned)b] != NULL));
    json_object_set_new(o, "at_start_hub_s", json_integer(pair_time(g, a, b, hub, true, t0)));
    json_object_set_new(o, "at_start_lattice_s", json_integer(pair_time(g, a, b, hub, false, t0)));
    json_object_set_new(o, "hub_mean_s", json_integer(st[0].sum / (int64_t)st[0].n));
    json_object_set_new(o, "hub_worst_s", json_integer(st[0].worst));
    json_object_set_new(o, "lattice_mean_s", json_integer(st[1].sum / (int64_t)st[1].n));
    json_object_set_new(o, "lattice_worst_s", json_integer(st[1].worst));
    return o;
}

static void totals(json_t *o, json_t *pairs)
{
    static const char *const keys[] = {"hub_mean_s", "hub_worst_s", "lattice_mean_s",
                                       "lattice_worst_s"};
    size_t n = json_array_size(pairs);

    for (unsigned k = 0; k < 4; k++) {
        int64_t sum = 0, worst = 0;
        for (size_t i = 0; i < n; i++) {
            int64_t v = json_integer_value(json_object_get(json_array_get(pairs, i), keys[k]));
            sum += v;
            worst = v > worst ? v : worst;
        }
        json_object_set_new(o, keys[k], json_integer(k % 2 ? worst : n ? sum / (int64_t)n : 0));
    }
}

static const char *nation_lead(const struct kz_nation *n)
{
    return n->lead ? n->lead : n->top;
}

int kz_alliance_compare_topology(const struct kz_alliance *a, const char *hub, int64_t t0_s,
                                 json_t **out)
{
    struct graph g;
    int hi;

    if (!hub)
        hub = a->n_nations ? a->nations[0].top : NULL;
    if ((hi = hub ? cmd_index(a, hub) : -1) < 0)
        return KZ_ERR_NOTFOUND;
    graph_build(&g, a, kz_day_of_us(t0_s * 1000000));
    json_t *o = json_object(), *pairs = json_array();
    for (unsigned i = 0; i < a->n_nations; i++)
        for (unsigned j = i + 1; j < a->n_nations; j++) {
            int x = cmd_index(a, nation_lead(&a->nations[i]));
            int y = cmd_index(a, nation_lead(&a->nations[j]));
            if (x >= 0 && y >= 0 && x != y)
                json_array_append_new(pairs, pair_json(&g, x, y, hi, t0_s));
        }
    json_object_set_new(o, "hub", json_string(hub));
    json_object_set_new(o, "start", utc_json(t0_s));
    json_object_set_new(o, "samples", json_string("both directions, every hour for a week"));
    totals(o, pairs);
    json_object_set_new(o, "pairs", pairs);
    free(g.adj);
    *out = o;
    return KZ_OK;
}
