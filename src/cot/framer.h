/*
 * framer.h - split a CoT XML byte stream into single <event> documents.
 *
 * The stream carries <event>...</event> documents back to back, each
 * optionally preceded by an XML declaration and whitespace.  The framer
 * finds the first "<event" followed by whitespace, '>' or '/', and the end
 * right after the matching "</event>" (or the "/>" of a self-closed start
 * tag).  It never parses XML; kz_cot_decode() does that.
 *
 * Bytes that appear before "<event" and are not whitespace or an XML
 * declaration / processing instruction count as junk and are reported once
 * per contiguous run (KZ_REJ_JUNK).  An event that grows past max_event
 * bytes without ending is reported (KZ_REJ_TOO_BIG) and discarded; the
 * framer then resynchronises at the next "<event".
 *
 * Consecutive rejects (junk runs, oversized events, and rejects the caller
 * reports through kz_framer_note_reject()) are counted; the caller resets
 * the count with kz_framer_note_ok() after an event decodes.  When the count
 * reaches KZ_FRAMER_MAX_STRIKES the feed returns
 * KZ_ERR_CLOSED and the caller should close the connection.
 *
 * Memory: only a partial event is copied into the framer's own buffer
 * (capacity <= max_event + a small margin); complete events inside `data`
 * are handed to the callback without copying.
 */
#ifndef KZ_COT_FRAMER_H
#define KZ_COT_FRAMER_H

#include "core/core.h"

#define KZ_FRAMER_MAX_STRIKES 16

/* One complete event; `xml` is valid only during the call. */
typedef void (*kz_frame_cb)(void *ud, const char *xml, size_t len);
/* A reject; `detail` is a short human-readable reason, valid during the call. */
typedef void (*kz_frame_reject_cb)(void *ud, enum kz_reject why, const char *detail);

struct kz_framer {
    char *buf; /* pending partial data */
    size_t len;
    size_t cap;
    size_t scan; /* bytes of buf already searched for the end token */
    size_t max_event;
    unsigned strikes; /* consecutive rejects */
    bool in_event;    /* buf starts at "<event" */
    bool skipping;    /* discarding an oversized event until its end */
    bool in_junk;     /* inside a junk run already reported */
    bool in_body;     /* past the event's start tag */
    char quote;       /* open quote while scanning the start tag, or 0 */
};

void kz_framer_init(struct kz_framer *f, size_t max_event);
void kz_framer_release(struct kz_framer *f);

/*
 * Feed bytes.  Calls on_event for each complete event and on_reject for
 * each reject, in stream order.  Returns KZ_OK, or KZ_ERR_CLOSED when the
 * strike limit is reached (no further callbacks are made for this call).
 */
int kz_framer_feed(struct kz_framer *f, const char *data, size_t len, kz_frame_cb on_event,
                   kz_frame_reject_cb on_reject, void *ud);

/*
 * The caller rejected an event the framer delivered (e.g. it did not
 * decode).  Returns KZ_ERR_CLOSED when the strike limit is reached.
 */
int kz_framer_note_reject(struct kz_framer *f);

/* The caller accepted an event: reset the strike count. */
static inline void kz_framer_note_ok(struct kz_framer *f)
{
    f->strikes = 0;
}

/*
 * Offset of the first "<event" start token in p[0..n), or n when there is
 * none.  Used to retry a frame that did not decode from the next event
 * inside it (junk glued to a valid event must not lose the event).
 */
size_t kz_cot_find_event(const char *p, size_t n);

/* Bytes currently buffered (for memory accounting). */
static inline size_t kz_framer_pending(const struct kz_framer *f)
{
    return f->len;
}

#endif
