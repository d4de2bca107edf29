/*
 * probe.h - what the benchmark tools read from outside: /proc figures of a
 * process and of the machine, and plain HTTP GETs to a kizuna web input
 * (its /metrics text, its REST answers).  Shared by loadgen and fedgen;
 * bench/ only, single-threaded, no state of its own.
 */
#ifndef KZ_BENCH_PROBE_H
#define KZ_BENCH_PROBE_H

#include <stdbool.h>
#include <stddef.h>

/* utime + stime of pid in seconds (all threads), or -1 when it is gone. */
double probe_cpu_s(int pid);

/* A kB field of /proc/PID/status ("VmRSS", "VmHWM"), or -1. */
long probe_kb(int pid, const char *key);

/* This process's CPU seconds, user + system. */
double probe_self_cpu_s(void);

/* Machine-wide busy seconds of all CPUs (/proc/stat), softirq and steal apart; -1 each on error. */
void probe_machine(double *busy_s, double *softirq_s, double *steal_s);

/*
 * GET path from 127.0.0.1:port with Connection: close; the whole answer
 * (status line, headers, body), NUL-terminated, into buf[0..cap).  False
 * when there is no answer within a second.  The answer is cut at cap - 1.
 */
bool probe_get(int port, const char *path, char *buf, size_t cap);

/* The body of an answer probe_get() stored, or NULL without the blank line. */
const char *probe_body(const char *answer);

/* The value of series `name` (with its {labels} when it has any) in /metrics text, or -1. */
double probe_metric(const char *text, const char *name);

#endif
