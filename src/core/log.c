/* log.c - logfmt lines on stderr. */
#include <stdio.h>
#include <string.h>

#include "core/core.h"

/* Process-wide: one log stream per process, one threshold (set at start). */
enum kz_log_level kz_log_min = KZ_LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

int kz_log_level_parse(const char *s, enum kz_log_level *out)
{
    for (size_t i = 0; i < KZ_ARRAY_LEN(level_names); i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (enum kz_log_level)i;
            return KZ_OK;
        }
    }
    return KZ_ERR_INVAL;
}

void kz__log(enum kz_log_level lvl, const char *msg, const char *kv, ...)
{
    char ts[KZ_TIME_STRLEN], line[2048];
    size_t n;

    kz_time_format(kz_now_us(), ts);
    n = (size_t)snprintf(line, sizeof(line), "ts=%s level=%s msg=\"%s\"", ts, level_names[lvl],
                         msg);
    if (kv && n < sizeof(line) - 1) {
        va_list ap;
        line[n++] = ' ';
        va_start(ap, kv);
        int m = vsnprintf(line + n, sizeof(line) - n, kv, ap);
        va_end(ap);
        if (m > 0)
            n += (size_t)m;
    }
    if (n > sizeof(line) - 2)
        n = sizeof(line) - 2;
    line[n++] = '\n';
    /* One write per line so concurrent threads do not interleave. */
    fwrite(line, 1, n, stderr);
}

const char *kz_log_quote(char *buf, size_t size, const char *s, size_t len)
{
    size_t o = 0;

    if (size < 3) {
        if (size)
            buf[0] = '\0';
        return buf;
    }
    buf[o++] = '"';
    for (size_t i = 0; i < len && o + 3 < size; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            buf[o++] = '\\';
            buf[o++] = (char)c;
        } else if (c < 0x20 || c == 0x7f) {
            buf[o++] = '?';
        } else {
            buf[o++] = (char)c;
        }
    }
    buf[o++] = '"';
    buf[o] = '\0';
    return buf;
}
