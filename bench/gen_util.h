/*
 * gen_util.h - what the two load generators (loadgen, fedgen) share: the
 * monotonic clock, dying with the program's name, and cutting a CoT/TCP
 * stream into events.  bench/ only.  No state of its own: every function
 * may be called from any thread.
 */
#ifndef KZ_BENCH_GEN_UTIL_H
#define KZ_BENCH_GEN_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* The program's name in gen_die()'s message; each program defines it ("loadgen", "fedgen"). */
extern const char gen_prog[];

/* CLOCK_MONOTONIC in nanoseconds. */
int64_t gen_now_ns(void);

/* "<gen_prog>: <what>: <strerror(errno)>" (or "failed" when errno is 0) on stderr, exit 2. */
void gen_die(const char *what);

/*
 * The next complete CoT event in p[*off..n): returns its start, stores its
 * length ("</event>" included) in *len and moves *off past it.  NULL when
 * no complete event is left; *off is then where the incomplete rest begins.
 * The event points into p and lives as long as p.
 */
const char *gen_cot_next(const char *p, size_t n, size_t *off, size_t *len);

#endif
