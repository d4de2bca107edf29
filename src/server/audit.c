/*
 * audit.c - labels, input identities and federation peers decide what
 * leaves the node: the server records their description in the audit log
 * whenever it differs from the last one recorded (at start and after each
 * reload).
 */
#include <stdlib.h>
#include <string.h>

#include "server/server.h"

static void add_list(struct kz_sbuf *sb, const char *key, char **v, unsigned n)
{
    kz_sbuf_addf(sb, " %s=", key);
    for (unsigned i = 0; i < n; i++)
        kz_sbuf_addf(sb, "%s%s", i ? "," : "", v[i]);
}

static void describe_labels(const struct kz_config_labels *l, struct kz_sbuf *sb)
{
    kz_sbuf_addf(sb, "policy=%s", l->policy);
    for (unsigned i = 0; i < l->tetragraphs_count; i++)
        add_list(sb, l->tetragraphs[i].key, l->tetragraphs[i].values,
                 l->tetragraphs[i].values_count);
    for (unsigned i = 0; i < l->level_names_count; i++)
        add_list(sb, l->level_names[i].key, l->level_names[i].values,
                 l->level_names[i].values_count);
}

static void describe_input(const struct kz_input_conf *in, struct kz_sbuf *sb)
{
    const struct kz_identity *id = in->identity;

    kz_sbuf_addf(sb, "protocol=%s default_label=\"%s\" ceiling=\"%s\"",
                 kz_input_protocol_name(in->protocol), in->default_label ? in->default_label : "",
                 in->ceiling ? in->ceiling : "");
    if (!id)
        return;
    kz_sbuf_addf(sb, " user=%s nation=%s clearance=\"%s\"", id->user, id->nation, id->clearance);
    add_list(sb, "groups_in", id->groups_in, id->groups_in_count);
    add_list(sb, "groups_out", id->groups_out, id->groups_out_count);
    add_list(sb, "roles", id->roles, id->roles_count);
}

/* A federation peer: who it is, what it may receive and send, how it is reached. */
static void describe_peer(const struct kz_fed_peer_conf *p, struct kz_sbuf *sb)
{
    const struct kz_identity *id = p->identity;

    kz_sbuf_addf(sb, "ca=%s connect=%s protocol=%s relay=%s default_label=\"%s\" ceiling=\"%s\"",
                 p->ca, p->connect ? p->connect : "", p->protocol ? p->protocol : "v2",
                 p->relay ? "true" : "false", p->default_label ? p->default_label : "",
                 p->ceiling ? p->ceiling : "");
    if (!id)
        return;
    kz_sbuf_addf(sb, " nation=%s clearance=\"%s\"", id->nation, id->clearance);
    add_list(sb, "groups_in", id->groups_in, id->groups_in_count);
    add_list(sb, "groups_out", id->groups_out, id->groups_out_count);
}

/* Record the object's description in the audit log when it changed. */
static void audit_if_changed(struct kz_store *st, const char *who, const char *object,
                             const char *detail)
{
    char *last = NULL;

    if (kz_store_audit_last(st, "config", object, &last) == KZ_OK && strcmp(last, detail) == 0) {
        free(last);
        return;
    }
    free(last);
    if (kz_store_audit(st, who, "config", object, detail) == KZ_OK)
        kz_log(KZ_LOG_INFO, "audit: configuration change recorded", "object=%s", object);
    else
        kz_log(KZ_LOG_ERROR, "audit: cannot record configuration change", "object=%s", object);
}

void kz__server_audit_config(struct kz_server *srv, const char *who)
{
    struct kz_sbuf sb = KZ_SBUF_INIT;
    char object[96];

    describe_labels(srv->cfg->labels, &sb);
    audit_if_changed(srv->store, who, "labels", sb.buf);
    for (unsigned i = 0; i < srv->cfg->inputs_count; i++) {
        kz_sbuf_reset(&sb);
        describe_input(&srv->cfg->inputs[i], &sb);
        snprintf(object, sizeof(object), "input:%s", srv->cfg->inputs[i].name);
        audit_if_changed(srv->store, who, object, sb.buf);
    }
    for (unsigned i = 0; srv->cfg->federation && i < srv->cfg->federation->peers_count; i++) {
        const struct kz_fed_peer_conf *p = &srv->cfg->federation->peers[i];
        kz_sbuf_reset(&sb);
        describe_peer(p, &sb);
        snprintf(object, sizeof(object), "federation:%s", p->name);
        audit_if_changed(srv->store, who, object, sb.buf);
    }
    kz_sbuf_release(&sb);
}
