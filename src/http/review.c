/*
 * http/review.c -- POST /api/v1/admission/review?repo=<ns>/<repo>: the
 * dry run of the one admission function on a resource file. Nothing is
 * committed, stored or appended to the log.
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
#include "catalog/frontmatter.h"
#include "catalog/resource.h"
#include "http/internal.h"
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

MHD_Result_t gs_review_handle(gs_req *req)
{
	const char *reponame = MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, "repo");
	char ns[64], name[64], uid[37];
	gs_error err = GS_ERROR_INIT;
	gs_repo_info repo;
	gs_catalog_ctx cctx;
	gs_cat_errors errs;
	gs_resource *res = NULL;
	gs_adm_response r;
	gs_adm_request q;
	review_view view;
	gs_adm_view v = {review_lookup, review_sku, &view};
	gs_resrow existing;
	json_t *out;
	gs_db *db;
	int error, has_existing = 0;

	if (gs_http__authenticate(req, &err) < 0)
		return err.code == GS_EAUTH ? gs_http__send_401(req->conn)
					   : gs_http__send_error(req->conn, 503, "unavailable", err.msg);
	if (!reponame || gs_str_split_repo(reponame, ns, name, &err) < 0)
		return gs_http__send_error(req->conn, 400, "invalid_repo", "repo=<namespace>/<repository> is required");
	if (!gs_principal_can(&req->who, ns, GS_ROLE_WRITER))
		return gs_http__send_error(req->conn, 403, "forbidden", "admission review needs the writer role on the namespace");
	if (!gs_frontmatter_is_resource(req->body.ptr ? req->body.ptr : "", req->body.len))
		return gs_http__send_error(req->conn, 400, "not_a_resource",
					   "the body must be a resource file (first bytes ---, YAML front-matter)");
	db = gs_dbpool_get(req->h->ctx.pool);
	error = gs_registry_repo_lookup(db, ns, name, &repo, &err);
	if (error < 0) {
		gs_dbpool_put(req->h->ctx.pool, db);
		return error == GS_ENOTFOUND ? gs_http__send_error(req->conn, 404, "repository_not_found", "repository not found")
					     : gs_http__send_error(req->conn, 503, "unavailable", err.msg);
	}
	memset(&cctx, 0, sizeof(cctx));
	cctx.repo_ns = repo.ns;
	cctx.repo_name = repo.name;
	cctx.path = "review.md";
	cctx.depth = GS_CATALOG_FULL;
	gs_cat_errors_init(&errs);
	gs_catalog_parse(&cctx, req->body.ptr, req->body.len, &res, &errs);
	memset(&q, 0, sizeof(q));
	gs_uuid_v4(uid, NULL);
	snprintf(q.uid, sizeof(q.uid), "%s", uid);
	q.origin = "api";
	q.dry_run = 1;
	q.user = req->who.user;
	q.schema_errors = &errs;
	q.operation = GS_ADM_CREATE;
	if (res && res->kind[0] && res->name[0]) {
		q.object.kind = res->kind;
		q.object.ns = res->ns;
		q.object.name = res->name;
		q.object.spec = res->spec;
		q.object.labels = res->labels;
		has_existing = gs_resstore_get(db, res->ns, res->kind, res->name, &existing, &err) == 0;
		if (has_existing && existing.admitted)
			q.operation = GS_ADM_UPDATE;
	}
	view.db = db;
	view.ns = repo.ns;
	view.keep = json_array();
	gs_adm_response_init(&r);
	gs_admission_review(&q, &v, &r);
	gs_dbpool_put(req->h->ctx.pool, db);
	out = json_pack("{s:s, s:s, s:o}", "apiVersion", "admission.gitstore.dev/v1", "kind", "AdmissionReview", "response",
			gs_adm_response_json(&r, uid));
	if (res)
		json_object_set_new(out, "request",
				    json_pack("{s:s, s:s, s:{s:s, s:s}, s:s, s:b}", "uid", uid, "operation",
					      q.operation == GS_ADM_UPDATE ? "UPDATE" : "CREATE", "resource", "kind",
					      res->kind, "name", res->name, "origin", "api", "dryRun", 1));
	gs_adm_response_release(&r);
	gs_cat_errors_release(&errs);
	gs_resource_free(res);
	if (has_existing)
		gs_resrow_release(&existing);
	json_decref(view.keep);
	return review_send(req, out);
}
