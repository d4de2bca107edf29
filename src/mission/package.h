/*
 * package.h - a TAK mission package read from memory (package.c): a zip
 * holding MANIFEST/manifest.xml and the package's files, opened with
 * libzip and bounded before anything is inflated: at most
 * KZ_PACKAGE_MAX_ENTRIES entries, their declared sizes and the bytes
 * actually inflated (a zip bomb lies about neither for long) within the
 * caller's limit, no encrypted entry.
 *
 * Ownership: the package borrows the zip bytes, which must outlive it;
 * names returned are valid until kz_package_free().
 */
#ifndef KZ_MISSION_PACKAGE_H
#define KZ_MISSION_PACKAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/core.h"

#define KZ_PACKAGE_MAX_ENTRIES 1000
#define KZ_PACKAGE_MANIFEST "MANIFEST/manifest.xml"

struct kz_package;

/*
 * Open the zip buf[0..len).  KZ_OK; KZ_ERR_PARSE (not a zip, no manifest,
 * an encrypted entry or one without a size); KZ_ERR_TOOBIG (over
 * KZ_PACKAGE_MAX_ENTRIES entries, or declared sizes over max_total bytes).
 * `err` says why.
 */
int kz_package_open(const void *buf, size_t len, uint64_t max_total, struct kz_package **out,
                    char *err, size_t errlen);
void kz_package_free(struct kz_package *p); /* NULL is fine */

/* The package's files (directories and the manifest left out), in zip order. */
unsigned kz_package_count(const struct kz_package *p);
/* Entry i's path in the zip, and its file name (the part after the last '/'). */
const char *kz_package_path(const struct kz_package *p, unsigned i);
const char *kz_package_basename(const struct kz_package *p, unsigned i);
/* Is entry i a CoT event (its name ends in ".cot", any case)? */
bool kz_package_is_cot(const struct kz_package *p, unsigned i);
/*
 * Inflate entry i into out (appended).  KZ_OK; KZ_ERR_TOOBIG when the
 * bytes inflated by this package so far would pass max_total (out then
 * holds a part); KZ_ERR_PARSE on a corrupt entry (a CRC mismatch).
 */
int kz_package_read(struct kz_package *p, unsigned i, struct kz_sbuf *out);

#endif
