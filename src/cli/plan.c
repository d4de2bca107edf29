/*
 * plan.c - `kizuna plan`: a small HTTP client of /api/v1/plans (joint plans
 * and exercises: create, edit, items, approvals, prior consultation,
 * stages, audit, iCalendar).  The server decides who may do what; the
 * identity is the one of the HTTP input the client connects to.  Options
 * are table-driven: each subcommand names the options it takes and refuses
 * the others.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/plan.h"
#include "plan/ics.h"

#define DEFAULT_HTTP "127.0.0.1:8080"

/* The options, in the order of long_opts[] below (opt_name() relies on it). */
enum opt {
    O_TITLE,
    O_KIND,
    O_LEGAL,
    O_LEAD,
    O_PARTS,
    O_START,
    O_END,
    O_LABEL,
    O_FLAG,
    O_NOFLAG,
    O_TIME,
    O_LAT,
    O_LON,
    O_PLACE,
    O_UNITS,
    O_DESC,
    O_REV,
    O_REASON,
    O_STATE,
    O_TO,
    O_OUT,
    O_FROM,
    O_LOCAL,
    O_JSON,
    O__COUNT
};
#define BIT(o) (1u << (o))
#define OPT_BASE 256

static const struct option long_opts[] = {
    {"title", required_argument, NULL, OPT_BASE + O_TITLE},
    {"kind", required_argument, NULL, OPT_BASE + O_KIND},
    {"legal-basis", required_argument, NULL, OPT_BASE + O_LEGAL},
    {"lead", required_argument, NULL, OPT_BASE + O_LEAD},
    {"participants", required_argument, NULL, OPT_BASE + O_PARTS},
    {"start", required_argument, NULL, OPT_BASE + O_START},
    {"end", required_argument, NULL, OPT_BASE + O_END},
    {"label", required_argument, NULL, OPT_BASE + O_LABEL},
    {"flag", required_argument, NULL, OPT_BASE + O_FLAG},
    {"no-flag", required_argument, NULL, OPT_BASE + O_NOFLAG},
    {"time", required_argument, NULL, OPT_BASE + O_TIME},
    {"lat", required_argument, NULL, OPT_BASE + O_LAT},
    {"lon", required_argument, NULL, OPT_BASE + O_LON},
    {"place", required_argument, NULL, OPT_BASE + O_PLACE},
    {"units", required_argument, NULL, OPT_BASE + O_UNITS},
    {"description", required_argument, NULL, OPT_BASE + O_DESC},
    {"revision", required_argument, NULL, OPT_BASE + O_REV},
    {"reason", required_argument, NULL, OPT_BASE + O_REASON},
    {"state", required_argument, NULL, OPT_BASE + O_STATE},
    {"to", required_argument, NULL, OPT_BASE + O_TO},
    {"output", required_argument, NULL, OPT_BASE + O_OUT},
    {"from", required_argument, NULL, OPT_BASE + O_FROM},
    {"local", no_argument, NULL, OPT_BASE + O_LOCAL},
    {"json", no_argument, NULL, OPT_BASE + O_JSON},
    {"server", required_argument, NULL, 's'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

struct plan_opts {
    const char *v[O__COUNT]; /* point into argv */
    unsigned seen;           /* BIT(opt) of every option given */
    json_t *flags;           /* {"name": true|false} of --flag / --no-flag */
};

struct sub {
    const char *name;
    int (*run)(struct kz__plan_ctx *c, const char *id, const struct plan_opts *o);
    unsigned allowed;       /* besides -s and --help */
    int min_args, max_args; /* after the subcommand's name: the plan id */
    const char *usage;
};

static const struct sub *find_sub(const char *name);

/* ---- usage ------------------------------------------------------------------ */

static const char common_help[] =
    "\n"
    "  -s, --server HOST:PORT   the server's HTTP input (default " DEFAULT_HTTP ")\n"
    "  --json                   print the server's JSON answer instead of text (not ics)\n"
    "\n"
    "Times are ISO 8601 UTC (2026-10-23T00:00:00Z).  What the server answers is what\n"
    "the identity of its HTTP input may see.  Exit 0 on success, 1 when the server\n"
    "refuses (a 409 prints its error and rule) or cannot be reached, 2 on usage errors.\n"
    "docs/plans.md walks through an example.\n";

static void usage_all(FILE *out);

static void usage(FILE *out, const struct sub *s)
{
    if (!s) {
        usage_all(out);
        return;
    }
    fprintf(out, "usage: kizuna plan %s\n%s", s->usage, common_help);
}

static void print_json(const json_t *j)
{
    json_dumpf(j, stdout, JSON_INDENT(2));
    fputc('\n', stdout);
}

/* Print a plan answer: raw JSON, or the summary line after `verb`. */
static int done_plan(const struct kz__plan_ctx *c, int code, json_t *plan, const char *verb)
{
    if (code == 0 && c->json)
        print_json(plan);
    else if (code == 0) {
        kz__plan_scrub(plan);
        kz__plan_print_summary(stdout, plan, verb);
    }
    json_decref(plan);
    return code;
}

/* POST/PATCH `body` to the plan's `suffix` and print the plan that comes back. */
static int change(const struct kz__plan_ctx *c, const char *method, const char *id,
                  const char *suffix, json_t *body, const char *verb)
{
    char *path = kz__plan_path(id, suffix);
    json_t *plan;
    int code = kz__plan_call(c, method, path, body, &plan);

    free(path);
    return done_plan(c, code, plan, verb);
}

/* ---- option values -------------------------------------------------------- */

static const char *opt_name(enum opt o)
{
    return long_opts[o].name;
}

/* Every option of `mask` given, else false after saying which is missing. */
static bool require(const struct kz__plan_ctx *c, const struct plan_opts *o, unsigned mask)
{
    for (int i = 0; i < O__COUNT; i++) {
        if ((mask & BIT(i)) && !(o->seen & BIT(i))) {
            fprintf(stderr, "kizuna plan %s: --%s is required\n", c->sub, opt_name(i));
            return false;
        }
    }
    return true;
}

/* The time options given are ISO 8601 UTC, else false after saying which is not. */
static bool times_ok(const struct kz__plan_ctx *c, const struct plan_opts *o)
{
    static const enum opt times[] = {O_START, O_END, O_TIME};
    int64_t us;

    for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
        const char *v = o->v[times[i]];
        if (v && kz_time_parse(v, strlen(v), &us) != KZ_OK) {
            fprintf(stderr, "kizuna plan %s: --%s '%s' is not an ISO 8601 UTC time\n", c->sub,
                    opt_name(times[i]), v);
            return false;
        }
    }
    return true;
}

static bool number(const struct kz__plan_ctx *c, enum opt which, const char *v, double lim,
                   double *out)
{
    char *end;

    errno = 0;
    *out = strtod(v, &end);
    if (errno == 0 && end != v && *end == '\0' && *out >= -lim && *out <= lim)
        return true;
    fprintf(stderr, "kizuna plan %s: --%s '%s' must be a number in -%g..%g\n", c->sub,
            opt_name(which), v, lim, lim);
    return false;
}

static bool revision(const struct kz__plan_ctx *c, const char *v, long long *out)
{
    char *end;

    errno = 0;
    *out = strtoll(v, &end, 10);
    if (errno == 0 && end != v && *end == '\0' && *out >= 1)
        return true;
    fprintf(stderr, "kizuna plan %s: --revision '%s' must be a positive integer\n", c->sub, v);
    return false;
}

/* "A, B,C" as a JSON array of strings, blanks around each trimmed, empty ones dropped. */
static json_t *list_of(const char *csv)
{
    json_t *arr = json_array();
    unsigned n;
    char **v = kz_strv_split(csv, &n);

    for (unsigned i = 0; i < n; i++) {
        const char *s = v[i] + strspn(v[i], " \t");
        size_t len = strlen(s);
        while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
            len--;
        if (len > 0)
            json_array_append_new(arr, json_stringn(s, len));
    }
    kz_strv_free(v, n);
    return arr;
}

static void set_opt(json_t *body, const char *key, const struct plan_opts *o, enum opt which)
{
    if (o->v[which])
        json_object_set_new(body, key, json_string(o->v[which]));
}

/* The plan fields given (POST and PATCH take the same ones). */
static json_t *plan_fields(const struct plan_opts *o)
{
    json_t *b = json_object();

    set_opt(b, "title", o, O_TITLE);
    set_opt(b, "kind", o, O_KIND);
    set_opt(b, "legal_basis", o, O_LEGAL);
    set_opt(b, "lead", o, O_LEAD);
    if (o->v[O_PARTS])
        json_object_set_new(b, "participants", list_of(o->v[O_PARTS]));
    set_opt(b, "start", o, O_START);
    set_opt(b, "end", o, O_END);
    set_opt(b, "label", o, O_LABEL);
    return b;
}

/* ---- subcommands ---------------------------------------------------------- */

static int run_create(struct kz__plan_ctx *c, const char *id, const struct plan_opts *o)
{
    static const unsigned need = BIT(O_TITLE) | BIT(O_KIND) | BIT(O_LEGAL) | BIT(O_LEAD) |
                                 BIT(O_PARTS) | BIT(O_START) | BIT(O_END);
    json_t *body, *plan;
    int code;

    KZ_UNUSED(id);
    if (!require(c, o, need) || !times_ok(c, o))
        return 2;
    body = plan_fields(o);
    json_object_set(body, "flags", o->flags);
    code = kz__plan_call(c, "POST", "/api/v1/plans", body, &plan);
    return done_plan(c, code, plan, "created");
}

static int get_plan(const struct kz__plan_ctx *c, const char *id, json_t **plan)
{
    char *path = kz__plan_path(id, "");
    int code = kz__plan_call(c, "GET", path, NULL, plan);

    free(path);
    return code;
}

/* The plan's flags with --flag/--no-flag applied: PATCH replaces the whole object. */
static int merged_flags(const struct kz__plan_ctx *c, const char *id, const json_t *changes,
                        json_t **out)
{
    json_t *plan;
    int code = get_plan(c, id, &plan);

    if (code != 0)
        return code;
    *out = json_deep_copy(json_object_get(plan, "flags"));
    if (!json_is_object(*out)) {
        json_decref(*out);
        *out = json_object();
    }
    json_object_update(*out, (json_t *)changes);
    json_decref(plan);
    return 0;
}

static int run_edit(struct kz__plan_ctx *c, const char *id, const struct plan_opts *o)
{
    json_t *body, *flags;
    int code;

    if (!times_ok(c, o))
        return 2;
    body = plan_fields(o);
    if (json_object_size(o->flags) > 0) {
        if ((code = merged_flags(c, id, o->flags, &flags)) != 0) {
            json_decref(body);
            return code;
        }
        json_object_set_new(body, "flags", flags);
    }
    if (json_object_size(body) == 0) {
        fprintf(stderr, "kizuna plan edit: nothing to change\n");
        json_decref(body);
        return 2;
    }
    return change(c, "PATCH", id, "", body, "edited");
}

/* --lat and --lon together, each in range, into body. */
static bool item_position(const struct kz__plan_ctx *c, const struct plan_opts *o, json_t *body)
{
    double lat, lon;

    if (!o->v[O_LAT] && !o->v[O_LON])
        return true;
    if (!o->v[O_LAT] || !o->v[O_LON]) {
        fprintf(stderr, "kizuna plan item: --lat and --lon go together\n");
        return false;
    }
    if (!number(c, O_LAT, o->v[O_LAT], 90, &lat) || !number(c, O_LON, o->v[O_LON], 180, &lon))
        return false;
    json_object_set_new(body, "lat", json_real(lat));
    json_object_set_new(body, "lon", json_real(lon));
    return true;
}

static int run_item(struct kz__plan_ctx *c, const char *id, const struct plan_opts *o)
{
    json_t *body;

    if (!require(c, o, BIT(O_TIME) | BIT(O_DESC)) || !times_ok(c, o))
        return 2;
    body = json_object();
    set_opt(body, "time", o, O_TIME);
    if (!item_position(c, o, body)) {
        json_decref(body);
        return 2;
    }
    set_opt(body, "place", o, O_PLACE);
    json_object_set_new(body, "units", list_of(o->v[O_UNITS] ? o->v[O_UNITS] : ""));
    set_opt(body, "description", o, O_DESC);
    set_opt(body, "label", o, O_LABEL);
    return change(c, "POST", id, "/items", body, "item added to");
}

/* approve and reject: the revision decided on is --revision or the plan's current one. */
static int decide(struct kz__plan_ctx *c, const char *id, const struct plan_opts *o,
                  const char *decision)
{
    long long rev = 0;
    json_t *body, *plan;
    int code;

    if (o->v[O_REV] && !revision(c, o->v[O_REV], &rev))
        return 2;
    if (!o->v[O_REV]) {
        if ((code = get_plan(c, id, &plan)) != 0)
            return code;
        rev = (long long)json_integer_value(json_object_get(plan, "revision"));
        json_decref(plan);
    }
    body = json_object();
    json_object_set_new(body, "revision", json_integer(rev));
    json_object_set_new(body, "decision", json_string(decision));
    set_opt(body, "reason", o, O_REASON);
    return change(c, "POST", id, "/approvals", body,
                  strcmp(decision, "approve") == 0 ? "approved" : "rejected");
}

static int run_approve(struct kz__plan_ctx *c, const char *id, const struct plan_opts *o)
{
    return decide(c, id, o, "approve");
}

static int run_reject(struct kz__plan_ctx *c, const char *id, const struct plan_opts *o)
{
    return require(c, o, BIT(O_REASON)) ? decide(c, id, o, "reject") : 2;
}

static int run_consult(struct kz__plan_ctx *c, const char *id, const struct plan_opts *o)
{
    static const char *const states[] = {"requested", "agreed", "declined"};
    const char *st = o->v[O_STATE];
    json_t *body;
    size_t i;

    if (!require(c, o, BIT(O_STATE)))
        return 2;
    for (i = 0; i < 3 && strcmp(st, states[i]) != 0; i++)
        ;
    if (i == 3) {
        fprintf(stderr, "kizuna plan consult: --state is requested, agreed or declined\n");
        return 2;
    }
    body = json_object();
    json_object_set_new(body, "state", json_string(st));
    set_opt(body, "reason", o, O_REASON);
    return change(c, "POST", id, "/consultation", body, "consultation recorded for");
}

static int run_stage(struct kz__plan_ctx *c, const char *id, const struct plan_opts *o)
{
    json_t *body;

    if (!require(c, o, BIT(O_TO)))
        return 2;
    body = json_object();
    json_object_set_new(body, "to", json_string(o->v[O_TO]));
    return change(c, "POST", id, "/stage", body, "stage changed for");
}

static int run_show(struct kz__plan_ctx *c, const char *id, const struct plan_opts *o)
{
    json_t *plan;
    int code = get_plan(c, id, &plan);

    if (code == 0 && c->json)
        print_json(plan);
    else if (code == 0) {
        kz__plan_scrub(plan);
        kz__plan_print(stdout, plan, (o->seen & BIT(O_LOCAL)) != 0);
    }
    json_decref(plan);
    return code;
}

static int run_list(struct kz__plan_ctx *c, const char *id, const struct plan_opts *o)
{
    json_t *answer;
    int code = kz__plan_call(c, "GET", "/api/v1/plans", NULL, &answer);

    KZ_UNUSED(id);
    KZ_UNUSED(o);
    if (code == 0 && c->json)
        print_json(answer);
    else if (code == 0) {
        kz__plan_scrub(answer);
        kz__plan_print_list(stdout, answer);
    }
    json_decref(answer);
    return code;
}

/* Exit 1 as well when the server says the trail does not verify. */
static int run_audit(struct kz__plan_ctx *c, const char *id, const struct plan_opts *o)
{
    char *path = kz__plan_path(id, "/audit");
    json_t *answer;
    int code = kz__plan_call(c, "GET", path, NULL, &answer);

    KZ_UNUSED(o);
    free(path);
    if (code == 0 && c->json) {
        print_json(answer);
        code = json_is_true(json_object_get(answer, "verified")) ? 0 : 1;
    } else if (code == 0) {
        kz__plan_scrub(answer);
        code = kz__plan_print_audit(stdout, answer) ? 0 : 1;
    }
    json_decref(answer);
    return code;
}

/* stdout for NULL or "-", else FILE replaced atomically. */
static int write_out(const char *file, const char *data, size_t len)
{
    char err[512];

    if (!file || strcmp(file, "-") == 0)
        return fwrite(data, 1, len, stdout) == len && fflush(stdout) == 0 ? 0 : 1;
    if (kz_write_file(file, data, len, 0644, err, sizeof(err)) == KZ_OK)
        return 0;
    fprintf(stderr, "kizuna plan ics: %s\n", err);
    return 1;
}

/* The calendar of a plan object saved with `plan show ID --json` (no server). */
static int ics_local(const char *file, const char *out)
{
    struct kz_sbuf sb = KZ_SBUF_INIT;
    json_error_t e;
    json_t *plan = strcmp(file, "-") == 0 ? json_loadf(stdin, 0, &e) : json_load_file(file, 0, &e);
    int code = 1;

    if (!plan)
        fprintf(stderr, "kizuna plan ics: %s: %s (line %d)\n", file, e.text, e.line);
    else if (kz_plan_ics(plan, &sb) != KZ_OK)
        fprintf(stderr,
                "kizuna plan ics: %s: not a plan (id, title, start, end and item times "
                "are needed)\n",
                file);
    else
        code = write_out(out, sb.buf, sb.len);
    json_decref(plan);
    kz_sbuf_release(&sb);
    return code;
}

static int run_ics(struct kz__plan_ctx *c, const char *id, const struct plan_opts *o)
{
    char *path;
    struct kz_http_reply r = {0};
    int code = 1;

    if (!id == !o->v[O_FROM]) {
        fprintf(stderr, "kizuna plan ics: give either ID or --from FILE\n");
        usage(stderr, find_sub("ics"));
        return 2;
    }
    if (!id)
        return ics_local(o->v[O_FROM], o->v[O_OUT]);
    path = kz__plan_path(id, ".ics");
    if (kz__plan_http(c, "GET", path, NULL, &r) == KZ_OK) {
        if (r.status / 100 != 2)
            kz__plan_refusal(c, &r);
        else
            code = write_out(o->v[O_OUT], r.body.buf ? r.body.buf : "", r.body.len);
    }
    kz_http_reply_release(&r);
    free(path);
    return code;
}

/* ---- the table and the entry point ------------------------------------------ */

#define J BIT(O_JSON)
#define PLAN_FIELDS                                                                                \
    (BIT(O_TITLE) | BIT(O_KIND) | BIT(O_LEGAL) | BIT(O_LEAD) | BIT(O_PARTS) | BIT(O_START) |       \
     BIT(O_END) | BIT(O_LABEL) | BIT(O_FLAG))

static const struct sub subs[] = {
    {"create", run_create, PLAN_FIELDS | J, 0, 0,
     "create --title T --kind K --legal-basis B --lead CMD --participants A,B\n"
     "                          --start ISO --end ISO [--label L] [--flag NAME]..."},
    {"list", run_list, J, 0, 0, "list"},
    {"show", run_show, BIT(O_LOCAL) | J, 1, 1, "show ID [--local] [--json]"},
    {"edit", run_edit, PLAN_FIELDS | BIT(O_NOFLAG) | J, 1, 1,
     "edit ID [--title T] [--kind K] [--legal-basis B] [--lead CMD] [--start ISO]\n"
     "                        [--end ISO] [--label L] [--participants A,B]\n"
     "                        [--flag NAME | --no-flag NAME]..."},
    {"item", run_item,
     BIT(O_TIME) | BIT(O_LAT) | BIT(O_LON) | BIT(O_PLACE) | BIT(O_UNITS) | BIT(O_DESC) |
         BIT(O_LABEL) | J,
     1, 1,
     "item ID --time ISO [--lat X --lon Y] [--place P] [--units A,B]\n"
     "                        --description D [--label L]"},
    {"approve", run_approve, BIT(O_REV) | BIT(O_REASON) | J, 1, 1,
     "approve ID [--revision N] [--reason R]"},
    {"reject", run_reject, BIT(O_REV) | BIT(O_REASON) | J, 1, 1,
     "reject ID --reason R [--revision N]"},
    {"consult", run_consult, BIT(O_STATE) | BIT(O_REASON) | J, 1, 1,
     "consult ID --state requested|agreed|declined [--reason R]"},
    {"stage", run_stage, BIT(O_TO) | J, 1, 1, "stage ID --to STAGE"},
    {"audit", run_audit, J, 1, 1, "audit ID"},
    {"ics", run_ics, BIT(O_OUT) | BIT(O_FROM), 0, 1,
     "ics ID [-o FILE]\n"
     "       kizuna plan ics --from PLAN.json [-o FILE]"},
};

static const struct sub *find_sub(const char *name)
{
    for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
        if (strcmp(subs[i].name, name) == 0)
            return &subs[i];
    return NULL;
}

static void usage_all(FILE *out)
{
    for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
        fprintf(out, "%s kizuna plan %s\n", i ? "      " : "usage:", subs[i].usage);
    fprintf(out, "%s", common_help);
    fprintf(out, "\nStages, one step forward at a time: concept initial_planning main_planning\n"
                 "final_planning execution assessment closed.  Flags: major_deployment_change,\n"
                 "major_equipment_change, combat_from_japan.  approve and reject decide on\n"
                 "--revision, by default the plan's current one.  show --local prints each item\n"
                 "in every participant's local time.  ics --from writes the calendar of a plan\n"
                 "saved with `plan show ID --json`, without a server.\n");
}

struct parsed {
    const char *server;
    bool help, bad;
};

static void take_opt(int ch, struct plan_opts *o, struct parsed *p)
{
    if (ch == 's') {
        p->server = optarg;
    } else if (ch == 'h') {
        p->help = true;
    } else if (ch == 'o' || (ch >= OPT_BASE && ch < OPT_BASE + O__COUNT)) {
        enum opt which = ch == 'o' ? O_OUT : (enum opt)(ch - OPT_BASE);
        o->seen |= BIT(which);
        o->v[which] = optarg;
        if (which == O_FLAG || which == O_NOFLAG)
            json_object_set_new(o->flags, optarg, json_boolean(which == O_FLAG));
    } else {
        p->bad = true; /* getopt said why */
    }
}

/* What the options and arguments ask for is valid for `s`: 0, or 2 after saying why. */
static int check_usage(const struct sub *s, const struct plan_opts *o, int nargs)
{
    for (int i = 0; i < O__COUNT; i++) {
        if ((o->seen & BIT(i)) && !(s->allowed & BIT(i))) {
            fprintf(stderr, "kizuna plan %s: --%s does not apply\n", s->name, opt_name(i));
            usage(stderr, s);
            return 2;
        }
    }
    if (nargs < s->min_args || nargs > s->max_args) {
        usage(stderr, s);
        return 2;
    }
    return 0;
}

static int dispatch(int argc, char **argv, struct plan_opts *o, const struct parsed *p)
{
    const struct sub *s = optind < argc ? find_sub(argv[optind]) : NULL;
    struct kz__plan_ctx c = {.json = (o->seen & BIT(O_JSON)) != 0};
    int code;

    if (p->help || p->bad || !s) {
        if (!p->help && !p->bad && optind < argc)
            fprintf(stderr, "kizuna plan: unknown command '%s'\n", argv[optind]);
        usage(p->help ? stdout : stderr, s);
        return p->help ? 0 : 2;
    }
    if ((code = check_usage(s, o, argc - optind - 1)) != 0)
        return code;
    if (kz__cli_parse_server(p->server, &c.srv) != KZ_OK) {
        fprintf(stderr, "kizuna plan %s: bad server '%s' (HOST:PORT)\n", s->name, p->server);
        return 2;
    }
    c.sub = s->name;
    kz__cli_signals();
    return s->run(&c, optind + 1 < argc ? argv[optind + 1] : NULL, o);
}

int kz_cmd_plan(int argc, char **argv)
{
    struct plan_opts o = {.flags = json_object()};
    struct parsed p = {.server = DEFAULT_HTTP};
    int ch, code;

    optind = 1;
    while ((ch = getopt_long(argc, argv, "s:ho:", long_opts, NULL)) != -1)
        take_opt(ch, &o, &p);
    code = dispatch(argc, argv, &o, &p);
    json_decref(o.flags);
    return code;
}
