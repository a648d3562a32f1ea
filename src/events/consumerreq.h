/*
 * events/consumerreq.h -- the request bodies of the durable-consumer API
 * (docs/http/consumers.md), parsed and checked (pure: no I/O).
 *
 * Ownership: *seqs is malloc'd for the caller. The strings of cfg->types
 *   are gs_evlog_taxonomy's (static).
 * Threads: no shared state.
 * Errors: GS_EINVALID with err->msg for the client and *code, a stable
 *   error code ("invalid_json", "invalid_consumer", "invalid_type",
 *   "invalid_repo", "invalid_request").
 */
#ifndef GS_CONSUMERREQ_H
#define GS_CONSUMERREQ_H

#include <stddef.h>
#include <stdint.h>

#include "events/consumer.h"

/* PUT /api/v1/consumers/<name>: filter.types into cfg->types, ackWaitSeconds,
 * maxDeliver, startAfter (defaults when absent); filter.repo ("ns/name",
 * "" when absent or null) into repo for the caller to resolve. cfg->name
 * and the repository fields are left alone. */
int gs_consumerreq_put(const char *body, size_t len, gs_consumer_cfg *cfg, char repo[130], const char **code,
		       gs_error *err);

/* POST .../ack, .../term ({"logseq": [...]}) and .../nak (also
 * "delaySeconds"): 1..GS_MAX_CONSUMER_SETTLE positive positions. */
int gs_consumerreq_settle(const char *body, size_t len, int nak, int64_t **seqs, size_t *n, int64_t *delay_s,
			  const char **code, gs_error *err);

#endif
