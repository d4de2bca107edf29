/*
 * config_fed.c - the `federation:` section: a boolean field for the key
 * table (`relay`), and the checks that span its keys (unique peer names,
 * HOST:PORT addresses).  The checks that need labels, nations or
 * certificates live above core, in auth/fedtls.c (kz_fed_conf_check).
 */
#include <stdlib.h>
#include <string.h>

#include "core/config_internal.h"
#include "core/core.h"

static bool *flag_of(const void *obj, const struct kz_yaml_row *r)
{
    return (bool *)(void *)((char *)(uintptr_t)obj + r->off);
}

static void load_bool(struct kz_yaml *y, const yaml_node_t *n, void *obj,
                      const struct kz_yaml_row *r)
{
    const char *s = kz_yaml_scalar(n);

    if (s && strcmp(s, "true") == 0)
        *flag_of(obj, r) = true;
    else if (s && strcmp(s, "false") == 0)
        *flag_of(obj, r) = false;
    else
        kz_yaml_report(y, n, "%s must be true or false", r->path);
}

static bool emit_bool(yaml_emitter_t *e, const void *obj, const struct kz_yaml_row *r)
{
    const char *key = strrchr(r->path, '.');

    return kz_yaml_emit_str(e, key ? key + 1 : r->path) &&
           kz_yaml_emit_str(e, *flag_of(obj, r) ? "true" : "false");
}

static bool equal_bool(const void *a, const void *b, const struct kz_yaml_row *r)
{
    return *flag_of(a, r) == *flag_of(b, r);
}

const struct kz_yaml_ops kz__config_bool = {
    .load = load_bool, .emit = emit_bool, .equal = equal_bool};

/* HOST:PORT or [IPv6]:PORT with a port in 0..65535. */
bool kz__config_hostport(const char *s)
{
    const char *colon = s ? strrchr(s, ':') : NULL;
    char *end;
    long port;

    if (!colon || colon == s || !colon[1])
        return false;
    port = strtol(colon + 1, &end, 10);
    return !*end && port >= 0 && port <= 65535;
}

static int check_peer(const struct kz_config_federation *f, unsigned i, char *err, size_t len)
{
    const struct kz_fed_peer_conf *p = &f->peers[i];

    if (p->connect && !kz__config_hostport(p->connect)) {
        snprintf(err, len, "%s:%d: federation peer '%s': connect '%s' is not HOST:PORT", f->file,
                 p->line, p->name, p->connect);
        return KZ_ERR_CONFIG;
    }
    if (!p->identity || !p->identity->nation || !p->identity->clearance) {
        snprintf(err, len, "%s:%d: federation peer '%s': identity needs nation and clearance",
                 f->file, p->line, p->name);
        return KZ_ERR_CONFIG;
    }
    for (unsigned j = 0; j < i; j++)
        if (strcmp(p->name, f->peers[j].name) == 0) {
            snprintf(err, len, "%s:%d: duplicate federation peer name '%s'", f->file, p->line,
                     p->name);
            return KZ_ERR_CONFIG;
        }
    return KZ_OK;
}

int kz__config_check_federation(struct kz_config_federation *f, int line, char *err, size_t len)
{
    const char *bad = NULL;

    if (f->listen && !kz__config_hostport(f->listen))
        bad = f->listen;
    else if (f->listen_v1 && !kz__config_hostport(f->listen_v1))
        bad = f->listen_v1;
    if (bad) {
        snprintf(err, len, "%s:%d: federation: listen address '%s' is not HOST:PORT", f->file,
                 line > 0 ? line : 1, bad);
        return KZ_ERR_CONFIG;
    }
    for (unsigned i = 0; i < f->peers_count; i++) {
        int rc = check_peer(f, i, err, len);
        if (rc)
            return rc;
        /* The peer's identity is its node id. */
        free(f->peers[i].identity->user);
        f->peers[i].identity->user = kz_xstrdup(f->peers[i].name);
    }
    return KZ_OK;
}

void kz__config_release_federation(struct kz_config_federation *f)
{
    if (!f)
        return;
    for (unsigned i = 0; i < f->peers_count; i++)
        if (f->peers[i].identity) {
            free(f->peers[i].identity->user);
            f->peers[i].identity->user = NULL;
        }
    free(f->file);
    f->file = NULL;
}
