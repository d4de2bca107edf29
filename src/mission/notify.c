/*
 * notify.c - the CoT notifications TAK Server sends mission subscribers
 * (its DistributedSubscriptionManager, reference B.3): t-x-m-c with the
 * full MissionChanges XML, t-x-m-n (created), t-x-m-d (deleted), t-x-m-i
 * (invited, with a token) and t-x-m-r (role changed, with the role).  The
 * caller labels each notification with what it carries (the changed item's
 * label, else the mission's) and the router releases it per recipient.
 */
#include <stdlib.h>
#include <string.h>

#include "cot/cot.h"
#include "mission/mission.h"

#define STALE_US (20 * 1000000LL)

static void attr(struct kz_sbuf *out, const char *name, const char *v);

static void text(struct kz_sbuf *out, const char *tag, const char *v)
{
    kz_sbuf_addf(out, "<%s>", tag);
    kz_sbuf_add_xml(out, v ? v : "", v ? strlen(v) : 0);
    kz_sbuf_addf(out, "</%s>", tag);
}

static void time_text(struct kz_sbuf *out, const char *tag, int64_t us)
{
    char t[KZ_TIME_STRLEN];

    kz_time_format(us - us % 1000, t);
    text(out, tag, t);
}

static void resource_xml(struct kz_sbuf *out, const char *hash,
                         const struct kz_mission_files *files)
{
    struct kz_mission_file f;

    memset(&f, 0, sizeof(f));
    kz_sbuf_adds(out, "<contentResource>");
    if (files && files->file_meta && files->file_meta(files->ud, hash, &f) == KZ_OK) {
        text(out, "filename", f.filename);
        text(out, "mimeType", f.mime_type);
        text(out, "name", f.name[0] ? f.name : f.filename);
        kz_sbuf_addf(out, "<size>%lld</size>", (long long)f.size);
        time_text(out, "submissionTime", f.submission_time);
        text(out, "submitter", f.submitter);
        text(out, "tool", f.tool[0] ? f.tool : "public");
    }
    text(out, "hash", hash);
    text(out, "uid", hash);
    kz_sbuf_adds(out, "</contentResource>");
}

/* <details type callsign><location lat lon/></details> from the uid's track, when known. */
static void details_xml(struct kz_sbuf *out, const char *uid, const struct kz_label *label,
                        const struct kz_mission_uids *uids)
{
    struct kz_mission_uid_details d;

    memset(&d, 0, sizeof(d));
    if (!uids || !uids->details || !uids->details(uids->ud, uid, label, &d))
        return;
    kz_sbuf_adds(out, "<details");
    attr(out, "type", d.type);
    if (d.callsign[0])
        attr(out, "callsign", d.callsign);
    kz_sbuf_addf(out, "><location lat=\"%.7f\" lon=\"%.7f\"/></details>", d.lat, d.lon);
}

void kz_mission_change_xml(struct kz_sbuf *out, const struct kz_mission *m,
                           const struct kz_mission_change *c, const struct kz_mission_files *files,
                           const struct kz_mission_uids *uids)
{
    kz_sbuf_adds(out, "<MissionChanges><MissionChange>");
    if (c->content && !c->is_hash)
        text(out, "contentUid", c->content);
    text(out, "creatorUid", c->creator_uid);
    text(out, "isFederatedChange", "false");
    text(out, "missionName", m->name);
    text(out, "missionGuid", m->guid);
    time_text(out, "timestamp", c->timestamp);
    time_text(out, "serverTime", c->server_time);
    text(out, "type", kz_mission_change_name(c->type));
    if (c->content && c->is_hash)
        resource_xml(out, c->content, files);
    else if (c->content)
        details_xml(out, c->content, &c->label, uids);
    kz_sbuf_adds(out, "</MissionChange></MissionChanges>");
}

void kz_mission_role_xml(struct kz_sbuf *out, enum kz_mission_role r)
{
    unsigned perms = kz_mission_role_perms(r);

    if (!kz_mission_role_name(r))
        return;
    kz_sbuf_addf(out, "<role type=\"%s\"><permissions>", kz_mission_role_name(r));
    for (unsigned i = 0; i < KZ_MPERM_COUNT; i++)
        if (perms & (1u << i))
            kz_sbuf_addf(out, "<permission type=\"%s\"/>", kz_mission_perm_name(i));
    kz_sbuf_adds(out, "</permissions></role>");
}

static void attr(struct kz_sbuf *out, const char *name, const char *v)
{
    if (!v)
        return;
    kz_sbuf_addf(out, " %s=\"", name);
    kz_sbuf_add_xml(out, v, strlen(v));
    kz_sbuf_adds(out, "\"");
}

void kz_mission_notice(struct kz_event *ev, const struct kz_mission *m,
                       const struct kz_mission_notice *n, int64_t now_us)
{
    struct kz_sbuf d = KZ_SBUF_INIT;
    char uid[KZ_MISSION_GUID_LEN + 1];

    kz_event_init(ev);
    kz_mission_uuid(uid);
    ev->uid = kz_xstrdup(uid);
    ev->type = kz_xstrdup(n->cot_type);
    ev->how = kz_xstrdup("h-g-i-g-o");
    ev->access = n->banner ? kz_xstrdup(n->banner) : NULL;
    ev->time = ev->start = now_us - now_us % 1000;
    ev->stale = ev->start + STALE_US;
    ev->lat = ev->lon = ev->hae = 0;
    kz_sbuf_adds(&d, "<mission");
    attr(&d, "type", n->type);
    attr(&d, "tool", m->tool);
    attr(&d, "name", m->name);
    attr(&d, "guid", m->guid);
    attr(&d, "authorUid", n->author);
    attr(&d, "token", n->token);
    kz_sbuf_adds(&d, n->inner ? ">" : "/>");
    if (n->inner) {
        kz_sbuf_adds(&d, n->inner);
        kz_sbuf_adds(&d, "</mission>");
    }
    ev->detail = kz_sbuf_detach(&d, &ev->detail_len);
}
