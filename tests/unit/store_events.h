/*
 * store_events.h - events for the store tests of the log: append one with
 * its acknowledgement counted (struct store_acks, store_fixture.h).
 * Include after store_fixture.h.
 */
#ifndef KZ_TEST_STORE_EVENTS_H
#define KZ_TEST_STORE_EVENTS_H

#include <string.h>

#define SEC 1000000LL
#define HOUR (3600 * SEC)

static inline void append(struct fx *fx, const char *uid, const char *type, uint64_t seq,
                          int64_t recv, int64_t stale, struct store_acks *acks)
{
    struct kz_event ev;
    char xml[256];
    int n;

    memset(&ev, 0, sizeof(ev));
    ev.uid = (char *)uid;
    ev.type = (char *)type;
    ev.access = (char *)"UNCLASSIFIED//REL TO USA, JPN";
    ev.time = ev.start = recv;
    ev.stale = stale;
    ev.seq = seq;
    ev.recv_time = recv;
    ev.origin_input = (char *)"cot-us";
    ev.origin_user = (char *)"local-us";
    ev.origin_nation = (char *)"USA";
    ev.origin_groups = (char *)"Cyan,Red";
    n = snprintf(xml, sizeof(xml), "<event uid=\"%s\" type=\"%s\" seq=\"%llu\"/>", uid, type,
                 (unsigned long long)seq);
    kz_store_append(fx->st, &ev, xml, (size_t)n, acks ? store_on_ack : NULL, acks);
}

/* An event that is current for an hour, received now. */
static inline void append_now(struct fx *fx, const char *uid, uint64_t seq, struct store_acks *acks)
{
    int64_t now = kz_now_us();
    append(fx, uid, "a-f-G-U-C", seq, now, now + HOUR, acks);
}

#endif
