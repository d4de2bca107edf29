/*
 * multipart.c - a streaming multipart/form-data parser (RFC 7578 over the
 * multipart syntax of RFC 2046 section 5.1.1), small and bounded: part
 * headers are at most KZ_MULTIPART_MAX_HEADER bytes, names and types at
 * most KZ_MULTIPART_MAX_NAME; part data is handed on as it comes and never
 * kept, so memory does not grow with the body.
 *
 * The delimiter is CRLF "--" boundary.  The body is read as if it began
 * with a CRLF, so a first boundary at the very start matches too.  Inside a
 * part, bytes that may begin a delimiter are held back (at most its length,
 * and they are a prefix of it, so nothing is copied) until it is clear
 * whether they are one.  Boundary characters never include CR, so a failed
 * match can only restart at a CR.
 */
#include <string.h>
#include <strings.h>

#include "mission/files.h"

enum { MP_PREAMBLE, MP_AFTER, MP_HEADERS, MP_DATA, MP_EPILOGUE };

/* RFC 2046 bchars: DIGIT / ALPHA / "'()+_,-./:=?" and space (not last). */
static bool bchar(char ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           strchr("'()+_,-./:=? ", ch) != NULL;
}

/* The value of parameter `key` in "type; a=b; key=value" (quoted or not) into out. */
static int param(const char *s, const char *key, char *out, size_t outlen)
{
    size_t klen = strlen(key);

    while ((s = strchr(s, ';')) != NULL) {
        s++;
        s += strspn(s, " \t");
        if (strncasecmp(s, key, klen) != 0 || s[klen] != '=')
            continue;
        s += klen + 1;
        size_t n = 0;
        if (*s == '"') {
            for (s++; *s && *s != '"'; s++) {
                if (*s == '\\' && s[1])
                    s++;
                if (n + 1 >= outlen)
                    return KZ_ERR_TOOBIG;
                out[n++] = *s;
            }
            if (*s != '"')
                return KZ_ERR_PARSE;
        } else {
            n = strcspn(s, "; \t");
            if (n + 1 > outlen)
                return KZ_ERR_TOOBIG;
            memcpy(out, s, n);
        }
        out[n] = '\0';
        return KZ_OK;
    }
    return KZ_ERR_NOTFOUND;
}

int kz_multipart_boundary(const char *content_type, char *out, size_t outlen)
{
    char b[KZ_MULTIPART_MAX_BOUNDARY + 2];
    size_t n;
    int rc;

    if (!content_type || strncasecmp(content_type, "multipart/", 10) != 0)
        return KZ_ERR_NOTFOUND;
    rc = param(content_type, "boundary", b, sizeof(b));
    if (rc == KZ_ERR_NOTFOUND || rc == KZ_ERR_TOOBIG)
        return KZ_ERR_PARSE;
    if (rc != KZ_OK)
        return rc;
    n = strlen(b);
    if (n == 0 || n > KZ_MULTIPART_MAX_BOUNDARY || b[n - 1] == ' ' || n + 1 > outlen)
        return KZ_ERR_PARSE;
    for (size_t i = 0; i < n; i++)
        if (!bchar(b[i]))
            return KZ_ERR_PARSE;
    memcpy(out, b, n + 1);
    return KZ_OK;
}

void kz_multipart_init(struct kz_multipart *mp, const char *boundary,
                       const struct kz_multipart_ops *ops, void *ud)
{
    size_t n = strnlen(boundary, KZ_MULTIPART_MAX_BOUNDARY);

    memset(mp, 0, sizeof(*mp));
    mp->ops = *ops;
    mp->ud = ud;
    memcpy(mp->delim, "\r\n--", 4);
    memcpy(mp->delim + 4, boundary, n);
    mp->dlen = 4 + n;
    mp->state = MP_PREAMBLE;
    mp->matched = 2; /* the CRLF the body is read as beginning with */
    mp->held = 2;
}

static void fail(struct kz_multipart *mp, int err)
{
    if (mp->err == KZ_OK)
        mp->err = err;
}

static void emit(struct kz_multipart *mp, const char *p, size_t n)
{
    int rc;

    if (n == 0 || mp->state != MP_DATA || mp->err != KZ_OK)
        return;
    rc = mp->ops.part_data ? mp->ops.part_data(mp->ud, p, n) : KZ_OK;
    if (rc != KZ_OK)
        fail(mp, rc);
}

/* A whole delimiter: end the part (if any) and read what follows it. */
static void delimiter(struct kz_multipart *mp)
{
    int rc;

    if (mp->state == MP_DATA && mp->ops.part_end && (rc = mp->ops.part_end(mp->ud)) != KZ_OK)
        fail(mp, rc);
    mp->state = MP_AFTER;
    mp->after = 0;
    mp->matched = mp->held = 0;
}

/*
 * Part data or preamble: look for the delimiter in buf[0..n).  Returns the
 * bytes consumed (all, or up to the end of a delimiter).
 */
static size_t scan(struct kz_multipart *mp, const char *buf, size_t n)
{
    size_t run = 0, mstart = 0, i = 0;
    bool here = false; /* the current match began in this buffer, at mstart */

    while (i < n && mp->err == KZ_OK) {
        if (mp->matched == 0) {
            const char *cr = memchr(buf + i, '\r', n - i);
            if (!cr)
                break;
            i = (size_t)(cr - buf);
            mp->matched = 1;
            mstart = i++;
            here = true;
        } else if (buf[i] == mp->delim[mp->matched]) {
            if (++mp->matched < mp->dlen) {
                i++;
                continue;
            }
            emit(mp, buf + run, here ? mstart - run : 0);
            delimiter(mp);
            return i + 1;
        } else {
            if (!here)
                emit(mp, mp->delim, mp->held); /* held back, and not a delimiter after all */
            mp->matched = mp->held = 0;
            here = false; /* buf[i] is looked at again: it may be a CR */
        }
    }
    if (mp->matched == 0) {
        emit(mp, buf + run, n - run);
    } else if (here) {
        emit(mp, buf + run, mstart - run);
        mp->held = mp->matched;
    } else {
        mp->held = mp->matched; /* the whole buffer continued an earlier match */
    }
    return n;
}

/* After a delimiter: "--" (the last one), or optional blanks and CRLF. */
static void after(struct kz_multipart *mp, char ch)
{
    switch (mp->after) {
    case 0:
        if (ch == '-') {
            mp->after = 1;
            return;
        }
        mp->after = 2;
        /* fall through */
    case 2:
        if (ch == ' ' || ch == '\t')
            return;
        if (ch == '\r') {
            mp->after = 3;
            return;
        }
        break;
    case 1:
        if (ch == '-') {
            mp->state = MP_EPILOGUE;
            mp->done = true;
            return;
        }
        break;
    case 3:
        if (ch == '\n') {
            mp->state = MP_HEADERS;
            mp->hlen = 0;
            return;
        }
        break;
    }
    fail(mp, KZ_ERR_PARSE);
}

static int header_field(struct kz_multipart *mp, const char *line)
{
    const char *colon = strchr(line, ':');
    const char *v;
    size_t n;
    int rc;

    if (!colon || colon == line)
        return KZ_ERR_PARSE;
    v = colon + 1 + strspn(colon + 1, " \t");
    n = (size_t)(colon - line);
    if (n == 19 && strncasecmp(line, "Content-Disposition", n) == 0) {
        if (strncasecmp(v, "form-data", 9) != 0)
            return KZ_ERR_PARSE;
        rc = param(v, "name", mp->name, sizeof(mp->name));
        if (rc != KZ_OK && rc != KZ_ERR_NOTFOUND)
            return rc;
        rc = param(v, "filename", mp->filename, sizeof(mp->filename));
        mp->has_filename = rc == KZ_OK;
        return rc == KZ_ERR_NOTFOUND ? KZ_OK : rc;
    }
    if (n == 12 && strncasecmp(line, "Content-Type", n) == 0) {
        size_t vlen = strlen(v);
        if (vlen >= sizeof(mp->ctype))
            return KZ_ERR_TOOBIG;
        memcpy(mp->ctype, v, vlen + 1);
    }
    return KZ_OK; /* other fields are allowed and ignored */
}

/* The part's header block is whole (CRLF-separated lines, the blank one removed). */
static int headers_done(struct kz_multipart *mp)
{
    char *line = mp->hdr, *eol;
    int rc = KZ_OK;

    mp->name[0] = mp->filename[0] = mp->ctype[0] = '\0';
    mp->has_filename = false;
    while (rc == KZ_OK && *line) {
        eol = strstr(line, "\r\n");
        if (!eol)
            return KZ_ERR_PARSE;
        *eol = '\0';
        rc = header_field(mp, line);
        line = eol + 2;
    }
    if (rc != KZ_OK)
        return rc;
    struct kz_multipart_part p = {
        .name = mp->name,
        .filename = mp->has_filename ? mp->filename : NULL,
        .content_type = mp->ctype[0] ? mp->ctype : NULL,
    };
    mp->parts++;
    mp->state = MP_DATA;
    return mp->ops.part_begin ? mp->ops.part_begin(mp->ud, &p) : KZ_OK;
}

static void header_byte(struct kz_multipart *mp, char ch)
{
    int rc;

    if (ch == '\0' || mp->hlen == KZ_MULTIPART_MAX_HEADER) {
        fail(mp, ch ? KZ_ERR_TOOBIG : KZ_ERR_PARSE);
        return;
    }
    mp->hdr[mp->hlen++] = ch;
    mp->hdr[mp->hlen] = '\0';
    if (mp->hlen == 2 && memcmp(mp->hdr, "\r\n", 2) == 0) {
        mp->hdr[0] = '\0'; /* a part without header fields */
    } else if (mp->hlen >= 4 && memcmp(mp->hdr + mp->hlen - 4, "\r\n\r\n", 4) == 0) {
        mp->hdr[mp->hlen - 2] = '\0';
    } else {
        return;
    }
    if ((rc = headers_done(mp)) != KZ_OK)
        fail(mp, rc);
}

int kz_multipart_feed(struct kz_multipart *mp, const char *buf, size_t len)
{
    size_t i = 0;

    while (i < len && mp->err == KZ_OK) {
        switch (mp->state) {
        case MP_PREAMBLE:
        case MP_DATA:
            i += scan(mp, buf + i, len - i);
            break;
        case MP_AFTER:
            after(mp, buf[i++]);
            break;
        case MP_HEADERS:
            header_byte(mp, buf[i++]);
            break;
        default:
            return KZ_OK; /* the epilogue is ignored */
        }
    }
    return mp->err;
}

int kz_multipart_finish(struct kz_multipart *mp)
{
    if (mp->err != KZ_OK)
        return mp->err;
    return mp->done ? KZ_OK : KZ_ERR_PARSE;
}
