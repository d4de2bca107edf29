/*
 * yaml.h - a table-driven YAML loader, printer and comparer over libyaml.
 *
 * Owned by core; included only by the loaders (core/config.c, alliance/load.c),
 * not by core.h, so libyaml's types stay out of every other file.
 *
 * A schema is a flat array of rows, one per key, each named by its dotted
 * path: "limits.max_connections", and for the keys of list entries
 * "inputs.name".  The loader walks libyaml's document, finds every key's row
 * by its path, checks type and range and reports every problem with line and
 * column; unknown, repeated and missing required keys are problems too.
 * Loading goes on after a problem, so a caller may list them all.  The same
 * rows fill defaults, print an object as YAML that loads back identically,
 * compare two objects key by key and free what the loader allocated.
 *
 * Offsets are relative to the innermost object: the root, the struct behind a
 * MAP pointer, or a LIST entry (an inline MAP, size 0, shares its parent's).
 */
#ifndef KZ_CORE_YAML_H
#define KZ_CORE_YAML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <yaml.h>

enum kz_yaml_type {
    KZ_YAML_STR,    /* char *; `names` (NULL-terminated) lists the allowed values */
    KZ_YAML_UINT,   /* unsigned in min..max (max 0 = UINT_MAX) */
    KZ_YAML_U64,    /* uint64_t in min..max (max 0 = UINT64_MAX) */
    KZ_YAML_DOUBLE, /* double */
    KZ_YAML_ENUM,   /* int: the index of the value in `names` */
    KZ_YAML_STRV,   /* char ** of scalars, unsigned count at count_off */
    KZ_YAML_MAP,    /* a mapping: a struct of `size` bytes behind a pointer, or inline (size 0) */
    KZ_YAML_LIST,   /* a list of mappings: `size`-byte entries, unsigned count at count_off */
    KZ_YAML_CUSTOM, /* `ops` load, print, compare and free the field */
};

/* Row flags. */
enum {
    KZ_YAML_REQUIRED = 1, /* absent is a problem */
    KZ_YAML_ALWAYS = 2,   /* MAP pointer: allocated, with its defaults, even when absent */
    KZ_YAML_RELOAD = 4,   /* a change applies without a restart (for the comparer's caller) */
};

struct kz_yaml; /* one loading pass */
struct kz_yaml_row;

/* A CUSTOM field; `obj` is the object holding it.  Unset hooks do nothing. */
struct kz_yaml_ops {
    void (*load)(struct kz_yaml *y, const yaml_node_t *n, void *obj, const struct kz_yaml_row *r);
    /* Emit key and value (kz_yaml_emit_str...), or nothing when absent; false on error. */
    bool (*emit)(yaml_emitter_t *e, const void *obj, const struct kz_yaml_row *r);
    bool (*equal)(const void *a, const void *b, const struct kz_yaml_row *r);
    void (*release)(void *obj, const struct kz_yaml_row *r);
};

struct kz_yaml_row {
    const char *path;
    enum kz_yaml_type type;
    size_t off;
    size_t count_off;  /* STRV, LIST, CUSTOM tables */
    size_t size;       /* MAP (0 = inline), LIST entry */
    const char *def;   /* default, as the YAML text of a scalar; NULL = none */
    uint64_t min, max; /* UINT/U64 value; STR length; LIST entries (max 0 = no bound) */
    unsigned flags;
    const char *const *names;       /* STR, ENUM */
    const struct kz_yaml_ops *ops;  /* CUSTOM */
    void (*init)(void *, int line); /* MAP pointer, LIST: prepares a new object */
    const char *doc;
};

struct kz_yaml_schema {
    const struct kz_yaml_row *rows;
    size_t n;
};

/* A problem at line:col (1-based; col 0 = unknown). */
typedef void kz_yaml_report_fn(void *ud, int line, int col, const char *msg);

struct kz_yaml_opts {
    kz_yaml_report_fn *report;
    void *ud;
    int *lines;    /* optional, schema-sized: the line of each row's last key */
    bool empty_ok; /* an empty document is an empty mapping (else a problem) */
};

/*
 * Fill `obj` (zeroed by the caller) from `len` bytes of YAML: defaults first,
 * then the document.  KZ_OK, or KZ_ERR_PARSE (not YAML) or KZ_ERR_CONFIG
 * (problems) once everything was reported.  Release `obj` either way.
 */
int kz_yaml_load(const struct kz_yaml_schema *s, const char *text, size_t len, void *obj,
                 const struct kz_yaml_opts *o);

/* Read a whole file (NUL-terminated, at most 16 MiB): KZ_OK or KZ_ERR_IO/TOOBIG (errno kept). */
int kz_yaml_read_file(const char *path, char **text, size_t *len);

/* Free everything the rows own inside `obj` (not `obj` itself). */
void kz_yaml_release(const struct kz_yaml_schema *s, void *obj);

/* Write `obj` as a YAML document in table order; absent optional keys are left out. */
int kz_yaml_print(const struct kz_yaml_schema *s, const void *obj, FILE *out);

/*
 * Call `cb` for every key whose value differs between `a` and `b`, with a
 * display path ("inputs[1].listen") and its row.  A list whose length differs
 * is reported once, as the list.
 */
typedef void kz_yaml_diff_fn(const char *path, const struct kz_yaml_row *r, void *ud);
void kz_yaml_diff(const struct kz_yaml_schema *s, const void *a, const void *b, kz_yaml_diff_fn *cb,
                  void *ud);

/* ---- for CUSTOM hooks ---- */

/* Report a problem at node `n`. */
void kz_yaml_report(struct kz_yaml *y, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The node behind an item; NULL (reported) when it is an alias already walked. */
const yaml_node_t *kz_yaml_node(struct kz_yaml *y, yaml_node_item_t item);
/* The value of a scalar node, NULL for any other node. */
const char *kz_yaml_scalar(const yaml_node_t *n);
/* Read a list of scalars into a new array; false (reported) when `n` is not one. */
bool kz_yaml_strv(struct kz_yaml *y, const yaml_node_t *n, const char *what, char ***v,
                  unsigned *count);
void kz_yaml_strv_free(char **v, unsigned count);
bool kz_yaml_emit_str(yaml_emitter_t *e, const char *s);
bool kz_yaml_emit_strv(yaml_emitter_t *e, char *const *v, unsigned count);
bool kz_yaml_emit_start(yaml_emitter_t *e, bool mapping, bool flow);
bool kz_yaml_emit_end(yaml_emitter_t *e, bool mapping);

#endif
