/*
 * config_internal.h - private to src/core/config*.c: the `labels:` tables,
 * maps keyed by data (FVEY: [USA, ...]), are a CUSTOM field of the key table;
 * config_fed.c holds the `federation:` helpers.
 */
#ifndef KZ_CORE_CONFIG_INTERNAL_H
#define KZ_CORE_CONFIG_INTERNAL_H

#include "core/yaml.h"

/* Reads, prints, compares and frees a struct kz_config_label_row table. */
extern const struct kz_yaml_ops kz__config_label_table;

/* A `true`/`false` scalar into a bool (config_fed.c). */
extern const struct kz_yaml_ops kz__config_bool;

struct kz_config_federation;
/* HOST:PORT or [IPv6]:PORT, port 0..65535. */
bool kz__config_hostport(const char *s);
/* The `federation:` checks across keys; sets each peer identity's user to its name.  `line`: the
 * section's.  KZ_OK or KZ_ERR_CONFIG with "FILE:LINE: message" (f->file set by the caller). */
int kz__config_check_federation(struct kz_config_federation *f, int line, char *err, size_t len);
/* Free what the key table does not own (identity users, file). */
void kz__config_release_federation(struct kz_config_federation *f);

#endif
