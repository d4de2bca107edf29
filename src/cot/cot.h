/*
 * cot.h - Cursor-on-Target events: the in-memory form, the XML codec, the
 * JSON (GeoJSON Feature) encoding used by REST and SSE, the TAK protocol
 * codec, and the stream framing of both (XML <event> documents, TAK frames).
 * The only header other folders include from src/cot/.
 *
 * Ownership: every string in struct kz_event is heap-allocated and owned by
 * the event; kz_event_clear() frees them all.  Decoding never keeps pointers
 * into the input buffer.
 */
#ifndef KZ_COT_H
#define KZ_COT_H

#include "core/core.h"

#define KZ_POINT_UNKNOWN 9999999.0

/* One <marti><dest .../>: at least one field is set. */
struct kz_dest {
    char *callsign; /* NULL when not addressed by callsign */
    char *uid;      /* NULL when not addressed by uid */
    char *mission;  /* Data Sync mission name, or NULL */
};

/*
 * Bytes the free <event> attributes may hold (longer ones are refused,
 * KZ_REJ_TOO_BIG).  The canonical label the server writes into access must
 * fit KZ_COT_ACCESS_MAX too: the decoder reserves that room (see
 * kz_cot_decode).
 */
#define KZ_COT_UID_MAX 256
#define KZ_COT_VERSION_MAX 64
#define KZ_COT_QOS_MAX 64
#define KZ_COT_OPEX_MAX 64
#define KZ_COT_ACCESS_MAX 512

struct kz_event {
    /* <event> attributes */
    char *version; /* as sent; encoder writes "2.0" when NULL */
    char *uid;
    char *type;
    char *how;    /* NULL when absent or empty (accepted; omitted on output) */
    char *access; /* releasability label (banner string) or NULL; "Undefined" reads as NULL */
    char *qos;    /* NULL when absent or empty */
    char *opex;   /* NULL when absent or empty */
    int64_t time; /* µs since epoch, UTC */
    int64_t start;
    int64_t stale;

    /* <point> */
    double lat, lon, hae, ce, le;

    /*
     * Inner XML of <detail>, verbatim (without the <detail> tags), or NULL
     * when the event has no <detail> element.  "" for <detail/>.
     */
    char *detail;
    size_t detail_len;

    /* Fields parsed out of <detail> for the server (all may be NULL). */
    char *callsign;        /* contact@callsign */
    char *endpoint;        /* contact@endpoint */
    char *group_name;      /* __group@name */
    char *group_role;      /* __group@role */
    char *link_uid;        /* first link@uid (target of t-x-d-d) */
    char *chat_room;       /* __chat@chatroom */
    char *chat_sender;     /* __chat@senderCallsign */
    char *remarks;         /* text of <remarks>, the chat body for b-t-f */
    struct kz_dest *dests; /* marti/dest entries with a callsign, uid or mission */
    unsigned n_dests;

    /* Set by the server, not by the codec. */
    uint64_t seq;        /* server sequence number, 0 = not yet */
    int64_t recv_time;   /* µs */
    char *origin_input;  /* input name */
    char *origin_user;   /* sender identity's user */
    char *origin_nation; /* the sender's nation when it sent (ISO code) */
    char *origin_groups; /* the sender's OUT groups then, comma-separated */
    /* Federation (fed/): the nodes a relayed event passed, oldest first, comma-separated, and
     * its hop counters; NULL and 0 for events that came in any other way. */
    char *fed_provenance;
    int64_t fed_hops, fed_max_hops; /* max -1: unlimited */
    uint64_t fed_seq; /* the sending node's sequence of a federated event (kizuna peers); 0 */
};

/* Zero the struct and set the point fields to KZ_POINT_UNKNOWN. */
void kz_event_init(struct kz_event *ev);
/* Free every owned string; the struct is left as after kz_event_init(). */
void kz_event_clear(struct kz_event *ev);

/* Type helpers (type strings are case-sensitive). */
bool kz_cot_type_is(const struct kz_event *ev, const char *type); /* exact */

/* ---- decoding ------------------------------------------------------- */

struct kz_cot_limits {
    size_t max_event_bytes; /* default 65536 */
    unsigned max_depth;     /* element nesting, default 32 */
    unsigned max_dests;     /* marti/dest entries kept, default 64 */
};

void kz_cot_limits_default(struct kz_cot_limits *lim);

/*
 * A reusable decoder.  It holds one expat parser (reset between events, hash
 * salt set once) so decoding does not allocate a parser or read the system
 * random source per event.  One decoder per thread; cheap to keep per
 * connection.
 */
struct kz_cot_decoder;

struct kz_cot_decoder *kz_cot_decoder_new(const struct kz_cot_limits *lim);
void kz_cot_decoder_free(struct kz_cot_decoder *dec);

/*
 * Decode exactly one <event> document from xml[0..len).  An XML declaration,
 * whitespace, and any bytes before "<event" are skipped; a DOCTYPE or entity
 * declaration is refused (KZ_REJ_ENTITY).  On success fills `ev` (which must
 * be initialised; previous contents are cleared) and returns KZ_OK.  On
 * failure returns KZ_ERR_PARSE (or KZ_ERR_TOOBIG), leaves `ev` cleared, sets
 * *reason to the reject class and writes a one-line human-readable
 * explanation to errbuf (may be NULL).
 *
 * Validation: version, uid, type, time, start, stale required, each within
 * its cap (KZ_COT_*_MAX); how optional; times in ISO 8601 UTC; stale >=
 * start; exactly one <point> with lat in [-90,90], lon in [-180,180], finite
 * numbers (hae, ce and le may be "NaN": read as KZ_POINT_UNKNOWN); type
 * matches \w+(-\w+)*(;[^;]*)? and how matches \w(-\w+)*; element depth <=
 * max_depth.  access="" and access="Undefined" read as no access.
 *
 * Stream safety: a document with "</event" anywhere before its own end tag
 * (in a CDATA section, comment or processing instruction: the only places
 * XML lets it stand) is refused (KZ_REJ_XML), since stream readers split
 * at that token.  Comments and processing instructions inside <detail> are
 * dropped from ev->detail; everything else in it is kept verbatim.
 *
 * Size: the canonical form (kz_cot_encode_xml) must fit max_event_bytes,
 * counting access at no less than KZ_COT_ACCESS_MAX bytes so that the
 * label the server writes in its place fits too; otherwise KZ_ERR_TOOBIG,
 * KZ_REJ_TOO_BIG.
 */
int kz_cot_decode(struct kz_cot_decoder *dec, const char *xml, size_t len, struct kz_event *ev,
                  enum kz_reject *reason, char *errbuf, size_t errlen);

/* ---- encoding ------------------------------------------------------- */

/*
 * Append canonical XML to `out`:
 *   <?xml version="1.0" encoding="UTF-8"?>\n<event version="2.0" uid=".."
 *   type=".." [how=".."] time=".." start=".." stale=".." [access=".."]
 *   [qos=".."] [opex=".."]><point lat=".." lon=".." hae=".." ce=".."
 *   le=".."/>[<detail>...</detail>]</event>
 * No trailing newline (the stream splits right after </event>).  Numbers use
 * the shortest form that round-trips ("%.17g" trimmed); unknown values are
 * written as 9999999.0.  The detail is written verbatim.
 */
void kz_cot_encode_xml(const struct kz_event *ev, struct kz_sbuf *out);

/*
 * Append one element of a <detail> the server writes itself (plans):
 * <name a="v" ...>text</name>, or <name a="v" .../> when text is NULL.
 * `attrs` holds name/value pairs and ends with NULL; every value and the
 * text are escaped as the encoder escapes attribute values.  `name` and the
 * attribute names are the caller's literals.
 */
void kz_cot_detail_element(struct kz_sbuf *out, const char *name, const char *const *attrs,
                           const char *text);

/* Bytes kz_cot_encode_xml() would append for `ev`, without writing them. */
size_t kz_cot_xml_size(const struct kz_event *ev);

/*
 * Append the event as a GeoJSON Feature object:
 *   {"type":"Feature","id":uid,"geometry":{"type":"Point",
 *    "coordinates":[lon,lat,hae?]},"properties":{"uid","type","how","time",
 *    "start","stale","access","callsign","group","role","ce","le",
 *    "seq","remarks","detail"}}
 * Times as ISO strings; unknown hae/ce/le omitted; absent fields omitted.
 */
void kz_cot_encode_json(const struct kz_event *ev, struct kz_sbuf *out);

/* ---- TAK protocol v1 (protobuf) --------------------------------------- */

/*
 * Append the event as one TakMessage (proto/takmessage.proto) to `out`;
 * with `framed`, preceded by the streaming header (0xbf, varint length).
 * <detail> children that appear once with exactly a typed message's
 * attributes and no content become Contact, Group (__group),
 * PrecisionLocation, Status, Takv or Track; everything else is carried
 * verbatim in xmlDetail.  Times travel as milliseconds (finer digits are
 * lost: the protocol has none), the event's version attribute not at all.
 */
void kz_cot_encode_proto(const struct kz_event *ev, bool framed, struct kz_sbuf *out);

/*
 * Decode one TakMessage payload (no frame header) from buf[0..len) into
 * `ev` (initialised; previous contents cleared).  The event is built by
 * kz_cot_build() (xmlDetail, then the typed messages whose element
 * xmlDetail lacks), so the result and its validation are those of the same
 * event sent as XML.  Returns KZ_OK; KZ_ERR_NOTFOUND when
 * the message carries no cotEvent (a control-only message: nothing to
 * route); otherwise kz_cot_decode()'s codes, with *reason KZ_REJ_PROTO when
 * the bytes are not a TakMessage, KZ_REJ_XML when xmlDetail is not
 * well-formed, KZ_REJ_TIME for times past the year 9999.  errbuf as for
 * kz_cot_decode().
 */
int kz_cot_decode_proto(struct kz_cot_decoder *dec, const void *buf, size_t len,
                        struct kz_event *ev, enum kz_reject *reason, char *errbuf, size_t errlen);

/* ---- TAK typed <detail> children (TAK protocol v1 and federation) ------ */

#define KZ_COT_TYPED_ATTS 4
#define KZ_COT_TYPED_MAX 8

/* How a typed element's values read: text, or numbers that must read back as written. */
enum kz_cot_typed_num { KZ_TYPED_TEXT, KZ_TYPED_UINT31, KZ_TYPED_REAL };

/*
 * One kind of <detail> child a protobuf message carries in typed fields.  A
 * plain kind is an element with exactly (a subset allowed by `optional` of)
 * `atts` and no content.  A list kind (`child` set) is an element without
 * attributes whose content is only <child> elements, each with exactly one
 * of `atts` (non-empty), in the order of `atts` (so separate repeated fields
 * rebuild it): <marti><dest uid=".."/><dest callsign=".."/></marti>.
 */
struct kz_cot_typed {
    const char *elem;
    const char *child; /* list kind: the repeated child element; NULL: plain kind */
    const char *atts[KZ_COT_TYPED_ATTS];
    unsigned n_atts;
    unsigned optional;         /* plain: bit i: atts[i] may be absent (then never empty) */
    enum kz_cot_typed_num num; /* plain kinds */
    bool not_default;          /* moves only when a value is not ""/0 (proto3 scalars) */
};

/* The values of one kind (owned by the split, or borrowed for kz_cot_detail_join()). */
struct kz_cot_typed_val {
    bool present;
    char *s[KZ_COT_TYPED_ATTS];    /* plain text values, NULL when absent */
    double num[KZ_COT_TYPED_ATTS]; /* plain numeric kinds: the values */
    char **items;                  /* list kind: the values, in order */
    unsigned *which;               /* list kind: index into atts of each item */
    unsigned n_items;
};

struct kz_cot_split {
    struct kz_sbuf rest; /* the <detail> content minus the moved elements, in order */
    struct kz_cot_typed_val v[KZ_COT_TYPED_MAX];
};

/*
 * Split `detail` (the inner XML of <detail>) by kinds[0..n): a kind moves
 * out (v[k].present) when its element appears once and fits the kind;
 * everything else stays, byte for byte, in `rest`.  KZ_OK, or KZ_ERR_PARSE
 * when the content is not well-formed (then nothing moves and rest is the
 * detail verbatim).  Release with kz_cot_split_release() either way.
 */
int kz_cot_detail_split(const char *detail, size_t len, const struct kz_cot_typed *kinds,
                        unsigned n, struct kz_cot_split *out);
void kz_cot_split_release(struct kz_cot_split *s);

/*
 * The inverse: append `rest`, then the element of every present kind that
 * `rest` does not already carry (rest's copy wins), numbers in their
 * shortest form.  KZ_OK, or KZ_ERR_PARSE with a message in err when rest is
 * not well-formed content.
 */
int kz_cot_detail_join(const char *rest, size_t len, const struct kz_cot_typed *kinds, unsigned n,
                       const struct kz_cot_typed_val *vals, struct kz_sbuf *out, char *err,
                       size_t errlen);

/* ---- events from typed parts (TAK protocol v1, federation) ------------- */

/*
 * An event as a protobuf message carries it: the <event> attributes and the
 * point as values, the <detail> as XML content plus typed fields.  Every
 * pointer is borrowed for the call.
 */
struct kz_cot_parts {
    const char *uid, *type;                /* required: NULL or "" is refused */
    const char *how, *access, *qos, *opex; /* NULL or "": absent */
    int64_t time, start, stale;            /* µs, each within the years 0000-9999 */
    double lat, lon, hae, ce, le;
    const char *detail; /* content of <detail> (not NUL-terminated), or NULL: no <detail> */
    size_t detail_len;
    const struct kz_cot_typed *kinds; /* the typed elements, appended when detail lacks them */
    const struct kz_cot_typed_val *vals;
    unsigned n_kinds;
};

/*
 * Build `ev` (initialised; previous contents cleared) from `p` without
 * writing or parsing the whole event as XML.  The result, the accept/reject
 * decision, the reject class and the message are those kz_cot_decode()
 * gives for the document kz_cot_encode_xml() writes for these parts with
 * the detail kz_cot_detail_join() builds (version "2.0"): every attribute
 * reads back as that document would (what XML cannot carry becomes U+FFFD)
 * and goes through the same checks, the detail content is parsed once with
 * expat (well-formedness, depth, comments and instructions cut, the server
 * fields of struct kz_event), and the typed fields give the server fields
 * of the elements they stand for.  Returns KZ_OK, KZ_ERR_PARSE or
 * KZ_ERR_TOOBIG with *reason and errbuf as kz_cot_decode(); a detail that
 * is not well-formed is KZ_REJ_XML, "detail is not well-formed XML: ...",
 * as kz_cot_detail_join() says it.  Uses dec's parser and limits.
 */
int kz_cot_build(struct kz_cot_decoder *dec, const struct kz_cot_parts *p, struct kz_event *ev,
                 enum kz_reject *reason, char *errbuf, size_t errlen);

/* ---- stream framing: a CoT XML byte stream into <event> documents ---- */

/*
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

/* ---- TAK protocol stream frames ---------------------------------------- */

/*
 * TAK protocol streaming frames: 0xbf, an unsigned protobuf varint length,
 * then that many payload bytes (one TakMessage), repeated back to back.
 * Pure functions; no I/O.
 */
#define KZ_TAKP_MAGIC 0xbf
#define KZ_TAKP_VARINT_MAX 10
/* Longest header kz_takp_put_header() writes: the magic and a 64-bit varint. */
#define KZ_TAKP_HEADER_MAX (1 + KZ_TAKP_VARINT_MAX)

/*
 * Parse one frame header at p[0..n).  KZ_OK: *hdr_len bytes of header and a
 * payload of *payload_len follow (the caller checks it has them).
 * KZ_ERR_AGAIN: need more bytes.  KZ_ERR_PARSE: no magic byte or a varint
 * over 10 bytes / 64 bits.  KZ_ERR_TOOBIG: payload over `max`.
 */
int kz_takp_header(const unsigned char *p, size_t n, size_t max, size_t *hdr_len,
                   size_t *payload_len);

/* Write the header for a payload of `len` bytes; returns its length (<= KZ_TAKP_HEADER_MAX). */
size_t kz_takp_put_header(unsigned char *out, uint64_t len);

#endif
