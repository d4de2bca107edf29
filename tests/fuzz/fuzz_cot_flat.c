/*
 * libFuzzer target: <detail> content through flat.c's recogniser.  Whatever
 * kz__cot_flat_walk() accepts expat must accept and report the same way,
 * and kz_cot_detail_split() must split the same with it as with expat alone
 * (tests/unit/flat_check.h).
 */
#include <stddef.h>
#include <stdint.h>

#include "../unit/flat_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0;
    if (!flat_check((const char *)data, size))
        __builtin_trap();
    return 0;
}
