/*
 * ingest/release.c -- release admission: when a release ref is created or
 * moved (or the publish branch updated), every resource in the tree of its
 * commit goes through the one admission function, all-or-nothing.
 *
 * The namespace the checks see is the release itself (its own resources:
 * a release is a complete catalog), with the namespace's current policies.
 * Pass: release-created {release, resources} and a snapshot of the
 * admitted resources (store/pubstore.h) for the lifecycle controller.
 * Fail: release-rejected {release, resources, failures (capped),
 * failureCount}. No per-resource catalog events: a release of 10,000
 * files reports its failures and one summary.
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admission/admission.h"
#include "catalog/frontmatter.h"
#include "events/consumer.h"
#include "events/evlog.h"
#include "git/gitrepo.h"
#include "ingest/internal.h"
#include "ingest/policyset.h"
#include "limits.h"
#include "log/log.h"
#include "store/pubstore.h"
#include "store/resstore.h"
#include "util/alloc.h"
#include "util/str.h"
#include "util/time.h"

/* failures inlined in release-rejected */
#define REL_FAILURES_MAX 20
#define REL_FAILURES_BUDGET (32 * 1024)

typedef struct rel_file {
	char *path;
	gs_resource *res;
	gs_cat_errors errs;
	gs_adm_response adm;
	int admitted;
} rel_file;

typedef struct rel_set {
	rel_file *v;
	size_t n, cap;
	gs_gitrepo *git;
	const gs_repo_info *repo;
	gs_error *err;
	int failed_read;
} rel_set;

static void set_release(rel_set *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].path);
		gs_resource_free(s->v[i].res);
		gs_cat_errors_release(&s->v[i].errs);
		if (s->v[i].admitted)
			gs_adm_response_release(&s->v[i].adm);
	}
	free(s->v);
}

/* Reads and parses one file of the release tree. */
static int rel_collect(const gs_tree_change *c, void *payload)
{
	rel_set *s = payload;
	gs_catalog_ctx cctx;
	rel_file *f;
	char *data = NULL;
	size_t len = 0;
	gs_error e2 = GS_ERROR_INIT;
	int rc;
	if (!c->path_utf8)
		return 0; /* not a catalog file: pushes refuse them, events are JSON */
	rc = gs_gitrepo_blob_read(s->git, c->new_blob, GS_MAX_RESOURCE_FILE_BYTES, &data, &len, &e2);
	if (rc == GS_ELIMIT) {
		char head[3];
		size_t got = 0;
		if (gs_gitrepo_blob_prefix(s->git, c->new_blob, head, 3, &got, &e2) < 0 ||
		    !gs_frontmatter_is_resource(head, got))
			return 0;
	} else if (rc < 0) {
		gs_error_set(s->err, GS_ERROR, "git", "%s: %s", c->path, e2.msg);
		s->failed_read = 1;
		return 1;
	} else if (!gs_frontmatter_is_resource(data, len)) {
		free(data);
		return 0;
	}
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->v = gs_xrealloc(s->v, s->cap * sizeof(*s->v));
	}
	f = &s->v[s->n++];
	memset(f, 0, sizeof(*f));
	f->path = gs_xstrdup(c->path);
	gs_cat_errors_init(&f->errs);
	if (!data) {
		gs_cat_errors_add(&f->errs, 1, "", "file_too_large", "resource files are limited to %d bytes",
				  GS_MAX_RESOURCE_FILE_BYTES);
		return 0;
	}
	memset(&cctx, 0, sizeof(cctx));
	cctx.repo_ns = s->repo->ns;
	cctx.repo_name = s->repo->name;
	cctx.path = c->path;
	cctx.depth = GS_CATALOG_FULL;
	gs_catalog_parse(&cctx, data, len, &f->res, &f->errs);
	free(data);
	return 0;
}

static int rel_valid(const rel_file *f)
{
	return f->res && f->res->kind[0] && f->res->name[0] && gs_cat_errors_count(&f->errs) == 0;
}

static int rel_lookup(void *p, const char *kind, const char *name, gs_adm_object *out)
{
	const rel_set *s = p;
	for (size_t i = 0; i < s->n; i++) {
		const rel_file *f = &s->v[i];
		if (rel_valid(f) && strcmp(f->res->kind, kind) == 0 && strcmp(f->res->name, name) == 0) {
			out->kind = f->res->kind;
			out->ns = f->res->ns;
			out->name = f->res->name;
			out->spec = f->res->spec;
			out->labels = f->res->labels;
			return 1;
		}
	}
	return 0;
}

/* In a release every SKU must be unique: the variant whose name sorts
 * first keeps it, the others fail. */
static int rel_sku(void *p, const char *sku, const char *name, char owner[64])
{
	const rel_set *s = p;
	const char *first = NULL;
	for (size_t i = 0; i < s->n; i++) {
		const rel_file *f = &s->v[i];
		const char *v;
		if (!rel_valid(f) || strcmp(f->res->kind, "ProductVariant") != 0)
			continue;
		v = json_string_value(json_object_get(f->res->spec, "sku"));
		if (v && strcmp(v, sku) == 0 && (!first || strcmp(f->res->name, first) < 0))
			first = f->res->name;
	}
	if (first && strcmp(first, name) != 0) {
		snprintf(owner, 64, "%s", first);
		return 1;
	}
	return 0;
}

static void rel_dup(size_t idx, size_t earlier, void *payload)
{
	rel_set *s = payload;
	gs_cat_errors_add(&s->v[idx].errs, s->v[idx].res ? s->v[idx].res->name_line : 1, "metadata.name",
			  "duplicate_identity", "%s %s is also defined in %s", s->v[idx].res->kind, s->v[idx].res->name,
			  s->v[earlier].path);
}

/* Runs admission on every file; returns the number that failed. */
static size_t rel_admit(gs_db *db, const gs_ingest_relev *rev, rel_set *s, gs_error *err, int *error)
{
	gs_catalog_file *files = gs_xcalloc(s->n + 1, sizeof(*files));
	gs_policyset pols;
	gs_adm_view v = {rel_lookup, rel_sku, s, NULL, 0};
	const char *roles[1] = {rev->role};
	size_t failed = 0;

	*error = gs_policyset_load(db, rev->repo->ns, &pols, err);
	if (*error < 0) {
		free(files);
		return 0;
	}
	v.policies = pols.v;
	v.npolicies = pols.n;
	for (size_t i = 0; i < s->n; i++) {
		files[i].path = s->v[i].path;
		files[i].res = s->v[i].res;
	}
	gs_catalog_check_tree(files, s->n, rel_dup, s);
	for (size_t i = 0; i < s->n; i++) {
		rel_file *f = &s->v[i];
		gs_adm_request q;
		memset(&q, 0, sizeof(q));
		q.operation = GS_ADM_CREATE;
		if (f->res) {
			q.object.kind = f->res->kind;
			q.object.ns = f->res->ns;
			q.object.name = f->res->name;
			q.object.spec = f->res->spec;
			q.object.labels = f->res->labels;
		}
		q.origin = "git";
		q.user = json_string_value(json_object_get(rev->actor, "name"));
		q.roles = roles;
		q.nroles = rev->role && rev->role[0] ? 1 : 0;
		q.schema_errors = &f->errs;
		gs_adm_response_init(&f->adm);
		f->admitted = 1;
		gs_admission_review(&q, &v, &f->adm);
		failed += !f->adm.allowed || !f->res || !f->res->kind[0];
	}
	gs_policyset_release(&pols);
	free(files);
	return failed;
}

static json_t *rel_failures(const rel_set *s, int *truncated)
{
	json_t *arr = json_array();
	size_t budget = REL_FAILURES_BUDGET;
	*truncated = 0;
	for (size_t i = 0; i < s->n; i++) {
		const rel_file *f = &s->v[i];
		json_t *errs, *entry;
		const gs_cat_errors *src = f->adm.errors.n ? &f->adm.errors : &f->errs;
		char *text;
		size_t len;
		if (f->adm.allowed && f->res && f->res->kind[0])
			continue;
		if (json_array_size(arr) >= REL_FAILURES_MAX) {
			*truncated = 1;
			break;
		}
		errs = json_array();
		for (size_t k = 0; k < src->n && k < 8; k++) {
			json_t *e = json_pack("{s:s, s:s, s:s, s:i}", "field", src->v[k].field, "code", src->v[k].code,
					      "message", src->v[k].message, "line", (int)src->v[k].line);
			if (src->v[k].policy[0])
				json_object_set_new(e, "policy", json_string(src->v[k].policy));
			json_array_append_new(errs, e);
		}
		entry = json_pack("{s:s, s:o}", "path", f->path, "errors", errs);
		if (f->res && f->res->kind[0])
			json_object_set_new(entry, "resource", json_pack("{s:s, s:s, s:s}", "kind", f->res->kind,
									 "namespace", f->res->ns, "name", f->res->name));
		text = json_dumps(entry, JSON_COMPACT);
		len = text ? strlen(text) : 0;
		free(text);
		if (len + 1 > budget) {
			*truncated = 1;
			json_decref(entry);
			break;
		}
		budget -= len + 1;
		json_array_append_new(arr, entry);
	}
	return arr;
}

static void rel_row(const gs_ingest_relev *rev, const rel_file *f, gs_pubrow *row)
{
	memset(row, 0, sizeof(*row));
	snprintf(row->ns, sizeof(row->ns), "%s", f->res->ns);
	snprintf(row->kind, sizeof(row->kind), "%s", f->res->kind);
	snprintf(row->name, sizeof(row->name), "%s", f->res->name);
	snprintf(row->repo_uid, sizeof(row->repo_uid), "%s", rev->repo->uid);
	row->path = gs_xstrdup(f->path);
	row->api_version = gs_xstrdup(f->res->api_version);
	row->labels = json_dumps(f->res->labels, JSON_COMPACT);
	row->annotations = json_dumps(f->res->annotations, JSON_COMPACT);
	row->spec = json_dumps(f->res->spec, JSON_COMPACT);
	row->body = gs_xmalloc(f->res->body_len + 1);
	memcpy(row->body, f->res->body, f->res->body_len);
	row->body[f->res->body_len] = 0;
	row->body_len = f->res->body_len;
	row->content_hash = gs_ingest__content_hash(f->res);
}

/* One transaction: the release event, the snapshot (when passed), the
 * releases row and the worker's cursor. */
static int rel_commit(const gs_ingest_ctx *ctx, gs_db *db, int64_t logseq, const gs_ingest_relev *rev,
		      const rel_set *s, size_t failed, gs_error *err)
{
	const char *type = failed ? "release-rejected" : "release-created";
	const char *parts[] = {"release", type, rev->id};
	char id[GS_EVENT_ID_HEX + 1];
	gs_event_spec spec;
	gs_release rel;
	json_t *data;
	size_t appended = 0;
	int64_t head = 0;
	size_t nres = 0;
	int error;

	for (size_t i = 0; i < s->n; i++)
		nres += s->v[i].res && s->v[i].res->kind[0];
	gs_evlog_make_id(id, parts, 3);
	data = json_pack("{s:{s:s, s:s}, s:I}", "release", "ref", rev->ref, "commitSha", rev->commit, "resources",
			 (json_int_t)nres);
	if (failed && s->n == 0)
		json_object_set_new(data, "reason", json_pack("{s:s, s:s}", "code", "not_a_commit", "message",
							      "the release ref does not point at a readable commit"));
	if (failed) {
		int truncated = 0;
		json_object_set_new(data, "failures", rel_failures(s, &truncated));
		json_object_set_new(data, "failureCount", json_integer((json_int_t)failed));
		if (truncated)
			json_object_set_new(data, "failuresTruncated", json_true());
	}
	if (rev->push_id)
		json_object_set_new(data, "pushId", json_string(rev->push_id));
	if (rev->actor)
		json_object_set(data, "actor", rev->actor);
	memset(&spec, 0, sizeof(spec));
	spec.id = id;
	spec.type = type;
	spec.repo = rev->repo;
	spec.subject = rev->ref;
	spec.correlation = rev->correlation;
	spec.causation = rev->id;
	spec.data = data;
	memset(&rel, 0, sizeof(rel));
	snprintf(rel.repo_uid, sizeof(rel.repo_uid), "%s", rev->repo->uid);
	snprintf(rel.ref, sizeof(rel.ref), "%s", rev->ref);
	snprintf(rel.commit, sizeof(rel.commit), "%s", rev->commit);
	snprintf(rel.ref_sha, sizeof(rel.ref_sha), "%s", rev->ref_sha);
	snprintf(rel.state, sizeof(rel.state), "%s", failed ? "rejected" : "passed");
	snprintf(rel.event_id, sizeof(rel.event_id), "%s", id);
	rel.logseq = logseq;
	rel.resources = (int64_t)nres;

	if ((error = gs_db_begin(db, err)) < 0)
		goto out;
	if ((error = gs_evlog_append_tx(db, &spec, 1, NULL, &appended, &head, err)) < 0)
		goto fail;
	if (appended) {
		for (size_t i = 0; i < s->n && !failed && !error; i++) {
			gs_pubrow row;
			if (!rel_valid(&s->v[i]))
				continue;
			rel_row(rev, &s->v[i], &row);
			error = gs_pubstore_snapshot_put(db, rev->commit, &row, err);
			gs_pubrow_release(&row);
		}
		if (error < 0 || (error = gs_release_put(db, &rel, err)) < 0)
			goto fail;
	}
	if ((error = gs_consumer_ack_tx(db, GS_CONSUMER_CATALOG, logseq, err)) < 0 || (error = gs_db_commit(db, err)) < 0)
		goto fail;
	if (appended) {
		if (ctx->metrics)
			atomic_fetch_add(&ctx->metrics->events_appended, (long long)appended);
		gs_evnotify_bump(ctx->notify, head);
	}
	goto out;
fail:
	gs_db_rollback(db);
out:
	json_decref(data);
	return error;
}

int gs_ingest__release(const gs_ingest_ctx *ctx, gs_db *db, int64_t logseq, const gs_ingest_relev *rev, gs_error *err)
{
	rel_set s;
	char *path = gs_gitrepo_path(ctx->data_dir, rev->repo->uid);
	size_t failed;
	int error;

	memset(&s, 0, sizeof(s));
	s.repo = rev->repo;
	s.err = err;
	if ((error = gs_gitrepo_open(&s.git, path, NULL, err)) < 0)
		goto out;
	/* the whole tree: a diff from the empty tree. A tag of something
	 * that is not a commit (or a commit git cannot read) is a release
	 * that cannot pass, not an error to retry forever. */
	error = gs_str_is_zero_oid(rev->commit) ? GS_ENOTFOUND
						: gs_gitrepo_diff(s.git, GS_ZERO_OID, rev->commit, rel_collect, &s, err);
	if (error == GS_ENOTFOUND || (error < 0 && !s.failed_read && err->code != GS_EUNAVAILABLE)) {
		GS_LOG(GS_LOG_WARN, "release", "%s: %.12s cannot be read as a commit: %s", rev->ref, rev->commit, err->msg);
		gs_error_clear(err);
		set_release(&s);
		memset(&s, 0, sizeof(s));
		error = rel_commit(ctx, db, logseq, rev, &s, 1, err);
		goto out;
	}
	if (s.failed_read || error < 0) {
		error = error < 0 ? error : GS_ERROR;
		goto out;
	}
	failed = rel_admit(db, rev, &s, err, &error);
	if (error < 0)
		goto out;
	error = rel_commit(ctx, db, logseq, rev, &s, failed, err);
out:
	gs_gitrepo_close(s.git);
	set_release(&s);
	free(path);
	return error;
}
