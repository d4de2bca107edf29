/*
 * Fuzz the alliance model loader from a buffer (YAML shape, dates, duty
 * hours, labels, then every validation rule).  Whatever the input: no crash,
 * and a refusal always comes with at least one "fuzz.yaml:" problem.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alliance/alliance.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kz_alliance_diag d = KZ_ALLIANCE_DIAG_INIT;
    struct kz_alliance *a = NULL;

    if (kz_alliance_load_mem("fuzz.yaml", (const char *)data, size, NULL, &a, &d) == KZ_OK) {
        if (!a) {
            fprintf(stderr, "fuzz_alliance_load: KZ_OK without a model\n");
            abort();
        }
        kz_alliance_free(a);
    } else if (a || d.count == 0 || !d.text.buf || strncmp(d.text.buf, "fuzz.yaml:", 10) != 0) {
        fprintf(stderr, "fuzz_alliance_load: refusal without a problem\n%s\n",
                d.text.buf ? d.text.buf : "");
        abort();
    }
    kz_alliance_diag_release(&d);
    return 0;
}
