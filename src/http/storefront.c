/*
 * http/storefront.c -- GET /storefront/v1/namespaces/<ns>/<plural>[/<name>]:
 * the published view, anonymous.
 *
 * Only what the lifecycle controller published (content of each
 * repository's current release); drafts are never visible here. Lists
 * paginate by name (limit, continue) and filter by labelSelector; every
 * answer carries an ETag (a hash of what it shows) and honours
 * If-None-Match with 304.
 * Threads: MHD connection thread; database from the pool.
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/internal.h"
#include "limits.h"
#include "store/pubstore.h"
#include "util/hash.h"
#include "util/labelsel.h"
#include "util/str.h"
#include "util/time.h"

#define SF_PAGE_DEFAULT 100
#define SF_PAGE_MAX 500

static json_t *sf_load(const char *text)
{
	json_t *j = text && *text ? json_loads(text, 0, NULL) : NULL;
	return j ? j : json_object();
}

static json_t *sf_object(const gs_pubrow *r)
{
	char published[40];
	gs_time_fmt_rfc3339(r->published_ms, published, sizeof(published));
	return json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:I, s:o, s:o}, s:o, s:s%, s:{s:s, s:s, s:s}}", "apiVersion",
			 r->api_version, "kind", r->kind, "metadata", "name", r->name, "namespace", r->ns, "uid", r->uid,
			 "generation", (json_int_t)r->generation, "labels", sf_load(r->labels), "annotations",
			 sf_load(r->annotations), "spec", sf_load(r->spec), "body", r->body, r->body_len, "release", "ref",
			 r->release_ref, "commitSha", r->release_commit, "publishedAt", published);
}

/* 200 with an ETag, or 304 when the client has it. */
static MHD_Result_t sf_send(gs_req *req, json_t *j)
{
	const char *inm = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "If-None-Match");
	char *text = json_dumps(j, JSON_COMPACT);
	char hash[GS_SHA256_HEX], etag[48];
	struct MHD_Response *r;
	MHD_Result_t ret;
	int match;
	json_decref(j);
	gs_sha256_hex(hash, text, strlen(text));
	snprintf(etag, sizeof(etag), "\"%.32s\"", hash);
	match = inm && (strstr(inm, etag) || strcmp(inm, "*") == 0);
	if (match) {
		free(text);
		r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	} else {
		r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	}
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "ETag", etag);
	MHD_add_response_header(r, "Cache-Control", "no-cache");
	if (!match)
		MHD_add_response_header(r, "Content-Type", "application/json");
	ret = MHD_queue_response(req->conn, match ? MHD_HTTP_NOT_MODIFIED : MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

typedef struct sf_list {
	json_t *items;
	gs_labelsel *sel;
	int want, more;
	char last[64];
} sf_list;

static int sf_list_row(const gs_pubrow *r, void *payload)
{
	sf_list *c = payload;
	json_t *labels = sf_load(r->labels);
	snprintf(c->last, sizeof(c->last), "%s", r->name);
	if (gs_labelsel_match(c->sel, labels)) {
		if ((int)json_array_size(c->items) >= c->want) {
			c->more = 1;
			json_decref(labels);
			return 1;
		}
		json_array_append_new(c->items, sf_object(r));
	}
	json_decref(labels);
	return 0;
}

static MHD_Result_t sf_list_send(gs_req *req, const char *ns, const char *kind)
{
	const char *limit = MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, "limit");
	const char *cont = MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, "continue");
	const char *selector = MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, "labelSelector");
	gs_error err = GS_ERROR_INIT;
	char after[64], listkind[48];
	sf_list c;
	uint64_t v;
	gs_db *db;
	int error = 0;
	json_t *md;

	memset(&c, 0, sizeof(c));
	c.want = SF_PAGE_DEFAULT;
	if (limit) {
		if (gs_str_parse_u64(limit, SF_PAGE_MAX, &v, &err) < 0 || v == 0)
			return gs_http__send_error(req->conn, 400, "invalid_limit", "limit must be 1..500");
		c.want = (int)v;
	}
	if (cont && (strlen(cont) > GS_MAX_NAME || !gs_str_is_dns_label(cont)))
		return gs_http__send_error(req->conn, 400, "invalid_continue", "continue must be a token from a previous page");
	if (selector && gs_labelsel_parse(&c.sel, selector, &err) < 0)
		return gs_http__send_error(req->conn, 400, "invalid_label_selector", err.msg);
	c.items = json_array();
	snprintf(after, sizeof(after), "%s", cont ? cont : "");
	db = gs_dbpool_get(req->h->ctx.pool);
	for (;;) {
		size_t before = json_array_size(c.items);
		c.last[0] = 0;
		error = gs_pubstore_list(db, ns, kind, after, c.want + 1, sf_list_row, &c, &err);
		if (error < 0 || c.more || !c.last[0] || (int)json_array_size(c.items) >= c.want)
			break;
		if (json_array_size(c.items) == before && !c.sel)
			break;
		snprintf(after, sizeof(after), "%s", c.last);
	}
	gs_dbpool_put(req->h->ctx.pool, db);
	gs_labelsel_free(c.sel);
	if (error < 0) {
		json_decref(c.items);
		return gs_http__send_error(req->conn, 503, "unavailable", err.msg);
	}
	md = json_object();
	if (c.more) {
		json_t *last = json_array_get(c.items, json_array_size(c.items) - 1);
		json_object_set(md, "continue", json_object_get(json_object_get(last, "metadata"), "name"));
	}
	snprintf(listkind, sizeof(listkind), "%sList", kind);
	return sf_send(req, json_pack("{s:s, s:s, s:o, s:o}", "apiVersion", "v1", "kind", listkind, "metadata", md,
				      "items", c.items));
}

static MHD_Result_t sf_get(gs_req *req, const char *ns, const char *kind, const char *name)
{
	gs_error err = GS_ERROR_INIT;
	gs_pubrow r;
	gs_db *db;
	int error;
	MHD_Result_t ret;
	if (!gs_str_is_dns_label(name))
		return gs_http__send_error(req->conn, 404, "not_found", "resource not found");
	db = gs_dbpool_get(req->h->ctx.pool);
	error = gs_pubstore_get(db, ns, kind, name, &r, &err);
	gs_dbpool_put(req->h->ctx.pool, db);
	if (error == GS_ENOTFOUND)
		return gs_http__send_error(req->conn, 404, "not_found", "resource not published");
	if (error < 0)
		return gs_http__send_error(req->conn, 503, "unavailable", err.msg);
	ret = sf_send(req, sf_object(&r));
	gs_pubrow_release(&r);
	return ret;
}

/* url: /storefront/v1/namespaces/<ns>/<plural>[/<name>] */
MHD_Result_t gs_storefront_handle(gs_req *req, const char *url, const char *method)
{
	const char *p = url + strlen("/storefront/v1/namespaces/"), *slash, *plural, *kind;
	char ns[64], name[64];
	size_t plen;

	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return gs_http__send_error(req->conn, 405, "method_not_allowed", "the storefront is read-only");
	slash = strchr(p, '/');
	if (!slash || (size_t)(slash - p) > GS_MAX_NAME)
		return gs_http__send_error(req->conn, 404, "not_found", "no such route");
	snprintf(ns, sizeof(ns), "%.*s", (int)(slash - p), p);
	plural = slash + 1;
	slash = strchr(plural, '/');
	plen = slash ? (size_t)(slash - plural) : strlen(plural);
	if (!gs_str_is_dns_label(ns) || !(kind = gs_resapi__kind(plural, plen)) || strcmp(kind, "Namespace") == 0)
		return gs_http__send_error(req->conn, 404, "not_found", "no such resource type");
	if (!slash)
		return sf_list_send(req, ns, kind);
	if (strlen(slash + 1) > GS_MAX_NAME || strchr(slash + 1, '/'))
		return gs_http__send_error(req->conn, 404, "not_found", "no such route");
	snprintf(name, sizeof(name), "%s", slash + 1);
	return sf_get(req, ns, kind, name);
}
