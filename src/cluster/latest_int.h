/*
 * latest_int.h - what latest.c (the mirror), latest_write.c (the writer)
 * and kvtab.c (their tables) share.  Not for other files.
 */
#ifndef KZ_CLUSTER_LATEST_INT_H
#define KZ_CLUSTER_LATEST_INT_H

#include "cluster/latest.h"

/* ---- a table of records keyed by the encoded uid (kvtab.c) -------------- */

struct kz__kvnode {
    char *key; /* kz_kv_key() of rec.uid; owned */
    struct kz_latest_rec rec;
    struct kz__kvnode *hnext;       /* hash chain */
    struct kz__kvnode *prev, *next; /* the writer's queue order (unused in the mirror) */
};

struct kz__kvtab {
    struct kz__kvnode **b;
    size_t nb; /* power of two, or 0 before the first insert */
    size_t n;
};

struct kz__kvnode *kz__kvtab_find(const struct kz__kvtab *t, const char *key);
/* Insert n (its key not in t yet). */
void kz__kvtab_insert(struct kz__kvtab *t, struct kz__kvnode *n);
/* Unlink and return the node of key, or NULL. */
struct kz__kvnode *kz__kvtab_remove(struct kz__kvtab *t, const char *key);
/* A new node owning a copy of key and *rec (taken over: *rec is left cleared). */
struct kz__kvnode *kz__kvnode_new(const char *key, struct kz_latest_rec *rec);
void kz__kvnode_free(struct kz__kvnode *n);
/* Free every node; t is empty afterwards. */
void kz__kvtab_release(struct kz__kvtab *t);

/* ---- the mirror's hand-over from the watcher to the loop ---------------- */

enum kz__item_kind {
    KZ__SNAP_BEGIN, /* a fresh snapshot follows */
    KZ__PUT,        /* key's entry is rec */
    KZ__GONE,       /* key was deleted or purged */
    KZ__SNAP_END,   /* the snapshot is complete; live changes follow */
};

struct kz__item {
    enum kz__item_kind kind;
    char *key;
    struct kz_latest_rec rec; /* KZ__PUT */
    struct kz__item *next;
};

/* A purge the loop judged due, for the writer: key at revision rev. */
struct kz__purge {
    char *key;
    uint64_t rev;
    struct kz__purge *next;
};

/* Purges one sweep of the mirror hands the writer at most. */
#define KZ__SWEEP_MAX 4096

struct kz_latest {
    uv_loop_t *loop;
    natsConnection *nc;
    char bucket[96];
    struct kz_latest_opts o;
    kz_latest_fn cb;
    void *arg;

    uv_mutex_t mu;  /* guards everything down to `loop side` */
    uv_cond_t cond; /* the writer waits on it */
    bool stopping;
    bool resync;                      /* the watcher is to start a new watch */
    struct kz__item *head, *tail;     /* to the loop */
    struct kz__kvtab pending;         /* to the bucket: one record per uid */
    struct kz__kvnode *qhead, *qtail; /* the same, oldest first */
    size_t urgent;                    /* tombstones in the queue: write now */
    struct kz__purge *purges;         /* to the bucket, from the loop's sweep */
    struct kz_latest_stats st;        /* written, older, dropped, failed, purged, pending */
    uv_thread_t watcher, writer;
    bool threads;

    /* loop side */
    uv_async_t async;
    uv_timer_t sweep; /* every o.sweep_interval: expired entries to m->purges */
    int handles;      /* open libuv handles; m is freed when the last closes */
    struct kz__kvtab mirror;
    struct kz__kvtab *fresh; /* the snapshot being loaded, or NULL */
    bool synced;
    uint64_t snapshots, changes;
};

/* The writer thread (latest_write.c). */
void kz__latest_writer_main(void *arg);
/* Queue a copy of r for the writer; takes m->mu.  KZ_OK or KZ_ERR_INVAL. */
int kz__latest_queue_write(struct kz_latest *m, const struct kz_latest_rec *r);
/* Free the writer's queue and purges (after the writer stopped). */
void kz__latest_writer_release(struct kz_latest *m);

#endif
