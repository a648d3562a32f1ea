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

static json_t *cs_body(gs_req *req, MHD_Result_t *ret)
{
	json_error_t jerr;
	json_t *j;
	if (req->failed) {
		*ret = gs_http__send_error(req->conn, 413, "body_too_large", "the request body exceeds 64 KiB");
		return NULL;
	}
	j = json_loadb(req->body.ptr ? req->body.ptr : "", req->body.len, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(j)) {
		char m[256];
		snprintf(m, sizeof(m), "the body must be a JSON object: %s", j ? "not an object" : jerr.text);
		json_decref(j);
		*ret = gs_http__send_error(req->conn, 400, "invalid_json", m);
		return NULL;
	}
	return j;
}

/* Fails on a member not in allowed (a typo must not be ignored). */
static int cs_only(json_t *obj, const char *const *allowed, char *bad, size_t badn)
{
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v) {
		int ok = 0;
		for (int i = 0; allowed[i] && !ok; i++)
			ok = strcmp(key, allowed[i]) == 0;
		if (!ok) {
			snprintf(bad, badn, "%s", key);
			return -1;
		}
	}
	return 0;
}

static int cs_int(json_t *obj, const char *key, int64_t lo, int64_t hi, int64_t dflt, int64_t *out)
{
	json_t *v = json_object_get(obj, key);
	if (!v) {
		*out = dflt;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return -1;
	*out = json_integer_value(v);
	return 0;
}

/* Parses a PUT body into cfg (name already set). */
static MHD_Result_t cs_parse_cfg(gs_req *req, json_t *body, gs_consumer_cfg *cfg, int *ok)
{
	static const char *const top[] = {"filter", "ackWaitSeconds", "maxDeliver", "startAfter", NULL};
	static const char *const fkeys[] = {"types", "repo", NULL};
	json_t *filter = json_object_get(body, "filter"), *types, *t, *repo;
	char bad[128], m[300];
	int64_t v;
	size_t i;

	*ok = 0;
	if (cs_only(body, top, bad, sizeof(bad)) < 0 || (filter && (!json_is_object(filter) ||
								     cs_only(filter, fkeys, bad, sizeof(bad)) < 0))) {
		snprintf(m, sizeof(m), filter && !json_is_object(filter) ? "filter must be an object%.0s"
									: "unknown member '%.100s'",
			 bad);
		return gs_http__send_error(req->conn, 400, "invalid_consumer", m);
	}
	types = json_object_get(filter, "types");
	if (types && (!json_is_array(types) || json_array_size(types) > GS_MAX_CONSUMER_TYPES)) {
		snprintf(m, sizeof(m), "filter.types must be an array of at most %d event types", GS_MAX_CONSUMER_TYPES);
		return gs_http__send_error(req->conn, 400, "invalid_consumer", m);
	}
	json_array_foreach(types, i, t) {
		const char *name = gs_evlog_type_canonical(json_string_value(t));
		if (!name) {
			snprintf(m, sizeof(m), "unknown event type '%.100s' in filter.types",
				 json_is_string(t) ? json_string_value(t) : "(not a string)");
			return gs_http__send_error(req->conn, 400, "invalid_type", m);
		}
		cfg->types[cfg->ntypes++] = name;
	}
	repo = json_object_get(filter, "repo");
	if (repo && !json_is_null(repo)) {
		char ns[64], name[64];
		gs_repo_info info;
		gs_error err = GS_ERROR_INIT;
		gs_db *db;
		int error;
		if (!json_is_string(repo) || gs_str_split_repo(json_string_value(repo), ns, name, &err) < 0)
			return gs_http__send_error(req->conn, 400, "invalid_repo", "filter.repo must be \"namespace/name\"");
		db = gs_dbpool_get(req->h->ctx.pool);
		error = gs_registry_repo_lookup(db, ns, name, &info, &err);
		gs_dbpool_put(req->h->ctx.pool, db);
		if (error == GS_ENOTFOUND)
			return gs_http__send_error(req->conn, 404, "repository_not_found", "filter.repo: repository not found");
		if (error < 0)
			return gs_http__send_error(req->conn, 503, "unavailable", err.msg);
		snprintf(cfg->repo_uid, sizeof(cfg->repo_uid), "%s", info.uid);
		snprintf(cfg->repo, sizeof(cfg->repo), "%s/%s", ns, name);
		snprintf(cfg->ns, sizeof(cfg->ns), "%s", ns);
	}
	if (cs_int(body, "ackWaitSeconds", 1, GS_MAX_CONSUMER_ACK_WAIT_S, GS_CONSUMER_DEFAULT_ACK_WAIT_S, &v) < 0) {
		snprintf(m, sizeof(m), "ackWaitSeconds must be an integer 1..%d", GS_MAX_CONSUMER_ACK_WAIT_S);
		return gs_http__send_error(req->conn, 400, "invalid_consumer", m);
	}
	cfg->ack_wait_ms = v * 1000;
	if (cs_int(body, "maxDeliver", 0, GS_MAX_CONSUMER_DELIVER, GS_CONSUMER_DEFAULT_MAX_DELIVER, &v) < 0) {
		snprintf(m, sizeof(m), "maxDeliver must be an integer 0 (unlimited)..%d", GS_MAX_CONSUMER_DELIVER);
		return gs_http__send_error(req->conn, 400, "invalid_consumer", m);
	}
	cfg->max_deliver = (int)v;
	if (cs_int(body, "startAfter", 0, INT64_MAX, 0, &v) < 0)
		return gs_http__send_error(req->conn, 400, "invalid_consumer", "startAfter must be a log position (>= 0)");
	cfg->start_after = v;
	*ok = 1;
	return MHD_YES;
}

/* ---- routes ---- */

static MHD_Result_t cs_put(gs_req *req, const char *name)
{
	gs_consumer_cfg cfg;
	gs_consumer_info cur;
	gs_error err = GS_ERROR_INIT;
	MHD_Result_t ret = MHD_NO;
	json_t *body;
	gs_db *db;
	int ok = 0, created = 0, error;

	if (cs_builtin(name))
		return gs_http__send_error(req->conn, 403, "reserved_name",
					   "consumer names starting with 'gitstore-' are the daemon's own");
	if (!(body = cs_body(req, &ret)))
		return ret;
	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.name, sizeof(cfg.name), "%s", name);
	ret = cs_parse_cfg(req, body, &cfg, &ok);
	json_decref(body);
	if (!ok)
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
	int error = gs_consumer_get(db, name, out, &err);
	gs_dbpool_put(req->h->ctx.pool, db);
	if (error < 0) {
		*ret = cs_db_error(req, &err);
		return 0;
	}
	if (!cs_allowed(req, out->cfg.ns, need)) {
		/* the same answer as for a consumer that does not exist */
		*ret = gs_http__send_error(req->conn, 404, "consumer_not_found", "no such consumer");
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
	for (size_t i = 0; i < n; i++)
		gs_buf_printf(&b, NULL, "%s{\"logseq\":%lld,\"deliveryAttempt\":%d,\"event\":%s}", i ? ",\n" : "",
			      (long long)d[i].logseq, d[i].attempt, d[i].json);
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
	static const char *const keys_ack[] = {"logseq", NULL};
	static const char *const keys_nak[] = {"logseq", "delaySeconds", NULL};
	gs_consumer_info c;
	gs_error err = GS_ERROR_INIT;
	MHD_Result_t ret = MHD_NO;
	json_t *body, *list, *v, *settled, *unknown;
	int64_t *seqs = NULL, delay = 0;
	int *flags = NULL, error;
	size_t i, n;
	char bad[128], m[200];
	gs_db *db;

	if (!cs_load(req, name, GS_ROLE_READER, 1, &c, &ret))
		return ret;
	if (!(body = cs_body(req, &ret)))
		return ret;
	list = json_object_get(body, "logseq");
	if (cs_only(body, kind == CS_NAK ? keys_nak : keys_ack, bad, sizeof(bad)) < 0) {
		snprintf(m, sizeof(m), "unknown member '%.100s'", bad);
		ret = gs_http__send_error(req->conn, 400, "invalid_request", m);
		goto out;
	}
	if (!json_is_array(list) || json_array_size(list) == 0 || json_array_size(list) > GS_MAX_CONSUMER_SETTLE) {
		snprintf(m, sizeof(m), "logseq must be an array of 1..%d log positions", GS_MAX_CONSUMER_SETTLE);
		ret = gs_http__send_error(req->conn, 400, "invalid_request", m);
		goto out;
	}
	if (kind == CS_NAK && cs_int(body, "delaySeconds", 0, GS_MAX_CONSUMER_NAK_DELAY_S, 0, &delay) < 0) {
		snprintf(m, sizeof(m), "delaySeconds must be an integer 0..%d", GS_MAX_CONSUMER_NAK_DELAY_S);
		ret = gs_http__send_error(req->conn, 400, "invalid_request", m);
		goto out;
	}
	n = json_array_size(list);
	seqs = gs_xcalloc(n, sizeof(*seqs));
	flags = gs_xcalloc(n, sizeof(*flags));
	json_array_foreach(list, i, v) {
		if (!json_is_integer(v) || json_integer_value(v) < 1) {
			ret = gs_http__send_error(req->conn, 400, "invalid_request", "logseq entries must be positive integers");
			goto out;
		}
		seqs[i] = json_integer_value(v);
	}
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
	for (i = 0; i < n; i++)
		json_array_append_new(flags[i] ? settled : unknown, json_integer(seqs[i]));
	ret = cs_json(req, 200, json_pack("{s:o, s:o}", "settled", settled, "notPending", unknown));
out:
	free(seqs);
	free(flags);
	json_decref(body);
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
