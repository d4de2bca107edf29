/*
 * caller.c - who is calling, for the HTTP engine: on http inputs the
 * input's configured identity; on https inputs the users-table entry of
 * the verified certificate's CN (a snapshot reference keeps it valid for
 * the connection's life; an unknown CN is refused).  The caller object is
 * the viewer handed to kz_router_visible() and friends.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/internal.h"

struct caller {
    struct kz_sub view; /* first: kz_api_view() */
    struct kz_users *users_ref;
};

static int caller_open(void *ud, const struct kz_input *input, const char *cert_cn,
                       const struct kz_identity **identity, void **out, char *why, size_t whylen)
{
    struct kz_api *api = ud;
    struct caller *k = kz_xcalloc(1, sizeof(*k));
    const struct kz_identity *id = input->identity;

    if (cert_cn) {
        id = api->creds ? kz_tls_identity_get(api->creds, cert_cn, &k->users_ref) : NULL;
        if (!id) {
            snprintf(why, whylen, "certificate CN '%s' is not a known user", cert_cn);
            kz_tls_identity_put(k->users_ref);
            free(k);
            return KZ_ERR_DENIED;
        }
    }
    if (api->router)
        kz_sub_viewer_as(api->router, &k->view, input, id); /* else it sees nothing */
    *identity = id;
    *out = k;
    return KZ_OK;
}

static void caller_close(void *ud, void *caller)
{
    struct caller *k = caller;

    KZ_UNUSED(ud);
    kz_tls_identity_put(k->users_ref);
    free(k);
}

struct kz_http_caller_ops kz_api_caller_ops(struct kz_api *api)
{
    return (struct kz_http_caller_ops){caller_open, caller_close, api};
}

const struct kz_sub *kz_api_view(const struct kz_http_req *req)
{
    static const struct kz_sub nobody; /* immutable: sees nothing labelled */
    const struct caller *k = kz_http_caller(req);

    return k ? &k->view : &nobody;
}
