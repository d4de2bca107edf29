/* version.c - `kizuna version`: our version and the libraries linked in. */
#include <expat.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <uv.h>

#include "cli/cli.h"
#include "core/core.h"
#include "store/store.h"

static const char *expat_version(void)
{
    /* XML_ExpatVersion() returns "expat_X.Y.Z"; print just the number. */
    const char *v = XML_ExpatVersion();
    const char *us = strchr(v, '_');

    return us != NULL ? us + 1 : v;
}

int kz_cmd_version(int argc, char **argv)
{
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("usage: kizuna version\n\nPrint the kizuna version and the versions of the "
               "libraries it runs with.\n");
        return 0;
    }
    if (argc > 1) {
        fprintf(stderr, "usage: kizuna version\n");
        return 2;
    }
    printf("kizuna %s\n", KZ_VERSION);
    printf("libuv %s\n", uv_version_string());
    printf("expat %s\n", expat_version());
    printf("sqlite %s\n", kz_store_sqlite_version());
    printf("jansson %s\n", jansson_version_str());
    return 0;
}
