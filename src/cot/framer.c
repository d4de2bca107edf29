/*
 * framer.c - split a CoT byte stream into <event> documents (cot.h).
 *
 * A small state machine runs over one contiguous byte range at a time:
 * prologue (whitespace, <?...?>), junk (discard up to the next "<event"),
 * event (find its end) and skipping (discard an oversized event).  A feed
 * runs it over the caller's bytes in place; only what is unfinished at the
 * end - a partial event, or the few bytes of a token cut by the read - is
 * copied to f->buf, and the next feed completes that copy before going back
 * to the caller's bytes.  Positions in f->scan are relative to the start of
 * the current event, which is always the first byte of the range handed to
 * the event step, so they survive that copy.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cot/internal.h"

#define MIN_EVENT 32
/* Longest processing instruction (in practice the XML declaration) kept across reads. */
#define PI_MAX 1024
/* Most bytes kept between reads outside an event. */
#define TAIL_MAX (PI_MAX + 16)
/* Whitespace allowed in "</event   >"; bounds what is rescanned after a short read. */
#define END_WS_MAX 32
/* Bytes copied per step while completing a buffered partial event. */
#define FILL_STEP 2048

struct feed {
    kz_frame_cb on_event;
    kz_frame_reject_cb on_reject;
    void *ud;
    bool closed;
};

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static size_t min_sz(size_t a, size_t b)
{
    return a < b ? a : b;
}

size_t kz__cot_find_start(const char *p, size_t n, size_t *tail)
{
    size_t i = 0;

    while (i < n) {
        const char *h = memchr(p + i, '<', n - i);
        if (!h)
            break;
        size_t at = (size_t)(h - p), avail = n - at;
        if (avail < 7 && memcmp(h, "<event", min_sz(avail, 6)) == 0) {
            if (tail)
                *tail = at;
            return n;
        }
        if (avail >= 7 && memcmp(h, "<event", 6) == 0 &&
            (is_ws(h[6]) || h[6] == '>' || h[6] == '/'))
            return at;
        i = at + 1;
    }
    if (tail)
        *tail = n;
    return n;
}

size_t kz_cot_find_event(const char *p, size_t n)
{
    return kz__cot_find_start(p, n, NULL);
}

/*
 * End offset of the first "</event" ws* ">" in p[from..n), or 0.  When
 * there is none, *resume is where the next search must start so that a
 * token cut by the end of the range is found once completed.
 */
static size_t find_close(const char *p, size_t n, size_t from, size_t *resume)
{
    size_t i = from;

    while (i < n) {
        const char *h = memmem(p + i, n - i, "</event", 7);
        if (!h)
            break;
        size_t at = (size_t)(h - p), j = at + 7;
        while (j < n && j - (at + 7) < END_WS_MAX && is_ws(p[j]))
            j++;
        if (j == n) {
            *resume = at;
            return 0;
        }
        if (p[j] == '>')
            return j + 1;
        i = at + 1;
    }
    *resume = n >= 6 && n - 6 > i ? n - 6 : i;
    return 0;
}

static void reject(struct kz_framer *f, struct feed *fd, enum kz_reject why, const char *detail)
{
    f->strikes++;
    if (fd->on_reject)
        fd->on_reject(fd->ud, why, detail);
    if (f->strikes >= KZ_FRAMER_MAX_STRIKES)
        fd->closed = true;
}

static void reject_junk(struct kz_framer *f, struct feed *fd, const char *p, size_t n)
{
    char shown[25], msg[64];
    size_t k = min_sz(n, sizeof(shown) - 1);

    for (size_t i = 0; i < k; i++)
        shown[i] = (unsigned char)p[i] < 0x20 || (unsigned char)p[i] >= 0x7f ? '?' : p[i];
    shown[k] = '\0';
    snprintf(msg, sizeof(msg), "junk before <event>: \"%s\"", shown);
    reject(f, fd, KZ_REJ_JUNK, msg);
}

static void end_event(struct kz_framer *f)
{
    f->in_event = f->in_body = false;
    f->quote = 0;
    f->scan = 0;
}

/* End offset of the event starting at p[0], or 0 when p[0..n) does not hold it all. */
static size_t event_end(struct kz_framer *f, const char *p, size_t n)
{
    size_t i = f->scan < 6 ? 6 : f->scan;

    /* The start tag: its first unquoted '>' (attribute values may hold '>'). */
    for (; !f->in_body && i < n; i++) {
        if (f->quote) {
            /* A value is most of a start tag: to its closing quote at once. */
            const char *q = memchr(p + i, f->quote, n - i);
            if (!q) {
                i = n;
                break;
            }
            i = (size_t)(q - p);
            f->quote = 0;
        } else if (p[i] == '"' || p[i] == '\'') {
            f->quote = p[i];
        } else if (p[i] == '>') {
            f->in_body = true;
            if (p[i - 1] == '/')
                return i + 1;
        } else if (p[i] == '<') {
            /* Never valid in a start tag: end this broken event at the
             * nearest "</event>" rather than swallow the next one. */
            f->in_body = true;
            break;
        }
    }
    if (!f->in_body) {
        f->scan = i;
        return 0;
    }
    return find_close(p, n, i, &f->scan);
}

static size_t step_event(struct kz_framer *f, const char *p, size_t n, struct feed *fd, bool *more)
{
    size_t m = min_sz(n, f->max_event);
    size_t end = event_end(f, p, m);

    if (end) {
        end_event(f);
        if (fd->on_event)
            fd->on_event(fd->ud, p, end);
        /* The callback may have reported a reject of its own. */
        if (f->strikes >= KZ_FRAMER_MAX_STRIKES)
            fd->closed = true;
        return end;
    }
    if (m == f->max_event) {
        char msg[64];
        snprintf(msg, sizeof(msg), "event larger than %zu bytes", f->max_event);
        end_event(f);
        f->skipping = true;
        reject(f, fd, KZ_REJ_TOO_BIG, msg);
        return m;
    }
    *more = true;
    return 0;
}

/* Discard the rest of an oversized event: up to its end or the next event. */
static size_t step_skip(struct kz_framer *f, const char *p, size_t n, bool *more)
{
    size_t keep_s, keep_e = n;
    size_t s = kz__cot_find_start(p, n, &keep_s);
    size_t e = find_close(p, s, 0, &keep_e);

    if (e) {
        f->skipping = false;
        return e;
    }
    if (s < n) {
        f->skipping = false;
        f->in_event = true;
        return s;
    }
    *more = true;
    return min_sz(keep_s, keep_e);
}

static size_t step_junk(struct kz_framer *f, const char *p, size_t n, bool *more)
{
    size_t keep, s = kz__cot_find_start(p, n, &keep);

    if (s < n) {
        f->in_junk = false;
        f->in_event = true;
        return s;
    }
    *more = true;
    return keep;
}

enum token { T_MORE, T_EVENT, T_PI, T_JUNK };

/* What starts at p[0] (not whitespace) between events. */
static enum token classify(const char *p, size_t n, size_t *len)
{
    if (p[0] != '<')
        return T_JUNK;
    if (n < 2)
        return T_MORE;
    if (p[1] == '?') {
        const char *q = memmem(p + 2, min_sz(n, PI_MAX) - 2, "?>", 2);
        if (q) {
            *len = (size_t)(q - p) + 2;
            return T_PI;
        }
        return n < PI_MAX ? T_MORE : T_JUNK;
    }
    if (n < 7)
        return memcmp(p, "<event", min_sz(n, 6)) == 0 ? T_MORE : T_JUNK;
    if (memcmp(p, "<event", 6) == 0 && (is_ws(p[6]) || p[6] == '>' || p[6] == '/'))
        return T_EVENT;
    return T_JUNK;
}

static size_t step_prologue(struct kz_framer *f, const char *p, size_t n, struct feed *fd,
                            bool *more)
{
    size_t i = 0, len = 0;

    while (i < n && is_ws(p[i]))
        i++;
    if (i == n)
        return n;
    switch (classify(p + i, n - i, &len)) {
    case T_PI:
        return i + len;
    case T_EVENT:
        f->in_event = true;
        return i;
    case T_MORE:
        *more = true;
        return i;
    case T_JUNK:
        break;
    }
    f->in_junk = true;
    reject_junk(f, fd, p + i, n - i);
    return i;
}

/*
 * Run the state machine over p[0..n), stopping once `stop` bytes are
 * consumed or it needs more; returns the bytes consumed.
 */
static size_t step(struct kz_framer *f, const char *p, size_t n, size_t stop, struct feed *fd)
{
    size_t i = 0;
    bool more = false;

    while (i < n && i < stop && !more && !fd->closed) {
        if (f->in_event)
            i += step_event(f, p + i, n - i, fd, &more);
        else if (f->skipping)
            i += step_skip(f, p + i, n - i, &more);
        else if (f->in_junk)
            i += step_junk(f, p + i, n - i, &more);
        else
            i += step_prologue(f, p + i, n - i, fd, &more);
    }
    return i;
}

static void append(struct kz_framer *f, const char *data, size_t n)
{
    size_t need = f->len + n;

    KZ_ASSERT(need <= (f->max_event > TAIL_MAX ? f->max_event : TAIL_MAX));
    if (need > f->cap) {
        size_t cap = f->cap ? f->cap : 512;
        while (cap < need)
            cap *= 2;
        f->buf = kz_xrealloc(f->buf, cap);
        f->cap = cap;
    }
    memcpy(f->buf + f->len, data, n);
    f->len = need;
}

void kz_framer_init(struct kz_framer *f, size_t max_event)
{
    memset(f, 0, sizeof(*f));
    f->max_event = max_event < MIN_EVENT ? MIN_EVENT : max_event;
}

void kz_framer_release(struct kz_framer *f)
{
    free(f->buf);
    kz_framer_init(f, f->max_event);
}

/* Complete the buffered construct with the caller's bytes; returns bytes of data used. */
static size_t feed_buffered(struct kz_framer *f, const char *data, size_t len, struct feed *fd)
{
    size_t old = f->len;
    size_t limit = f->in_event ? f->max_event : TAIL_MAX;
    size_t take, used;

    KZ_ASSERT(old < limit);
    /* Modest steps: whatever follows the buffered construct is better read in place. */
    take = min_sz(len, min_sz(limit - old, FILL_STEP));
    append(f, data, take);
    used = step(f, f->buf, f->len, old, fd);
    if (used >= old) {
        /* The buffered part is done; what follows is read from `data` in place. */
        f->len = 0;
        return used - old;
    }
    memmove(f->buf, f->buf + used, f->len - used);
    f->len -= used;
    return take;
}

int kz_framer_feed(struct kz_framer *f, const char *data, size_t len, kz_frame_cb on_event,
                   kz_frame_reject_cb on_reject, void *ud)
{
    struct feed fd = {on_event, on_reject, ud, false};

    if (f->strikes >= KZ_FRAMER_MAX_STRIKES)
        return KZ_ERR_CLOSED;
    while (len > 0 && !fd.closed) {
        if (f->len) {
            size_t used = feed_buffered(f, data, len, &fd);
            data += used;
            len -= used;
            continue;
        }
        size_t used = step(f, data, len, len, &fd);
        if (!fd.closed && used < len)
            append(f, data + used, len - used);
        break;
    }
    return fd.closed ? KZ_ERR_CLOSED : KZ_OK;
}

int kz_framer_note_reject(struct kz_framer *f)
{
    if (f->strikes < KZ_FRAMER_MAX_STRIKES)
        f->strikes++;
    return f->strikes >= KZ_FRAMER_MAX_STRIKES ? KZ_ERR_CLOSED : KZ_OK;
}
