/*
 * internal.h - helpers shared by the CoT codec's source files.  Not part of
 * the subsystem's interface: other folders include cot.h only.
 */
#ifndef KZ_COT_INTERNAL_H
#define KZ_COT_INTERNAL_H

#include <expat.h>

#include "cot/cot.h"

/* Room for any message a decode failure produces. */
#define KZ__COT_ERRLEN 192
/* Room for any number kz__cot_fmt_num() writes, NUL included. */
#define KZ__COT_NUMLEN 32

/* Why a decode failed: the reject class and a one-line explanation. */
struct kz__cot_err {
    enum kz_reject reason;
    char msg[KZ__COT_ERRLEN];
};

/* Record a failure; always returns KZ_ERR_PARSE so callers can return it. */
int kz__cot_fail(struct kz__cot_err *e, enum kz_reject reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * What the server reads out of <detail>'s children (fields.c), fed the
 * elements and text of the detail by their depth in the event (<detail> is
 * 2): the contact, group, link and chat fields, the first <remarks>' text
 * and the marti destinations (at most max_dests).  Reset per event; `text`
 * is the owner's to release.
 */
enum kz__cot_child { KZ__COT_CHILD_NONE, KZ__COT_CHILD_REMARKS, KZ__COT_CHILD_MARTI };

struct kz__cot_fields {
    struct kz_event *ev;
    unsigned max_dests, dests_cap;
    bool seen_remarks;
    enum kz__cot_child child; /* the open <detail> child read for text or <dest> */
    struct kz_sbuf text;      /* remarks text being collected */
};

void kz__cot_fields_reset(struct kz__cot_fields *f, struct kz_event *ev, unsigned max_dests);
void kz__cot_fields_start(struct kz__cot_fields *f, unsigned depth, const char *name,
                          const char **atts);
void kz__cot_fields_text(struct kz__cot_fields *f, unsigned depth, const char *s, size_t len);
void kz__cot_fields_end(struct kz__cot_fields *f, unsigned depth);

/*
 * Take and validate the attributes of <event> / <point> (expat's NULL-ended
 * name, value list) into `ev`.  On failure `ev` may hold some fields; the
 * caller clears it.
 */
int kz__cot_event_attrs(struct kz_event *ev, const char **atts, struct kz__cot_err *e);
int kz__cot_point_attrs(struct kz_event *ev, const char **atts, struct kz__cot_err *e);

/*
 * kz__cot_event_attrs(), told what the time, start and stale attributes
 * read as: times[0..2], each what kz_time_parse() reads back from
 * kz_time_format() of it (true of the years 1970-9999).  NULL: read them.
 */
int kz__cot_event_attrs_timed(struct kz_event *ev, const char **atts, const int64_t *times,
                              struct kz__cot_err *e);

/*
 * Offset of the first "<event" followed by whitespace, '>' or '/' in
 * p[0..n), or n when there is none.  When there is none and `tail` is not
 * NULL, *tail is the offset where an incomplete "<event" token may begin
 * (n when the last bytes cannot start one), so a stream reader keeps only
 * p[*tail..n) for the next read.
 */
size_t kz__cot_find_start(const char *p, size_t n, size_t *tail);

/*
 * Shortest decimal form of v that reads back as the same double; the
 * unknown value is written "9999999.0", non-finite values "nan"/"inf" (the
 * callers that cannot carry those check isfinite() first).  Returns the
 * length; `buf` holds KZ__COT_NUMLEN bytes.
 */
size_t kz__cot_fmt_num(double v, char *buf);

/*
 * kz_cot_xml_size(), with the access attribute counted as present and its
 * value as at least `access_min` bytes (0: as it is).
 */
size_t kz__cot_xml_size_reserved(const struct kz_event *ev, size_t access_min);

/*
 * More than kz_cot_encode_xml() can write for an event with these
 * attribute values (NULL: absent), `extra` bytes more of them and a detail
 * of detail_len: the fixed text, each value at 6 bytes a byte ("&quot;"),
 * times and numbers at their longest.  Counting exactly costs as much as
 * encoding; most events are far below the limit, which this shows at once.
 */
size_t kz__cot_xml_size_bound(const char *const *values, unsigned n, size_t extra,
                              size_t detail_len);

/* Append ` name="value"`, escaped so that it reads back as `value`. */
void kz__cot_add_attr(struct kz_sbuf *out, const char *name, const char *value);

/*
 * The expat hash salt (against hash-flooding), drawn once per process from
 * the system random source.  Thread-safe.
 */
unsigned long kz__cot_hash_salt(void);

/*
 * A new UTF-8 expat parser with kz__cot_hash_salt() set (aborts on out of
 * memory, see kz_oom).  Free it with XML_ParserFree(); XML_ParserReset()
 * drops the salt, so set it again after a reset.
 */
XML_Parser kz__cot_xml_parser(void);

/* The decoder's parser (reset by whoever uses it next) and its limits, for kz_cot_build(). */
XML_Parser kz__cot_decoder_parser(struct kz_cot_decoder *dec);
const struct kz_cot_limits *kz__cot_decoder_limits(const struct kz_cot_decoder *dec);

/* Append the element of one present typed kind, as kz_cot_detail_join() writes it. */
void kz__cot_typed_xml(struct kz_sbuf *out, const struct kz_cot_typed *d,
                       const struct kz_cot_typed_val *v);

/* What `value`, written by kz__cot_add_attr(), reads back as: `value` itself, or tmp's buffer. */
const char *kz__cot_attr_readback(const char *value, struct kz_sbuf *tmp);

/*
 * "</event" ending a name within doc[0..n): where a stream reader would
 * split ("</events>" closes another element and is no such token).
 */
bool kz__cot_has_end_token(const char *doc, size_t n);

#endif
