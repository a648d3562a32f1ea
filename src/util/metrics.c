/*
 * util/metrics.c -- Prometheus text exposition.
 * SPDX-License-Identifier: MIT
 */
#include "util/metrics.h"

/* upper bounds in microseconds: 0.5ms .. 10s */
static const int64_t HOOK_BOUNDS_US[GS_HIST_BUCKETS] = {500, 1000, 2500, 5000, 10000, 25000,
							50000, 100000, 250000, 1000000, 5000000, 10000000};

void gs_metrics_hook_observe(gs_metrics *m, int64_t micros)
{
	for (int i = 0; i < GS_HIST_BUCKETS; i++)
		if (micros <= HOOK_BOUNDS_US[i])
			atomic_fetch_add(&m->hook_bucket[i], 1);
	atomic_fetch_add(&m->hook_count, 1);
	atomic_fetch_add(&m->hook_sum_us, micros);
}

int gs_metrics_render(gs_metrics *m, int64_t log_head, gs_buf *out, gs_error *err)
{
	int error = 0;
	long long count = atomic_load(&m->hook_count);
#define EMIT(...)                                                        \
	do {                                                             \
		if ((error = gs_buf_printf(out, err, __VA_ARGS__)) < 0)  \
			return error;                                    \
	} while (0)
	/* one Prometheus sample with its HELP and TYPE lines */
#define SAMPLE(name, type, help, value)                                                                           \
	EMIT("# HELP " name " " help "\n# TYPE " name " " type "\n" name " %lld\n", (long long)(value))
	SAMPLE("gitstore_pushes_total", "counter",
	       "Pushes accepted (one push-completed each).",
	       atomic_load(&m->pushes));
	SAMPLE("gitstore_push_refusals_total", "counter",
	       "Pushes and API writes refused (push-rejected events).",
	       atomic_load(&m->refusals));
	SAMPLE("gitstore_events_appended_total", "counter",
	       "Events appended to the log by this process.",
	       atomic_load(&m->events_appended));
	SAMPLE("gitstore_event_log_head", "gauge", "Highest logseq in the event log.", log_head);
	SAMPLE("gitstore_http_requests_total", "counter", "HTTP requests received.", atomic_load(&m->http_requests));
	SAMPLE("gitstore_http_connections", "gauge", "Open HTTP connections.", atomic_load(&m->http_connections));
	SAMPLE("gitstore_http_header_timeouts_total", "counter",
	       "Connections closed for not sending a request's headers in time.",
	       atomic_load(&m->http_header_timeouts));
	SAMPLE("gitstore_sse_clients", "gauge", "Connected event-stream clients.", atomic_load(&m->sse_clients));
	EMIT("# HELP gitstore_hook_roundtrip_seconds Hook call round trip to the daemon.\n"
	     "# TYPE gitstore_hook_roundtrip_seconds histogram\n");
	for (int i = 0; i < GS_HIST_BUCKETS; i++)
		EMIT("gitstore_hook_roundtrip_seconds_bucket{le=\"%g\"} %lld\n", (double)HOOK_BOUNDS_US[i] / 1e6,
		     (long long)atomic_load(&m->hook_bucket[i]));
	EMIT("gitstore_hook_roundtrip_seconds_bucket{le=\"+Inf\"} %lld\n", count);
	EMIT("gitstore_hook_roundtrip_seconds_sum %.6f\n", (double)atomic_load(&m->hook_sum_us) / 1e6);
	EMIT("gitstore_hook_roundtrip_seconds_count %lld\n", count);
	if (atomic_load(&m->relay_enabled)) {
		long long cursor = atomic_load(&m->relay_cursor);
		SAMPLE("gitstore_relay_lag_events", "gauge",
		       "Events in the log not yet acknowledged by NATS JetStream.",
		       log_head > cursor ? log_head - cursor : 0LL);
		SAMPLE("gitstore_relay_cursor", "gauge",
		       "Last logseq published, acknowledged and persisted by the relay.",
		       cursor);
		SAMPLE("gitstore_relay_published_total", "counter",
		       "Publishes acknowledged by JetStream (duplicates included).",
		       atomic_load(&m->relay_published));
		SAMPLE("gitstore_relay_duplicates_total", "counter",
		       "Publishes JetStream acknowledged as duplicates (Nats-Msg-Id seen).",
		       atomic_load(&m->relay_duplicates));
		SAMPLE("gitstore_relay_publish_errors_total", "counter",
		       "Failed relay attempts (connect, publish, error ack, ack timeout).",
		       atomic_load(&m->relay_errors));
		SAMPLE("gitstore_relay_connected", "gauge",
		       "1 while the relay holds a connection to NATS.",
		       atomic_load(&m->relay_connected));
	}
#undef SAMPLE
#undef EMIT
	return 0;
}
