/*
 * memo.c - the last banners parsed, kept with their labels and canonical
 * forms (struct kz_label_memo).  A hit is one length compare and one
 * memcmp per slot; a miss parses and formats as before and replaces the
 * oldest slot.
 */
#include <string.h>

#include "label/internal.h"

static bool slot_holds(const struct kz_label_memo_slot *sl, const struct kz_label_policy *p,
                       const char *s, size_t len)
{
    return sl->version != 0 && sl->version == p->version && sl->len == len &&
           memcmp(sl->text, s, len) == 0;
}

/* Parse and format into `canon`; *formats: the formatter took the label. */
static int parse_format(const struct kz_label_policy *p, const char *s, size_t len,
                        struct kz_label *out, struct kz_sbuf *canon, bool *formats)
{
    int rc = kz_label_parse(p, s, len, out, NULL, 0);

    kz_sbuf_reset(canon);
    *formats = rc == KZ_OK && kz_label_format(p, out, canon) == KZ_OK;
    return rc;
}

static int answer(int rc, bool formats, const struct kz_sbuf *canon, const struct kz_sbuf **out)
{
    if (rc == KZ_OK)
        *out = formats ? canon : NULL;
    return rc;
}

int kz_label_memo_parse(struct kz_label_memo *m, const struct kz_label_policy *p, const char *s,
                        size_t len, struct kz_label *out, const struct kz_sbuf **canon)
{
    bool formats;

    for (unsigned i = 0; i < KZ_LABEL_MEMO_SLOTS; i++) {
        struct kz_label_memo_slot *sl = &m->slot[i];
        if (slot_holds(sl, p, s, len)) {
            *out = sl->label;
            return answer(sl->rc, sl->formats, &sl->canon, canon);
        }
    }
    if (len >= KZ_LABEL_MEMO_TEXT) {
        int rc = parse_format(p, s, len, out, &m->spare, &formats);
        return answer(rc, formats, &m->spare, canon);
    }
    struct kz_label_memo_slot *sl = &m->slot[m->next];
    m->next = (m->next + 1) % KZ_LABEL_MEMO_SLOTS;
    sl->rc = parse_format(p, s, len, &sl->label, &sl->canon, &sl->formats);
    sl->version = p->version;
    memcpy(sl->text, s, len);
    sl->len = len;
    *out = sl->label;
    return answer(sl->rc, sl->formats, &sl->canon, canon);
}

void kz_label_memo_release(struct kz_label_memo *m)
{
    for (unsigned i = 0; i < KZ_LABEL_MEMO_SLOTS; i++)
        kz_sbuf_release(&m->slot[i].canon);
    kz_sbuf_release(&m->spare);
    memset(m, 0, sizeof(*m));
}
