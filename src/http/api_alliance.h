/*
 * api_alliance.h - handlers for /api/v1/alliance/... (api_alliance.c) and
 * /api/v1/readiness (api_readiness.c); the rows are in api.c's route table.
 */
#ifndef KZ_HTTP_API_ALLIANCE_H
#define KZ_HTTP_API_ALLIANCE_H

#include "http/internal.h"

void kz__api_alliance_show(struct kz__http_conn *c);
void kz__api_alliance_chain(struct kz__http_conn *c);
void kz__api_alliance_can_task(struct kz__http_conn *c);
void kz__api_alliance_counterpart(struct kz__http_conn *c);
void kz__api_alliance_forums(struct kz__http_conn *c);
void kz__api_alliance_path(struct kz__http_conn *c);

void kz__api_readiness_post(struct kz__http_conn *c);
void kz__api_readiness_get(struct kz__http_conn *c);
void kz__api_readiness_rollup(struct kz__http_conn *c);

#endif
