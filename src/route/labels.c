/*
 * labels.c - the label an accepted event leaves with: its banner parsed
 * (remembered per distinct banner, struct kz_label_memo), checked against
 * the input's ceiling, and written back in canonical form.
 */
#include <stdlib.h>
#include <string.h>

#include "route/internal.h"

/* ev->access becomes `canon` (kept when it already is). */
static void set_access(struct kz_event *ev, const struct kz_sbuf *canon)
{
    if (ev->access && strlen(ev->access) == canon->len &&
        memcmp(ev->access, canon->buf, canon->len) == 0)
        return;
    free(ev->access);
    ev->access = kz_xstrndup(canon->buf, canon->len);
}

/*
 * Label the event: its own access, else the input's default; refuse what
 * does not parse or is above the input's ceiling.  The event leaves with
 * the canonical form of its label.
 */
int kz__router_label_event(struct kz_router *r, const struct kz_input *input, struct kz_event *ev,
                           const struct kz_release_subject *sender, struct kz_label *label,
                           enum kz_reject *why)
{
    const struct kz_sbuf *canon = NULL;

    if (ev->access) {
        if (kz_label_memo_parse(&r->labels, r->policy, ev->access, strlen(ev->access), label,
                                &canon)) {
            *why = KZ_REJ_LABEL;
            return KZ_ERR_DENIED;
        }
        label->originator = sender->nation;
        if (sender->nation != KZ_NATION_NONE && !kz_nation_code(sender->nation))
            canon = NULL; /* the formatter refuses the originator the memo did not see */
    } else if (input->has_default_label) {
        *label = input->default_label;
        label->originator = sender->nation;
    } else {
        *why = KZ_REJ_LABEL;
        return KZ_ERR_DENIED;
    }
    if (input->has_ceiling && !kz_label_dominated(label, &input->ceiling)) {
        *why = KZ_REJ_CEILING;
        return KZ_ERR_DENIED;
    }
    if (!ev->access) {
        kz_sbuf_reset(&r->scratch);
        canon = kz_label_format(r->policy, label, &r->scratch) == KZ_OK ? &r->scratch : NULL;
    }
    /* The decoder kept room for KZ_COT_ACCESS_MAX bytes of label, no more. */
    if (!canon || canon->len > KZ_COT_ACCESS_MAX) {
        *why = KZ_REJ_LABEL;
        return KZ_ERR_DENIED;
    }
    set_access(ev, canon);
    return KZ_OK;
}

int kz__router_relabel(struct kz_router *r, struct kz_event *ev, const struct kz_label *label)
{
    kz_sbuf_reset(&r->scratch);
    if (kz_label_format(r->policy, label, &r->scratch) != KZ_OK)
        return KZ_ERR_DENIED;
    free(ev->access);
    ev->access = kz_xstrndup(r->scratch.buf, r->scratch.len);
    return KZ_OK;
}
