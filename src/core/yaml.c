/*
 * yaml.c - the table-driven YAML loader (see yaml.h): libyaml's document API
 * keeps the line and column of every node, the schema's flat rows say what
 * each key is.  Printing uses libyaml's emitter, so quoting is always right.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/yaml.h"

#define PATH_MAX_LEN 160
#define FILE_MAX_BYTES (16u << 20)

struct kz_yaml {
    const struct kz_yaml_schema *s;
    const struct kz_yaml_opts *o;
    yaml_document_t doc;
    unsigned char *visited; /* per node: walked already (an alias) */
    size_t n_nodes;
    unsigned problems;
};

static void *at(const void *base, size_t off)
{
    return (char *)(uintptr_t)base + off;
}

/* True when `path` names a key directly inside the mapping at `prefix`. */
static bool is_child(const char *path, const char *prefix)
{
    size_t pl = strlen(prefix);

    if (pl) {
        if (strncmp(path, prefix, pl) != 0 || path[pl] != '.')
            return false;
        path += pl + 1;
    }
    return strchr(path, '.') == NULL;
}

static const char *last_part(const char *path)
{
    const char *dot = strrchr(path, '.');
    return dot ? dot + 1 : path;
}

static const struct kz_yaml_row *find_row(const struct kz_yaml_schema *s, const char *path)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->rows[i].path, path) == 0)
            return &s->rows[i];
    return NULL;
}

/* ---- problems and nodes ---------------------------------------------- */

static void report_at(struct kz_yaml *y, int line, int col, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

static void report_at(struct kz_yaml *y, int line, int col, const char *fmt, va_list ap)
{
    char msg[512];

    vsnprintf(msg, sizeof(msg), fmt, ap);
    y->problems++;
    y->o->report(y->o->ud, line, col, msg);
}

void kz_yaml_report(struct kz_yaml *y, const yaml_node_t *n, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    report_at(y, n ? (int)n->start_mark.line + 1 : 1, n ? (int)n->start_mark.column + 1 : 0, fmt,
              ap);
    va_end(ap);
}

const yaml_node_t *kz_yaml_node(struct kz_yaml *y, yaml_node_item_t item)
{
    const yaml_node_t *n = yaml_document_get_node(&y->doc, item);

    if (!n || item < 1 || (size_t)item > y->n_nodes)
        return NULL;
    if (y->visited[item - 1]) {
        kz_yaml_report(y, n, "aliases are not supported");
        return NULL;
    }
    y->visited[item - 1] = 1;
    return n;
}

const char *kz_yaml_scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

bool kz_yaml_strv(struct kz_yaml *y, const yaml_node_t *n, const char *what, char ***v,
                  unsigned *count)
{
    if (n->type != YAML_SEQUENCE_NODE) {
        kz_yaml_report(y, n, "%s must be a list", what);
        return false;
    }
    size_t len = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    *v = kz_xcalloc(len ? len : 1, sizeof(char *));
    *count = 0;
    for (size_t i = 0; i < len; i++) {
        const yaml_node_t *c = kz_yaml_node(y, n->data.sequence.items.start[i]);
        const char *s = kz_yaml_scalar(c);
        if (s)
            (*v)[(*count)++] = kz_xstrdup(s);
        else if (c)
            kz_yaml_report(y, c, "%s entries must be strings", what);
    }
    return true;
}

void kz_yaml_strv_free(char **v, unsigned count)
{
    for (unsigned i = 0; v && i < count; i++)
        free(v[i]);
    free(v);
}

/* ---- scalars ---------------------------------------------------------- */

static bool parse_u64(const char *s, uint64_t *out)
{
    char *end;

    if (*s < '0' || *s > '9')
        return false;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

static int name_index(const char *const *names, const char *s)
{
    for (int i = 0; names[i]; i++)
        if (strcmp(names[i], s) == 0)
            return i;
    return -1;
}

static int names_count(const char *const *names)
{
    int n = 0;
    while (names[n])
        n++;
    return n;
}

/* "a, b or c" */
static void list_names(const char *const *names, char *buf, size_t len)
{
    size_t used = 0;

    buf[0] = '\0';
    for (int i = 0; names[i] && used < len; i++) {
        const char *sep = i == 0 ? "" : names[i + 1] ? ", " : " or ";
        int n = snprintf(buf + used, len - used, "%s%s", sep, names[i]);
        used += n > 0 ? (size_t)n : 0;
    }
}

static bool bad_name(const struct kz_yaml_row *r, const char *s, char *why, size_t len)
{
    char all[200];

    list_names(r->names, all, sizeof(all));
    snprintf(why, len, "unknown %s '%s': %s must be %s", last_part(r->path), s, r->path, all);
    return false;
}

static bool set_number(const struct kz_yaml_row *r, const char *s, void *field, char *why,
                       size_t len)
{
    uint64_t v, max = r->max ? r->max : r->type == KZ_YAML_UINT ? UINT_MAX : UINT64_MAX;

    if (!parse_u64(s, &v) || v < r->min || v > max) {
        snprintf(why, len, "%s must be a whole number in %llu..%llu, not '%s'", r->path,
                 (unsigned long long)r->min, (unsigned long long)max, s);
        return false;
    }
    if (r->type == KZ_YAML_UINT)
        *(unsigned *)field = (unsigned)v;
    else
        *(uint64_t *)field = v;
    return true;
}

static bool set_string(const struct kz_yaml_row *r, const char *s, void *field, char *why,
                       size_t len)
{
    size_t n = strlen(s);

    if (r->names && name_index(r->names, s) < 0)
        return bad_name(r, s, why, len);
    if (n < r->min || (r->max && n > r->max)) {
        snprintf(why, len, "%s must be %llu..%llu characters long", r->path,
                 (unsigned long long)r->min, (unsigned long long)r->max);
        return false;
    }
    free(*(char **)field);
    *(char **)field = kz_xstrdup(s);
    return true;
}

/* Set a scalar row from text; false with the reason in `why`. */
static bool set_scalar(const struct kz_yaml_row *r, const char *s, void *base, char *why,
                       size_t len)
{
    void *field = at(base, r->off);
    char *end;
    int idx;

    switch (r->type) {
    case KZ_YAML_STR:
        return set_string(r, s, field, why, len);
    case KZ_YAML_UINT:
    case KZ_YAML_U64:
        return set_number(r, s, field, why, len);
    case KZ_YAML_DOUBLE:
        *(double *)field = strtod(s, &end);
        if (*s == '\0' || *end)
            snprintf(why, len, "%s must be a number, not '%s'", r->path, s);
        return *s != '\0' && !*end;
    case KZ_YAML_ENUM:
        if ((idx = name_index(r->names, s)) < 0)
            return bad_name(r, s, why, len);
        *(int *)field = idx;
        return true;
    default: /* not a scalar row: callers check */
        return false;
    }
}

static bool is_scalar_type(enum kz_yaml_type t)
{
    return t <= KZ_YAML_ENUM;
}

/* ---- defaults ---------------------------------------------------------- */

static void prepare(const struct kz_yaml_schema *s, const char *prefix, void *base);

static void *new_object(const struct kz_yaml_schema *s, const struct kz_yaml_row *r, int line)
{
    void *obj = kz_xcalloc(1, r->size);
    if (r->init)
        r->init(obj, line);
    prepare(s, r->path, obj);
    return obj;
}

/* Defaults of the keys directly in the object at `prefix`. */
static void prepare(const struct kz_yaml_schema *s, const char *prefix, void *base)
{
    char why[256];

    for (size_t i = 0; i < s->n; i++) {
        const struct kz_yaml_row *r = &s->rows[i];
        if (!is_child(r->path, prefix))
            continue;
        if (is_scalar_type(r->type) && r->def) {
            bool ok = set_scalar(r, r->def, base, why, sizeof(why));
            KZ_ASSERT(ok); /* a default outside its own row's range is a bug */
        } else if (r->type == KZ_YAML_MAP && r->size == 0) {
            prepare(s, r->path, base);
        } else if (r->type == KZ_YAML_MAP && (r->flags & KZ_YAML_ALWAYS)) {
            *(void **)at(base, r->off) = new_object(s, r, 0);
        }
    }
}

/* ---- loading ------------------------------------------------------------ */

static void load_map(struct kz_yaml *y, const yaml_node_t *n, const char *prefix, void *base);

static void load_list(struct kz_yaml *y, const struct kz_yaml_row *r, const yaml_node_t *n,
                      void *base)
{
    if (n->type != YAML_SEQUENCE_NODE) {
        kz_yaml_report(y, n, "%s must be a list", r->path);
        return;
    }
    size_t len = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
    if (r->max && len > r->max) {
        kz_yaml_report(y, n, "%s: more than %llu entries", r->path, (unsigned long long)r->max);
        return;
    }
    char *arr = kz_xcalloc(len ? len : 1, r->size);
    *(void **)at(base, r->off) = arr;
    *(unsigned *)at(base, r->count_off) = (unsigned)len;
    for (size_t i = 0; i < len; i++) {
        const yaml_node_t *item = kz_yaml_node(y, n->data.sequence.items.start[i]);
        void *entry = arr + i * r->size;
        if (r->init)
            r->init(entry, item ? (int)item->start_mark.line + 1 : 0);
        prepare(y->s, r->path, entry);
        if (item)
            load_map(y, item, r->path, entry);
    }
}

static void load_value(struct kz_yaml *y, const struct kz_yaml_row *r, const yaml_node_t *n,
                       void *base)
{
    const char *s = kz_yaml_scalar(n);
    char why[256];
    void **slot = at(base, r->off);

    if (is_scalar_type(r->type)) {
        if (!s)
            kz_yaml_report(y, n, "%s must be a scalar", r->path);
        else if (!set_scalar(r, s, base, why, sizeof(why)))
            kz_yaml_report(y, n, "%s", why);
    } else if (r->type == KZ_YAML_STRV) {
        kz_yaml_strv_free(*slot, *(unsigned *)at(base, r->count_off));
        *slot = NULL;
        kz_yaml_strv(y, n, r->path, (char ***)slot, at(base, r->count_off));
    } else if (r->type == KZ_YAML_MAP && r->size == 0) {
        load_map(y, n, r->path, base);
    } else if (r->type == KZ_YAML_MAP) {
        if (!*slot)
            *slot = new_object(y->s, r, (int)n->start_mark.line + 1);
        load_map(y, n, r->path, *slot);
    } else if (r->type == KZ_YAML_LIST) {
        load_list(y, r, n, base);
    } else {
        r->ops->load(y, n, base, r);
    }
}

/* The row of `key` inside `prefix`, or NULL. */
static const struct kz_yaml_row *key_row(const struct kz_yaml_schema *s, const char *prefix,
                                         const char *key)
{
    char path[PATH_MAX_LEN];
    int n = snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", key);

    if (strchr(key, '.') || n < 0 || (size_t)n >= sizeof(path))
        return NULL;
    return find_row(s, path);
}

static void check_required(struct kz_yaml *y, const yaml_node_t *n, const char *prefix,
                           const bool *seen)
{
    for (size_t i = 0; i < y->s->n; i++) {
        const struct kz_yaml_row *r = &y->s->rows[i];
        if ((r->flags & KZ_YAML_REQUIRED) && !seen[i] && is_child(r->path, prefix))
            kz_yaml_report(y, n, "missing '%s' in %s", last_part(r->path),
                           *prefix ? prefix : "the file");
    }
}

static void load_pair(struct kz_yaml *y, const yaml_node_pair_t *pr, const char *prefix, void *base,
                      bool *seen)
{
    const yaml_node_t *k = kz_yaml_node(y, pr->key), *v = kz_yaml_node(y, pr->value);
    const char *key = kz_yaml_scalar(k);
    const struct kz_yaml_row *r = key ? key_row(y->s, prefix, key) : NULL;

    if (!k || !v)
        return;
    if (!r) {
        kz_yaml_report(y, k, "unknown key '%s'%s%s", key ? key : "?", *prefix ? " in " : "",
                       prefix);
        return;
    }
    size_t i = (size_t)(r - y->s->rows);
    if (seen[i]) {
        kz_yaml_report(y, k, "key '%s' repeated%s%s", key, *prefix ? " in " : "", prefix);
        return;
    }
    seen[i] = true;
    if (y->o->lines)
        y->o->lines[i] = (int)k->start_mark.line + 1;
    load_value(y, r, v, base);
}

static void load_map(struct kz_yaml *y, const yaml_node_t *n, const char *prefix, void *base)
{
    if (n->type != YAML_MAPPING_NODE) {
        kz_yaml_report(y, n, "%s must be a mapping", *prefix ? prefix : "the file");
        return;
    }
    bool *seen = kz_xcalloc(y->s->n ? y->s->n : 1, sizeof(bool));
    for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++)
        load_pair(y, pr, prefix, base, seen);
    check_required(y, n, prefix, seen);
    free(seen);
}

static void load_root(struct kz_yaml *y, void *obj)
{
    y->n_nodes = (size_t)(y->doc.nodes.top - y->doc.nodes.start);
    if (y->n_nodes == 0) {
        if (!y->o->empty_ok)
            kz_yaml_report(y, NULL, "the file must be a mapping");
        return;
    }
    y->visited = kz_xcalloc(y->n_nodes, 1);
    load_map(y, kz_yaml_node(y, 1), "", obj);
    free(y->visited);
}

int kz_yaml_load(const struct kz_yaml_schema *s, const char *text, size_t len, void *obj,
                 const struct kz_yaml_opts *o)
{
    struct kz_yaml y = {.s = s, .o = o};
    yaml_parser_t p;
    int rc = KZ_OK;

    prepare(s, "", obj);
    yaml_parser_initialize(&p);
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    if (!yaml_parser_load(&p, &y.doc)) {
        char msg[256];
        snprintf(msg, sizeof(msg), "YAML: %s%s%s", p.problem ? p.problem : "syntax error",
                 p.context ? " " : "", p.context ? p.context : "");
        y.problems++;
        o->report(o->ud, (int)p.problem_mark.line + 1, (int)p.problem_mark.column + 1, msg);
        rc = KZ_ERR_PARSE;
    } else {
        load_root(&y, obj);
        yaml_document_delete(&y.doc);
    }
    yaml_parser_delete(&p);
    return rc ? rc : y.problems ? KZ_ERR_CONFIG : KZ_OK;
}

int kz_yaml_read_file(const char *path, char **text, size_t *len)
{
    FILE *f = fopen(path, "rb");
    size_t cap = 4096, n = 0;
    char *buf;
    int rc = KZ_OK;

    *text = NULL;
    if (!f)
        return KZ_ERR_IO;
    buf = kz_xmalloc(cap);
    for (;;) {
        n += fread(buf + n, 1, cap - n - 1, f);
        if (ferror(f) || feof(f))
            break;
        if (cap > FILE_MAX_BYTES) {
            rc = KZ_ERR_TOOBIG;
            break;
        }
        cap *= 2;
        buf = kz_xrealloc(buf, cap);
    }
    if (rc == KZ_OK && ferror(f))
        rc = KZ_ERR_IO;
    fclose(f);
    if (rc != KZ_OK) {
        free(buf);
        return rc;
    }
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return KZ_OK;
}

/* ---- releasing ------------------------------------------------------------ */

static void release_map(const struct kz_yaml_schema *s, const char *prefix, void *base)
{
    for (size_t i = 0; i < s->n; i++) {
        const struct kz_yaml_row *r = &s->rows[i];
        void **slot = at(base, r->off);
        if (!is_child(r->path, prefix))
            continue;
        if (r->type == KZ_YAML_STR) {
            free(*slot);
        } else if (r->type == KZ_YAML_STRV) {
            kz_yaml_strv_free(*slot, *(unsigned *)at(base, r->count_off));
        } else if (r->type == KZ_YAML_MAP && r->size == 0) {
            release_map(s, r->path, base);
            continue;
        } else if (r->type == KZ_YAML_MAP && *slot) {
            release_map(s, r->path, *slot);
            free(*slot);
        } else if (r->type == KZ_YAML_LIST) {
            for (unsigned j = 0; *slot && j < *(unsigned *)at(base, r->count_off); j++)
                release_map(s, r->path, (char *)*slot + j * r->size);
            free(*slot);
        } else if (r->type == KZ_YAML_CUSTOM) {
            if (r->ops->release)
                r->ops->release(base, r);
            continue;
        } else {
            continue;
        }
        *slot = NULL;
    }
}

void kz_yaml_release(const struct kz_yaml_schema *s, void *obj)
{
    if (obj)
        release_map(s, "", obj);
}

/* ---- printing --------------------------------------------------------------- */

bool kz_yaml_emit_str(yaml_emitter_t *e, const char *s)
{
    yaml_event_t ev;

    yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)(uintptr_t)s, (int)strlen(s), 1, 1,
                                 YAML_ANY_SCALAR_STYLE);
    return yaml_emitter_emit(e, &ev) != 0;
}

bool kz_yaml_emit_start(yaml_emitter_t *e, bool mapping, bool flow)
{
    yaml_event_t ev;

    if (mapping)
        yaml_mapping_start_event_initialize(
            &ev, NULL, NULL, 1, flow ? YAML_FLOW_MAPPING_STYLE : YAML_BLOCK_MAPPING_STYLE);
    else
        yaml_sequence_start_event_initialize(
            &ev, NULL, NULL, 1, flow ? YAML_FLOW_SEQUENCE_STYLE : YAML_BLOCK_SEQUENCE_STYLE);
    return yaml_emitter_emit(e, &ev) != 0;
}

bool kz_yaml_emit_end(yaml_emitter_t *e, bool mapping)
{
    yaml_event_t ev;

    if (mapping)
        yaml_mapping_end_event_initialize(&ev);
    else
        yaml_sequence_end_event_initialize(&ev);
    return yaml_emitter_emit(e, &ev) != 0;
}

bool kz_yaml_emit_strv(yaml_emitter_t *e, char *const *v, unsigned count)
{
    bool ok = kz_yaml_emit_start(e, false, true);
    for (unsigned i = 0; ok && i < count; i++)
        ok = kz_yaml_emit_str(e, v[i]);
    return ok && kz_yaml_emit_end(e, false);
}

static bool emit_map(yaml_emitter_t *e, const struct kz_yaml_schema *s, const char *prefix,
                     const void *base);

/* The text of a scalar row's value; NULL when absent. */
static const char *scalar_text(const struct kz_yaml_row *r, const void *base, char *buf, size_t len)
{
    const void *field = at(base, r->off);
    int idx;

    switch (r->type) {
    case KZ_YAML_STR:
        return *(char *const *)field;
    case KZ_YAML_UINT:
        snprintf(buf, len, "%u", *(const unsigned *)field);
        return buf;
    case KZ_YAML_U64:
        snprintf(buf, len, "%llu", (unsigned long long)*(const uint64_t *)field);
        return buf;
    case KZ_YAML_DOUBLE:
        snprintf(buf, len, "%.17g", *(const double *)field);
        return buf;
    default:
        idx = *(const int *)field;
        return idx >= 0 && idx < names_count(r->names) ? r->names[idx] : NULL;
    }
}

static bool emit_list(yaml_emitter_t *e, const struct kz_yaml_schema *s,
                      const struct kz_yaml_row *r, const void *base)
{
    const char *arr = *(void *const *)at(base, r->off);
    unsigned n = *(const unsigned *)at(base, r->count_off);
    bool ok = kz_yaml_emit_str(e, last_part(r->path)) && kz_yaml_emit_start(e, false, n == 0);

    for (unsigned i = 0; ok && i < n; i++)
        ok = emit_map(e, s, r->path, arr + i * r->size);
    return ok && kz_yaml_emit_end(e, false);
}

static bool emit_row(yaml_emitter_t *e, const struct kz_yaml_schema *s, const struct kz_yaml_row *r,
                     const void *base)
{
    void *const *slot = at(base, r->off);
    const char *key = last_part(r->path), *text;
    char buf[64];

    if (is_scalar_type(r->type)) {
        text = scalar_text(r, base, buf, sizeof(buf));
        return !text || (kz_yaml_emit_str(e, key) && kz_yaml_emit_str(e, text));
    }
    switch (r->type) {
    case KZ_YAML_STRV:
        return !*slot || (kz_yaml_emit_str(e, key) &&
                          kz_yaml_emit_strv(e, *slot, *(const unsigned *)at(base, r->count_off)));
    case KZ_YAML_MAP:
        if (r->size == 0)
            return kz_yaml_emit_str(e, key) && emit_map(e, s, r->path, base);
        return !*slot || (kz_yaml_emit_str(e, key) && emit_map(e, s, r->path, *slot));
    case KZ_YAML_LIST:
        return emit_list(e, s, r, base);
    default:
        return !r->ops->emit || r->ops->emit(e, base, r);
    }
}

static bool emit_map(yaml_emitter_t *e, const struct kz_yaml_schema *s, const char *prefix,
                     const void *base)
{
    bool ok = kz_yaml_emit_start(e, true, false);

    for (size_t i = 0; ok && i < s->n; i++)
        if (is_child(s->rows[i].path, prefix))
            ok = emit_row(e, s, &s->rows[i], base);
    return ok && kz_yaml_emit_end(e, true);
}

static bool emit_document(yaml_emitter_t *e, const struct kz_yaml_schema *s, const void *obj)
{
    yaml_event_t ev;

    yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
    if (!yaml_emitter_emit(e, &ev))
        return false;
    yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
    if (!yaml_emitter_emit(e, &ev) || !emit_map(e, s, "", obj))
        return false;
    yaml_document_end_event_initialize(&ev, 1);
    if (!yaml_emitter_emit(e, &ev))
        return false;
    yaml_stream_end_event_initialize(&ev);
    return yaml_emitter_emit(e, &ev) && yaml_emitter_flush(e);
}

int kz_yaml_print(const struct kz_yaml_schema *s, const void *obj, FILE *out)
{
    yaml_emitter_t e;

    yaml_emitter_initialize(&e);
    yaml_emitter_set_output_file(&e, out);
    yaml_emitter_set_unicode(&e, 1);
    yaml_emitter_set_width(&e, -1);
    bool ok = emit_document(&e, s, obj);
    yaml_emitter_delete(&e);
    return ok ? KZ_OK : KZ_ERR_IO;
}

/* ---- comparing ------------------------------------------------------------ */

struct differ {
    const struct kz_yaml_schema *s;
    kz_yaml_diff_fn *cb;
    void *ud;
};

static bool str_equal(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

static bool strv_equal(char *const *a, unsigned na, char *const *b, unsigned nb)
{
    if (na != nb || (!a) != (!b))
        return false;
    for (unsigned i = 0; i < na; i++)
        if (strcmp(a[i], b[i]) != 0)
            return false;
    return true;
}

static void diff_map(const struct differ *d, const char *prefix, const char *shown, const void *a,
                     const void *b);

static void diff_list(const struct differ *d, const struct kz_yaml_row *r, const char *shown,
                      const void *a, const void *b)
{
    const char *ea = *(void *const *)at(a, r->off), *eb = *(void *const *)at(b, r->off);
    unsigned n = *(const unsigned *)at(a, r->count_off);
    char entry[PATH_MAX_LEN];

    if (n != *(const unsigned *)at(b, r->count_off)) {
        d->cb(shown, r, d->ud);
        return;
    }
    for (unsigned i = 0; i < n; i++) {
        if (snprintf(entry, sizeof(entry), "%s[%u]", shown, i) >= (int)sizeof(entry))
            continue; /* paths are short: the table's */
        diff_map(d, r->path, entry, ea + i * r->size, eb + i * r->size);
    }
}

/* False when the (non-nested) values of row `r` differ. */
static bool same_value(const struct kz_yaml_row *r, const void *a, const void *b)
{
    const void *fa = at(a, r->off), *fb = at(b, r->off);

    switch (r->type) {
    case KZ_YAML_STR:
        return str_equal(*(char *const *)fa, *(char *const *)fb);
    case KZ_YAML_UINT:
        return *(const unsigned *)fa == *(const unsigned *)fb;
    case KZ_YAML_U64:
        return *(const uint64_t *)fa == *(const uint64_t *)fb;
    case KZ_YAML_DOUBLE:
        return memcmp(fa, fb, sizeof(double)) == 0;
    case KZ_YAML_ENUM:
        return *(const int *)fa == *(const int *)fb;
    case KZ_YAML_STRV:
        return strv_equal(*(char **const *)fa, *(const unsigned *)at(a, r->count_off),
                          *(char **const *)fb, *(const unsigned *)at(b, r->count_off));
    case KZ_YAML_CUSTOM:
        return !r->ops->equal || r->ops->equal(a, b, r);
    default:
        return true;
    }
}

static void diff_row(const struct differ *d, const struct kz_yaml_row *r, const char *shown,
                     const void *a, const void *b)
{
    bool ptr = r->type == KZ_YAML_MAP && r->size > 0;
    const void *pa = ptr ? *(void *const *)at(a, r->off) : NULL;
    const void *pb = ptr ? *(void *const *)at(b, r->off) : NULL;

    if (r->type == KZ_YAML_MAP && r->size == 0)
        diff_map(d, r->path, shown, a, b);
    else if (r->type == KZ_YAML_MAP && pa && pb)
        diff_map(d, r->path, shown, pa, pb);
    else if (r->type == KZ_YAML_MAP && pa != pb)
        d->cb(shown, r, d->ud);
    else if (r->type == KZ_YAML_LIST)
        diff_list(d, r, shown, a, b);
    else if (!same_value(r, a, b))
        d->cb(shown, r, d->ud);
}

static void diff_map(const struct differ *d, const char *prefix, const char *shown, const void *a,
                     const void *b)
{
    char path[PATH_MAX_LEN];

    for (size_t i = 0; i < d->s->n; i++) {
        const struct kz_yaml_row *r = &d->s->rows[i];
        if (!is_child(r->path, prefix))
            continue;
        if (snprintf(path, sizeof(path), "%s%s%s", shown, *shown ? "." : "", last_part(r->path)) >=
            (int)sizeof(path))
            continue;
        diff_row(d, r, path, a, b);
    }
}

void kz_yaml_diff(const struct kz_yaml_schema *s, const void *a, const void *b, kz_yaml_diff_fn *cb,
                  void *ud)
{
    struct differ d = {s, cb, ud};
    diff_map(&d, "", "", a, b);
}
