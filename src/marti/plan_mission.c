/*
 * plan_mission.c - a joint plan published as a Data Sync mission
 * (docs/missions.md, "Plans as missions"): the mission named like the
 * plan's id holds the uids of the plan's markers, each with its item's
 * label, and the plan's iCalendar file; its classification is the plan's
 * own label.  Only this flow writes it (kz_mission_role_for caps everyone
 * else at MISSION_READONLY_SUBSCRIBER); once the plan is closed the
 * mission is archived: keyword "archived", kept for the record.  Every
 * change goes through the missions' commit path: committed, then t-x-m-c
 * to the live subscribers, each released by label.
 */
#include <stdlib.h>
#include <string.h>

#include "marti/internal.h"
#include "plan/plan.h"

#define PLAN_AUTHOR "kizuna"
#define ARCHIVED "archived"

/* Is `uid` the marker of one of p's placed items, with the item's label? */
static const struct kz_plan_item *plan_item(const struct kz_plan *p, const char *uid)
{
    char buf[KZ_PLAN_UID_MAX];

    for (unsigned i = 0; i < p->n_items; i++) {
        if (!p->items[i].has_pos)
            continue;
        kz_plan_item_uid(p, &p->items[i], buf, sizeof(buf));
        if (strcmp(buf, uid) == 0)
            return &p->items[i];
    }
    return NULL;
}

/* Items the plan no longer holds (or whose label changed) leave; the old calendars too. */
static void remove_stale(struct kz_marti *m, struct kz_mission *mi, const struct kz_plan *p,
                         const char *ics_hash)
{
    for (unsigned i = mi->n_items; i-- > 0;) {
        const struct kz_mission_item *it = &mi->items[i];
        const struct kz_plan_item *pi = it->is_hash ? NULL : plan_item(p, it->data);
        bool keep = it->is_hash ? ics_hash && strcmp(it->data, ics_hash) == 0
                                : pi && strcmp(pi->banner, it->banner) == 0;
        if (!keep)
            kz_mission_remove_item(m->opts.missions, mi, it->data, it->is_hash, PLAN_AUTHOR,
                                   kz_now_us());
    }
}

static void add_current(struct kz_marti *m, struct kz_mission *mi, const struct kz_plan *p,
                        const char *ics_hash)
{
    char uid[KZ_PLAN_UID_MAX];

    for (unsigned i = 0; i < p->n_items; i++) {
        const struct kz_plan_item *it = &p->items[i];
        if (!it->has_pos)
            continue;
        kz_plan_item_uid(p, it, uid, sizeof(uid));
        kz_mission_add_item(m->opts.missions, mi, uid, false, PLAN_AUTHOR, it->banner, &it->label,
                            kz_now_us());
    }
    if (ics_hash)
        kz_mission_add_item(m->opts.missions, mi, ics_hash, true, PLAN_AUTHOR, p->banner, &p->label,
                            kz_now_us());
}

static bool set_text(char **field, const char *v)
{
    if (*field && v && strcmp(*field, v) == 0)
        return false;
    free(*field);
    *field = v ? kz_xstrdup(v) : NULL;
    return true;
}

static bool archive(struct kz_mission *mi)
{
    for (unsigned i = 0; i < mi->n_keywords; i++)
        if (strcmp(mi->keywords[i], ARCHIVED) == 0)
            return false;
    mi->keywords = kz_xrealloc(mi->keywords, (mi->n_keywords + 2) * sizeof(*mi->keywords));
    mi->keywords[mi->n_keywords++] = kz_xstrdup(ARCHIVED);
    mi->keywords[mi->n_keywords] = NULL;
    return true;
}

/* The mission's own fields from the plan; true when one changed. */
static bool describe(struct kz_mission *mi, const struct kz_plan *p)
{
    bool changed = set_text(&mi->description, p->title);

    if (strcmp(mi->banner, p->banner) != 0) {
        set_text(&mi->banner, p->banner);
        mi->label = p->label;
        changed = true;
    }
    if (p->stage == KZ_STAGE_CLOSED)
        changed |= archive(mi);
    return changed;
}

static struct kz_mission *create(struct kz_marti *m, const struct kz_plan *p)
{
    struct kz_mission *mi =
        kz_mission_book_add(m->opts.missions, p->id, p->banner, &p->label, kz_now_us());

    if (!mi) {
        kz_log(KZ_LOG_WARN, "plans: no room for the plan's mission", "plan=%s", p->id);
        return NULL;
    }
    mi->plan = kz_xstrdup(p->id);
    mi->creator_uid = kz_xstrdup(PLAN_AUTHOR);
    mi->default_role = KZ_MROLE_READONLY_SUBSCRIBER;
    kz_mission_log_change(m->opts.missions, mi, KZ_MCHANGE_CREATE_MISSION, PLAN_AUTHOR,
                          kz_now_us());
    return mi;
}

static uint64_t last_change(const struct kz_mission *mi)
{
    return mi->n_changes ? mi->changes[mi->n_changes - 1].id : 0;
}

int kz_marti_plan_mission(struct kz_marti *m, const struct kz_plan *p, const char *ics_hash)
{
    struct kz_mission *mi = m->opts.missions ? kz_mission_book_get(m->opts.missions, p->id) : NULL;
    bool created = !mi;
    struct kz__mcommit *t;

    if (!m->opts.missions)
        return KZ_ERR_CLOSED;
    if (mi && (!mi->plan || strcmp(mi->plan, p->id) != 0)) {
        kz_log(KZ_LOG_WARN, "plans: a mission not of the plan has its name", "plan=%s", p->id);
        return KZ_ERR_EXISTS;
    }
    if (created && !(mi = create(m, p)))
        return KZ_ERR_TOOBIG;
    t = kz__mcommit_new(m, NULL, created ? NULL : mi);
    uint64_t mark = created ? 0 : last_change(mi);
    bool changed = describe(mi, p) | created;
    remove_stale(m, mi, p, ics_hash);
    add_current(m, mi, p, ics_hash);
    if (!changed && last_change(mi) == mark) {
        kz__mcommit_drop(t);
        return KZ_OK;
    }
    mi->last_edited = kz_now_us();
    if (created)
        kz__mission_announce(t, mi, "t-x-m-n", "CREATE", PLAN_AUTHOR);
    kz__mcommit_changes(t, mi, PLAN_AUTHOR);
    kz__mcommit_run(t, mi, mi->guid);
    return KZ_OK;
}
