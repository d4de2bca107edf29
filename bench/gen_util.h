/*
 * gen_util.h - what the load generators (loadgen, fedgen, fedfloor) share:
 * the clocks, CoT times, dying with the program's name, cutting a CoT/TCP
 * stream into events, and reading options from a table.  bench/ only.  No
 * state of its own: every function but gen_parse_opts() (getopt's globals)
 * may be called from any thread.
 */
#ifndef KZ_BENCH_GEN_UTIL_H
#define KZ_BENCH_GEN_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The program's name in gen_die()'s message; each program defines it ("loadgen", "fedgen"). */
extern const char gen_prog[];

/* CLOCK_MONOTONIC in nanoseconds. */
int64_t gen_now_ns(void);

/* CLOCK_REALTIME in milliseconds. */
int64_t gen_wall_ms(void);

/* "YYYY-MM-DDTHH:MM:SS" of a second, cached: most events share their second. */
struct gen_sec_cache {
    int64_t sec;
    char txt[24];
};

/* The CoT time of `ms` (UTC, milliseconds, "Z") into out. */
void gen_iso_ms(struct gen_sec_cache *c, int64_t ms, char out[32]);

/* "<gen_prog>: <what>: <strerror(errno)>" (or "failed" when errno is 0) on stderr, exit 2. */
void gen_die(const char *what);

/*
 * The next complete CoT event in p[*off..n): returns its start, stores its
 * length ("</event>" included) in *len and moves *off past it.  NULL when
 * no complete event is left; *off is then where the incomplete rest begins.
 * The event points into p and lives as long as p.
 */
const char *gen_cot_next(const char *p, size_t n, size_t *off, size_t *len);

/* What an option's value is, and so what its dst points to. */
enum gen_opt_type {
    GEN_INT,    /* int *, atoi() */
    GEN_LONG,   /* long *, atol() */
    GEN_DOUBLE, /* double *, atof() */
    GEN_STR,    /* const char **, the argv string itself */
    GEN_TRUE,   /* bool *, set to true; the option takes no value */
    GEN_CALL,   /* no dst: call(value) reads it */
    GEN_HELP    /* no value: gen_parse_opts() returns false (the caller prints its usage) */
};

/* One option: -letter and/or --name, and where its value goes. */
struct gen_opt {
    int letter;       /* 0: --name only */
    const char *name; /* NULL: -letter only */
    enum gen_opt_type type;
    void *dst;
    void (*call)(const char *value);
};

#define GEN_OPTS_MAX 32

/*
 * getopt_long() over argv from optind with the n (<= GEN_OPTS_MAX) options
 * of opts, each value stored as its type says.  False at an option not in
 * opts or a GEN_HELP one (getopt has printed its complaint for the first).
 * Strings stored are argv's and live as long as argv.
 */
bool gen_parse_opts(int argc, char **argv, const struct gen_opt *opts, size_t n);

#endif
