/* err.c - error strings, invariant failures, reject names. */
#include <stdio.h>
#include <stdlib.h>

#include "core/core.h"

static const char *const err_names[KZ_ERR__COUNT] = {
    [KZ_OK] = "ok",
    [KZ_ERR_NOMEM] = "out of memory",
    [KZ_ERR_INVAL] = "invalid argument",
    [KZ_ERR_PARSE] = "parse error",
    [KZ_ERR_TOOBIG] = "too big",
    [KZ_ERR_AGAIN] = "try again",
    [KZ_ERR_IO] = "I/O error",
    [KZ_ERR_NOTFOUND] = "not found",
    [KZ_ERR_EXISTS] = "already exists",
    [KZ_ERR_CONFIG] = "configuration error",
    [KZ_ERR_DB] = "database error",
    [KZ_ERR_CLOSED] = "closed",
    [KZ_ERR_DENIED] = "denied",
};

const char *kz_strerror(int err)
{
    if (err < 0 || err >= KZ_ERR__COUNT)
        return "unknown error";
    return err_names[err];
}

static const char *const reject_names[KZ_REJ__COUNT] = {
    [KZ_REJ_XML] = "xml",
    [KZ_REJ_TOO_BIG] = "too_big",
    [KZ_REJ_MISSING] = "missing",
    [KZ_REJ_TIME] = "time",
    [KZ_REJ_STALE] = "stale",
    [KZ_REJ_POINT] = "point",
    [KZ_REJ_TYPE] = "type",
    [KZ_REJ_DEPTH] = "depth",
    [KZ_REJ_ENTITY] = "entity",
    [KZ_REJ_JUNK] = "junk",
    [KZ_REJ_LABEL] = "label",
    [KZ_REJ_CEILING] = "ceiling",
    [KZ_REJ_CONFLICT] = "conflict",
    [KZ_REJ_OVERLOAD] = "overload",
    [KZ_REJ_STATE_FULL] = "state_full",
    [KZ_REJ_PROTO] = "proto",
    [KZ_REJ_CLAIMED] = "claimed",
    [KZ_REJ_BUDGET] = "budget",
    [KZ_REJ_MISSION] = "mission",
    [KZ_REJ_CONTROL] = "control",
};

const char *kz_reject_name(enum kz_reject r)
{
    if ((unsigned)r >= KZ_REJ__COUNT)
        return "unknown";
    return reject_names[r];
}

/*
 * Process-wide: the Prometheus counters describe the process, like its log
 * level; every subsystem bumps them from the loop thread.
 */
struct kz_metrics kz_metrics;

_Noreturn void kz__bug(const char *file, int line, const char *what)
{
    fprintf(stderr, "level=error msg=\"BUG: assertion failed\" what=\"%s\" at=%s:%d\n", what, file,
            line);
    abort();
}
