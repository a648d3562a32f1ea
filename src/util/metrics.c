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
	EMIT("# HELP gitstore_pushes_total Pushes accepted (one push-completed each).\n"
	     "# TYPE gitstore_pushes_total counter\ngitstore_pushes_total %lld\n",
	     (long long)atomic_load(&m->pushes));
	EMIT("# HELP gitstore_push_refusals_total Pushes and API writes refused (push-rejected events).\n"
	     "# TYPE gitstore_push_refusals_total counter\ngitstore_push_refusals_total %lld\n",
	     (long long)atomic_load(&m->refusals));
	EMIT("# HELP gitstore_events_appended_total Events appended to the log by this process.\n"
	     "# TYPE gitstore_events_appended_total counter\ngitstore_events_appended_total %lld\n",
	     (long long)atomic_load(&m->events_appended));
	EMIT("# HELP gitstore_event_log_head Highest logseq in the event log.\n"
	     "# TYPE gitstore_event_log_head gauge\ngitstore_event_log_head %lld\n", (long long)log_head);
	EMIT("# HELP gitstore_http_requests_total HTTP requests received.\n"
	     "# TYPE gitstore_http_requests_total counter\ngitstore_http_requests_total %lld\n",
	     (long long)atomic_load(&m->http_requests));
	EMIT("# HELP gitstore_http_connections Open HTTP connections.\n"
	     "# TYPE gitstore_http_connections gauge\ngitstore_http_connections %lld\n",
	     (long long)atomic_load(&m->http_connections));
	EMIT("# HELP gitstore_http_header_timeouts_total Connections closed for not sending a request's headers in time.\n"
	     "# TYPE gitstore_http_header_timeouts_total counter\ngitstore_http_header_timeouts_total %lld\n",
	     (long long)atomic_load(&m->http_header_timeouts));
	EMIT("# HELP gitstore_sse_clients Connected event-stream clients.\n"
	     "# TYPE gitstore_sse_clients gauge\ngitstore_sse_clients %lld\n",
	     (long long)atomic_load(&m->sse_clients));
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
		EMIT("# HELP gitstore_relay_lag_events Events in the log not yet acknowledged by NATS JetStream.\n"
		     "# TYPE gitstore_relay_lag_events gauge\ngitstore_relay_lag_events %lld\n",
		     log_head > cursor ? (long long)log_head - cursor : 0LL);
		EMIT("# HELP gitstore_relay_cursor Last logseq published, acknowledged and persisted by the relay.\n"
		     "# TYPE gitstore_relay_cursor gauge\ngitstore_relay_cursor %lld\n", cursor);
		EMIT("# HELP gitstore_relay_published_total Publishes acknowledged by JetStream (duplicates included).\n"
		     "# TYPE gitstore_relay_published_total counter\ngitstore_relay_published_total %lld\n",
		     (long long)atomic_load(&m->relay_published));
		EMIT("# HELP gitstore_relay_duplicates_total Publishes JetStream acknowledged as duplicates (Nats-Msg-Id seen).\n"
		     "# TYPE gitstore_relay_duplicates_total counter\ngitstore_relay_duplicates_total %lld\n",
		     (long long)atomic_load(&m->relay_duplicates));
		EMIT("# HELP gitstore_relay_publish_errors_total Failed relay attempts (connect, publish, error ack, ack timeout).\n"
		     "# TYPE gitstore_relay_publish_errors_total counter\ngitstore_relay_publish_errors_total %lld\n",
		     (long long)atomic_load(&m->relay_errors));
		EMIT("# HELP gitstore_relay_connected 1 while the relay holds a connection to NATS.\n"
		     "# TYPE gitstore_relay_connected gauge\ngitstore_relay_connected %d\n",
		     atomic_load(&m->relay_connected));
	}
#undef EMIT
	return 0;
}
