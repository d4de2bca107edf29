/*
 * missions.c - the server's Data Sync missions: the book (owned here, used
 * by the Marti mission routes), the key that signs mission tokens (the
 * server's TLS private key, as TAK Server signs them; a fresh key when the
 * node has none, so tokens then last until restart), the file-metadata
 * callback the missions ask about their files, the restore at start and
 * the router's hook for CoT with a mission dest.
 */
#include <stdio.h>

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

void kz__server_missions_init(struct kz_server *srv)
{
    srv->missions = kz_mission_book_new();
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
