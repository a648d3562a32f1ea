/*
 * http/writeapi.c -- PUT|DELETE /api/v1/repos/<ns>/<repo>/resources/<plural>/<name>:
 * API writes (refs/apiwrite.h does the work; this file maps it to HTTP).
 *
 * Statuses: 201 created / 200 updated or deleted (admission verdict in
 * the body, allowed or not: a denied version is still a commit, as with
 * a push), 202 admission still pending, 400 bad URL or If-Match, 401,
 * 403 role or protection, 404 unknown repository or resource, 409 the
 * branch moved or the identity lives in another repository, 412
 * If-Match, 413 body too large, 415 not text/markdown, 422 refused by
 * the pre-receive checks (nothing committed), 503 busy.
 * Threads: MHD connection thread.
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/internal.h"
#include "limits.h"
#include "refs/apiwrite.h"
#include "refs/reposettings.h"
#include "store/registry.h"
#include "store/resstore.h"
#include "util/str.h"

typedef struct wr_target {
	char ns[64], repo[64], plural[64], name[64];
	const char *kind;
} wr_target;

static MHD_Result_t send_json_etag(gs_req *req, unsigned status, json_t *j, int64_t rv)
{
	char *text = json_dumps(j, JSON_COMPACT);
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
	MHD_Result_t ret;
	json_decref(j);
	if (!r) {
		free(text);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", "application/json");
	MHD_add_response_header(r, "Cache-Control", "no-cache");
	if (rv > 0) {
		char etag[32];
		snprintf(etag, sizeof(etag), "\"%lld\"", (long long)rv);
		MHD_add_response_header(r, "ETag", etag);
	}
	if (status == 503)
		MHD_add_response_header(r, "Retry-After", "1");
	ret = MHD_queue_response(req->conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* <ns>/<repo>/resources/<plural>/<name>; 0 or -1. */
static int parse_target(const char *url, wr_target *t)
{
	const char *p = url + strlen("/api/v1/repos/");
	char parts[5][64];
	for (int i = 0; i < 5; i++) {
		const char *end = i < 4 ? strchr(p, '/') : p + strlen(p);
		size_t len;
		if (!end)
			return -1;
		len = (size_t)(end - p);
		if (len == 0 || len > GS_MAX_NAME)
			return -1;
		memcpy(parts[i], p, len);
		parts[i][len] = 0;
		p = *end ? end + 1 : end;
	}
	if (strcmp(parts[2], "resources") != 0 || !gs_str_is_dns_label(parts[0]) || !gs_str_is_dns_label(parts[1]))
		return -1;
	memcpy(t->ns, parts[0], sizeof(t->ns));
	memcpy(t->repo, parts[1], sizeof(t->repo));
	memcpy(t->plural, parts[3], sizeof(t->plural));
	memcpy(t->name, parts[4], sizeof(t->name));
	t->kind = gs_resapi__kind(t->plural, strlen(t->plural));
	return 0;
}

static int is_markdown(const char *ctype)
{
	size_t len;
	if (!ctype)
		return 0;
	len = strcspn(ctype, ";");
	while (len && ctype[len - 1] == ' ')
		len--;
	return (len == 13 && strncasecmp(ctype, "text/markdown", 13) == 0) ||
	       (len == 15 && strncasecmp(ctype, "text/x-markdown", 15) == 0);
}

/* The stored row as the API shows it, and its resourceVersion. */
static json_t *stored_resource(gs_req *req, const wr_target *t, int64_t *rv)
{
	gs_error err = GS_ERROR_INIT;
	gs_resrow row;
	json_t *obj = NULL;
	gs_db *db = gs_dbpool_get(req->h->ctx.pool);
	if (gs_resstore_get(db, t->ns, t->kind, t->name, &row, &err) == 0) {
		obj = gs_resapi__object(db, &row);
		*rv = row.resource_version;
		gs_resrow_release(&row);
	}
	gs_dbpool_put(req->h->ctx.pool, db);
	return obj ? obj : json_null();
}

static MHD_Result_t answer_refused(gs_req *req, const gs_apiwrite_result *res)
{
	json_t *f = res->refusal;
	int forbidden = json_is_true(json_object_get(f, "forbidden"));
	json_t *body = json_pack("{s:{s:O, s:O}, s:s}", "error", "code", json_object_get(f, "code"), "message",
				 json_object_get(f, "message"), "pushId", res->push_id);
	if (!body)
		return gs_http__send_error(req->conn, 422, "refused", res->message);
	if (json_object_get(f, "errors"))
		json_object_set(body, "errors", json_object_get(f, "errors"));
	else
		json_object_set_new(body, "errors", json_array());
	if (json_object_get(f, "errorCount"))
		json_object_set(body, "errorCount", json_object_get(f, "errorCount"));
	return send_json_etag(req, forbidden ? 403 : 422, body, 0);
}

static MHD_Result_t answer(gs_req *req, const wr_target *t, const gs_apiwrite_req *q, const gs_apiwrite_result *res)
{
	int64_t rv = 0;
	json_t *body;
	switch (res->outcome) {
	case GS_APIW_NOT_FOUND:
		return gs_http__send_error(req->conn, 404, "not_found", res->message);
	case GS_APIW_PRECONDITION:
		return gs_http__send_error(req->conn, 412, "precondition_failed", res->message);
	case GS_APIW_CONFLICT:
		return gs_http__send_error(req->conn, 409, "conflict", res->message);
	case GS_APIW_BUSY:
		return send_json_etag(req, 503, json_pack("{s:{s:s, s:s}}", "error", "code", "unavailable", "message",
							  res->message), 0);
	case GS_APIW_REFUSED:
		return answer_refused(req, res);
	case GS_APIW_UNCHANGED:
		body = json_pack("{s:o, s:n, s:b, s:s}", "resource", stored_resource(req, t, &rv), "admission", "unchanged",
				 1, "path", res->path);
		return send_json_etag(req, 200, body, rv);
	case GS_APIW_DONE:
		break;
	}
	body = json_pack("{s:s, s:s, s:s}", "pushId", res->push_id, "commit", res->commit, "path", res->path);
	if (res->pending) {
		json_object_set_new(body, "admission", json_null());
		json_object_set_new(body, "pending", json_true());
		return send_json_etag(req, 202, body, 0);
	}
	if (!q->content) {
		json_object_set_new(body, "deleted", json_boolean(res->deleted));
		json_object_set_new(body, "resource",
				    json_pack("{s:s, s:{s:s, s:s}}", "kind", t->kind, "metadata", "name", t->name, "namespace",
					      t->ns));
		return send_json_etag(req, 200, body, 0);
	}
	json_object_set_new(body, "resource", stored_resource(req, t, &rv));
	json_object_set(body, "admission", res->admission ? res->admission : json_null());
	return send_json_etag(req, res->created ? 201 : 200, body, rv);
}

/* GET /api/v1/repos/<ns>/<repo>/settings: the repository's settings
 * (reader role), as `gitstore repo set` writes them. */
static MHD_Result_t repo_settings(gs_req *req, const char *url)
{
	const char *p = url + strlen("/api/v1/repos/");
	char ns[64], name[64];
	const char *slash = strchr(p, '/'), *slash2;
	gs_error err = GS_ERROR_INIT;
	gs_repo_info repo;
	gs_repo_settings set;
	gs_db *db;
	int error;

	if (!slash || (size_t)(slash - p) > GS_MAX_NAME || !(slash2 = strchr(slash + 1, '/')) ||
	    (size_t)(slash2 - slash - 1) > GS_MAX_NAME || strcmp(slash2, "/settings") != 0)
		return gs_http__send_error(req->conn, 404, "not_found", "no such route");
	snprintf(ns, sizeof(ns), "%.*s", (int)(slash - p), p);
	snprintf(name, sizeof(name), "%.*s", (int)(slash2 - slash - 1), slash + 1);
	if (!gs_str_is_dns_label(ns) || !gs_str_is_dns_label(name))
		return gs_http__send_error(req->conn, 404, "not_found", "no such route");
	if (!gs_principal_can(&req->who, ns, GS_ROLE_READER))
		return gs_http__send_error(req->conn, 403, "forbidden", "reading settings needs the reader role");
	db = gs_dbpool_get(req->h->ctx.pool);
	error = gs_registry_repo_lookup(db, ns, name, &repo, &err);
	if (error == 0)
		error = gs_reposettings_load(db, repo.uid, &set, &err);
	gs_dbpool_put(req->h->ctx.pool, db);
	if (error < 0)
		return error == GS_ENOTFOUND ? gs_http__send_error(req->conn, 404, "repository_not_found", "repository not found")
					     : gs_http__send_error(req->conn, 503, "unavailable", err.msg);
	return send_json_etag(req, 200,
			      json_pack("{s:s, s:s, s:s, s:s}", "draftBranch", set.draft_branch, "schemaValidation",
					set.schema_pre_receive ? "pre-receive" : "post-receive", "releaseRefs",
					set.release_refs, "publishBranch", set.publish_branch),
			      0);
}

MHD_Result_t gs_writeapi_handle(gs_req *req, const char *url, const char *method)
{
	gs_error err = GS_ERROR_INIT;
	gs_apiwrite_req q;
	gs_apiwrite_result res;
	gs_repo_info repo;
	wr_target t;
	gs_db *db;
	int error, put = strcmp(method, "PUT") == 0;
	const char *hdr;
	MHD_Result_t ret;

	if (gs_http__authenticate(req, &err) < 0)
		return err.code == GS_EAUTH ? gs_http__send_401(req->conn)
					   : gs_http__send_error(req->conn, 503, "unavailable", err.msg);
	if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
		return repo_settings(req, url);
	if (parse_target(url, &t) < 0)
		return gs_http__send_error(req->conn, 404, "not_found",
					   "no such route (PUT|DELETE /api/v1/repos/<ns>/<repo>/resources/<plural>/<name>)");
	if (!t.kind || strcmp(t.kind, "Namespace") == 0)
		return gs_http__send_error(req->conn, 404, "not_found",
					   "no such resource type (products, productvariants, categorytaxonomies, collections)");
	if (!gs_str_is_dns_label(t.name))
		return gs_http__send_error(req->conn, 400, "invalid_name", "the resource name must be a DNS label");
	if (!gs_principal_can(&req->who, t.ns, GS_ROLE_READER))
		return gs_http__send_error(req->conn, 403, "forbidden", "no role on this namespace");
	db = gs_dbpool_get(req->h->ctx.pool);
	error = gs_registry_repo_lookup(db, t.ns, t.repo, &repo, &err);
	gs_dbpool_put(req->h->ctx.pool, db);
	if (error < 0)
		return error == GS_ENOTFOUND ? gs_http__send_error(req->conn, 404, "repository_not_found", "repository not found")
					     : gs_http__send_error(req->conn, 503, "unavailable", err.msg);
	if (!gs_principal_can(&req->who, t.ns, GS_ROLE_WRITER)) {
		const char *m = "API writes need the writer role on the namespace";
		gs_error_clear(&err);
		gs_refs_reject_early(req->h->ctx.refs, &repo, &req->who, "api", "api", "writer_role_required", m, &err);
		return gs_http__send_error(req->conn, 403, "forbidden", m);
	}
	memset(&q, 0, sizeof(q));
	if ((hdr = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "If-Match")) &&
	    (q.has_if_match = 1, gs_str_parse_if_match(hdr, &q.if_match, &err) < 0))
		return gs_http__send_error(req->conn, 400, "invalid_if_match",
					   "If-Match must be a resourceVersion in quotes (\"12\") or *");
	if (put) {
		if (!is_markdown(MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Content-Type")))
			return gs_http__send_error(req->conn, 415, "unsupported_media_type",
						   "the body must be the resource file, Content-Type: text/markdown");
		if (!req->body.ptr || req->body.len == 0)
			return gs_http__send_error(req->conn, 400, "empty_body", "the body must be the resource file");
	}
	q.repo = &repo;
	q.who = &req->who;
	q.kind = t.kind;
	q.plural = t.plural;
	q.name = t.name;
	q.content = put ? req->body.ptr : NULL;
	q.len = put ? req->body.len : 0;
	q.wait_ms = GS_API_ADMISSION_WAIT_MS;
	if ((error = gs_refs_api_write(req->h->ctx.refs, &q, &res, &err)) < 0) {
		gs_apiwrite_result_release(&res);
		return gs_http__send_error(req->conn, error == GS_EUNAVAILABLE ? 503 : 500,
					   error == GS_EUNAVAILABLE ? "unavailable" : "internal", err.msg);
	}
	ret = answer(req, &t, &q, &res);
	gs_apiwrite_result_release(&res);
	return ret;
}
