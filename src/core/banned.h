/*
 * banned.h - libc functions kizuna does not call (after git's banned.h).
 *
 * Included last by core/core.h, so every file that includes it gets these
 * macros; a call to a banned function then fails to compile with an error
 * that names it.  Use instead:
 *   strcpy, strcat          snprintf(), or kz_sbuf / kz_xstrdup()
 *   sprintf, vsprintf       snprintf(), vsnprintf(), kz_sbuf_addf()
 *   strtok                  strtok_r(), or kz_strv_split()
 *   gets                    fgets(), getline()
 *   atoi, atol              strtol() with an end pointer and a range check
 */
#ifndef KZ_BANNED_H
#define KZ_BANNED_H

/*
 * The headers that declare them come first, so that a file may include
 * them after core/core.h (their include guards then skip the declarations
 * the macros below would break).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KZ_BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) KZ_BANNED(strcpy)
#undef strcat
#define strcat(x, y) KZ_BANNED(strcat)
#undef sprintf
#define sprintf(...) KZ_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) KZ_BANNED(vsprintf)
#undef strtok
#define strtok(x, y) KZ_BANNED(strtok)
#undef gets
#define gets(x) KZ_BANNED(gets)
#undef atoi
#define atoi(x) KZ_BANNED(atoi)
#undef atol
#define atol(x) KZ_BANNED(atol)

#endif
