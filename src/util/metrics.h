/*
 * util/metrics.h -- process counters exported at GET /metrics.
 *
 * Ownership: one gs_metrics per daemon, embedded in gs_server.
 * Threads: all updates are atomic; rendering reads a racy-but-consistent
 *   enough snapshot (each counter read once).
 */
#ifndef GS_METRICS_H
#define GS_METRICS_H

#include <stdatomic.h>
#include <stdint.h>

#include "util/buf.h"

#define GS_HIST_BUCKETS 12

typedef struct gs_metrics {
	atomic_llong pushes;          /* accepted pushes (push-completed) */
	atomic_llong refusals;        /* push-rejected events */
	atomic_llong events_appended; /* events written to the log */
	atomic_llong http_requests;
	atomic_llong http_connections;     /* open HTTP connections */
	atomic_llong http_header_timeouts; /* cut for not sending headers in time */
	atomic_llong sse_clients;
	/* hook round trip (hook process -> daemon -> reply), seconds */
	atomic_llong hook_bucket[GS_HIST_BUCKETS];
	atomic_llong hook_count;
	atomic_llong hook_sum_us;
	/* NATS relay (events/relay.c); rendered only when relay_enabled */
	atomic_int relay_enabled;
	atomic_llong relay_cursor;     /* last logseq acknowledged and persisted */
	atomic_llong relay_published;  /* publishes acknowledged (duplicates too) */
	atomic_llong relay_duplicates; /* acknowledged as duplicate by the broker */
	atomic_llong relay_errors;     /* failed attempts: connect, publish, ack */
	atomic_int relay_connected;    /* 1 while a connection is up */
} gs_metrics;

void gs_metrics_hook_observe(gs_metrics *m, int64_t micros);
int gs_metrics_render(gs_metrics *m, int64_t log_head, gs_buf *out, gs_error *err);

#endif
