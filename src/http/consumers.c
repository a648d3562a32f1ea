/*
 * http/consumers.c -- durable consumers over HTTP (DESIGN 6,
 * docs/events.md "Durable consumers"):
 *
 *   GET    /api/v1/consumers                    list (those the caller may read)
 *   PUT    /api/v1/consumers/<name>             create (201) or update (200)
 *   GET    /api/v1/consumers/<name>             state
 *   DELETE /api/v1/consumers/<name>             204
 *   POST   /api/v1/consumers/<name>/fetch?max=N&wait=S
 *   POST   /api/v1/consumers/<name>/ack|nak|term  {"logseq": [...]}
 *   GET    /api/v1/consumers/<name>/dead-letters?after=N&limit=M
 *
 * Access: a consumer's scope is its filter's repository's namespace, or
 * every namespace without one. Reading and fetching need the reader role
 * on the scope (on "*" for every namespace), creating, changing and
 * deleting the admin role. Built-in consumers ("gitstore-...") are read-
 * only here.
 * Threads: MHD connection thread (thread per connection: a fetch may
 * block in its long poll); database from the pool.
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events/consumer.h"
#include "events/consumerreq.h"
#include "events/evlog.h"
#include "http/internal.h"
#include "limits.h"
#include "util/alloc.h"
#include "util/str.h"
#include "util/time.h"

#define CS_DEFAULT_FETCH 10
#define CS_DEAD_PAGE_DEFAULT 100

static MHD_Result_t cs_json(gs_req *req, unsigned status, json_t *j)
{
	char *text = json_dumps(j, JSON_COMPACT);
	MHD_Result_t ret = gs_http__send(req->conn, status, "application/json", text, strlen(text));
	free(text);
	json_decref(j);
	return ret;
}

static MHD_Result_t cs_db_error(gs_req *req, const gs_error *err)
{
	if (err->code == GS_ENOTFOUND)
		return gs_http__send_error(req->conn, 404, "consumer_not_found", err->msg);
	if (err->code == GS_ELIMIT)
		return gs_http__send_error(req->conn, 409, "limit", err->msg);
	if (err->code == GS_EINVALID)
		return gs_http__send_error(req->conn, 400, "invalid_request", err->msg);
	return gs_http__send_error(req->conn, 503, "unavailable", err->msg);
}

static int cs_builtin(const char *name)
{
	return gs_str_has_prefix(name, GS_CONSUMER_BUILTIN_PREFIX);
}

/* May the caller act with role `need` on a consumer of scope ns? */
static int cs_allowed(const gs_req *req, const char *ns, gs_role need)
{
	return ns[0] ? gs_principal_can(&req->who, ns, need) : gs_principal_is_global(&req->who, need);
}

static json_t *cs_object(const gs_consumer_info *c)
{
	json_t *types = json_array();
	char created[40], updated[40];
	for (int i = 0; i < c->cfg.ntypes; i++)
		json_array_append_new(types, json_string(c->cfg.types[i]));
	gs_time_fmt_rfc3339(c->created_ms, created, sizeof(created));
	gs_time_fmt_rfc3339(c->updated_ms, updated, sizeof(updated));
	return json_pack("{s:s, s:{s:o, s:o}, s:I, s:i, s:I, s:I, s:I, s:I, s:I, s:I, s:b, s:s, s:s}", "name",
			 c->cfg.name, "filter", "types", types, "repo",
			 c->cfg.repo[0] ? json_string(c->cfg.repo) : json_null(), "ackWaitSeconds",
			 (json_int_t)(c->cfg.ack_wait_ms / 1000), "maxDeliver", c->cfg.max_deliver, "startAfter",
			 (json_int_t)c->cfg.start_after, "cursor", (json_int_t)c->cursor, "pulled",
			 (json_int_t)c->pulled, "pending", (json_int_t)c->pending, "leased", (json_int_t)c->leased,
			 "deadLettered", (json_int_t)c->dead, "builtin", cs_builtin(c->cfg.name), "createdAt", created,
			 "updatedAt", updated);
}

/* ---- request bodies ---- */

static MHD_Result_t cs_bad(gs_req *req, const char *code, const gs_error *err)
{
	return gs_http__send_error(req->conn, 400, code, err->msg);
}

/* The PUT body into cfg, the repository resolved. 1 when cfg is ready,
 * else 0 with the answer in *ret. */
static int cs_parse_cfg(gs_req *req, gs_consumer_cfg *cfg, MHD_Result_t *ret)
{
	char repo[130], ns[64], name[64];
	const char *code = "invalid_request";
	gs_error err = GS_ERROR_INIT;
	gs_repo_info info;
	gs_db *db;
	int error;

	if (req->failed) {
		*ret = gs_http__send_error(req->conn, 413, "body_too_large", "the request body exceeds 64 KiB");
		return 0;
	}
	if (gs_consumerreq_put(req->body.ptr, req->body.len, cfg, repo, &code, &err) < 0) {
		*ret = cs_bad(req, code, &err);
		return 0;
	}
	if (!repo[0])
		return 1;
	if (gs_str_split_repo(repo, ns, name, &err) < 0) {
		*ret = cs_bad(req, "invalid_repo", &err);
		return 0;
	}
	db = gs_dbpool_get(req->h->ctx.pool);
	error = gs_registry_repo_lookup(db, ns, name, &info, &err);
	gs_dbpool_put(req->h->ctx.pool, db);
	if (error == GS_ENOTFOUND) {
		*ret = gs_http__send_error(req->conn, 404, "repository_not_found", "filter.repo: repository not found");
		return 0;
	}
	if (error < 0) {
		*ret = gs_http__send_error(req->conn, 503, "unavailable", err.msg);
		return 0;
	}
	snprintf(cfg->repo_uid, sizeof(cfg->repo_uid), "%s", info.uid);
	snprintf(cfg->repo, sizeof(cfg->repo), "%s", repo);
	snprintf(cfg->ns, sizeof(cfg->ns), "%s", ns);
	return 1;
}

/* ---- routes ---- */

static MHD_Result_t cs_put(gs_req *req, const char *name)
{
	gs_consumer_cfg cfg;
	gs_consumer_info cur;
	gs_error err = GS_ERROR_INIT;
	MHD_Result_t ret = MHD_NO;
	gs_db *db;
	int created = 0, error;

	if (cs_builtin(name))
		return gs_http__send_error(req->conn, 403, "reserved_name",
					   "consumer names starting with 'gitstore-' are the daemon's own");
	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.name, sizeof(cfg.name), "%s", name);
	if (!cs_parse_cfg(req, &cfg, &ret))
		return ret;
	if (!cs_allowed(req, cfg.ns, GS_ROLE_ADMIN))
		return gs_http__send_error(req->conn, 403, "forbidden",
					   cfg.ns[0] ? "a consumer of a repository needs the admin role on its namespace"
						     : "a consumer of every repository needs the admin role on '*'");
	db = gs_dbpool_get(req->h->ctx.pool);
	error = gs_consumer_get(db, name, &cur, &err);
	if (error == 0 && !cs_allowed(req, cur.cfg.ns, GS_ROLE_ADMIN)) {
		gs_dbpool_put(req->h->ctx.pool, db);
		return gs_http__send_error(req->conn, 403, "forbidden", "changing this consumer needs the admin role on its scope");
	}
	gs_error_clear(&err);
	if ((error = gs_consumer_put(db, &cfg, &created, &err)) == 0)
		error = gs_consumer_get(db, name, &cur, &err);
	gs_dbpool_put(req->h->ctx.pool, db);
	if (error < 0)
		return cs_db_error(req, &err);
	return cs_json(req, created ? 201 : 200, cs_object(&cur));
}

/* Loads the consumer and checks the caller may act on it with `need`;
 * answers (and returns 0) when not. */
static int cs_load(gs_req *req, const char *name, gs_role need, int writable, gs_consumer_info *out,
		   MHD_Result_t *ret)
{
	gs_error err = GS_ERROR_INIT;
	gs_db *db = gs_dbpool_get(req->h->ctx.pool);
	/* the counts (a scan of the pending set) only for the state answer */
	int error = writable ? gs_consumer_get_cfg(db, name, out, &err) : gs_consumer_get(db, name, out, &err);
	gs_dbpool_put(req->h->ctx.pool, db);
	if (error < 0) {
		*ret = cs_db_error(req, &err);
		return 0;
	}
	if (!cs_allowed(req, out->cfg.ns, GS_ROLE_READER)) {
		/* the same answer as for a consumer that does not exist */
		*ret = gs_http__send_error(req->conn, 404, "consumer_not_found", "no such consumer");
		return 0;
	}
	if (!cs_allowed(req, out->cfg.ns, need)) {
		/* visible to the caller, who may not change it */
		*ret = gs_http__send_error(req->conn, 403, "forbidden", "changing this consumer needs the admin role on its scope");
		return 0;
	}
	if (writable && cs_builtin(name)) {
		*ret = gs_http__send_error(req->conn, 403, "builtin_consumer",
					   "the daemon's own consumers can be read, not driven or changed");
		return 0;
	}
	return 1;
}

static MHD_Result_t cs_delete(gs_req *req, const char *name)
{
	gs_consumer_info c;
	gs_error err = GS_ERROR_INIT;
	MHD_Result_t ret;
	gs_db *db;
	int error;
	if (!cs_load(req, name, GS_ROLE_ADMIN, 1, &c, &ret))
		return ret;
	db = gs_dbpool_get(req->h->ctx.pool);
	error = gs_consumer_delete(db, name, &err);
	gs_dbpool_put(req->h->ctx.pool, db);
	if (error < 0)
		return cs_db_error(req, &err);
	return gs_http__send(req->conn, 204, "application/json", "", 0);
}

static int cs_query_int(gs_req *req, const char *key, int64_t lo, int64_t hi, int64_t dflt, int64_t *out)
{
	const char *v = MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, key);
	uint64_t u;
	gs_error err = GS_ERROR_INIT;
	if (!v) {
		*out = dflt;
		return 0;
	}
	if (gs_str_parse_u64(v, (uint64_t)hi, &u, &err) < 0 || (int64_t)u < lo)
		return -1;
	*out = (int64_t)u;
	return 0;
}

/* [{"logseq":N,"deliveryAttempt":A,"event":{...}}, ...], the events as
 * stored (not re-encoded). */
static MHD_Result_t cs_send_deliveries(gs_req *req, const gs_delivery *d, size_t n)
{
	gs_buf b;
	MHD_Result_t ret;
	gs_buf_init(&b, (size_t)GS_MAX_CONSUMER_FETCH * (GS_MAX_EVENT_BYTES + 96) + 16);
	gs_buf_adds(&b, "[", NULL);
	for (size_t i = 0; i < n; i++) {
		/* the event appended as is, not through printf */
		gs_buf_printf(&b, NULL, "%s{\"logseq\":%lld,\"deliveryAttempt\":%d,\"event\":", i ? ",\n" : "",
			      (long long)d[i].logseq, d[i].attempt);
		gs_buf_adds(&b, d[i].json, NULL);
		gs_buf_adds(&b, "}", NULL);
	}
	gs_buf_adds(&b, "]\n", NULL);
	ret = gs_http__send(req->conn, 200, "application/json", b.ptr, b.len);
	gs_buf_release(&b);
	return ret;
}

static MHD_Result_t cs_fetch(gs_req *req, const char *name)
{
	gs_consumer_info c;
	gs_error err = GS_ERROR_INIT;
	gs_evnotify *notify = req->h->ctx.notify;
	gs_delivery *d = NULL;
	size_t n = 0;
	int64_t max, wait_s, deadline;
	MHD_Result_t ret;
	char m[96];

	if (!cs_load(req, name, GS_ROLE_READER, 1, &c, &ret))
		return ret;
	if (req->failed) /* the body is ignored, but bounded like the others */
		return gs_http__send_error(req->conn, 413, "body_too_large", "the request body exceeds 64 KiB");
	if (cs_query_int(req, "max", 1, GS_MAX_CONSUMER_FETCH, CS_DEFAULT_FETCH, &max) < 0) {
		snprintf(m, sizeof(m), "max must be 1..%d", GS_MAX_CONSUMER_FETCH);
		return gs_http__send_error(req->conn, 400, "invalid_max", m);
	}
	if (cs_query_int(req, "wait", 0, GS_MAX_CONSUMER_FETCH_WAIT_S, 0, &wait_s) < 0) {
		snprintf(m, sizeof(m), "wait must be 0..%d seconds", GS_MAX_CONSUMER_FETCH_WAIT_S);
		return gs_http__send_error(req->conn, 400, "invalid_wait", m);
	}
	deadline = gs_time_now_ms() + wait_s * 1000;
	for (;;) {
		int64_t due = 0, now, head, until;
		int closing = 0, error;
		gs_db *db = gs_dbpool_get(req->h->ctx.pool);
		/* read the head before fetching: a bump after it wakes the wait */
		head = gs_evnotify_head(notify);
		error = gs_consumer_fetch(db, notify, name, (int)max, &d, &n, &due, &err);
		gs_dbpool_put(req->h->ctx.pool, db);
		if (error < 0)
			return cs_db_error(req, &err);
		now = gs_time_now_ms();
		if (n > 0 || now >= deadline)
			break;
		gs_deliveries_free(d, n);
		d = NULL;
		/* wake for new events, a lease running out or a nak delay */
		until = due && due < deadline ? due : deadline;
		gs_evnotify_wait(notify, head, (int)(until - now > 0 ? until - now : 1), &closing);
		if (closing)
			break;
	}
	ret = cs_send_deliveries(req, d, n);
	gs_deliveries_free(d, n);
	return ret;
}

typedef enum { CS_ACK, CS_NAK, CS_TERM } cs_settle_kind;

static MHD_Result_t cs_settle(gs_req *req, const char *name, cs_settle_kind kind)
{
	gs_consumer_info c;
	gs_error err = GS_ERROR_INIT;
	MHD_Result_t ret = MHD_NO;
	const char *code = "invalid_request";
	json_t *settled, *unknown;
	int64_t *seqs = NULL, delay = 0;
	int *flags = NULL, error;
	size_t n = 0;
	gs_db *db;

	if (!cs_load(req, name, GS_ROLE_READER, 1, &c, &ret))
		return ret;
	if (req->failed)
		return gs_http__send_error(req->conn, 413, "body_too_large", "the request body exceeds 64 KiB");
	if (gs_consumerreq_settle(req->body.ptr, req->body.len, kind == CS_NAK, &seqs, &n, &delay, &code, &err) < 0)
		return cs_bad(req, code, &err);
	flags = gs_xcalloc(n, sizeof(*flags));
	db = gs_dbpool_get(req->h->ctx.pool);
	if (kind == CS_ACK)
		error = gs_consumer_ack(db, name, seqs, n, flags, &err);
	else if (kind == CS_NAK)
		error = gs_consumer_nak(db, req->h->ctx.notify, name, seqs, n, delay * 1000, flags, &err);
	else
		error = gs_consumer_term(db, req->h->ctx.notify, name, seqs, n, flags, &err);
	gs_dbpool_put(req->h->ctx.pool, db);
	if (error < 0) {
		ret = cs_db_error(req, &err);
		goto out;
	}
	settled = json_array();
	unknown = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(flags[i] ? settled : unknown, json_integer(seqs[i]));
	ret = cs_json(req, 200, json_pack("{s:o, s:o}", "settled", settled, "notPending", unknown));
out:
	free(seqs);
	free(flags);
	return ret;
}

typedef struct cs_dead_ctx {
	gs_buf out;
	int n;
	int64_t last;
} cs_dead_ctx;

static int cs_dead_cb(const gs_dead_letter *d, void *payload)
{
	cs_dead_ctx *c = payload;
	char when[40];
	gs_time_fmt_rfc3339(d->dead_ms, when, sizeof(when));
	gs_buf_printf(&c->out, NULL,
		      "%s{\"logseq\":%lld,\"deliveryAttempts\":%d,\"reason\":\"%s\",\"deadLetteredAt\":\"%s\",\"event\":%s}",
		      c->n ? ",\n" : "", (long long)d->logseq, d->attempts, d->reason, when, d->json[0] ? d->json : "null");
	c->n++;
	c->last = d->logseq;
	return 0;
}

static MHD_Result_t cs_dead_letters(gs_req *req, const char *name)
{
	gs_consumer_info c;
	gs_error err = GS_ERROR_INIT;
	cs_dead_ctx dc;
	MHD_Result_t ret;
	int64_t after, limit;
	gs_db *db;
	int error;

	if (!cs_load(req, name, GS_ROLE_READER, 0, &c, &ret))
		return ret;
	if (cs_query_int(req, "after", 0, INT64_MAX, 0, &after) < 0 ||
	    cs_query_int(req, "limit", 1, GS_MAX_EVENTS_PAGE, CS_DEAD_PAGE_DEFAULT, &limit) < 0)
		return gs_http__send_error(req->conn, 400, "invalid_request", "after >= 0 and limit 1..1000");
	memset(&dc, 0, sizeof(dc));
	gs_buf_init(&dc.out, (size_t)GS_MAX_EVENTS_PAGE * (GS_MAX_EVENT_BYTES + 160) + 64);
	gs_buf_adds(&dc.out, "{\"items\":[", NULL);
	db = gs_dbpool_get(req->h->ctx.pool);
	error = gs_consumer_dead_each(db, name, after, (int)limit, cs_dead_cb, &dc, &err);
	gs_dbpool_put(req->h->ctx.pool, db);
	if (error < 0) {
		gs_buf_release(&dc.out);
		return cs_db_error(req, &err);
	}
	gs_buf_printf(&dc.out, NULL, "],\"next\":%lld}\n", (long long)(dc.n ? dc.last : after));
	ret = gs_http__send(req->conn, 200, "application/json", dc.out.ptr, dc.out.len);
	gs_buf_release(&dc.out);
	return ret;
}

typedef struct cs_list_ctx {
	gs_req *req;
	json_t *items;
} cs_list_ctx;

static int cs_list_cb(const gs_consumer_info *c, void *payload)
{
	cs_list_ctx *l = payload;
	if (cs_allowed(l->req, c->cfg.ns, GS_ROLE_READER))
		json_array_append_new(l->items, cs_object(c));
	return 0;
}

static MHD_Result_t cs_list(gs_req *req)
{
	cs_list_ctx l = {req, json_array()};
	gs_error err = GS_ERROR_INIT;
	gs_db *db = gs_dbpool_get(req->h->ctx.pool);
	int error = gs_consumer_each(db, cs_list_cb, &l, &err);
	gs_dbpool_put(req->h->ctx.pool, db);
	if (error < 0) {
		json_decref(l.items);
		return cs_db_error(req, &err);
	}
	return cs_json(req, 200, json_pack("{s:o}", "items", l.items));
}

int gs_consumers__takes_body(const char *url, const char *method)
{
	return gs_str_has_prefix(url, "/api/v1/consumers/") &&
	       (strcmp(method, "PUT") == 0 || strcmp(method, "POST") == 0);
}

MHD_Result_t gs_consumers_handle(gs_req *req, const char *url, const char *method)
{
	const char *p = url + strlen("/api/v1/consumers"), *slash;
	char name[GS_MAX_CONSUMER_NAME + 1];
	const char *action = "";
	gs_error err = GS_ERROR_INIT;
	size_t len;

	if (gs_http__authenticate(req, &err) < 0)
		return err.code == GS_EAUTH ? gs_http__send_401(req->conn)
					   : gs_http__send_error(req->conn, 503, "unavailable", err.msg);
	if (*p == 0 || strcmp(p, "/") == 0)
		return strcmp(method, "GET") == 0 ? cs_list(req)
						  : gs_http__send_error(req->conn, 405, "method_not_allowed", "use GET");
	p++;
	slash = strchr(p, '/');
	len = slash ? (size_t)(slash - p) : strlen(p);
	if (len == 0 || len > GS_MAX_CONSUMER_NAME)
		return gs_http__send_error(req->conn, 400, "invalid_name", "consumer names are 1..64 of [A-Za-z0-9._-]");
	memcpy(name, p, len);
	name[len] = 0;
	if (!gs_consumer_name_ok(name))
		return gs_http__send_error(req->conn, 400, "invalid_name", "consumer names are 1..64 of [A-Za-z0-9._-]");
	if (slash)
		action = slash + 1;
	if (!*action) {
		if (strcmp(method, "PUT") == 0)
			return cs_put(req, name);
		if (strcmp(method, "GET") == 0) {
			gs_consumer_info c;
			MHD_Result_t ret;
			if (!cs_load(req, name, GS_ROLE_READER, 0, &c, &ret))
				return ret;
			return cs_json(req, 200, cs_object(&c));
		}
		if (strcmp(method, "DELETE") == 0)
			return cs_delete(req, name);
		return gs_http__send_error(req->conn, 405, "method_not_allowed", "use GET, PUT or DELETE");
	}
	if (strcmp(action, "dead-letters") == 0)
		return strcmp(method, "GET") == 0 ? cs_dead_letters(req, name)
						  : gs_http__send_error(req->conn, 405, "method_not_allowed", "use GET");
	if (strcmp(method, "POST") != 0 && (strcmp(action, "fetch") == 0 || strcmp(action, "ack") == 0 ||
					    strcmp(action, "nak") == 0 || strcmp(action, "term") == 0))
		return gs_http__send_error(req->conn, 405, "method_not_allowed", "use POST");
	if (strcmp(action, "fetch") == 0)
		return cs_fetch(req, name);
	if (strcmp(action, "ack") == 0)
		return cs_settle(req, name, CS_ACK);
	if (strcmp(action, "nak") == 0)
		return cs_settle(req, name, CS_NAK);
	if (strcmp(action, "term") == 0)
		return cs_settle(req, name, CS_TERM);
	return gs_http__send_error(req->conn, 404, "not_found", "no such route");
}
