/*
 * Fuzz the configuration loader from a buffer.  Whatever the input: loading
 * never crashes and a refusal comes with a "fuzz.yaml:" message; an accepted
 * configuration prints (--print-config) as YAML that loads back, prints the
 * same again and compares equal key by key.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

static void check(bool ok, const char *what, const char *detail)
{
    if (!ok) {
        fprintf(stderr, "fuzz_core_config: %s\n%s\n", what, detail ? detail : "");
        abort();
    }
}

static char *print(const struct kz_config *cfg, size_t *len)
{
    char *text = NULL;
    FILE *f = open_memstream(&text, len);

    check(f != NULL, "open_memstream", NULL);
    kz_config_print(cfg, f);
    fclose(f);
    return text;
}

static void on_change(const char *key, bool reloadable, void *ud)
{
    (void)reloadable;
    fprintf(stderr, "changed: %s\n", key);
    *(bool *)ud = true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kz_config *cfg, *again;
    char err[1024] = "";
    size_t len, len2;
    bool changed = false;

    if (kz_config_load_mem("fuzz.yaml", (const char *)data, size, &cfg, err, sizeof(err)) !=
        KZ_OK) {
        check(strncmp(err, "fuzz.yaml:", 10) == 0, "refusal without a position", err);
        return 0;
    }
    char *text = print(cfg, &len);
    check(kz_config_load_mem("printed", text, len, &again, err, sizeof(err)) == KZ_OK,
          "printed configuration does not load", err);
    char *text2 = print(again, &len2);
    check(len == len2 && memcmp(text, text2, len) == 0, "printing is not a fixed point", text2);
    kz_config_diff(cfg, again, on_change, &changed);
    check(!changed, "printed configuration differs", text);
    free(text);
    free(text2);
    kz_config_free(again);
    kz_config_free(cfg);
    return 0;
}
