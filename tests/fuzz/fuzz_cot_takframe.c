/*
 * libFuzzer target: a stream of TAK protocol frames.  Splits the input the
 * way a connection does (header, then payload) and decodes each payload as
 * a TakMessage; nothing may crash, read out of bounds or loop forever.
 */
#include <stddef.h>
#include <stdint.h>

#include "cot/cot.h"
#include "proto/takmessage.pb-c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    while (size > 0) {
        size_t hl = 0, pl = 0;
        if (kz_takp_header(data, size, 65536, &hl, &pl) != KZ_OK || hl + pl > size)
            break;
        Takproto__TakMessage *m = takproto__tak_message__unpack(NULL, pl, data + hl);
        if (m)
            takproto__tak_message__free_unpacked(m, NULL);
        data += hl + pl;
        size -= hl + pl;
    }
    return 0;
}
