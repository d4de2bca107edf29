/*
 * web.c - where the browser COP's files come from (web.root, docs/web.md)
 * and reading them into the REST resources at start.  An explicit web.root
 * that cannot be read stops the start; without one, web/ beside the binary
 * (a build directory) or else the install prefix's share/kizuna/web is
 * used when present, and a server without either serves the API alone.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/server.h"

#ifndef KZ_WEB_DATADIR
#define KZ_WEB_DATADIR "/usr/local/share/kizuna/web"
#endif

static bool has_index(const char *dir)
{
    char path[PATH_MAX + 16];
    struct stat st;

    snprintf(path, sizeof(path), "%s/index.html", dir);
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* web/ in the directory of the running binary, when it holds an index.html. */
static bool beside_binary(char *out, size_t outlen)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    char *slash;

    if (n <= 0)
        return false;
    exe[n] = '\0';
    if (!(slash = strrchr(exe, '/')))
        return false;
    *slash = '\0';
    if ((size_t)snprintf(out, outlen, "%s/web", exe) >= outlen)
        return false;
    return has_index(out);
}

/* The directory to serve from: web.root, else the first default that has an index.html. */
static bool choose_root(const char *root, char *dir, size_t len)
{
    if (root && root[0]) {
        snprintf(dir, len, "%s", root);
        return true;
    }
    if (beside_binary(dir, len))
        return true;
    snprintf(dir, len, "%s", KZ_WEB_DATADIR);
    return has_index(dir);
}

int kz__server_web_init(struct kz_server *srv)
{
    const char *root = srv->cfg->web->root;
    char dir[PATH_MAX], err[PATH_MAX + 128], q[PATH_MAX + 256];
    int rc;

    if (!choose_root(root, dir, sizeof(dir))) {
        kz_log(KZ_LOG_INFO, "web: no COP installed, serving the API only", "looked_in=%s",
               kz_log_quote(q, sizeof(q), dir, strlen(dir)));
        return KZ_OK;
    }
    if ((rc = kz_api_web_load(&srv->api, dir, err, sizeof(err))) != KZ_OK) {
        kz_log(KZ_LOG_ERROR, "web: cannot read the COP (web.root)", "error=%s",
               kz_log_quote(q, sizeof(q), err, strlen(err)));
        return root && root[0] ? KZ_ERR_CONFIG : rc;
    }
    kz_log(KZ_LOG_INFO, "web: serving the COP", "root=%s",
           kz_log_quote(q, sizeof(q), dir, strlen(dir)));
    return KZ_OK;
}
