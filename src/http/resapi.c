/*
 * http/resapi.c -- GET /api/v1/namespaces/<ns>/<plural>[/<name>]: the
 * draft (admin) view of resources with their status.
 *
 * Readers of the namespace see admitted resources; admins also see
 * resources that were never admitted, with their admissionFailure.
 * Threads: MHD connection thread; database from the pool.
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/internal.h"
#include "limits.h"
#include "store/pubstore.h"
#include "store/resstore.h"
#include "util/labelsel.h"
#include "util/str.h"
#include "util/time.h"

#define RES_PAGE_DEFAULT 100
#define RES_PAGE_MAX 500

static const struct {
	const char *plural;
	const char *kind;
} PLURALS[] = {{"products", "Product"},
	       {"productvariants", "ProductVariant"},
	       {"categorytaxonomies", "CategoryTaxonomy"},
	       {"collections", "Collection"},
	       {"namespaces", "Namespace"}};

const char *gs_resapi__kind(const char *plural, size_t len)
{
	for (size_t i = 0; i < sizeof(PLURALS) / sizeof(PLURALS[0]); i++)
		if (strlen(PLURALS[i].plural) == len && strncmp(PLURALS[i].plural, plural, len) == 0)
			return PLURALS[i].kind;
	return NULL;
}

static json_t *load_or(const char *text, json_t *fallback)
{
	json_t *j = text && *text ? json_loads(text, 0, NULL) : NULL;
	if (!j)
		return fallback;
	json_decref(fallback);
	return j;
}

/* The Published condition and the phase, from the published view. */
static void add_publication(json_t *st, const gs_resrow *r, const gs_pubstate *p)
{
	json_t *conds = json_object_get(st, "conditions");
	char since[40], msg[1100];
	int published = p->state == GS_PUB_PUBLISHED;
	json_object_set_new(st, "phase", json_string(published && p->generation > 0 && p->generation == r->generation
							     ? "published"
							     : "draft"));
	if (published) {
		json_object_set_new(st, "publishedGeneration", json_integer(p->generation));
		json_object_set_new(st, "publishedRelease",
				    json_pack("{s:s, s:s}", "ref", p->release_ref, "commitSha", p->release_commit));
	}
	if (p->state == GS_PUB_NEVER)
		return;
	if (!json_is_array(conds)) {
		conds = json_array();
		json_object_set_new(st, "conditions", conds);
	}
	gs_time_fmt_rfc3339(p->since_ms, since, sizeof(since));
	snprintf(msg, sizeof(msg), published ? "published by release %s" : "not in the current release",
		 p->release_ref);
	json_array_append_new(conds, json_pack("{s:s, s:s, s:I, s:s, s:s, s:s}", "type", "Published", "status",
					       published ? "True" : "False", "observedGeneration",
					       (json_int_t)r->generation, "lastTransitionTime", since, "reason",
					       published ? "Published" : "NotPublished", "message", msg));
}

/* .status: the stored one (admission's conditions) with the phase first
 * and the publication state of the published view. */
static json_t *status_of(gs_db *db, const gs_resrow *r)
{
	json_t *stored = load_or(r->status, json_object()), *st = json_object();
	gs_pubstate p;
	gs_error err = GS_ERROR_INIT;
	const char *key;
	json_t *v;
	if (gs_pubstore_state(db, r->ns, r->kind, r->name, &p, &err) < 0)
		memset(&p, 0, sizeof(p)); /* shown as never published; the next read has it */
	json_object_set_new(st, "phase", json_string("draft"));
	json_object_foreach(stored, key, v) {
		json_object_set(st, key, v);
	}
	json_decref(stored);
	add_publication(st, r, &p);
	return st;
}

json_t *gs_resapi__object(gs_db *db, const gs_resrow *r)
{
	char created[40];
	char rv[24];
	json_t *md;
	gs_time_fmt_rfc3339(r->created_ms, created, sizeof(created));
	snprintf(rv, sizeof(rv), "%lld", (long long)r->resource_version);
	md = json_pack("{s:s, s:s, s:s, s:I, s:s, s:o, s:o, s:s, s:s, s:s}", "name", r->name, "namespace", r->ns, "uid",
		       r->uid, "generation", (json_int_t)r->generation, "resourceVersion", rv, "labels",
		       load_or(r->labels, json_object()), "annotations", load_or(r->annotations, json_object()),
		       "creationTimestamp", created, "revision", r->revision, "sourcePath", r->path);
	return json_pack("{s:s, s:s, s:o, s:o, s:s%, s:o}", "apiVersion", r->api_version, "kind", r->kind, "metadata", md,
			 "spec", load_or(r->spec, json_object()), "body", r->body, r->body_len, "status",
			 status_of(db, r));
}

static MHD_Result_t send_json(gs_req *req, unsigned status, json_t *j)
{
	char *text = json_dumps(j, JSON_COMPACT);
	MHD_Result_t ret = gs_http__send(req->conn, status, "application/json", text, strlen(text));
	free(text);
	json_decref(j);
	return ret;
}

typedef struct list_ctx {
	json_t *items;
	gs_labelsel *sel;
	gs_db *db;
	int want;
	int admin;
	char last[64];
	int more;
} list_ctx;

static int list_row(const gs_resrow *r, void *payload)
{
	list_ctx *c = payload;
	json_t *labels;
	snprintf(c->last, sizeof(c->last), "%s", r->name);
	labels = load_or(r->labels, json_object());
	if (gs_labelsel_match(c->sel, labels)) {
		if ((int)json_array_size(c->items) >= c->want) {
			c->more = 1;
			json_decref(labels);
			return 1;
		}
		json_array_append_new(c->items, gs_resapi__object(c->db, r));
	}
	json_decref(labels);
	return 0;
}

static MHD_Result_t resapi_list(gs_req *req, const char *ns, const char *kind)
{
	const char *limit = MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, "limit");
	const char *cont = MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, "continue");
	const char *selector = MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, "labelSelector");
	gs_error err = GS_ERROR_INIT;
	list_ctx c;
	uint64_t v;
	gs_db *db;
	int error = 0;
	char after[64];
	json_t *out, *md;

	memset(&c, 0, sizeof(c));
	c.want = RES_PAGE_DEFAULT;
	if (limit) {
		if (gs_str_parse_u64(limit, RES_PAGE_MAX, &v, &err) < 0 || v == 0)
			return gs_http__send_error(req->conn, 400, "invalid_limit", "limit must be 1..500");
		c.want = (int)v;
	}
	if (cont && (strlen(cont) > GS_MAX_NAME || !gs_str_is_dns_label(cont)))
		return gs_http__send_error(req->conn, 400, "invalid_continue", "continue must be a token from a previous page");
	if (selector && gs_labelsel_parse(&c.sel, selector, &err) < 0)
		return gs_http__send_error(req->conn, 400, "invalid_label_selector", err.msg);
	c.admin = gs_principal_can(&req->who, ns, GS_ROLE_ADMIN);
	c.items = json_array();
	snprintf(after, sizeof(after), "%s", cont ? cont : "");
	db = gs_dbpool_get(req->h->ctx.pool);
	c.db = db;
	/* a selector filters after the query: read in chunks until the page
	 * is full or the rows run out */
	for (;;) {
		size_t before = json_array_size(c.items);
		c.last[0] = 0;
		error = gs_resstore_list(db, ns, kind, !c.admin, after, c.want + 1, list_row, &c, &err);
		if (error < 0 || c.more || !c.last[0] || (int)json_array_size(c.items) >= c.want)
			break;
		if (json_array_size(c.items) == before && !c.sel)
			break;
		snprintf(after, sizeof(after), "%s", c.last);
	}
	gs_dbpool_put(req->h->ctx.pool, db);
	gs_labelsel_free(c.sel);
	if (error < 0 && error != 1) {
		json_decref(c.items);
		return gs_http__send_error(req->conn, 503, "unavailable", err.msg);
	}
	md = json_object();
	if (c.more) {
		json_t *lastitem = json_array_get(c.items, json_array_size(c.items) - 1);
		json_object_set(md, "continue", json_object_get(json_object_get(lastitem, "metadata"), "name"));
	}
	{
		char listkind[48];
		snprintf(listkind, sizeof(listkind), "%sList", kind);
		out = json_pack("{s:s, s:s, s:o, s:o}", "apiVersion", "v1", "kind", listkind, "metadata", md, "items", c.items);
	}
	return send_json(req, 200, out);
}

static MHD_Result_t resapi_get(gs_req *req, const char *ns, const char *kind, const char *name)
{
	gs_error err = GS_ERROR_INIT;
	gs_resrow r;
	gs_db *db;
	int error;
	MHD_Result_t ret;
	if (!gs_str_is_dns_label(name))
		return gs_http__send_error(req->conn, 404, "not_found", "resource not found");
	db = gs_dbpool_get(req->h->ctx.pool);
	error = gs_resstore_get(db, ns, kind, name, &r, &err);
	if (error == GS_ENOTFOUND || (error == 0 && !r.admitted && !gs_principal_can(&req->who, ns, GS_ROLE_ADMIN))) {
		if (error == 0)
			gs_resrow_release(&r);
		gs_dbpool_put(req->h->ctx.pool, db);
		return gs_http__send_error(req->conn, 404, "not_found", "resource not found");
	}
	if (error < 0) {
		gs_dbpool_put(req->h->ctx.pool, db);
		return gs_http__send_error(req->conn, 503, "unavailable", err.msg);
	}
	ret = send_json(req, 200, gs_resapi__object(db, &r));
	gs_dbpool_put(req->h->ctx.pool, db);
	gs_resrow_release(&r);
	return ret;
}

/* url: /api/v1/namespaces/<ns>/<plural>[/<name>] */
MHD_Result_t gs_resapi_handle(gs_req *req, const char *url)
{
	const char *p = url + strlen("/api/v1/namespaces/"), *slash, *plural, *name = NULL;
	char ns[64], namebuf[64];
	const char *kind;
	size_t plen;

	slash = strchr(p, '/');
	if (!slash || (size_t)(slash - p) > GS_MAX_NAME)
		return gs_http__send_error(req->conn, 404, "not_found", "no such route");
	memcpy(ns, p, (size_t)(slash - p));
	ns[slash - p] = 0;
	plural = slash + 1;
	slash = strchr(plural, '/');
	plen = slash ? (size_t)(slash - plural) : strlen(plural);
	if (slash) {
		if (strlen(slash + 1) > GS_MAX_NAME || strchr(slash + 1, '/'))
			return gs_http__send_error(req->conn, 404, "not_found", "no such route");
		snprintf(namebuf, sizeof(namebuf), "%s", slash + 1);
		name = namebuf;
	}
	if (!gs_str_is_dns_label(ns) || !(kind = gs_resapi__kind(plural, plen)))
		return gs_http__send_error(req->conn, 404, "not_found", "no such resource type");
	if (!gs_principal_can(&req->who, ns, GS_ROLE_READER))
		return gs_http__send_error(req->conn, 403, "forbidden", "reading resources needs the reader role on the namespace");
	return name ? resapi_get(req, ns, kind, name) : resapi_list(req, ns, kind);
}
