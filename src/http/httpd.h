/*
 * http/httpd.h -- the HTTP front end (libmicrohttpd, thread per connection).
 *
 * Routes: Git smart HTTP under /<ns>/<repo>.git/, the event API under
 * /api/v1/events, /healthz and /metrics (DESIGN 6, 9).
 * Ownership: gs_httpd_start gives a running server; gs_httpd_stop drains
 *   connections and frees it. The context pointers must outlive it.
 * Threads: MHD runs one thread per connection; handlers may block.
 * Errors: GS_ERROR when the listen address cannot be bound.
 */
#ifndef GS_HTTPD_H
#define GS_HTTPD_H

#include "events/evnotify.h"
#include "refs/push.h"
#include "store/db.h"
#include "util/metrics.h"

typedef struct gs_httpd gs_httpd;

typedef struct gs_httpd_ctx {
	const char *data_dir;
	const char *hooks_dir;
	const char *hook_socket;
	gs_dbpool *pool;
	gs_refs *refs;
	gs_evnotify *notify;
	gs_metrics *metrics;
	int sse_heartbeat_ms;
	int sse_max_lag;      /* events; see GS_SSE_MAX_LAG_EVENTS */
	int sse_slow_ms;      /* see GS_SSE_SLOW_MS */
	int sse_sndbuf;       /* bytes; see GS_SSE_SNDBUF_BYTES */
	int64_t retention_ms; /* 0: every event kept (for the 410 message) */
	int idle_timeout_s;   /* see GS_HTTP_IDLE_TIMEOUT_S */
	int header_timeout_s; /* see GS_HTTP_HEADER_TIMEOUT_S */
	int per_ip_limit;     /* see GS_MAX_HTTP_CONNECTIONS_PER_IP; 0: none */
} gs_httpd_ctx;

/* listen is "HOST:PORT"; port 0 picks a free port (see *bound_port). */
int gs_httpd_start(gs_httpd **out, const gs_httpd_ctx *ctx, const char *listen, int *bound_port, gs_error *err);
void gs_httpd_stop(gs_httpd *h);

#endif
