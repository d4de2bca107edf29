/*
 * inputs.c - the server's inputs: build each from its configuration, check
 * that no input identity is also a user of the users table, bind each
 * listener with the accept callback its protocol needs, and write the ports
 * file once every input listens.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/auth.h"
#include "auth/fedtls.h"
#include "server/server.h"

int kz__server_inputs_init(struct kz_server *srv)
{
    unsigned n = srv->cfg->inputs_count;
    char err[512];

    srv->n_inputs = n;
    srv->inputs = kz_xcalloc(n ? n : 1, sizeof(*srv->inputs));
    srv->listeners = kz_xcalloc(n ? n : 1, sizeof(*srv->listeners));
    if (kz_label_policy_from_config(srv->cfg->labels, &srv->policy, err, sizeof(err)))
        goto fail;
    if (srv->cfg->node && srv->cfg->node->nation) /* the policy's home: REL TO, FGI */
        kz_label_policy_set_home(
            &srv->policy, kz_nation_index(srv->cfg->node->nation, strlen(srv->cfg->node->nation)));
    for (unsigned i = 0; i < n; i++)
        if (kz_input_init(&srv->inputs[i], &srv->cfg->inputs[i], &srv->groups, &srv->policy, err,
                          sizeof(err)))
            goto fail;
    if (kz_fed_conf_check(srv->cfg, &srv->policy, err, sizeof(err))) /* peers' labels, nations */
        goto fail;
    return KZ_OK;
fail:
    kz_log(KZ_LOG_ERROR, "bad configuration", "error=\"%s\"", err);
    return KZ_ERR_CONFIG;
}

/*
 * The server's own input: plans published as CoT come from it
 * (plan/publish.c).  It listens nowhere, sends into every group and is
 * cleared for every level: each marker's label alone decides who receives
 * it.  Its name cannot be a configured input's (a name has no parentheses).
 */
int kz__server_own_input_init(struct kz_server *srv)
{
    char err[256];

    srv->own_id = (struct kz_identity){
        .user = kz_xstrdup("kizuna-plans"),
        .nation = kz_xstrdup(srv->cfg->node->nation),
        .clearance = kz_xstrdup("TOP SECRET"),
    };
    srv->own_conf = (struct kz_input_conf){.name = kz_xstrdup("(plans)"), .identity = &srv->own_id};
    if (kz_input_init(&srv->own_input, &srv->own_conf, &srv->groups, &srv->policy, err,
                      sizeof(err))) {
        kz_log(KZ_LOG_ERROR, "bad configuration", "error=\"%s\"", err);
        return KZ_ERR_CONFIG;
    }
    memset(&srv->own_input.out, 0xff, sizeof(srv->own_input.out));
    return KZ_OK;
}

void kz__server_own_input_release(struct kz_server *srv)
{
    free(srv->own_id.user);
    free(srv->own_id.nation);
    free(srv->own_id.clearance);
    free(srv->own_conf.name);
}

/* Snapshot files: write a temporary file, then rename it into place. */
static int write_ports_file(struct kz_server *srv)
{
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp", srv->ports_file);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        kz_log(KZ_LOG_ERROR, "cannot write ports file", "path=%s error=\"%s\"", tmp,
               strerror(errno));
        return KZ_ERR_IO;
    }
    fprintf(f, "{\"inputs\": {");
    for (unsigned i = 0; i < srv->n_inputs; i++)
        fprintf(f, "%s\"%s\": %d", i ? ", " : "", srv->inputs[i].conf->name, srv->inputs[i].port);
    if (srv->fed && kz_fed_port(srv->fed, false))
        fprintf(f, ", \"federation\": %d", kz_fed_port(srv->fed, false));
    if (srv->fed && kz_fed_port(srv->fed, true))
        fprintf(f, ", \"federation_v1\": %d", kz_fed_port(srv->fed, true));
    fprintf(f, "}}\n");
    if (fclose(f) != 0 || rename(tmp, srv->ports_file) != 0) {
        kz_log(KZ_LOG_ERROR, "cannot write ports file", "path=%s error=\"%s\"", srv->ports_file,
               strerror(errno));
        return KZ_ERR_IO;
    }
    return KZ_OK;
}

static bool is_http(enum kz_input_protocol p)
{
    return p == KZ_PROTO_HTTP || p == KZ_PROTO_HTTPS || p == KZ_PROTO_ENROLL;
}

/*
 * Identities have one namespace: a configuration identity named like a user
 * of the users table (a certificate or login) would let one borrow the
 * other's tracks and name, so the configuration is refused.
 */
int kz__server_identities_check(const char *db_path, const struct kz_config *cfg, char *err,
                                size_t errlen)
{
    struct kz_users *users = NULL;
    char why[512];
    int rc = KZ_OK;

    if (kz_users_load(db_path, &users, why, sizeof(why)) != KZ_OK) {
        snprintf(err, errlen, "cannot read the users table: %s", why);
        return KZ_ERR_IO;
    }
    for (unsigned i = 0; i < cfg->inputs_count && rc == KZ_OK; i++) {
        const struct kz_identity *id = cfg->inputs[i].identity;
        if (id && id->user && kz_users_find(users, id->user)) {
            snprintf(err, errlen,
                     "input '%s': identity user '%s' is also a user in the users table "
                     "(kizuna user list); configuration identities and users share one "
                     "namespace: rename the identity or delete the user",
                     cfg->inputs[i].name, id->user);
            rc = KZ_ERR_CONFIG;
        }
    }
    kz_users_unref(users);
    return rc;
}

int kz__server_inputs_start(struct kz_server *srv)
{
    char err[768];
    int rc;

    if (kz__server_identities_check(srv->db_path, srv->cfg, err, sizeof(err)) != KZ_OK) {
        kz_log(KZ_LOG_ERROR, "bad configuration", "error=\"%s\"", err);
        return KZ_ERR_CONFIG;
    }
    for (unsigned i = 0; i < srv->n_inputs; i++) {
        struct kz_input *in = &srv->inputs[i];
        bool http = is_http(in->conf->protocol);
        rc = kz_listener_start(&srv->loop, in, http ? kz_http_accept : kz_stream_accept,
                               http ? (void *)srv->http : (void *)&srv->stream_opts,
                               &srv->listeners[i]);
        if (rc)
            return rc;
    }
    if ((rc = kz__server_fed_start(srv)) != KZ_OK)
        return rc;
    return srv->ports_file ? write_ports_file(srv) : KZ_OK;
}

void kz__server_inputs_stop(struct kz_server *srv)
{
    for (unsigned i = 0; i < srv->n_inputs; i++) {
        kz_listener_stop(srv->listeners[i]);
        srv->listeners[i] = NULL;
    }
}
