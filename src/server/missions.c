/*
 * missions.c - the server's Data Sync missions: the book (owned here, used
 * by the Marti mission routes), the key that signs mission tokens (the
 * server's TLS private key, as TAK Server signs them; a fresh key when the
 * node has none, so tokens then last until restart), the file-metadata
 * callback the missions ask about their files (the file store's newest
 * upload of a hash), the restore at start and
 * the router's hook for CoT with a mission dest.
 */
#include <stdio.h>
#include <string.h>

#include "server/server.h"

static void load_signer(struct kz_server *srv)
{
    const struct kz_config_tls *tls = srv->cfg->tls;
    char path[4096];
    int rc = KZ_ERR_NOTFOUND;

    if (tls && tls->key && tls->key[0]) {
        if (tls->key[0] == '/')
            snprintf(path, sizeof(path), "%s", tls->key);
        else
            snprintf(path, sizeof(path), "%s/%s", srv->data_dir, tls->key);
        rc = kz_mission_signer_load(path, &srv->mission_signer);
    }
    if (rc == KZ_OK)
        return;
    if (rc != KZ_ERR_NOTFOUND && rc != KZ_ERR_IO)
        kz_log(KZ_LOG_WARN, "missions: the TLS key cannot sign tokens (EC P-256 or RSA)", "key=%s",
               path);
    srv->mission_signer = kz_mission_signer_ephemeral();
    kz_log(KZ_LOG_INFO, "missions: tokens signed with a key made at start", NULL);
}

/* Copy s (NULL: "") into dst, each byte of an invalid UTF-8 sequence as '?': the mission
 * answers are JSON, and an upload's name came from a client. */
static void copy_utf8(char *dst, size_t cap, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t n = strlen((const char *)p), o = 0, k;
    uint32_t cp;

    for (size_t i = 0; i < n && o + 4 < cap; i += k) {
        k = kz_utf8_seq(p + i, n - i, &cp);
        if (k == 0 || cp == 0) {
            dst[o++] = '?';
            k = 1;
        } else {
            memcpy(dst + o, p + i, k);
            o += k;
        }
    }
    dst[o] = '\0';
}

/* A mission's file: the newest upload of its hash, with that upload's label. */
static int file_meta(void *ud, const char *hash, struct kz_mission_file *out)
{
    struct kz_server *srv = ud;
    const struct kz_file *f = srv->files ? kz_files_newest(srv->files, hash) : NULL;
    const struct kz_store_file *r = f ? &f->row : NULL;

    if (!f)
        return KZ_ERR_NOTFOUND;
    memset(out, 0, sizeof(*out));
    copy_utf8(out->filename, sizeof(out->filename), r->name);
    copy_utf8(out->name, sizeof(out->name), r->name);
    copy_utf8(out->mime_type, sizeof(out->mime_type), r->mime);
    copy_utf8(out->submitter, sizeof(out->submitter), r->submitter);
    copy_utf8(out->creator_uid, sizeof(out->creator_uid), r->creator_uid);
    copy_utf8(out->tool, sizeof(out->tool), r->tool);
    snprintf(out->banner, sizeof(out->banner), "%s", r->label);
    out->size = (int64_t)r->size;
    out->submission_time = r->time_us;
    out->label = f->label;
    return KZ_OK;
}

void kz__server_missions_init(struct kz_server *srv)
{
    srv->missions = kz_mission_book_new();
    srv->mission_files = (struct kz_mission_files){file_meta, srv};
    load_signer(srv);
}

int kz__server_missions_start(struct kz_server *srv)
{
    struct kz_router_missions hook;
    int rc = kz_marti_missions_load(&srv->marti);

    if (rc != KZ_OK) {
        kz_log(KZ_LOG_ERROR, "missions: cannot restore", "err=%s", kz_strerror(rc));
        return rc;
    }
    kz_marti_missions_hook(&srv->marti, &hook);
    kz_router_set_missions(srv->router, &hook);
    return KZ_OK;
}

void kz__server_missions_release(struct kz_server *srv)
{
    kz_mission_book_free(srv->missions);
    kz_mission_signer_free(srv->mission_signer);
    srv->missions = NULL;
    srv->mission_signer = NULL;
}
