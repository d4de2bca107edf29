/*
 * fields.c - what the server reads out of <detail>'s children: the contact,
 * group, link, chat and remarks fields and the marti destinations.  One set
 * of rules for both ways an event is made: parsed from XML (decode.c) and
 * built from TAK's typed fields (build.c).
 */
#include <string.h>

#include "cot/internal.h"

static void set_once(char **dst, const char *v)
{
    if (!*dst && v && *v)
        *dst = kz_xstrdup(v);
}

static const char *attr(const char **atts, const char *name)
{
    for (size_t i = 0; atts[i]; i += 2)
        if (strcmp(atts[i], name) == 0)
            return atts[i + 1];
    return NULL;
}

static char *nonempty(const char *s)
{
    return s && *s ? kz_xstrdup(s) : NULL;
}

static void add_dest(struct kz__cot_fields *f, const char **atts)
{
    struct kz_event *ev = f->ev;
    const char *cs = attr(atts, "callsign"), *uid = attr(atts, "uid");
    const char *mission = attr(atts, "mission");

    if ((!cs || !*cs) && (!uid || !*uid) && (!mission || !*mission))
        return; /* group destinations are not ours to route */
    if (ev->n_dests >= f->max_dests)
        return;
    if (ev->n_dests == f->dests_cap) {
        f->dests_cap = f->dests_cap ? f->dests_cap * 2 : 4;
        ev->dests = kz_xrealloc(ev->dests, f->dests_cap * sizeof(*ev->dests));
    }
    ev->dests[ev->n_dests].callsign = nonempty(cs);
    ev->dests[ev->n_dests].uid = nonempty(uid);
    ev->dests[ev->n_dests].mission = nonempty(mission);
    ev->n_dests++;
}

static void detail_child(struct kz__cot_fields *f, const char *name, const char **atts)
{
    struct kz_event *ev = f->ev;

    if (strcmp(name, "contact") == 0) {
        set_once(&ev->callsign, attr(atts, "callsign"));
        set_once(&ev->endpoint, attr(atts, "endpoint"));
    } else if (strcmp(name, "__group") == 0) {
        set_once(&ev->group_name, attr(atts, "name"));
        set_once(&ev->group_role, attr(atts, "role"));
    } else if (strcmp(name, "link") == 0) {
        set_once(&ev->link_uid, attr(atts, "uid"));
    } else if (strcmp(name, "__chat") == 0) {
        set_once(&ev->chat_room, attr(atts, "chatroom"));
        set_once(&ev->chat_sender, attr(atts, "senderCallsign"));
    } else if (strcmp(name, "remarks") == 0 && !f->seen_remarks) {
        f->seen_remarks = true;
        f->child = KZ__COT_CHILD_REMARKS;
    } else if (strcmp(name, "marti") == 0) {
        f->child = KZ__COT_CHILD_MARTI;
    }
}

void kz__cot_fields_reset(struct kz__cot_fields *f, struct kz_event *ev, unsigned max_dests)
{
    f->ev = ev;
    f->max_dests = max_dests;
    f->dests_cap = 0;
    f->seen_remarks = false;
    f->child = KZ__COT_CHILD_NONE;
    kz_sbuf_reset(&f->text);
}

void kz__cot_fields_start(struct kz__cot_fields *f, unsigned depth, const char *name,
                          const char **atts)
{
    if (depth == 3)
        detail_child(f, name, atts);
    else if (depth == 4 && f->child == KZ__COT_CHILD_MARTI && strcmp(name, "dest") == 0)
        add_dest(f, atts);
}

void kz__cot_fields_text(struct kz__cot_fields *f, unsigned depth, const char *s, size_t len)
{
    if (depth == 3 && f->child == KZ__COT_CHILD_REMARKS && len > 0)
        kz_sbuf_add(&f->text, s, len);
}

void kz__cot_fields_end(struct kz__cot_fields *f, unsigned depth)
{
    if (depth != 3 || f->child == KZ__COT_CHILD_NONE)
        return;
    if (f->child == KZ__COT_CHILD_REMARKS && f->text.len)
        f->ev->remarks = kz_xstrndup(f->text.buf, f->text.len);
    f->child = KZ__COT_CHILD_NONE;
}
