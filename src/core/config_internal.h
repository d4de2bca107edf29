/*
 * config_internal.h - private to src/core/config*.c: the `labels:` tables,
 * maps keyed by data (FVEY: [USA, ...]), are a CUSTOM field of the key table.
 */
#ifndef KZ_CORE_CONFIG_INTERNAL_H
#define KZ_CORE_CONFIG_INTERNAL_H

#include "core/yaml.h"

/* Reads, prints, compares and frees a struct kz_config_label_row table. */
extern const struct kz_yaml_ops kz__config_label_table;

#endif
