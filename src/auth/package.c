/*
 * package.c - `kizuna cert package`: an ATAK/iTAK data package (zip) with
 * the client keystore, the truststore and a connection preference file.
 *
 * Layout (what ATAK's importer reads):
 *   MANIFEST/manifest.xml      MissionPackageManifest v2 listing the files
 *   certs/kizuna.pref          cot_streams (HOST:PORT:ssl) + keystore settings
 *   certs/truststore-kizuna.p12   the CA
 *   certs/USER.p12             the user's key and certificate
 */
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#include "auth/internal.h"

static void pref_xml(struct kz_sbuf *sb, const char *user, const char *host, int port,
                     const char *pass)
{
    kz_sbuf_adds(sb, "<?xml version='1.0' encoding='UTF-8' standalone='yes'?>\n<preferences>\n"
                     "  <preference version=\"1\" name=\"cot_streams\">\n"
                     "    <entry key=\"count\" class=\"class java.lang.Integer\">1</entry>\n"
                     "    <entry key=\"description0\" class=\"class java.lang.String\">kizuna"
                     "</entry>\n"
                     "    <entry key=\"enabled0\" class=\"class java.lang.Boolean\">true</entry>\n"
                     "    <entry key=\"connectString0\" class=\"class java.lang.String\">");
    kz_sbuf_add_xml(sb, host, strlen(host));
    kz_sbuf_addf(sb,
                 ":%d:ssl</entry>\n  </preference>\n"
                 "  <preference version=\"1\" name=\"com.atakmap.app_preferences\">\n"
                 "    <entry key=\"displayServerConnectionWidget\" "
                 "class=\"class java.lang.Boolean\">true</entry>\n"
                 "    <entry key=\"caLocation\" class=\"class java.lang.String\">"
                 "cert/truststore-kizuna.p12</entry>\n"
                 "    <entry key=\"caPassword\" class=\"class java.lang.String\">",
                 port);
    kz_sbuf_add_xml(sb, pass, strlen(pass));
    kz_sbuf_adds(sb, "</entry>\n    <entry key=\"certificateLocation\" "
                     "class=\"class java.lang.String\">cert/");
    kz_sbuf_add_xml(sb, user, strlen(user));
    kz_sbuf_adds(sb, ".p12</entry>\n    <entry key=\"clientPassword\" "
                     "class=\"class java.lang.String\">");
    kz_sbuf_add_xml(sb, pass, strlen(pass));
    kz_sbuf_adds(sb, "</entry>\n  </preference>\n</preferences>\n");
}

static void manifest_xml(struct kz_sbuf *sb, const char *user)
{
    unsigned char r[16];
    FILE *f = fopen("/dev/urandom", "rb");
    size_t got = f ? fread(r, 1, sizeof(r), f) : 0;

    if (f)
        fclose(f);
    if (got != sizeof(r))
        memset(r, 0x5a, sizeof(r));
    r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
    r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
    kz_sbuf_adds(sb, "<MissionPackageManifest version=\"2\">\n  <Configuration>\n"
                     "    <Parameter name=\"uid\" value=\"");
    for (int i = 0; i < 16; i++)
        kz_sbuf_addf(sb, "%s%02x", i == 4 || i == 6 || i == 8 || i == 10 ? "-" : "", r[i]);
    kz_sbuf_adds(sb, "\"/>\n    <Parameter name=\"name\" value=\"kizuna-");
    kz_sbuf_add_xml(sb, user, strlen(user));
    kz_sbuf_adds(sb, "\"/>\n    <Parameter name=\"onReceiveDelete\" value=\"true\"/>\n"
                     "  </Configuration>\n  <Contents>\n"
                     "    <Content ignore=\"false\" zipEntry=\"certs/kizuna.pref\"/>\n"
                     "    <Content ignore=\"false\" zipEntry=\"certs/truststore-kizuna.p12\"/>\n"
                     "    <Content ignore=\"false\" zipEntry=\"certs/");
    kz_sbuf_add_xml(sb, user, strlen(user));
    kz_sbuf_adds(sb, ".p12\"/>\n  </Contents>\n</MissionPackageManifest>\n");
}

static char *slurp(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    struct kz_sbuf sb = KZ_SBUF_INIT;
    char buf[4096];
    size_t n;

    if (!f) {
        snprintf(err, errlen, "cannot read %s (issue the certificate first)", path);
        return NULL;
    }
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
        kz_sbuf_add(&sb, buf, n);
    fclose(f);
    return kz_sbuf_detach(&sb, len);
}

/*
 * Add a copy of data[0..len) as `name`, stored (p12 files do not compress).
 * KZ_OK or KZ_ERR_IO (libzip keeps the reason in zip_strerror(z)).
 */
static int add_entry(zip_t *z, const char *name, const void *data, size_t len)
{
    void *copy = kz_xmemdup(data, len ? len : 1);
    zip_source_t *src = zip_source_buffer(z, copy, len, 1);
    if (!src) {
        free(copy);
        return KZ_ERR_IO;
    }
    zip_int64_t idx = zip_file_add(z, name, src, ZIP_FL_ENC_UTF_8 | ZIP_FL_OVERWRITE);
    if (idx < 0) {
        zip_source_free(src);
        return KZ_ERR_IO;
    }
    if (zip_set_file_compression(z, (zip_uint64_t)idx, ZIP_CM_STORE, 0) != 0)
        return KZ_ERR_IO;
    return KZ_OK;
}

static int truststore(const struct kz_pki *p, const char *pass, char **out, size_t *len, char *err,
                      size_t errlen)
{
    char path[700];
    X509 *ca = kz__read_cert(p->ca, err, errlen);
    int rc;

    if (!ca)
        return KZ_ERR_NOTFOUND;
    snprintf(path, sizeof(path), "%s/truststore-kizuna.p12", p->dir);
    rc = kz__write_p12(path, pass, "kizuna-ca", NULL, NULL, ca, err, errlen);
    X509_free(ca);
    if (rc == KZ_OK && !(*out = slurp(path, len, err, errlen)))
        rc = KZ_ERR_IO;
    return rc;
}

int kz_cert_package(const char *dir, const char *user, const char *host, int port,
                    const char *p12_password, const char *zip_path, char *err, size_t errlen)
{
    struct kz_pki p;
    struct kz_sbuf pref = KZ_SBUF_INIT, man = KZ_SBUF_INIT;
    char path[700], name[200], tmp[1100];
    char *client = NULL, *trust = NULL;
    size_t client_len = 0, trust_len = 0;
    zip_t *z = NULL;
    int zerr = 0, rc;

    kz_pki_paths(&p, dir);
    snprintf(path, sizeof(path), "%s/%s.p12", dir, user);
    if (!(client = slurp(path, &client_len, err, errlen))) {
        rc = KZ_ERR_NOTFOUND;
        goto out;
    }
    if ((rc = truststore(&p, p12_password, &trust, &trust_len, err, errlen)) != KZ_OK)
        goto out;
    pref_xml(&pref, user, host, port, p12_password);
    manifest_xml(&man, user);
    snprintf(tmp, sizeof(tmp), "%s.tmp", zip_path);
    remove(tmp);
    rc = KZ_ERR_IO;
    if (!(z = zip_open(tmp, ZIP_CREATE | ZIP_EXCL, &zerr))) {
        snprintf(err, errlen, "cannot create %s (libzip error %d)", tmp, zerr);
        goto out;
    }
    snprintf(name, sizeof(name), "certs/%s.p12", user);
    if (add_entry(z, "MANIFEST/manifest.xml", man.buf, man.len) ||
        add_entry(z, "certs/kizuna.pref", pref.buf, pref.len) ||
        add_entry(z, "certs/truststore-kizuna.p12", trust, trust_len) ||
        add_entry(z, name, client, client_len) || zip_close(z) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", tmp, zip_strerror(z));
        zip_discard(z);
        remove(tmp);
        goto out;
    }
    if (rename(tmp, zip_path) != 0) {
        snprintf(err, errlen, "cannot rename %s to %s", tmp, zip_path);
        goto out;
    }
    rc = KZ_OK;
out:
    kz_sbuf_release(&pref);
    kz_sbuf_release(&man);
    free(client);
    free(trust);
    return rc;
}
