/*
 * http/review.c -- POST /api/v1/admission/review?repo=<ns>/<repo>: the
 * dry run of the one admission function. Nothing is committed, stored
 * or appended to the log.
 *
 * Two input forms: a resource file (front-matter + body), or an
 * AdmissionReview JSON request (Content-Type application/json, or a body
 * starting with `{`) whose request.object admission/reviewreq.c renders
 * back into a resource file -- so both forms take the same parse
 * (GS_CATALOG_FULL) and the same admission, and answer alike apart from
 * the uid (the caller's, in the JSON form).
 *
 * The namespace is seen as stored (admitted resources only): the same
 * view the catalog worker has when a change set touches nothing else.
 * Threads: MHD connection thread; database from the pool.
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admission/admission.h"
#include "admission/reviewreq.h"
#include "catalog/frontmatter.h"
#include "catalog/resource.h"
#include "http/internal.h"
#include "ingest/policyset.h"
#include "store/registry.h"
#include "store/resstore.h"
#include "util/hash.h"
#include "util/str.h"

typedef struct review_view {
	gs_db *db;
	const char *ns;
	json_t *keep; /* parsed specs handed out, freed at the end */
} review_view;

static int review_lookup(void *p, const char *kind, const char *name, gs_adm_object *out)
{
	review_view *v = p;
	gs_error err = GS_ERROR_INIT;
	json_t *spec = NULL, *obj;
	int found = gs_resstore_admitted_spec(v->db, v->ns, kind, name, &spec, &err);
	if (found <= 0)
		return found;
	obj = json_pack("{s:s, s:s, s:o}", "kind", kind, "name", name, "spec", spec);
	json_array_append_new(v->keep, obj);
	out->kind = json_string_value(json_object_get(obj, "kind"));
	out->ns = v->ns;
	out->name = json_string_value(json_object_get(obj, "name"));
	out->spec = json_object_get(obj, "spec");
	out->labels = NULL;
	return 1;
}

static int review_sku(void *p, const char *sku, const char *name, char owner[64])
{
	review_view *v = p;
	gs_error err = GS_ERROR_INIT;
	return gs_resstore_sku_owner(v->db, v->ns, sku, name, owner, &err);
}

static MHD_Result_t review_send(gs_req *req, json_t *j)
{
	char *text = json_dumps(j, JSON_COMPACT);
	MHD_Result_t ret = gs_http__send(req->conn, 200, "application/json", text, strlen(text));
	free(text);
	json_decref(j);
	return ret;
}

static const char *review_op_name(gs_adm_op op)
{
	return op == GS_ADM_DELETE ? "DELETE" : op == GS_ADM_UPDATE ? "UPDATE" : "CREATE";
}

/* {apiVersion, kind, request, response}; request is left out when
 * kind is NULL (a file that names no resource). */
static json_t *review_answer(const char *uid, const gs_adm_request *q, const char *kind, const char *name,
			     const gs_adm_response *r)
{
	json_t *out = json_pack("{s:s, s:s}", "apiVersion", GS_REVIEWREQ_API_VERSION, "kind", GS_REVIEWREQ_KIND);
	if (kind) {
		json_t *roles = json_array();
		for (size_t i = 0; i < q->nroles; i++)
			json_array_append_new(roles, json_string(q->roles[i]));
		json_object_set_new(out, "request",
				    json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:o}, s:s, s:b}", "uid", uid, "operation",
					      review_op_name(q->operation), "resource", "kind", kind, "name", name,
					      "userInfo", "username", q->user ? q->user : "", "roles", roles, "origin",
					      "api", "dryRun", 1));
	}
	json_object_set_new(out, "response", gs_adm_response_json(r, uid));
	return out;
}

/* The caller's role on the namespace, for request.user.roles. */
typedef struct review_ctx {
	gs_db *db;
	const gs_repo_info *repo;
	const gs_policyset *pols;
	const char *roles[1];
} review_ctx;

static void review_request_init(gs_adm_request *q, const gs_req *req, const review_ctx *c, const char *uid)
{
	memset(q, 0, sizeof(*q));
	q->roles = c->roles;
	q->nroles = 1;
	/* a caller's uid may be longer; the answer echoes it whole */
	snprintf(q->uid, sizeof(q->uid), "%.*s", (int)sizeof(q->uid) - 1, uid);
	q->origin = "api";
	q->dry_run = 1;
	q->user = req->who.user;
}

/* Runs the file through the parse and the admission. op 0: CREATE, or
 * UPDATE when an admitted resource with the same identity exists. The
 * JSON form passes its own identity for a file that names no resource. */
static json_t *review_file(gs_req *req, const review_ctx *c, const char *file, size_t len, const char *uid,
			   gs_adm_op op, const char *kind, const char *name)
{
	gs_db *db = c->db;
	const gs_repo_info *repo = c->repo;
	gs_error err = GS_ERROR_INIT;
	gs_catalog_ctx cctx;
	gs_cat_errors errs;
	gs_resource *res = NULL;
	gs_adm_response r;
	gs_adm_request q;
	review_view view = {db, repo->ns, json_array()};
	gs_adm_view v = {review_lookup, review_sku, &view, c->pols->v, c->pols->n};
	gs_resrow existing;
	json_t *out;
	int has_existing = 0;

	memset(&cctx, 0, sizeof(cctx));
	cctx.repo_ns = repo->ns;
	cctx.repo_name = repo->name;
	cctx.path = "review.md";
	cctx.depth = GS_CATALOG_FULL;
	gs_cat_errors_init(&errs);
	gs_catalog_parse(&cctx, file, len, &res, &errs);
	review_request_init(&q, req, c, uid);
	q.schema_errors = &errs;
	q.operation = op ? op : GS_ADM_CREATE;
	if (res && res->kind[0] && res->name[0]) {
		q.object.kind = res->kind;
		q.object.ns = res->ns;
		q.object.name = res->name;
		q.object.spec = res->spec;
		q.object.labels = res->labels;
		has_existing = gs_resstore_get(db, res->ns, res->kind, res->name, &existing, &err) == 0;
		if (!op && has_existing && existing.admitted)
			q.operation = GS_ADM_UPDATE;
	}
	gs_adm_response_init(&r);
	gs_admission_review(&q, &v, &r);
	if (res) {
		kind = res->kind;
		name = res->name;
	}
	out = review_answer(uid, &q, kind, name, &r);
	gs_adm_response_release(&r);
	gs_cat_errors_release(&errs);
	gs_resource_free(res);
	if (has_existing)
		gs_resrow_release(&existing);
	json_decref(view.keep);
	return out;
}

/* DELETE (JSON form only): the identity alone; no schema applies. */
static json_t *review_delete(gs_req *req, const review_ctx *c, const gs_reviewreq *rr, const char *uid)
{
	const gs_repo_info *repo = c->repo;
	gs_adm_response r;
	gs_adm_request q;
	review_view view = {c->db, repo->ns, json_array()};
	gs_adm_view v = {review_lookup, review_sku, &view, c->pols->v, c->pols->n};
	json_t *out;

	review_request_init(&q, req, c, uid);
	q.operation = GS_ADM_DELETE;
	q.old_object.kind = rr->kind;
	q.old_object.ns = repo->ns;
	q.old_object.name = rr->name;
	gs_adm_response_init(&r);
	gs_admission_review(&q, &v, &r);
	out = review_answer(uid, &q, rr->kind, rr->name, &r);
	gs_adm_response_release(&r);
	json_decref(view.keep);
	return out;
}

MHD_Result_t gs_review_handle(gs_req *req)
{
	const char *reponame = MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, "repo");
	const char *ctype = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	const char *body = req->body.ptr ? req->body.ptr : "";
	size_t len = req->body.len;
	char ns[64], name[64], uid[GS_REVIEWREQ_MAX_UID + 1];
	gs_error err = GS_ERROR_INIT, perr = GS_ERROR_INIT;
	gs_repo_info repo;
	gs_reviewreq rr;
	gs_policyset pols;
	review_ctx c;
	json_t *out;
	gs_db *db;
	int error, is_json;
	MHD_Result_t ret;

	if (gs_http__authenticate(req, &err) < 0)
		return err.code == GS_EAUTH ? gs_http__send_401(req->conn)
					   : gs_http__send_error(req->conn, 503, "unavailable", err.msg);
	if (!reponame || gs_str_split_repo(reponame, ns, name, &err) < 0)
		return gs_http__send_error(req->conn, 400, "invalid_repo", "repo=<namespace>/<repository> is required");
	if (!gs_principal_can(&req->who, ns, GS_ROLE_WRITER))
		return gs_http__send_error(req->conn, 403, "forbidden", "admission review needs the writer role on the namespace");
	is_json = gs_reviewreq_is_json(ctype, body, len);
	if (!is_json && !gs_frontmatter_is_resource(body, len))
		return gs_http__send_error(req->conn, 400, "not_a_resource",
					   "the body must be a resource file (first bytes ---, YAML front-matter) "
					   "or an AdmissionReview JSON request");
	if (is_json && (error = gs_reviewreq_parse(&rr, ns, body, len, &perr)) < 0) {
		ret = gs_http__send_error(req->conn, error == GS_ELIMIT ? 413 : 400, perr.rule, perr.msg);
		gs_reviewreq_release(&rr);
		return ret;
	}
	if (is_json && rr.uid[0])
		snprintf(uid, sizeof(uid), "%s", rr.uid);
	else
		gs_uuid_v4(uid, NULL);

	db = gs_dbpool_get(req->h->ctx.pool);
	error = gs_registry_repo_lookup(db, ns, name, &repo, &err);
	if (error < 0) {
		gs_dbpool_put(req->h->ctx.pool, db);
		ret = error == GS_ENOTFOUND ? gs_http__send_error(req->conn, 404, "repository_not_found", "repository not found")
					    : gs_http__send_error(req->conn, 503, "unavailable", err.msg);
		goto out;
	}
	/* the namespace's policies as the catalog worker would apply them */
	if ((error = gs_policyset_load(db, repo.ns, &pols, &err)) < 0) {
		gs_dbpool_put(req->h->ctx.pool, db);
		ret = gs_http__send_error(req->conn, 503, "unavailable", err.msg);
		goto out;
	}
	c.db = db;
	c.repo = &repo;
	c.pols = &pols;
	c.roles[0] = gs_role_name(gs_principal_role(&req->who, repo.ns));
	if (!is_json)
		out = review_file(req, &c, body, len, uid, 0, NULL, NULL);
	else if (rr.operation == GS_ADM_DELETE)
		out = review_delete(req, &c, &rr, uid);
	else
		out = review_file(req, &c, rr.file.ptr, rr.file.len, uid, rr.operation, rr.kind, rr.name);
	gs_policyset_release(&pols);
	gs_dbpool_put(req->h->ctx.pool, db);
	ret = review_send(req, out);
out:
	if (is_json)
		gs_reviewreq_release(&rr);
	return ret;
}
