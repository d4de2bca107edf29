/* strv.c - comma-separated lists as arrays of strings. */
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

char **kz_strv_split(const char *csv, unsigned *n)
{
    char **v = NULL;
    unsigned cap = 0;

    *n = 0;
    for (const char *p = csv; p && *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len) {
            if (*n == cap) {
                cap = cap ? cap * 2 : 4;
                v = kz_xrealloc(v, cap * sizeof(*v));
            }
            v[(*n)++] = kz_xstrndup(p, len);
        }
        p = end ? end + 1 : p + len;
    }
    return v;
}

void kz_strv_free(char **v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        free(v[i]);
    free(v);
}
