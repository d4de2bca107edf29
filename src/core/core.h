/*
 * core.h - errors, allocation, logging, time, buffers and metrics shared by
 * every kizuna subsystem.  This is the only header other folders include
 * from src/core/.
 *
 * Threading: everything here is safe to call from the loop thread.  The
 * allocation wrappers, kz_now_us(), the time codec and kz_log() are also safe
 * from the store thread.  kz_metrics is owned by the loop thread.
 */
#ifndef KZ_CORE_H
#define KZ_CORE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KZ_VERSION "0.1.0"

/* ---- errors --------------------------------------------------------- */

enum kz_err {
    KZ_OK = 0,
    KZ_ERR_NOMEM,    /* allocation failed (only where we do not abort) */
    KZ_ERR_INVAL,    /* bad argument or bad input */
    KZ_ERR_PARSE,    /* input does not parse */
    KZ_ERR_TOOBIG,   /* input exceeds a configured limit */
    KZ_ERR_AGAIN,    /* not ready yet; try again later */
    KZ_ERR_IO,       /* operating-system I/O failure (errno kept) */
    KZ_ERR_NOTFOUND, /* no such object */
    KZ_ERR_EXISTS,   /* object already exists */
    KZ_ERR_CONFIG,   /* configuration is invalid */
    KZ_ERR_DB,       /* the database reported an error */
    KZ_ERR_CLOSED,   /* peer or subsystem is closed / closing */
    KZ_ERR_DENIED,   /* not permitted */
    KZ_ERR__COUNT
};

/* Static, never NULL. */
const char *kz_strerror(int err);

/* ---- allocation (abort on OOM: see docs/architecture.md) ------------ */

void *kz_xmalloc(size_t n);
void *kz_xcalloc(size_t nmemb, size_t size);
void *kz_xrealloc(void *p, size_t n);
char *kz_xstrdup(const char *s);            /* NULL in, NULL out */
char *kz_xstrndup(const char *s, size_t n); /* always NUL-terminates */
void *kz_xmemdup(const void *p, size_t n);
/*
 * The out-of-memory policy for allocators we do not wrap (expat, OpenSSL):
 * when one returns NULL for an allocation, call this.  Logs `what` and
 * `bytes` (0 when unknown) and aborts, as the kz_x* wrappers do.
 */
_Noreturn void kz_oom(const char *what, size_t bytes);
#define KZ_FREE(p)                                                                                 \
    do {                                                                                           \
        free(p);                                                                                   \
        (p) = NULL;                                                                                \
    } while (0)

/*
 * Invariant checks: log and abort with file:line (redis serverAssert, git
 * BUG).  For states the code itself must never reach; never for bad input,
 * which gets an error code.  Call these, not kz__bug().
 */
#define KZ_ASSERT(c)                                                                               \
    do {                                                                                           \
        if (!(c))                                                                                  \
            kz__bug(__FILE__, __LINE__, #c);                                                       \
    } while (0)
#define KZ_BUG(msg) kz__bug(__FILE__, __LINE__, (msg))
_Noreturn void kz__bug(const char *file, int line, const char *what);

#define KZ_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define KZ_UNUSED(x) ((void)(x))

/* ---- logging: logfmt lines on stderr -------------------------------- */

enum kz_log_level { KZ_LOG_DEBUG, KZ_LOG_INFO, KZ_LOG_WARN, KZ_LOG_ERROR };

extern enum kz_log_level kz_log_min;

/*
 * kz_log(KZ_LOG_INFO, "listening", "input=%s port=%d", name, port) prints
 *   ts=2026-11-23T01:02:03.456Z level=info msg="listening" input=cot port=8087
 * `kv` may be NULL.  Values that may contain spaces or quotes must be passed
 * through kz_log_quote() by the caller.  Nothing is formatted when the level
 * is below kz_log_min.
 */
#define kz_log(lvl, msg, ...)                                                                      \
    do {                                                                                           \
        if ((lvl) >= kz_log_min)                                                                   \
            kz__log((lvl), (msg), __VA_ARGS__);                                                    \
    } while (0)
void kz__log(enum kz_log_level lvl, const char *msg, const char *kv, ...)
    __attribute__((format(printf, 3, 4)));

/* Parse "debug|info|warn|error"; KZ_ERR_INVAL otherwise. */
int kz_log_level_parse(const char *s, enum kz_log_level *out);

/*
 * Copy `s` into `buf` as a logfmt value: quoted and escaped, control bytes
 * replaced, truncated to fit.  Returns buf.
 */
const char *kz_log_quote(char *buf, size_t size, const char *s, size_t len);

/* ---- time: int64 microseconds since the Unix epoch, UTC ------------- */

int64_t kz_now_us(void);  /* wall clock */
int64_t kz_mono_us(void); /* monotonic clock */

#define KZ_TIME_STRLEN 32

/* Days since 1970-01-01 of a proleptic Gregorian date, and back. */
int64_t kz_days_from_civil(int64_t y, unsigned m, unsigned d);
void kz_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);

/*
 * Parse an ISO 8601 UTC timestamp: YYYY-MM-DDThh:mm:ss[.f+]Z (any number of
 * fraction digits; digits past microseconds are truncated).  Also accepts a
 * "+00:00" offset.  Returns KZ_OK or KZ_ERR_PARSE.
 */
int kz_time_parse(const char *s, size_t len, int64_t *out_us);

/*
 * Format as YYYY-MM-DDThh:mm:ss.sssZ (milliseconds), or with six fraction
 * digits when the value is not a whole millisecond.  `buf` must hold
 * KZ_TIME_STRLEN bytes.  Returns the length written.
 */
size_t kz_time_format(int64_t us, char *buf);

/* 10000-01-01T00:00:00Z: the first instant a four-digit year cannot name. */
#define KZ__YEAR_10000_US (253402300800LL * 1000000)
/* kz_time_format() with snprintf for every value: the reference its fast path must match. */
size_t kz__time_format_printf(int64_t us, char *buf);

/* ---- growable string buffer ----------------------------------------- */

struct kz_sbuf {
    char *buf; /* NUL-terminated when non-NULL */
    size_t len;
    size_t cap;
};

#define KZ_SBUF_INIT                                                                               \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

void kz_sbuf_grow(struct kz_sbuf *sb, size_t extra);
void kz_sbuf_add(struct kz_sbuf *sb, const void *data, size_t len);
void kz_sbuf_adds(struct kz_sbuf *sb, const char *s);
void kz_sbuf_addf(struct kz_sbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append with XML escaping of & < > " ' (attribute-safe). */
void kz_sbuf_add_xml(struct kz_sbuf *sb, const char *s, size_t len);
void kz_sbuf_reset(struct kz_sbuf *sb);   /* len = 0, keep memory */
void kz_sbuf_release(struct kz_sbuf *sb); /* free memory */
/* Hand the buffer to the caller (free() it); sb is left empty. */
char *kz_sbuf_detach(struct kz_sbuf *sb, size_t *len);

/* ---- JSON strings and UTF-8 ------------------------------------------ */

/*
 * Length of the valid UTF-8 sequence at s (at most n bytes, n >= 1), with
 * the code point in *cp; 0 (and *cp untouched) for an invalid, overlong,
 * surrogate or truncated sequence.
 */
size_t kz_utf8_seq(const unsigned char *s, size_t n, uint32_t *cp);

/*
 * Append s[0..len) as a quoted JSON string literal.  '"' and '\\' are
 * backslash-escaped, control bytes and DEL become \u00XX, valid UTF-8 is
 * copied, and each byte of an invalid sequence becomes \ufffd, so the output
 * is always valid JSON.  `s` may contain NUL bytes.
 */
void kz_json_escape(struct kz_sbuf *out, const char *s, size_t len);

/* ---- files and string lists ----------------------------------------- */

/* Write all of p[0..len) to fd, across short writes and EINTR: 0, or -1 with errno. */
int kz_write_all(int fd, const void *p, size_t len);

/*
 * Replace `path` atomically with `data` (file mode `mode`): readers and a
 * crash see the old content or the new, never a mix.  KZ_OK, or KZ_ERR_IO
 * with errno kept and a message "cannot write PATH: ..." in err.
 */
int kz_write_file(const char *path, const void *data, size_t len, unsigned mode, char *err,
                  size_t errlen);

/*
 * Split "a,b,c" into an array of *n malloc'd strings, empty items dropped
 * (NULL and *n = 0 for none).  The caller frees it with kz_strv_free().
 */
char **kz_strv_split(const char *csv, unsigned *n);
void kz_strv_free(char **v, unsigned n); /* NULL is fine */

/* ---- arena: many small allocations, one release (arena.c) ----------- */

struct kz_arena_chunk;

/* Zero-initialise ({0}) before use; one owner, one thread. */
struct kz_arena {
    struct kz_arena_chunk *head;
};

/* Never NULL (aborts on OOM).  Memory is 16-byte aligned and not zeroed;
 * it stays valid until kz_arena_release(). */
void *kz_arena_alloc(struct kz_arena *a, size_t n);
/* Copy s[0..n) and NUL-terminate. */
char *kz_arena_strndup(struct kz_arena *a, const char *s, size_t n);
/* Free every chunk; the arena is empty and reusable afterwards. */
void kz_arena_release(struct kz_arena *a);

/* ---- base64 (base64.c) ------------------------------------------------ */

/* Standard base64 of data[0..len), appended. */
void kz_base64_append(struct kz_sbuf *out, const unsigned char *data, size_t len);
/*
 * Decode standard base64 (padding required, no whitespace) into out[0..cap).
 * Returns KZ_OK with *n, KZ_ERR_PARSE or KZ_ERR_TOOBIG.
 */
int kz_base64_decode(const char *in, size_t len, unsigned char *out, size_t cap, size_t *n);

/* ---- refcounted immutable byte buffers ------------------------------ */

/*
 * A serialized event shared by every recipient queue.  Created with one
 * reference; each queue that holds it takes a reference; the last unref
 * frees it.  Loop thread only (the count is not atomic).
 */
struct kz_rbuf {
    uint32_t refs;
    uint32_t len;
    char data[];
};

struct kz_rbuf *kz_rbuf_new(const void *data, size_t len);
/* Copies the content of sb and resets sb (its memory is kept for reuse). */
struct kz_rbuf *kz_rbuf_from_sbuf(struct kz_sbuf *sb);
static inline struct kz_rbuf *kz_rbuf_ref(struct kz_rbuf *b)
{
    b->refs++;
    return b;
}
void kz_rbuf_unref(struct kz_rbuf *b); /* NULL is fine */

/* ---- metrics (loop thread) ------------------------------------------ */

/* Why an input was refused.  Names appear in /metrics and logs. */
enum kz_reject {
    KZ_REJ_XML,        /* not well-formed XML, or not an <event> */
    KZ_REJ_TOO_BIG,    /* over limits.max_event_bytes */
    KZ_REJ_MISSING,    /* required attribute or <point> missing */
    KZ_REJ_TIME,       /* time/start/stale not ISO 8601 UTC */
    KZ_REJ_STALE,      /* stale before start */
    KZ_REJ_POINT,      /* lat/lon/hae/ce/le out of range or not numbers */
    KZ_REJ_TYPE,       /* type or how syntax */
    KZ_REJ_DEPTH,      /* nesting deeper than the limit */
    KZ_REJ_ENTITY,     /* DTD / entity declarations are refused */
    KZ_REJ_JUNK,       /* bytes between events that are not XML prologue */
    KZ_REJ_LABEL,      /* access label unparseable (or absent with no default) */
    KZ_REJ_CEILING,    /* label above the input's ceiling */
    KZ_REJ_CONFLICT,   /* uid of a track the sender may not see */
    KZ_REJ_OVERLOAD,   /* the store is too far behind to accept more */
    KZ_REJ_STATE_FULL, /* a new uid while limits.max_tracks uids are current */
    KZ_REJ_PROTO,      /* TAK protocol frame or TakMessage that does not decode */
    KZ_REJ_CLAIMED,    /* uid or callsign held by another identity */
    KZ_REJ_BUDGET,     /* a new uid while the sender holds max_tracks_per_identity */
    KZ_REJ_MISSION,    /* addressed to a mission (none exist yet): reaches no one */
    KZ_REJ_CONTROL,    /* a client's control message (t-x-takp-*, t-x-c-t-r): not an event */
    KZ_REJ__COUNT
};

const char *kz_reject_name(enum kz_reject r);

struct kz_metrics {
    uint64_t conns_open; /* gauge: CoT stream connections */
    uint64_t conns_total;
    uint64_t http_conns_open; /* gauge */
    uint64_t http_requests;
    uint64_t events_in;  /* accepted events */
    uint64_t deliveries; /* event copies queued to recipients */
    uint64_t bytes_out;
    uint64_t rejects[KZ_REJ__COUNT];
    uint64_t slow_consumer_drops;
    uint64_t garbage_closes;
    uint64_t input_holds; /* stream reads paused while the store caught up (route/hold.c) */
    uint64_t conn_limit_refusals;
    uint64_t enroll_auth_failures; /* wrong enrollment passwords (marti/enroll.c) */
    uint64_t enroll_backoffs;      /* enrollment logins refused 429 while backing off */
    uint64_t credential_closes;    /* TLS connections closed: user deleted, cert revoked */
    /* accept() refused for want of descriptors (EMFILE/ENFILE): the pending
     * connection was closed at once (net/listener.c). */
    uint64_t accept_emfile;
    /* Connections of `proxy_protocol` inputs closed for a missing, malformed,
     * oversized or late PROXY header (net/proxy_wait.c). */
    uint64_t proxy_refusals;
    uint64_t files_stored; /* uploads committed (mission/files.c) */
    uint64_t file_bytes;   /* ... and their bytes */
};

extern struct kz_metrics kz_metrics;

/*
 * The roles an identity (inputs.identity.roles, the users table) may hold
 * and the HTTP route rows require: viewer reads, operator sends events and
 * reports, admin changes users and policy.  docs/api.md lists each route's.
 */
#define KZ_ROLE_VIEWER "viewer"
#define KZ_ROLE_OPERATOR "operator"
#define KZ_ROLE_ADMIN "admin"

#include "core/config.h"

/* Unsafe libc functions fail the build in every file (git banned.h). */
#include "core/banned.h"

#endif
