/*
 * refs/apiwrite.c -- PUT/DELETE of a resource through the push path (see
 * apiwrite.h).
 *
 * Invariants:
 *   - nothing reaches the ref unless the shared pre-receive checks pass
 *     and the ref still holds the tip the commit was built on (CAS);
 *   - If-Match is compared with the stored row only once that row
 *     describes the file at the tip being built on (same blob), so a
 *     concurrent push that changed the resource is never overwritten;
 *   - API writes of one repository are serialised; the admission wait
 *     happens outside that lock.
 * SPDX-License-Identifier: MIT
 */
#include "refs/apiwrite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog/resource.h"
#include "events/consumer.h"
#include "events/evlog.h"
#include "git/gitrepo.h"
#include "limits.h"
#include "log/log.h"
#include "refs/reposettings.h"
#include "store/journal.h"
#include "store/registry.h"
#include "store/resstore.h"
#include "util/str.h"
#include "util/time.h"

typedef struct apiw_state {
	char tip[41];   /* draft branch tip (zeros: the branch does not exist) */
	char logged[41]; /* the branch's value as of its last ref event */
	char blob[41];  /* blob at path in tip (zeros: absent) */
	gs_resrow row;  /* stored row of the identity */
	int has_row;
} apiw_state;

void gs_apiwrite_result_release(gs_apiwrite_result *res)
{
	json_decref(res->refusal);
	json_decref(res->admission);
	res->refusal = res->admission = NULL;
}

static void state_release(apiw_state *st)
{
	if (st->has_row)
		gs_resrow_release(&st->row);
	st->has_row = 0;
}

/* Waits until the catalog worker has processed the log up to target.
 * 1 when it has, 0 on timeout. */
static int wait_catalog(gs_refs *r, int64_t target, int timeout_ms)
{
	const gs_refs_ctx *ctx = gs_refs_context(r);
	int64_t deadline = (gs_time_mono_ns() / 1000000) + timeout_ms;
	for (;;) {
		gs_error err = GS_ERROR_INIT;
		int64_t cursor = 0, head = 0;
		gs_db *db = gs_dbpool_get(ctx->pool);
		int ok = gs_consumer_cursor(db, GS_CONSUMER_CATALOG, &cursor, &err) == 0 && cursor >= target;
		if (!ok)
			gs_evlog_head(db, &head, &err);
		gs_dbpool_put(ctx->pool, db);
		if (ok)
			return 1;
		if ((gs_time_mono_ns() / 1000000) >= deadline)
			return 0;
		/* the worker bumps the notifier when it appends; a ref event
		 * that yields no catalog event only moves its cursor: poll too */
		if (ctx->notify)
			gs_evnotify_wait(ctx->notify, head, 50, NULL);
		else
			usleep(50 * 1000);
	}
}

static int64_t log_head(gs_refs *r)
{
	const gs_refs_ctx *ctx = gs_refs_context(r);
	gs_error err = GS_ERROR_INIT;
	int64_t head = 0;
	gs_db *db = gs_dbpool_get(ctx->pool);
	gs_evlog_head(db, &head, &err);
	gs_dbpool_put(ctx->pool, db);
	return head;
}

/* Reads the tip, the stored row and the blob at its path. */
static int state_read(gs_refs *r, const gs_apiwrite_req *q, const char *branch, apiw_state *st,
		      gs_apiwrite_result *out, gs_error *err)
{
	const gs_refs_ctx *ctx = gs_refs_context(r);
	gs_gitrepo *git = NULL;
	char *gpath = gs_gitrepo_path(ctx->data_dir, q->repo->uid);
	gs_db *db;
	int error;

	state_release(st);
	memcpy(st->tip, GS_ZERO_OID, 41);
	memcpy(st->blob, GS_ZERO_OID, 41);
	db = gs_dbpool_get(ctx->pool);
	error = gs_resstore_get(db, q->repo->ns, q->kind, q->name, &st->row, err);
	if (error == 0 || error == GS_ENOTFOUND) {
		int64_t version;
		gs_error e2 = GS_ERROR_INIT;
		if (gs_journal_ref_get(db, q->repo->uid, branch, st->logged, &version, &e2) < 0)
			memcpy(st->logged, GS_ZERO_OID, 41);
	}
	gs_dbpool_put(ctx->pool, db);
	if (error == 0)
		st->has_row = 1;
	else if (error != GS_ENOTFOUND)
		goto out;
	gs_error_clear(err);
	if (st->has_row && strcmp(st->row.repo_uid, q->repo->uid) == 0)
		snprintf(out->path, sizeof(out->path), "%s", st->row.path);
	else
		snprintf(out->path, sizeof(out->path), "%s/%s.md", q->plural, q->name);
	if ((error = gs_gitrepo_open(&git, gpath, NULL, err)) < 0)
		goto out;
	error = gs_gitrepo_ref_read(git, branch, st->tip, err);
	if (error == GS_ENOTFOUND) {
		gs_error_clear(err);
		error = 0;
	} else if (error == 0) {
		error = gs_gitrepo_path_blob(git, st->tip, out->path, st->blob, err);
		if (error == GS_ENOTFOUND) {
			gs_error_clear(err);
			memcpy(st->blob, GS_ZERO_OID, 41);
			error = 0;
		}
	}
out:
	gs_gitrepo_close(git);
	free(gpath);
	return error;
}

/* True when the stored row describes the file at the tip (or neither
 * exists): the worker has caught up with what this write builds on. */
static int state_consistent(const gs_apiwrite_req *q, const apiw_state *st)
{
	if (!st->has_row)
		return gs_str_is_zero_oid(st->blob);
	if (strcmp(st->row.repo_uid, q->repo->uid) != 0)
		return 1; /* another repository's resource: refused below */
	return st->row.blob_sha && strcmp(st->row.blob_sha, st->blob) == 0;
}

/* Reads the state until it can be trusted for If-Match: the tip's ref
 * event is in the log (a push between git's ref update and its event
 * append is waited for), and the stored row describes the file at the
 * tip, or the worker has processed the log past that event (then the row
 * is what it is: e.g. an unparsable file at the path has none). Bounded
 * by GS_API_CATCHUP_WAIT_MS; BUSY past it. */
static int state_settle(gs_refs *r, const gs_apiwrite_req *q, const char *branch, apiw_state *st,
			gs_apiwrite_result *out, gs_error *err)
{
	int64_t deadline = gs_time_mono_ns() / 1000000 + GS_API_CATCHUP_WAIT_MS;
	char caught_up[41] = "";
	int error;
	for (;;) {
		int64_t left = deadline - gs_time_mono_ns() / 1000000;
		if ((error = state_read(r, q, branch, st, out, err)) < 0)
			return error;
		if (strcmp(st->logged, st->tip) == 0 &&
		    (state_consistent(q, st) || strcmp(caught_up, st->tip) == 0))
			return 0;
		if (left <= 0)
			break;
		if (strcmp(st->logged, st->tip) != 0) {
			usleep(20 * 1000); /* the tip's events are being appended */
			continue;
		}
		/* a push changed the file; the worker has not stored it yet */
		if (!wait_catalog(r, log_head(r), (int)left))
			break;
		memcpy(caught_up, st->tip, 41);
	}
	out->outcome = GS_APIW_BUSY;
	snprintf(out->message, sizeof(out->message), "the catalog worker has not caught up with the draft branch; retry");
	return 0;
}

/* Decides the outcome before any commit: conflict, 404, 412, unchanged.
 * Leaves out->outcome DONE when the write should go ahead. */
static int state_check(gs_refs *r, const gs_apiwrite_req *q, const apiw_state *st, gs_apiwrite_result *out,
		       gs_error *err)
{
	if (st->has_row && strcmp(st->row.repo_uid, q->repo->uid) != 0) {
		const gs_refs_ctx *ctx = gs_refs_context(r);
		gs_repo_info other;
		gs_db *db = gs_dbpool_get(ctx->pool);
		int known = gs_registry_repo_by_uid(db, st->row.repo_uid, &other, err) == 0;
		gs_dbpool_put(ctx->pool, db);
		gs_error_clear(err);
		out->outcome = GS_APIW_CONFLICT;
		snprintf(out->message, sizeof(out->message), "%s %s/%s is defined in repository %s/%s (%s); write it there",
			 q->kind, q->repo->ns, q->name, q->repo->ns, known ? other.name : "?", st->row.path);
		return 0;
	}
	if (!q->content && gs_str_is_zero_oid(st->blob)) {
		out->outcome = GS_APIW_NOT_FOUND;
		snprintf(out->message, sizeof(out->message), "%s %s has no file on the draft branch", q->kind, q->name);
		return 0;
	}
	if (q->has_if_match) {
		if (!st->has_row) {
			out->outcome = GS_APIW_PRECONDITION;
			snprintf(out->message, sizeof(out->message), "If-Match: %s %s does not exist", q->kind, q->name);
			return 0;
		}
		if (q->if_match >= 0 && st->row.resource_version != q->if_match) {
			out->outcome = GS_APIW_PRECONDITION;
			snprintf(out->message, sizeof(out->message),
				 "If-Match: %s %s is at resourceVersion %lld, not %lld", q->kind, q->name,
				 (long long)st->row.resource_version, (long long)q->if_match);
			return 0;
		}
	}
	if (q->content && !gs_str_is_zero_oid(st->blob)) {
		char h[41];
		int error = gs_gitrepo_blob_hash(q->content, q->len, h, err);
		if (error < 0)
			return error;
		if (strcmp(h, st->blob) == 0) {
			out->outcome = GS_APIW_UNCHANGED;
			snprintf(out->message, sizeof(out->message), "%.250s already has this content", out->path);
		}
	}
	return 0;
}

/* Kind and name in the file must be the ones in the URL. Returns an
 * error record list when they are not (NULL: fine, or left to the
 * structural check, which reports files it cannot read). */
static json_t *identity_mismatch(const gs_apiwrite_req *q, const char *path)
{
	gs_catalog_ctx cctx;
	gs_cat_errors errs;
	gs_resource *res = NULL;
	json_t *records = NULL;
	memset(&cctx, 0, sizeof(cctx));
	cctx.repo_ns = q->repo->ns;
	cctx.repo_name = q->repo->name;
	cctx.path = path;
	cctx.depth = GS_CATALOG_STRUCTURAL;
	gs_cat_errors_init(&errs);
	gs_catalog_parse(&cctx, q->content, q->len, &res, &errs);
	if (res && res->kind[0] && (res->name[0] || res->name_line) && errs.n == 0) {
		if (strcmp(res->kind, q->kind) != 0)
			records = json_pack("[{s:s, s:i, s:s, s:s, s:s+++}]", "path", path, "line", 0, "field", "kind",
					    "code", "identity_mismatch", "message", "kind ", res->kind,
					    " does not match the URL, which names ", q->kind);
		else if (!res->name[0]) /* given, but not a DNS label (checked at full depth only) */
			records = json_pack("[{s:s, s:i, s:s, s:s, s:s+}]", "path", path, "line", (int)res->name_line,
					    "field", "metadata.name", "code", "identity_mismatch", "message",
					    "metadata.name is not a DNS label, so not the name the URL names: ", q->name);
		else if (strcmp(res->name, q->name) != 0)
			records = json_pack("[{s:s, s:i, s:s, s:s, s:s+++}]", "path", path, "line", (int)res->name_line,
					    "field", "metadata.name", "code", "identity_mismatch", "message", "metadata.name ",
					    res->name, " does not match the URL, which names ", q->name);
	}
	gs_resource_free(res);
	gs_cat_errors_release(&errs);
	return records;
}

/* Builds the commit and sends it down the push path. */
static int apiw_commit(gs_refs *r, const gs_apiwrite_req *q, const char *branch, const apiw_state *st,
		       gs_apiwrite_result *out, gs_error *err)
{
	const gs_refs_ctx *ctx = gs_refs_context(r);
	gs_gitrepo *git = NULL;
	char *gpath = gs_gitrepo_path(ctx->data_dir, q->repo->uid);
	char email[GS_MAX_NAME + 32], msg[512];
	gs_push_cmds cmds;
	gs_push_cmd cmd;
	gs_ref_update u;
	json_t *mismatch = NULL;
	int error;

	snprintf(email, sizeof(email), "%s@api.gitstore.invalid", q->who->user);
	snprintf(msg, sizeof(msg), "%s %s %s\n\nAPI write (%s /api/v1/repos/%s/%s/resources/%s/%s) by %s.\n",
		 q->content ? (out->created ? "Create" : "Update") : "Delete", q->kind, q->name,
		 q->content ? "PUT" : "DELETE", q->repo->ns, q->repo->name, q->plural, q->name, q->who->user);
	if ((error = gs_gitrepo_open(&git, gpath, NULL, err)) < 0 ||
	    (error = gs_gitrepo_commit_file(git, st->tip, out->path, q->content, q->len, q->who->user, email, msg,
					    out->commit, err)) < 0)
		goto out;
	memset(&u, 0, sizeof(u));
	snprintf(u.ref, sizeof(u.ref), "%s", branch);
	memcpy(u.old_sha, st->tip, 41);
	memcpy(u.new_sha, out->commit, 41);
	memset(&cmds, 0, sizeof(cmds));
	memcpy(cmd.old_sha, u.old_sha, 41);
	memcpy(cmd.new_sha, u.new_sha, 41);
	cmd.ref = u.ref;
	cmds.cmds = &cmd;
	cmds.n = 1;
	if ((error = gs_refs_push_begin(r, q->repo, q->who, "api", &cmds, out->push_id, err)) < 0)
		goto out;
	if (q->content && (mismatch = identity_mismatch(q, out->path))) {
		json_t *extra = json_pack("{s:O, s:i}", "errors", mismatch, "errorCount", 1);
		const char *m = "the resource file does not name the resource the URL names";
		gs_error ignore = GS_ERROR_INIT;
		gs_refs_api_refuse(r, out->push_id, &u, "catalog_validation_failed", m, extra, &ignore);
		out->refusal = json_pack("{s:s, s:s, s:b, s:O, s:i}", "code", "catalog_validation_failed", "message", m,
					 "forbidden", 0, "errors", mismatch, "errorCount", 1);
		out->outcome = GS_APIW_REFUSED;
		json_decref(extra);
	} else {
		error = gs_refs_api_apply(r, out->push_id, &u, &out->refusal, err);
		if (error == GS_EINVALID || error == GS_ECONFLICT) {
			out->outcome = error == GS_EINVALID ? GS_APIW_REFUSED : GS_APIW_CONFLICT;
			snprintf(out->message, sizeof(out->message), "%s", err->msg);
			gs_error_clear(err);
			error = 0;
		}
	}
	gs_refs_push_end(r, out->push_id);
out:
	json_decref(mismatch);
	gs_gitrepo_close(git);
	free(gpath);
	return error;
}

/* ---- the verdict -------------------------------------------------------- */

typedef struct verdict_ctx {
	const gs_apiwrite_req *q;
	int64_t ref_logseq;
	json_t *admitted; /* data of catalog-admission-evaluated */
	const char *admitted_id;
	json_t *ev_admitted;
	int deleted;
} verdict_ctx;

static int names_resource(json_t *data, const gs_apiwrite_req *q)
{
	json_t *res = json_object_get(data, "resource");
	const char *kind = json_string_value(json_object_get(res, "kind"));
	const char *name = json_string_value(json_object_get(res, "name"));
	return kind && name && strcmp(kind, q->kind) == 0 && strcmp(name, q->name) == 0;
}

static int verdict_collect(int64_t logseq, const char *type, const char *json, void *payload)
{
	verdict_ctx *v = payload;
	json_t *ev;
	if (gs_str_has_prefix(type, "branch-")) {
		v->ref_logseq = logseq;
		return 0;
	}
	if (strcmp(type, "catalog-admission-evaluated") != 0 && strcmp(type, "catalog-resource-deleted") != 0)
		return 0;
	ev = json_loads(json, 0, NULL);
	if (ev && names_resource(json_object_get(ev, "data"), v->q)) {
		if (strcmp(type, "catalog-resource-deleted") == 0) {
			v->deleted = 1;
		} else {
			json_decref(v->ev_admitted);
			v->ev_admitted = json_incref(ev);
		}
	}
	json_decref(ev);
	return 0;
}

static int read_verdict(gs_refs *r, const char *push_id, verdict_ctx *v)
{
	const gs_refs_ctx *ctx = gs_refs_context(r);
	gs_error err = GS_ERROR_INIT;
	gs_db *db = gs_dbpool_get(ctx->pool);
	int error = gs_evlog_read_correlation(db, push_id, verdict_collect, v, &err);
	gs_dbpool_put(ctx->pool, db);
	return error;
}

/* The AdmissionReview response of the commit, from its
 * catalog-admission-evaluated event: the same object a push's consumer
 * reads. */
static json_t *admission_of(json_t *ev)
{
	json_t *d = json_object_get(ev, "data"), *a;
	a = json_pack("{s:O, s:O, s:O, s:O, s:O, s:O}", "uid", json_object_get(ev, "id"), "allowed",
		      json_object_get(d, "allowed"), "status", json_object_get(d, "status"), "warnings",
		      json_object_get(d, "warnings"), "policies", json_object_get(d, "policies"), "conditions",
		      json_object_get(d, "conditions"));
	if (!a)
		return json_object();
	if (json_object_get(d, "errors"))
		json_object_set(a, "errors", json_object_get(d, "errors"));
	else
		json_object_set_new(a, "errors", json_array());
	return a;
}

static void apiw_wait(gs_refs *r, const gs_apiwrite_req *q, gs_apiwrite_result *out)
{
	verdict_ctx v;
	memset(&v, 0, sizeof(v));
	v.q = q;
	if (read_verdict(r, out->push_id, &v) < 0 || v.ref_logseq == 0 ||
	    !wait_catalog(r, v.ref_logseq, q->wait_ms)) {
		out->pending = 1;
		return;
	}
	json_decref(v.ev_admitted);
	memset(&v, 0, sizeof(v));
	v.q = q;
	if (read_verdict(r, out->push_id, &v) < 0) {
		out->pending = 1;
		return;
	}
	out->deleted = v.deleted;
	if (v.ev_admitted)
		out->admission = admission_of(v.ev_admitted);
	json_decref(v.ev_admitted);
}

int gs_refs_api_write(gs_refs *r, const gs_apiwrite_req *q, gs_apiwrite_result *out, gs_error *err)
{
	const gs_refs_ctx *ctx = gs_refs_context(r);
	gs_repo_settings set;
	apiw_state st;
	gs_db *db;
	int error;

	memset(out, 0, sizeof(*out));
	memset(&st, 0, sizeof(st));
	db = gs_dbpool_get(ctx->pool);
	error = gs_reposettings_load(db, q->repo->uid, &set, err);
	gs_dbpool_put(ctx->pool, db);
	if (error < 0)
		return error;
	gs_refs_api_lock(r, q->repo->uid);
	if ((error = state_settle(r, q, set.draft_branch, &st, out, err)) < 0 || out->outcome != GS_APIW_DONE)
		goto unlock;
	out->created = !st.has_row;
	if ((error = state_check(r, q, &st, out, err)) < 0 || out->outcome != GS_APIW_DONE)
		goto unlock;
	error = apiw_commit(r, q, set.draft_branch, &st, out, err);
unlock:
	gs_refs_api_unlock(r, q->repo->uid);
	state_release(&st);
	if (error == 0 && out->outcome == GS_APIW_DONE)
		apiw_wait(r, q, out);
	return error;
}
