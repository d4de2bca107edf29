/*
 * config_labels.c - the tables of the `labels:` section.  `tetragraphs` and
 * `level_names` are maps keyed by data (FVEY: [USA, AUS, ...]), which a row
 * per key cannot name, so the key table gives them these CUSTOM hooks.
 */
#include <stdlib.h>
#include <string.h>

#include "core/config_internal.h"
#include "core/core.h"

#define MAX_ENTRIES 64
#define MAX_MEMBERS 256

static struct kz_config_label_row **rows_of(const void *obj, const struct kz_yaml_row *r)
{
    return (struct kz_config_label_row **)(void *)((char *)(uintptr_t)obj + r->off);
}

static unsigned *count_of(const void *obj, const struct kz_yaml_row *r)
{
    return (unsigned *)(void *)((char *)(uintptr_t)obj + r->count_off);
}

static void load_row(struct kz_yaml *y, const yaml_node_pair_t *pr, struct kz_config_label_row *row,
                     const char *what)
{
    const yaml_node_t *k = kz_yaml_node(y, pr->key), *v = kz_yaml_node(y, pr->value);
    const char *key = kz_yaml_scalar(k);

    if (!k || !v)
        return;
    if (!key) {
        kz_yaml_report(y, k, "%s: keys must be strings", what);
        return;
    }
    row->key = kz_xstrdup(key);
    if (kz_yaml_strv(y, v, what, &row->values, &row->values_count) &&
        row->values_count > MAX_MEMBERS)
        kz_yaml_report(y, v, "%s: more than %d members", what, MAX_MEMBERS);
}

static void load_table(struct kz_yaml *y, const yaml_node_t *n, void *obj,
                       const struct kz_yaml_row *r)
{
    struct kz_config_label_row *rows;
    size_t len;

    if (n->type != YAML_MAPPING_NODE) {
        kz_yaml_report(y, n, "%s must be a mapping of lists", r->path);
        return;
    }
    len = (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
    if (len > MAX_ENTRIES) {
        kz_yaml_report(y, n, "%s: more than %d entries", r->path, MAX_ENTRIES);
        return;
    }
    rows = kz_xcalloc(len ? len : 1, sizeof(*rows));
    *rows_of(obj, r) = rows;
    *count_of(obj, r) = (unsigned)len;
    for (size_t i = 0; i < len; i++)
        load_row(y, &n->data.mapping.pairs.start[i], &rows[i], r->path);
}

static bool emit_table(yaml_emitter_t *e, const void *obj, const struct kz_yaml_row *r)
{
    const struct kz_config_label_row *rows = *rows_of(obj, r);
    unsigned n = *count_of(obj, r);
    const char *key = strrchr(r->path, '.') + 1;
    bool ok;

    if (!rows)
        return true; /* the built-in table */
    ok = kz_yaml_emit_str(e, key) && kz_yaml_emit_start(e, true, false);
    for (unsigned i = 0; ok && i < n; i++)
        ok = kz_yaml_emit_str(e, rows[i].key ? rows[i].key : "") &&
             kz_yaml_emit_strv(e, rows[i].values, rows[i].values_count);
    return ok && kz_yaml_emit_end(e, true);
}

static bool same_strv(char **a, unsigned na, char **b, unsigned nb)
{
    if (na != nb)
        return false;
    for (unsigned i = 0; i < na; i++)
        if (strcmp(a[i], b[i]) != 0)
            return false;
    return true;
}

static bool equal_tables(const void *a, const void *b, const struct kz_yaml_row *r)
{
    const struct kz_config_label_row *ra = *rows_of(a, r), *rb = *rows_of(b, r);
    unsigned n = *count_of(a, r);

    if ((!ra) != (!rb) || n != *count_of(b, r))
        return false;
    for (unsigned i = 0; i < n; i++)
        if (!ra[i].key || !rb[i].key || strcmp(ra[i].key, rb[i].key) != 0 ||
            !same_strv(ra[i].values, ra[i].values_count, rb[i].values, rb[i].values_count))
            return false;
    return true;
}

static void release_table(void *obj, const struct kz_yaml_row *r)
{
    struct kz_config_label_row *rows = *rows_of(obj, r);

    for (unsigned i = 0; rows && i < *count_of(obj, r); i++) {
        kz_yaml_strv_free(rows[i].values, rows[i].values_count);
        free(rows[i].key);
    }
    free(rows);
    *rows_of(obj, r) = NULL;
    *count_of(obj, r) = 0;
}

const struct kz_yaml_ops kz__config_label_table = {
    .load = load_table,
    .emit = emit_table,
    .equal = equal_tables,
    .release = release_table,
};
