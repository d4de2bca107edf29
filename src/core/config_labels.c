/*
 * config_labels.c - the `labels:` section.  Its tetragraph and level-name
 * tables are maps keyed by data (FVEY: [...]), which a fixed schema cannot
 * describe, so this section is read with libyaml directly; cyaml skips it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "core/core.h"

#define MAX_ENTRIES 64
#define MAX_MEMBERS 256

struct walk {
    yaml_parser_t p;
    yaml_event_t ev;
    const char *path;
    char *err;
    size_t errlen;
};

static int failf(struct walk *w, const char *what)
{
    snprintf(w->err, w->errlen, "%s:%zu: labels: %s", w->path, w->ev.start_mark.line + 1, what);
    return KZ_ERR_CONFIG;
}

/* Advance to the next event (the previous one is released). */
static int next(struct walk *w)
{
    yaml_event_delete(&w->ev);
    if (!yaml_parser_parse(&w->p, &w->ev)) {
        snprintf(w->err, w->errlen, "%s:%zu: %s", w->path, w->p.problem_mark.line + 1,
                 w->p.problem ? w->p.problem : "YAML error");
        return KZ_ERR_CONFIG;
    }
    return KZ_OK;
}

static const char *scalar(const struct walk *w)
{
    return (const char *)w->ev.data.scalar.value;
}

/* Skip the node that starts at the current event. */
static int skip(struct walk *w)
{
    int depth = 0;
    do {
        if (w->ev.type == YAML_MAPPING_START_EVENT || w->ev.type == YAML_SEQUENCE_START_EVENT)
            depth++;
        else if (w->ev.type == YAML_MAPPING_END_EVENT || w->ev.type == YAML_SEQUENCE_END_EVENT)
            depth--;
        if (depth > 0 && next(w))
            return KZ_ERR_CONFIG;
    } while (depth > 0);
    return KZ_OK;
}

/* A sequence of scalars at the current event. */
static int string_list(struct walk *w, char ***out, unsigned *n)
{
    if (w->ev.type != YAML_SEQUENCE_START_EVENT)
        return failf(w, "expected a list");
    *out = kz_xcalloc(MAX_MEMBERS, sizeof(char *));
    *n = 0;
    for (;;) {
        if (next(w))
            return KZ_ERR_CONFIG;
        if (w->ev.type == YAML_SEQUENCE_END_EVENT)
            return KZ_OK;
        if (w->ev.type != YAML_SCALAR_EVENT)
            return failf(w, "list entries must be strings");
        if (*n == MAX_MEMBERS)
            return failf(w, "list too long");
        (*out)[(*n)++] = kz_xstrdup(scalar(w));
    }
}

/* A map of KEY: [strings] at the current event. */
static int table(struct walk *w, struct kz_config_label_row **rows, unsigned *n)
{
    if (w->ev.type != YAML_MAPPING_START_EVENT)
        return failf(w, "expected a map");
    *rows = kz_xcalloc(MAX_ENTRIES, sizeof(**rows));
    *n = 0;
    for (;;) {
        if (next(w))
            return KZ_ERR_CONFIG;
        if (w->ev.type == YAML_MAPPING_END_EVENT)
            return KZ_OK;
        if (w->ev.type != YAML_SCALAR_EVENT)
            return failf(w, "keys must be strings");
        if (*n == MAX_ENTRIES)
            return failf(w, "too many entries");
        struct kz_config_label_row *row = &(*rows)[(*n)++];
        row->key = kz_xstrdup(scalar(w));
        if (next(w) || string_list(w, &row->values, &row->values_count))
            return KZ_ERR_CONFIG;
    }
}

static int section(struct walk *w, struct kz_config_labels *l)
{
    if (w->ev.type != YAML_MAPPING_START_EVENT)
        return failf(w, "expected a map");
    for (;;) {
        if (next(w))
            return KZ_ERR_CONFIG;
        if (w->ev.type == YAML_MAPPING_END_EVENT)
            return KZ_OK;
        char key[32];
        snprintf(key, sizeof(key), "%s", scalar(w));
        if (next(w))
            return KZ_ERR_CONFIG;
        int rc;
        if (strcmp(key, "policy") == 0 && w->ev.type == YAML_SCALAR_EVENT) {
            free(l->policy);
            l->policy = kz_xstrdup(scalar(w));
            rc = KZ_OK;
        } else if (strcmp(key, "tetragraphs") == 0 && !l->tetragraphs) {
            rc = table(w, &l->tetragraphs, &l->tetragraphs_count);
        } else if (strcmp(key, "level_names") == 0 && !l->level_names) {
            rc = table(w, &l->level_names, &l->level_names_count);
        } else {
            char msg[96];
            snprintf(msg, sizeof(msg), "unexpected key '%s' (policy, tetragraphs, level_names)",
                     key);
            rc = failf(w, msg);
        }
        if (rc)
            return rc;
    }
}

/* Find the top-level `labels:` key and read its value. */
static int find_labels(struct walk *w, struct kz_config_labels *l)
{
    do {
        if (next(w))
            return KZ_ERR_CONFIG;
    } while (w->ev.type == YAML_STREAM_START_EVENT || w->ev.type == YAML_DOCUMENT_START_EVENT);
    if (w->ev.type != YAML_MAPPING_START_EVENT)
        return KZ_OK; /* empty file, or not a map: the schema reports it */
    for (;;) {
        if (next(w))
            return KZ_ERR_CONFIG;
        if (w->ev.type != YAML_SCALAR_EVENT)
            return KZ_OK;
        bool mine = strcmp(scalar(w), "labels") == 0;
        if (next(w))
            return KZ_ERR_CONFIG;
        if (mine)
            return section(w, l);
        if (skip(w))
            return KZ_ERR_CONFIG;
    }
}

int kz__config_load_labels(const char *path, const char *text, size_t len,
                           struct kz_config_labels **out, char *err, size_t errlen)
{
    struct walk w = {.path = path, .err = err, .errlen = errlen};
    struct kz_config_labels *l = kz_xcalloc(1, sizeof(*l));
    FILE *f = NULL;
    int rc;

    yaml_parser_initialize(&w.p);
    if (text) {
        yaml_parser_set_input_string(&w.p, (const unsigned char *)text, len);
    } else if ((f = fopen(path, "rb"))) {
        yaml_parser_set_input_file(&w.p, f);
    } else {
        snprintf(err, errlen, "%s: cannot open", path);
        rc = KZ_ERR_CONFIG;
        goto out;
    }
    w.ev.type = YAML_NO_EVENT;
    rc = find_labels(&w, l);
    yaml_event_delete(&w.ev);
out:
    yaml_parser_delete(&w.p);
    if (f)
        fclose(f);
    if (rc == KZ_OK && !l->policy)
        l->policy = kz_xstrdup("US");
    if (rc != KZ_OK) {
        kz__config_free_labels(l);
        l = NULL;
    }
    *out = l;
    return rc;
}

static void free_rows(struct kz_config_label_row *rows, unsigned n)
{
    for (unsigned i = 0; rows && i < n; i++) {
        for (unsigned j = 0; j < rows[i].values_count; j++)
            free(rows[i].values[j]);
        free(rows[i].values);
        free(rows[i].key);
    }
    free(rows);
}

void kz__config_free_labels(struct kz_config_labels *l)
{
    if (!l)
        return;
    free(l->policy);
    free_rows(l->tetragraphs, l->tetragraphs_count);
    free_rows(l->level_names, l->level_names_count);
    free(l);
}
