/*
 * http/api.c -- /healthz, /metrics, GET /api/v1/events and the SSE stream.
 *
 * Reads need a token; a caller sees the events of the namespaces it has
 * at least the reader role on (admin:* or reader:* sees all).
 * Threads: each SSE stream blocks its own connection thread in
 * gs_evnotify_wait between batches.
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "events/consumer.h"
#include "events/evlog.h"
#include "http/internal.h"
#include "limits.h"
#include "log/log.h"
#include "util/alloc.h"
#include "util/str.h"
#include "util/time.h"

#define SSE_BATCH 100

typedef struct type_collect {
	const char *types[64];
	int n;
	int bad;
	int toomany;
	char badname[128];
} type_collect;

static MHD_Result_t collect_types(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	type_collect *c = cls;
	const char *t;
	(void)kind;
	if (strcmp(key, "type") != 0 || !value)
		return MHD_YES;
	t = gs_evlog_type_canonical(value);
	if (!t) {
		c->bad = 1;
		snprintf(c->badname, sizeof(c->badname), "%s", value);
	} else if (c->n >= 63) {
		c->toomany = 1;
	} else {
		c->types[c->n++] = t;
	}
	return MHD_YES;
}

/* Shared filter parsing for list and stream. Sends the error response
 * itself and returns -1 on bad input. */
static int api_filter(gs_req *req, gs_evlog_filter *f, type_collect *tc, gs_repo_info *repo, char ***nss,
		      MHD_Result_t *ret)
{
	const char *after = MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, "after");
	const char *limit = MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, "limit");
	const char *reponame = MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, "repo");
	uint64_t v;
	gs_error err = GS_ERROR_INIT;

	memset(f, 0, sizeof(*f));
	memset(tc, 0, sizeof(*tc));
	*nss = NULL;
	f->limit = GS_DEFAULT_EVENTS_PAGE;
	if (after) {
		if (gs_str_parse_u64(after, INT64_MAX, &v, &err) < 0) {
			*ret = gs_http__send_error(req->conn, 400, "invalid_after", "after must be a non-negative integer");
			return -1;
		}
		f->after = (int64_t)v;
	}
	if (limit) {
		if (gs_str_parse_u64(limit, GS_MAX_EVENTS_PAGE, &v, &err) < 0 || v == 0) {
			char m[96];
			snprintf(m, sizeof(m), "limit must be 1..%d", GS_MAX_EVENTS_PAGE);
			*ret = gs_http__send_error(req->conn, 400, "invalid_limit", m);
			return -1;
		}
		f->limit = (int)v;
	}
	MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, collect_types, tc);
	if (tc->bad || tc->toomany) {
		char m[200];
		snprintf(m, sizeof(m), tc->bad ? "unknown event type '%.100s'" : "too many type filters%.0s", tc->badname);
		*ret = gs_http__send_error(req->conn, 400, "invalid_type", m);
		return -1;
	}
	if (tc->n) {
		tc->types[tc->n] = NULL;
		f->types = tc->types;
	}
	if (reponame) {
		char ns[64], name[64];
		gs_db *db;
		int error;
		if (gs_str_split_repo(reponame, ns, name, &err) < 0) {
			*ret = gs_http__send_error(req->conn, 400, "invalid_repo", err.msg);
			return -1;
		}
		if (!gs_principal_can(&req->who, ns, GS_ROLE_READER)) {
			*ret = gs_http__send_error(req->conn, 403, "forbidden", "reading events needs the reader role on the namespace");
			return -1;
		}
		db = gs_dbpool_get(req->h->ctx.pool);
		error = gs_registry_repo_lookup(db, ns, name, repo, &err);
		gs_dbpool_put(req->h->ctx.pool, db);
		if (error < 0) {
			*ret = error == GS_ENOTFOUND ? gs_http__send_error(req->conn, 404, "repository_not_found", "repository not found")
						     : gs_http__send_error(req->conn, 503, "unavailable", err.msg);
			return -1;
		}
		f->repo_uid = repo->uid;
	}
	*nss = gs_http__readable_namespaces(req);
	f->namespaces = (const char *const *)*nss;
	return 0;
}

typedef struct list_ctx {
	gs_buf out;
	int first;
	int64_t last;
} list_ctx;

static int list_cb(int64_t logseq, const char *type, const char *json, void *payload)
{
	list_ctx *c = payload;
	(void)type;
	gs_buf_adds(&c->out, c->first ? "" : ",\n", NULL);
	gs_buf_adds(&c->out, json, NULL);
	c->first = 0;
	c->last = logseq;
	return 0;
}

/* A position in the removed prefix of the log (retention): 410, with
 * what to do about it (the Kubernetes watch contract). 1 when answered. */
static int api_expired(gs_req *req, int64_t after, MHD_Result_t *ret)
{
	gs_error err = GS_ERROR_INIT;
	int64_t floor = 0;
	gs_db *db = gs_dbpool_get(req->h->ctx.pool);
	int error = gs_evlog_floor(db, &floor, &err);
	gs_dbpool_put(req->h->ctx.pool, db);
	if (error < 0) {
		*ret = gs_http__send_error(req->conn, 503, "unavailable", err.msg);
		return 1;
	}
	if (after >= floor)
		return 0;
	{
		char msg[400];
		json_t *body;
		char *text;
		snprintf(msg, sizeof(msg),
			 "events up to logseq %lld were removed (retention: %.6g days); position %lld is gone. Re-list the "
			 "current state (GET /api/v1/namespaces/<ns>/<plural>, the storefront) and resume with after=%lld",
			 (long long)floor, (double)req->h->ctx.retention_ms / 86400000.0, (long long)after, (long long)floor);
		body = json_pack("{s:{s:s, s:s}, s:I}", "error", "code", "expired", "message", msg, "resumeAfter",
				 (json_int_t)floor);
		text = json_dumps(body, JSON_COMPACT);
		*ret = gs_http__send(req->conn, 410, "application/json", text, strlen(text));
		free(text);
		json_decref(body);
	}
	return 1;
}

static MHD_Result_t api_events(gs_req *req)
{
	gs_evlog_filter f;
	type_collect tc;
	gs_repo_info repo;
	char **nss = NULL;
	list_ctx c;
	gs_error err = GS_ERROR_INIT;
	MHD_Result_t ret = MHD_NO;
	gs_db *db;
	int error;

	if (api_filter(req, &f, &tc, &repo, &nss, &ret) < 0)
		return ret;
	if (api_expired(req, f.after, &ret)) {
		gs_http__strv_free(nss);
		return ret;
	}
	memset(&c, 0, sizeof(c));
	gs_buf_init(&c.out, (size_t)GS_MAX_EVENTS_PAGE * (GS_MAX_EVENT_BYTES + 4) + 16);
	c.first = 1;
	gs_buf_adds(&c.out, "[", NULL);
	db = gs_dbpool_get(req->h->ctx.pool);
	error = gs_evlog_read(db, &f, list_cb, &c, &err);
	gs_dbpool_put(req->h->ctx.pool, db);
	if (error < 0) {
		ret = gs_http__send_error(req->conn, 503, "unavailable", err.msg);
	} else {
		struct MHD_Response *r;
		char next[32];
		gs_buf_adds(&c.out, "]\n", NULL);
		r = MHD_create_response_from_buffer(c.out.len, c.out.ptr, MHD_RESPMEM_MUST_COPY);
		MHD_add_response_header(r, "Content-Type", "application/cloudevents-batch+json");
		snprintf(next, sizeof(next), "%lld", (long long)(c.last ? c.last : f.after));
		MHD_add_response_header(r, "Gitstore-Last-Logseq", next);
		ret = MHD_queue_response(req->conn, MHD_HTTP_OK, r);
		MHD_destroy_response(r);
	}
	gs_buf_release(&c.out);
	gs_http__strv_free(nss);
	return ret;
}

/* ---- SSE ---------------------------------------------------------------- */

static int sse_cb(int64_t logseq, const char *type, const char *json, void *payload)
{
	gs_req *req = payload;
	char id[80];
	/* pieces, not one printf: a printf of the whole event formats it
	 * twice (length, then text) */
	snprintf(id, sizeof(id), "id: %lld\nevent: " GS_EVENT_TYPE_PREFIX, (long long)logseq);
	gs_buf_adds(&req->sse_buf, id, NULL);
	gs_buf_adds(&req->sse_buf, type, NULL);
	gs_buf_adds(&req->sse_buf, ".v1\ndata: ", NULL);
	gs_buf_adds(&req->sse_buf, json, NULL);
	gs_buf_adds(&req->sse_buf, "\n\n", NULL);
	req->sse_after = logseq;
	req->sse_returned++;
	return 0;
}

/* A live stream too far behind the head for too long is a client too
 * slow to keep up: 1 when it should be cut off. */
static int sse_too_slow(gs_req *req, int64_t head)
{
	int64_t now = gs_time_mono_ns() / 1000000;
	if (!req->sse_live || head - req->sse_after <= req->h->ctx.sse_max_lag) {
		req->sse_behind_since_ms = 0;
		return 0;
	}
	if (!req->sse_behind_since_ms)
		req->sse_behind_since_ms = now;
	return now - req->sse_behind_since_ms >= req->h->ctx.sse_slow_ms;
}

/* Replaces the batch with the final comment; sent is the last event the
 * client was given. */
static void sse_cut_off(gs_req *req, int64_t head, int64_t sent)
{
	GS_LOG(GS_LOG_WARN, "sse", "disconnecting a slow event stream: %lld events behind the head",
	       (long long)(head - sent));
	gs_buf_reset(&req->sse_buf);
	gs_buf_printf(&req->sse_buf, NULL,
		      ": disconnected: this client is too slow to keep up (more than %d events behind the log head "
		      "for %d ms); reconnect with Last-Event-ID: %lld to resume\n\n",
		      req->h->ctx.sse_max_lag, req->h->ctx.sse_slow_ms, (long long)sent);
	req->sse_ending = 1;
}

static ssize_t sse_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	gs_req *req = cls;
	(void)pos;
	for (;;) {
		if (req->sse_off < req->sse_buf.len) {
			size_t n = req->sse_buf.len - req->sse_off;
			if (n > max)
				n = max;
			memcpy(buf, req->sse_buf.ptr + req->sse_off, n);
			req->sse_off += n;
			req->sse_last_sent_ms = gs_time_mono_ns() / 1000000;
			return (ssize_t)n;
		}
		gs_buf_reset(&req->sse_buf);
		req->sse_off = 0;
		if (req->sse_ending)
			return MHD_CONTENT_READER_END_OF_STREAM;
		{
			gs_evlog_filter f;
			gs_error err = GS_ERROR_INIT;
			int64_t scanned_head = 0;
			gs_db *db;
			int closing = 0;
			/* everything up to here has been handed to the connection */
			int64_t sent = req->sse_after;
			memset(&f, 0, sizeof(f));
			f.after = req->sse_after;
			f.limit = SSE_BATCH;
			f.repo_uid = req->sse_repo_uid;
			f.types = (const char *const *)req->sse_types;
			f.namespaces = (const char *const *)req->sse_namespaces;
			db = gs_dbpool_get(req->h->ctx.pool);
			/* the head before the scan: if the scan returns less than a
			 * full batch, nothing up to it matches any more, so the
			 * cursor can skip there (filtered streams must not spin) */
			if (gs_evlog_head(db, &scanned_head, &err) < 0 || gs_evlog_read(db, &f, sse_cb, req, &err) < 0) {
				gs_dbpool_put(req->h->ctx.pool, db);
				GS_LOG(GS_LOG_ERROR, "sse", "event stream ended: %s", err.msg);
				return MHD_CONTENT_READER_END_WITH_ERROR;
			}
			gs_dbpool_put(req->h->ctx.pool, db);
			if (req->sse_returned < SSE_BATCH) {
				req->sse_live = 1;
				if (scanned_head > req->sse_after)
					req->sse_after = scanned_head;
			}
			req->sse_returned = 0;
			if (sse_too_slow(req, scanned_head)) {
				sse_cut_off(req, scanned_head, sent);
				continue;
			}
			if (req->sse_buf.len)
				continue;
			{
				/* a heartbeat whenever nothing was sent for a whole
				 * interval, even if the log moved on with events this
				 * stream filters out: keeps proxies from dropping it and
				 * finds dead clients */
				int64_t idle = gs_time_mono_ns() / 1000000 - req->sse_last_sent_ms;
				int hb = req->h->ctx.sse_heartbeat_ms;
				if (idle >= hb) {
					gs_buf_adds(&req->sse_buf, ": heartbeat\n\n", NULL);
					continue;
				}
				gs_evnotify_wait(req->h->ctx.notify, req->sse_after, (int)(hb - idle), &closing);
				if (closing)
					return MHD_CONTENT_READER_END_OF_STREAM;
			}
		}
	}
}

static MHD_Result_t api_stream(gs_req *req)
{
	gs_evlog_filter f;
	type_collect tc;
	gs_repo_info repo;
	char **nss = NULL;
	MHD_Result_t ret = MHD_NO;
	struct MHD_Response *r;
	const char *leid = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Last-Event-ID");

	if (api_filter(req, &f, &tc, &repo, &nss, &ret) < 0)
		return ret;
	if (leid) {
		uint64_t v;
		gs_error err = GS_ERROR_INIT;
		if (gs_str_parse_u64(leid, INT64_MAX, &v, &err) < 0) {
			gs_http__strv_free(nss);
			return gs_http__send_error(req->conn, 400, "invalid_last_event_id", "Last-Event-ID must be a logseq");
		}
		f.after = (int64_t)v;
	}
	if (api_expired(req, f.after, &ret)) {
		gs_http__strv_free(nss);
		return ret;
	}
	/* take the slot first so concurrent openers cannot overshoot */
	if (atomic_fetch_add(&req->h->ctx.metrics->sse_clients, 1) >= GS_MAX_SSE_CLIENTS) {
		atomic_fetch_sub(&req->h->ctx.metrics->sse_clients, 1);
		gs_http__strv_free(nss);
		return gs_http__send_error(req->conn, 503, "too_many_streams", "too many event streams; retry later");
	}
	req->sse_counted = 1;
	req->sse_last_sent_ms = gs_time_mono_ns() / 1000000;
	req->kind = REQ_SSE;
	req->sse_after = f.after;
	req->sse_namespaces = nss;
	if (f.repo_uid)
		req->sse_repo_uid = gs_xstrdup(f.repo_uid);
	if (tc.n) {
		req->sse_types = gs_xcalloc((size_t)tc.n + 1, sizeof(char *));
		for (int i = 0; i < tc.n; i++)
			req->sse_types[i] = gs_xstrdup(tc.types[i]);
	}
	{
		/* a bounded kernel buffer too: a stalled client holds at most
		 * this plus one batch */
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		int sndbuf = req->h->ctx.sse_sndbuf;
		if (ci)
			setsockopt(ci->connect_fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	}
	gs_buf_init(&req->sse_buf, (size_t)SSE_BATCH * (GS_MAX_EVENT_BYTES + 64) + 1024);
	gs_buf_adds(&req->sse_buf, ": gitstore event stream\nretry: 2000\n\n", NULL);
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, sse_reader, req, NULL);
	MHD_add_response_header(r, "Content-Type", "text/event-stream");
	MHD_add_response_header(r, "Cache-Control", "no-cache");
	MHD_add_response_header(r, "X-Accel-Buffering", "no");
	/* a stream that ends (shutdown, a slow client cut off) closes its
	 * connection: the client reconnects with Last-Event-ID */
	MHD_add_response_header(r, "Connection", "close");
	ret = MHD_queue_response(req->conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

typedef struct cm_ctx {
	gs_buf *b;
	int64_t head;
	int pass;
} cm_ctx;

static int cm_cb(const gs_consumer_info *c, void *payload)
{
	cm_ctx *m = payload;
	/* names are [A-Za-z0-9._-]: no label escaping needed */
	if (m->pass == 0)
		gs_buf_printf(m->b, NULL, "gitstore_consumer_pending{consumer=\"%s\"} %lld\n", c->cfg.name,
			      (long long)c->pending);
	else if (m->pass == 1)
		gs_buf_printf(m->b, NULL, "gitstore_consumer_lag_events{consumer=\"%s\"} %lld\n", c->cfg.name,
			      (long long)(m->head > c->cursor ? m->head - c->cursor : 0));
	else
		gs_buf_printf(m->b, NULL, "gitstore_consumer_dead_lettered_total{consumer=\"%s\"} %lld\n", c->cfg.name,
			      (long long)c->dead);
	return 0;
}

/* Per durable consumer: unsettled events, distance of its cursor from the
 * head (an upper bound: not every event matches its filter), dead letters. */
static void api_consumer_metrics(gs_req *req, int64_t head, gs_buf *b)
{
	static const char *const heads[] = {
		"# HELP gitstore_consumer_pending Unsettled (leased or waiting) events of a durable consumer.\n"
		"# TYPE gitstore_consumer_pending gauge\n",
		"# HELP gitstore_consumer_lag_events Log head minus the consumer's settled cursor.\n"
		"# TYPE gitstore_consumer_lag_events gauge\n",
		"# HELP gitstore_consumer_dead_lettered_total Events a durable consumer gave up on.\n"
		"# TYPE gitstore_consumer_dead_lettered_total counter\n"};
	gs_error err = GS_ERROR_INIT;
	gs_db *db = gs_dbpool_get(req->h->ctx.pool);
	for (int pass = 0; pass < 3; pass++) {
		cm_ctx m = {b, head, pass};
		gs_buf_adds(b, heads[pass], NULL);
		if (gs_consumer_each(db, cm_cb, &m, &err) < 0)
			break;
	}
	gs_dbpool_put(req->h->ctx.pool, db);
}

MHD_Result_t gs_api_handle(gs_req *req, const char *url, const char *method)
{
	gs_error err = GS_ERROR_INIT;
	int is_get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	if (strcmp(url, "/healthz") == 0)
		return is_get ? gs_http__send(req->conn, 200, "text/plain", "ok\n", 3)
			      : gs_http__send_error(req->conn, 405, "method_not_allowed", "use GET");
	if (strcmp(url, "/metrics") == 0) {
		gs_buf b;
		int64_t head = 0;
		gs_db *db;
		MHD_Result_t ret;
		if (!is_get)
			return gs_http__send_error(req->conn, 405, "method_not_allowed", "use GET");
		gs_buf_init(&b, 1024 * 1024);
		db = gs_dbpool_get(req->h->ctx.pool);
		gs_evlog_head(db, &head, &err);
		gs_dbpool_put(req->h->ctx.pool, db);
		gs_metrics_render(req->h->ctx.metrics, head, &b, &err);
		api_consumer_metrics(req, head, &b);
		ret = gs_http__send(req->conn, 200, "text/plain; version=0.0.4", b.ptr ? b.ptr : "", b.len);
		gs_buf_release(&b);
		return ret;
	}
	if (strcmp(url, "/api/v1/events") == 0 || strcmp(url, "/api/v1/events/stream") == 0) {
		if (!is_get)
			return gs_http__send_error(req->conn, 405, "method_not_allowed", "use GET");
		if (gs_http__authenticate(req, &err) < 0)
			return err.code == GS_EAUTH ? gs_http__send_401(req->conn)
						   : gs_http__send_error(req->conn, 503, "unavailable", err.msg);
		return strcmp(url, "/api/v1/events") == 0 ? api_events(req) : api_stream(req);
	}
	if (gs_str_has_prefix(url, "/api/v1/namespaces/")) {
		if (!is_get)
			return gs_http__send_error(req->conn, 405, "method_not_allowed", "use GET");
		if (gs_http__authenticate(req, &err) < 0)
			return err.code == GS_EAUTH ? gs_http__send_401(req->conn)
						   : gs_http__send_error(req->conn, 503, "unavailable", err.msg);
		return gs_resapi_handle(req, url);
	}
	return gs_http__send_error(req->conn, 404, "not_found", "no such route");
}

void gs_api_complete(gs_req *req)
{
	if (req->sse_counted)
		atomic_fetch_sub(&req->h->ctx.metrics->sse_clients, 1);
	gs_buf_release(&req->sse_buf);
	free(req->sse_repo_uid);
	gs_http__strv_free(req->sse_types);
	gs_http__strv_free(req->sse_namespaces);
}
