/*
 * ingest/ingest.c -- post-receive catalog worker (see ingest.h).
 *
 * Owns: the cursor "catalog" and the resources rows of every repository.
 * Thread: one worker; parsing and git reads happen before the write
 *   transaction, so the SQLite write lock is held only for the writes.
 * Invariants: a ref event's catalog events, resource rows and the cursor
 *   commit together; event ids = hash(cause id, type, path, identity).
 * SPDX-License-Identifier: MIT
 */
#include "ingest/ingest.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admission/admission.h"
#include "catalog/frontmatter.h"
#include "catalog/resource.h"
#include "events/consumer.h"
#include "events/evlog.h"
#include "events/evworker.h"
#include "git/gitrepo.h"
#include "ingest/internal.h"
#include "ingest/policyset.h"
#include "limits.h"
#include "log/log.h"
#include "refs/refpolicy.h"
#include "refs/reposettings.h"
#include "store/journal.h"
#include "store/registry.h"
#include "store/resstore.h"
#include "util/alloc.h"
#include "util/hash.h"
#include "util/str.h"
#include "util/time.h"

#define INGEST_BATCH 20
/* error records inlined per validation-failed event */
#define INGEST_ERRORS_BUDGET (32 * 1024)

enum { OP_NONE = 0, OP_CREATE, OP_UPDATE, OP_MOVE, OP_FAIL_KEEP, OP_DELETE };

static const char *const OP_NAMES[] = {"none", "create", "update", "move", "update", "delete"};

typedef struct ing_entry {
	char *path;
	char old_blob[41];
	char new_blob[41];
	gs_resrow old_row; /* the resource currently sourced from this path */
	int has_old_row;
	gs_resource *res;  /* the new version, parsed (may be NULL) */
	gs_cat_errors errs;
	int is_resource;   /* the new content is a resource document */
	gs_resrow existing; /* the stored row of res's identity */
	int has_existing;
	int op;
	int dup;           /* res's identity is taken by another file */
	gs_adm_response adm; /* the admission decision for the new version */
	int adm_done;
	int foreign;       /* res names another namespace: it has no identity here */
	int deletes_old;   /* old_row's identity leaves (delete event) */
} ing_entry;

typedef struct ing_batch {
	ing_entry *v;
	size_t n, cap;
} ing_batch;

typedef struct ing_event {
	json_t *ev;           /* the ref event */
	const char *id;
	const char *ref;
	const char *old_sha;
	const char *new_sha;
	const char *push_id;  /* may be NULL (reconcile) */
	const char *correlation; /* the ref event's correlationid */
	json_t *actor;
	char role[16];         /* the pusher's role on the namespace ("" unknown) */
	gs_repo_info repo;
} ing_event;

struct gs_ingest {
	gs_ingest_ctx ctx;
	gs_evworker *worker;
};

/* ---- collecting the changes ------------------------------------------- */

static int collect_change(const gs_tree_change *c, void *payload)
{
	ing_batch *b = payload;
	ing_entry *e;
	if (!c->path_utf8)
		return 0; /* not a catalog file: pushes refuse them, events are JSON */
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 32;
		b->v = gs_xrealloc(b->v, b->cap * sizeof(*b->v));
	}
	e = &b->v[b->n++];
	memset(e, 0, sizeof(*e));
	e->path = gs_xstrdup(c->path);
	memcpy(e->old_blob, c->old_blob, 41);
	memcpy(e->new_blob, c->new_blob, 41);
	gs_cat_errors_init(&e->errs);
	return 0;
}

static void batch_release(ing_batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		ing_entry *e = &b->v[i];
		free(e->path);
		gs_resrow_release(&e->old_row);
		gs_resrow_release(&e->existing);
		gs_resource_free(e->res);
		gs_cat_errors_release(&e->errs);
		if (e->adm_done)
			gs_adm_response_release(&e->adm);
	}
	free(b->v);
	memset(b, 0, sizeof(*b));
}

/* A resource takes part in identity only inside its repository's
 * namespace: one that names another (namespace_mismatch) must not
 * claim or overwrite that namespace's resources. */
static int has_identity(const ing_entry *e)
{
	return e->res && e->res->kind[0] && e->res->name[0] && !e->foreign;
}

static int same_identity(const gs_resrow *row, const gs_resource *res)
{
	return res && strcmp(row->kind, res->kind) == 0 && strcmp(row->ns, res->ns) == 0 && strcmp(row->name, res->name) == 0;
}

/* Reads and parses each changed file; looks up what the store knows. */
static int ingest_parse(gs_db *db, gs_gitrepo *git, const ing_event *iev, ing_batch *b, gs_error *err)
{
	for (size_t i = 0; i < b->n; i++) {
		ing_entry *e = &b->v[i];
		gs_error e2 = GS_ERROR_INIT;
		int error = gs_resstore_get_by_path(db, iev->repo.uid, e->path, &e->old_row, &e2);
		if (error < 0 && error != GS_ENOTFOUND)
			return gs_error_set(err, error, "ingest", "%s", e2.msg);
		e->has_old_row = error == 0;
		if (!gs_str_is_zero_oid(e->new_blob)) {
			gs_catalog_ctx cctx;
			char *data = NULL;
			size_t len = 0;
			gs_error_clear(&e2);
			error = gs_gitrepo_blob_read(git, e->new_blob, GS_MAX_RESOURCE_FILE_BYTES, &data, &len, &e2);
			if (error == GS_ELIMIT) {
				/* never loaded whole; a resource this large is an error */
				char head[3];
				size_t got = 0;
				if ((error = gs_gitrepo_blob_prefix(git, e->new_blob, head, 3, &got, &e2)) < 0)
					return gs_error_set(err, error, "ingest", "%s: %s", e->path, e2.msg);
				e->is_resource = gs_frontmatter_is_resource(head, got);
				if (e->is_resource)
					gs_cat_errors_add(&e->errs, 1, "", "file_too_large",
							  "file is %zu bytes; resource files are limited to %d bytes", len,
							  GS_MAX_RESOURCE_FILE_BYTES);
				continue;
			}
			if (error < 0)
				return gs_error_set(err, error, "ingest", "%s: %s", e->path, e2.msg);
			e->is_resource = gs_frontmatter_is_resource(data, len);
			if (e->is_resource) {
				memset(&cctx, 0, sizeof(cctx));
				cctx.repo_ns = iev->repo.ns;
				cctx.repo_name = iev->repo.name;
				cctx.path = e->path;
				cctx.depth = GS_CATALOG_FULL;
				gs_catalog_parse(&cctx, data, len, &e->res, &e->errs);
				e->foreign = e->res && strcmp(e->res->ns, iev->repo.ns) != 0;
			}
			free(data);
		}
		if (has_identity(e)) {
			gs_error_clear(&e2);
			error = gs_resstore_get(db, e->res->ns, e->res->kind, e->res->name, &e->existing, &e2);
			if (error < 0 && error != GS_ENOTFOUND)
				return gs_error_set(err, error, "ingest", "%s", e2.msg);
			e->has_existing = error == 0;
		}
	}
	return 0;
}

/* Is the path still holding its stored identity after this change set? */
static int path_keeps_identity(const ing_batch *b, const char *path)
{
	for (size_t i = 0; i < b->n; i++) {
		const ing_entry *e = &b->v[i];
		if (strcmp(e->path, path) == 0)
			return e->has_old_row && same_identity(&e->old_row, e->res);
	}
	return 1; /* unchanged file */
}

/* Another changed file now defines row's identity (a move; schema
 * errors in the new version do not undo the move). */
static int identity_claimed(const ing_batch *b, const gs_resrow *row)
{
	for (size_t i = 0; i < b->n; i++)
		if (has_identity(&b->v[i]) && !b->v[i].dup && same_identity(row, b->v[i].res))
			return 1;
	return 0;
}

static void dup_report(size_t idx, size_t earlier, void *payload)
{
	ing_batch *b = payload;
	ing_entry *e = NULL, *first = NULL;
	size_t k = 0;
	/* files[] passed to check_tree holds only entries with identities */
	for (size_t i = 0; i < b->n; i++) {
		if (!has_identity(&b->v[i]))
			continue;
		if (k == idx)
			e = &b->v[i];
		if (k == earlier)
			first = &b->v[i];
		k++;
	}
	if (e && first)
		gs_cat_errors_add(&e->errs, e->res->name_line, "metadata.name", "duplicate_identity",
				  "%s %s/%s is also defined in %s", e->res->kind, e->res->ns, e->res->name, first->path);
}

/* Decides each entry's operation (identity rules of DESIGN 7). */
static void ingest_plan(ing_batch *b, const char *repo_uid)
{
	gs_catalog_file *files = gs_xcalloc(b->n + 1, sizeof(*files));
	size_t nf = 0;
	for (size_t i = 0; i < b->n; i++)
		if (has_identity(&b->v[i])) {
			files[nf].path = b->v[i].path;
			files[nf++].res = b->v[i].res;
		}
	gs_catalog_check_tree(files, nf, dup_report, b);
	free(files);

	for (size_t i = 0; i < b->n; i++) {
		ing_entry *e = &b->v[i];
		if (has_identity(e) && e->has_existing && strcmp(e->existing.path, e->path) != 0) {
			if (strcmp(e->existing.repo_uid, repo_uid) != 0)
				gs_cat_errors_add(&e->errs, e->res->name_line, "metadata.name", "duplicate_identity",
						  "%s %s/%s is already defined in another repository of the namespace",
						  e->res->kind, e->res->ns, e->res->name);
			else if (path_keeps_identity(b, e->existing.path))
				gs_cat_errors_add(&e->errs, e->res->name_line, "metadata.name", "duplicate_identity",
						  "%s %s/%s is already defined in %s", e->res->kind, e->res->ns,
						  e->res->name, e->existing.path);
		}
	}
	for (size_t i = 0; i < b->n; i++)
		for (size_t k = 0; k < b->v[i].errs.n; k++)
			b->v[i].dup |= strcmp(b->v[i].errs.v[k].code, "duplicate_identity") == 0;
	for (size_t i = 0; i < b->n; i++) {
		ing_entry *e = &b->v[i];
		int dup = e->dup;
		/* the old identity at this path leaves unless the new content
		 * keeps it (or fails to parse: last admitted version stays) or
		 * another file takes it over (a move) */
		if (e->has_old_row && !same_identity(&e->old_row, e->res) && !identity_claimed(b, &e->old_row) &&
		    (!e->is_resource ? 1 : has_identity(e)))
			e->deletes_old = 1;
		if (has_identity(e) && !dup)
			e->op = !e->has_existing ? OP_CREATE : strcmp(e->existing.path, e->path) == 0 ? OP_UPDATE : OP_MOVE;
		else if (e->is_resource)
			e->op = OP_FAIL_KEEP;
		else
			e->op = OP_NONE;
	}
}

/* ---- admission ----------------------------------------------------------- */

/* The namespace as it will be after this change set: the batch's valid
 * new versions over the stored (admitted) resources, minus identities
 * leaving. Parsed stored specs are kept until the batch is done. */
typedef struct ing_view {
	gs_db *db;
	const ing_event *iev;
	ing_batch *b;
	json_t **cache;
	size_t ncache, capcache;
} ing_view;

static int entry_valid_version(const ing_entry *e)
{
	return has_identity(e) && !e->dup && (e->op == OP_CREATE || e->op == OP_UPDATE || e->op == OP_MOVE) &&
	       gs_cat_errors_count(&e->errs) == 0;
}

static int identity_leaving(const ing_batch *b, const char *kind, const char *name)
{
	for (size_t i = 0; i < b->n; i++) {
		const ing_entry *e = &b->v[i];
		if (e->deletes_old && strcmp(e->old_row.kind, kind) == 0 && strcmp(e->old_row.name, name) == 0)
			return 1;
	}
	return 0;
}

static int view_lookup(void *p, const char *kind, const char *name, gs_adm_object *out)
{
	ing_view *v = p;
	gs_error err = GS_ERROR_INIT;
	json_t *spec = NULL;
	int found;
	for (size_t i = 0; i < v->b->n; i++) {
		const ing_entry *e = &v->b->v[i];
		if (entry_valid_version(e) && strcmp(e->res->kind, kind) == 0 && strcmp(e->res->name, name) == 0) {
			out->kind = e->res->kind;
			out->ns = e->res->ns;
			out->name = e->res->name;
			out->spec = e->res->spec;
			out->labels = e->res->labels;
			return 1;
		}
	}
	if (identity_leaving(v->b, kind, name))
		return 0;
	if ((found = gs_resstore_admitted_spec(v->db, v->iev->repo.ns, kind, name, &spec, &err)) <= 0)
		return found;
	if (v->ncache == v->capcache) {
		v->capcache = v->capcache ? v->capcache * 2 : 16;
		v->cache = gs_xrealloc(v->cache, v->capcache * sizeof(*v->cache));
	}
	v->cache[v->ncache] = json_pack("{s:s, s:s, s:o}", "kind", kind, "name", name, "spec", spec);
	out->kind = json_string_value(json_object_get(v->cache[v->ncache], "kind"));
	out->ns = v->iev->repo.ns;
	out->name = json_string_value(json_object_get(v->cache[v->ncache], "name"));
	out->spec = json_object_get(v->cache[v->ncache], "spec");
	out->labels = NULL;
	v->ncache++;
	return 1;
}

static const char *entry_sku(const ing_entry *e)
{
	return json_string_value(json_object_get(e->res->spec, "sku"));
}

/* Deterministic winner of a SKU: a stored holder that keeps it, else
 * the variant of this change set whose name sorts first. */
static int view_sku_owner(void *p, const char *sku, const char *name, char owner[64])
{
	ing_view *v = p;
	gs_error err = GS_ERROR_INIT;
	const char *first = NULL;
	int held = gs_resstore_sku_owner(v->db, v->iev->repo.ns, sku, name, owner, &err);
	if (held < 0)
		return -1;
	if (held) {
		int keeps = !identity_leaving(v->b, "ProductVariant", owner);
		for (size_t i = 0; i < v->b->n && keeps; i++) {
			const ing_entry *e = &v->b->v[i];
			if (entry_valid_version(e) && strcmp(e->res->kind, "ProductVariant") == 0 &&
			    strcmp(e->res->name, owner) == 0)
				keeps = entry_sku(e) && strcmp(entry_sku(e), sku) == 0;
		}
		if (keeps)
			return 1;
	}
	for (size_t i = 0; i < v->b->n; i++) {
		const ing_entry *e = &v->b->v[i];
		if (entry_valid_version(e) && strcmp(e->res->kind, "ProductVariant") == 0 && entry_sku(e) &&
		    strcmp(entry_sku(e), sku) == 0 && (!first || strcmp(e->res->name, first) < 0))
			first = e->res->name;
	}
	if (first && strcmp(first, name) != 0) {
		snprintf(owner, 64, "%s", first);
		return 1;
	}
	return 0;
}

/* Runs the one admission function for every new version of the batch. */
/* The admitted version an UPDATE replaces, as the request's oldObject
 * (its JSON kept in keep until the batch is admitted). */
static void old_object_of(const ing_entry *e, gs_adm_object *out, json_t *keep)
{
	json_t *spec, *labels;
	if (!e->has_existing || !e->existing.admitted)
		return;
	spec = json_loads(e->existing.spec, 0, NULL);
	labels = json_loads(e->existing.labels, 0, NULL);
	json_array_append_new(keep, spec ? spec : json_object());
	json_array_append_new(keep, labels ? labels : json_object());
	out->kind = e->existing.kind;
	out->ns = e->existing.ns;
	out->name = e->existing.name;
	out->spec = json_array_get(keep, json_array_size(keep) - 2);
	out->labels = json_array_get(keep, json_array_size(keep) - 1);
}

/* Runs the one admission function for every new version of the batch,
 * with the namespace's policies. A store error is returned (the event
 * is retried): policies are never skipped for want of reading them. */
static int ingest_admit(gs_db *db, const ing_event *iev, ing_batch *b, gs_error *err)
{
	ing_view view = {db, iev, b, NULL, 0, 0};
	gs_adm_view v = {view_lookup, view_sku_owner, &view, NULL, 0};
	const char *roles[1] = {iev->role};
	gs_policyset pols;
	json_t *keep;
	int error;

	if ((error = gs_policyset_load(db, iev->repo.ns, &pols, err)) < 0)
		return error;
	v.policies = pols.v;
	v.npolicies = pols.n;
	keep = json_array();
	for (size_t i = 0; i < b->n; i++) {
		ing_entry *e = &b->v[i];
		gs_adm_request q;
		if (e->op != OP_CREATE && e->op != OP_UPDATE && e->op != OP_MOVE)
			continue;
		memset(&q, 0, sizeof(q));
		q.operation = e->op == OP_CREATE ? GS_ADM_CREATE : GS_ADM_UPDATE;
		q.object.kind = e->res->kind;
		q.object.ns = e->res->ns;
		q.object.name = e->res->name;
		q.object.spec = e->res->spec;
		q.object.labels = e->res->labels;
		old_object_of(e, &q.old_object, keep);
		q.origin = iev->actor && json_string_value(json_object_get(iev->actor, "via")) &&
				   strcmp(json_string_value(json_object_get(iev->actor, "via")), "api") == 0
			   ? "api"
			   : "git";
		q.user = json_string_value(json_object_get(iev->actor, "name"));
		if (iev->role[0]) {
			q.roles = roles;
			q.nroles = 1;
		}
		q.schema_errors = &e->errs;
		gs_adm_response_init(&e->adm);
		e->adm_done = 1;
		gs_admission_review(&q, &v, &e->adm);
	}
	for (size_t i = 0; i < view.ncache; i++)
		json_decref(view.cache[i]);
	free(view.cache);
	json_decref(keep);
	gs_policyset_release(&pols);
	return 0;
}

/* Admission order inside one change set (issue 4): deletes (emitted
 * first), categories parents-first, creates, then updates and the rest. */
static int order_class(const ing_batch *b, const ing_entry *e, int *depth)
{
	*depth = 0;
	if ((e->op == OP_CREATE || e->op == OP_UPDATE || e->op == OP_MOVE) &&
	    strcmp(e->res->kind, "CategoryTaxonomy") == 0) {
		/* depth among the batch's own categories: parents before children */
		const char *parent = json_string_value(json_object_get(json_object_get(e->res->spec, "parentRef"), "name"));
		while (parent && *depth < 64) {
			const char *next = NULL;
			for (size_t i = 0; i < b->n; i++) {
				const ing_entry *o = &b->v[i];
				if (has_identity(o) && strcmp(o->res->kind, "CategoryTaxonomy") == 0 &&
				    strcmp(o->res->name, parent) == 0) {
					next = json_string_value(json_object_get(json_object_get(o->res->spec, "parentRef"), "name"));
					(*depth)++;
					break;
				}
			}
			if (!next || (next && strcmp(next, e->res->name) == 0))
				break;
			parent = next;
		}
		return 0;
	}
	return e->op == OP_CREATE ? 1 : 2;
}

static const ing_batch *order_batch;

static int order_cmp(const void *a, const void *b)
{
	const ing_entry *x = &order_batch->v[*(const size_t *)a], *y = &order_batch->v[*(const size_t *)b];
	int dx, dy, cx = order_class(order_batch, x, &dx), cy = order_class(order_batch, y, &dy);
	if (cx != cy)
		return cx - cy;
	if (dx != dy)
		return dx - dy;
	return strcmp(x->path, y->path);
}

/* ---- events ------------------------------------------------------------ */

typedef struct ing_out {
	gs_event_spec *specs;
	json_t **datas;
	char (*ids)[GS_EVENT_ID_HEX + 1];
	char (*subjects)[256];
	size_t n, cap;
} ing_out;

static void out_release(ing_out *o)
{
	for (size_t i = 0; i < o->n; i++)
		json_decref(o->datas[i]);
	free(o->specs);
	free(o->datas);
	free(o->ids);
	free(o->subjects);
	memset(o, 0, sizeof(*o));
}

static json_t *resource_json(const char *api_version, const char *kind, const char *ns, const char *name, const char *uid)
{
	json_t *r = json_pack("{s:s, s:s, s:s, s:s}", "apiVersion", api_version, "kind", kind, "namespace", ns, "name", name);
	if (uid && *uid)
		json_object_set_new(r, "uid", json_string(uid));
	return r;
}

/* Adds one event; subject "" means the path (no identity). */
static json_t *out_add(ing_out *o, const ing_event *iev, const char *type, const char *path, const char *identity)
{
	json_t *data = json_object();
	const char *parts[] = {"catalog", type, iev->id, path ? path : "", identity ? identity : ""};
	if (o->n == o->cap) {
		o->cap = o->cap ? o->cap * 2 : 16;
		o->specs = gs_xrealloc(o->specs, o->cap * sizeof(*o->specs));
		o->datas = gs_xrealloc(o->datas, o->cap * sizeof(*o->datas));
		o->ids = gs_xrealloc(o->ids, o->cap * sizeof(*o->ids));
		o->subjects = gs_xrealloc(o->subjects, o->cap * sizeof(*o->subjects));
	}
	gs_evlog_make_id(o->ids[o->n], parts, 5);
	snprintf(o->subjects[o->n], sizeof(o->subjects[o->n]), "%s", identity && *identity ? identity : path);
	memset(&o->specs[o->n], 0, sizeof(o->specs[o->n]));
	o->specs[o->n].type = type;
	o->specs[o->n].repo = &iev->repo;
	o->specs[o->n].correlation = iev->correlation;
	o->specs[o->n].causation = iev->id;
	o->specs[o->n].data = data;
	o->datas[o->n] = data;
	o->n++;
	if (iev->push_id)
		json_object_set_new(data, "pushId", json_string(iev->push_id));
	if (iev->actor)
		json_object_set(data, "actor", iev->actor);
	return data;
}

static void out_fix(ing_out *o)
{
	for (size_t i = 0; i < o->n; i++) {
		o->specs[i].id = o->ids[i];
		o->specs[i].subject = o->subjects[i];
	}
}

static json_t *errors_json(const gs_cat_errors *errs, int *truncated)
{
	json_t *arr = json_array();
	size_t budget = INGEST_ERRORS_BUDGET;
	*truncated = errs->dropped > 0;
	for (size_t i = 0; i < errs->n; i++) {
		json_t *rec = json_pack("{s:s, s:s, s:s, s:i}", "field", errs->v[i].field, "code", errs->v[i].code, "message",
					errs->v[i].message, "line", (int)errs->v[i].line);
		char *text;
		size_t len;
		if (errs->v[i].policy[0])
			json_object_set_new(rec, "policy", json_string(errs->v[i].policy));
		text = json_dumps(rec, JSON_COMPACT);
		len = text ? strlen(text) : 0;
		free(text);
		if (len + 1 > budget) {
			*truncated = 1;
			json_decref(rec);
			continue;
		}
		budget -= len + 1;
		json_array_append_new(arr, rec);
	}
	return arr;
}

static void identity_of(char *out, size_t n, const char *kind, const char *ns, const char *name)
{
	snprintf(out, n, "%s/%s/%s", kind, ns, name);
}

/* ---- store rows -------------------------------------------------------- */

/* generation bumps only when spec (re-serialised: formatting, comments
 * and key order do not count) or the body bytes change */
char *gs_ingest__content_hash(const gs_resource *res)
{
	char hex[GS_SHA256_HEX], *spec = json_dumps(res->spec, JSON_COMPACT | JSON_SORT_KEYS);
	gs_buf b;
	gs_buf_init(&b, (size_t)GS_MAX_RESOURCE_FILE_BYTES * 4);
	gs_buf_adds(&b, spec ? spec : "{}", NULL);
	gs_buf_add(&b, "\x1f", 1, NULL);
	gs_buf_add(&b, res->body, res->body_len, NULL);
	gs_sha256_hex(hex, b.ptr ? b.ptr : "", b.len);
	gs_buf_release(&b);
	free(spec);
	return gs_xstrdup(hex);
}

static const char *branch_short(const char *ref)
{
	return gs_str_has_prefix(ref, "refs/heads/") ? ref + 11 : ref;
}

/* The stored .status of a draft resource (DESIGN 7): AdmissionAccepted and
 * the built-in checks' conditions (lastTransitionTime kept while a
 * condition does not flip), observedGeneration and, when the latest
 * version was denied, admissionFailure. adm may be NULL (a file that did
 * not parse: denied with errs). The phase and the Published condition are
 * not stored: the API adds them from the published view when it reads. */
static const char *old_transition(json_t *old, const char *type, const char *status)
{
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(old, "conditions"), i, c) {
		const char *t = json_string_value(json_object_get(c, "type"));
		const char *st = json_string_value(json_object_get(c, "status"));
		if (t && st && strcmp(t, type) == 0 && strcmp(st, status) == 0)
			return json_string_value(json_object_get(c, "lastTransitionTime"));
	}
	return NULL;
}

static json_t *condition(json_t *old, const char *type, int status, int64_t generation, const char *reason,
			 const char *message, const char *now)
{
	const char *st = status ? "True" : "False", *ltt = old_transition(old, type, st);
	return json_pack("{s:s, s:s, s:I, s:s, s:s, s:s}", "type", type, "status", st, "observedGeneration",
			 (json_int_t)generation, "lastTransitionTime", ltt ? ltt : now, "reason", reason, "message", message);
}

static char *status_text(const char *old_status, int64_t generation, const gs_adm_response *adm, const char *commit,
			 const gs_cat_errors *errs, const char *now)
{
	json_t *old = old_status ? json_loads(old_status, 0, NULL) : NULL, *st = json_object(), *conds = json_array();
	int accepted = adm ? adm->allowed : 0;
	const char *reason = adm && !adm->allowed ? adm->reason : "SchemaValidationFailed";
	const gs_cat_errors *fail_errs = adm ? &adm->errors : errs;
	char *text;

	json_array_append_new(conds, condition(old, "AdmissionAccepted", accepted, generation, accepted ? "Admitted" : reason,
					       accepted ? "the latest version passed admission"
							: "the latest version was denied; the last admitted version stays in effect",
					       now));
	for (int i = 0; adm && i < adm->nconds; i++)
		json_array_append_new(conds, condition(old, adm->conds[i].type, adm->conds[i].status, generation,
						       adm->conds[i].reason, adm->conds[i].message, now));
	json_object_set_new(st, "observedGeneration", json_integer(generation));
	json_object_set_new(st, "conditions", conds);
	if (!accepted) {
		int truncated = 0;
		const char *msg = adm && adm->message[0] ? adm->message : fail_errs->n ? fail_errs->v[0].message : "validation failed";
		json_t *f = json_pack("{s:s, s:s, s:s, s:o}", "commitSha", commit, "reason", reason, "message", msg, "errors",
				      errors_json(fail_errs, &truncated));
		json_object_set_new(f, "policy", adm && adm->policy[0] ? json_string(adm->policy) : json_null());
		json_object_set_new(st, "admissionFailure", f);
	}
	text = json_dumps(st, JSON_COMPACT);
	json_decref(st);
	json_decref(old);
	return text;
}

/* Builds the row to store for an admitted (or failed) new version. */
static int row_for(const ing_event *iev, const ing_entry *e, int accepted, const char *now, gs_resrow *out, gs_error *err)
{
	const gs_resrow *prev = e->has_existing ? &e->existing : NULL;
	char *hash = NULL;
	int error = 0;
	int changed;

	memset(out, 0, sizeof(*out));
	if (prev) {
		snprintf(out->uid, sizeof(out->uid), "%s", prev->uid);
		out->generation = prev->generation;
		out->resource_version = prev->resource_version;
		out->created_ms = prev->created_ms;
		out->admitted = prev->admitted;
	} else {
		if ((error = gs_uuid_v7(out->uid, err)) < 0)
			return error;
		out->created_ms = gs_time_now_ms();
	}
	snprintf(out->repo_uid, sizeof(out->repo_uid), "%s", iev->repo.uid);
	snprintf(out->ns, sizeof(out->ns), "%s", e->res->ns);
	snprintf(out->kind, sizeof(out->kind), "%s", e->res->kind);
	snprintf(out->name, sizeof(out->name), "%s", e->res->name);
	out->path = gs_xstrdup(e->path);
	out->blob_sha = gs_xstrdup(e->new_blob);
	out->updated_ms = gs_time_now_ms();
	if (accepted) {
		hash = gs_ingest__content_hash(e->res);
		changed = !prev || !prev->admitted || strcmp(prev->content_hash, hash) != 0;
		out->api_version = gs_xstrdup(e->res->api_version);
		out->labels = json_dumps(e->res->labels, JSON_COMPACT);
		out->annotations = json_dumps(e->res->annotations, JSON_COMPACT);
		out->spec = json_dumps(e->res->spec, JSON_COMPACT);
		out->body = gs_xmalloc(e->res->body_len + 1);
		memcpy(out->body, e->res->body, e->res->body_len);
		out->body[e->res->body_len] = 0;
		out->body_len = e->res->body_len;
		out->content_hash = hash;
		out->revision = gs_xasprintf("%s@sha1:%s", branch_short(iev->ref), iev->new_sha);
		out->admitted = 1;
		if (changed)
			out->generation++;
	} else if (prev) {
		/* the last admitted version stays in effect */
		out->api_version = gs_xstrdup(prev->api_version);
		out->labels = gs_xstrdup(prev->labels);
		out->annotations = gs_xstrdup(prev->annotations);
		out->spec = gs_xstrdup(prev->spec);
		out->body = gs_xmalloc(prev->body_len + 1);
		memcpy(out->body, prev->body, prev->body_len + 1);
		out->body_len = prev->body_len;
		out->content_hash = gs_xstrdup(prev->content_hash);
		out->revision = gs_xstrdup(prev->revision);
	} else {
		out->api_version = gs_xstrdup(e->res->api_version);
		out->labels = gs_xstrdup("{}");
		out->annotations = gs_xstrdup("{}");
		out->spec = gs_xstrdup("{}");
		out->body = gs_xstrdup("");
		out->content_hash = gs_xstrdup("");
		out->revision = gs_xstrdup("");
	}
	out->resource_version++;
	out->status = status_text(prev ? prev->status : NULL, out->generation, &e->adm, iev->new_sha, &e->errs, now);
	return 0;
}

/* ---- one ref event ------------------------------------------------------ */

typedef struct ing_write {
	gs_resrow *rows;     /* rows to put */
	size_t nrows, caprows;
	char (*deletes)[40]; /* uids to delete */
	size_t ndel, capdel;
} ing_write;

static gs_resrow *write_row(ing_write *w)
{
	if (w->nrows == w->caprows) {
		w->caprows = w->caprows ? w->caprows * 2 : 16;
		w->rows = gs_xrealloc(w->rows, w->caprows * sizeof(*w->rows));
	}
	return &w->rows[w->nrows++];
}

static void write_delete(ing_write *w, const char *uid)
{
	if (w->ndel == w->capdel) {
		w->capdel = w->capdel ? w->capdel * 2 : 16;
		w->deletes = gs_xrealloc(w->deletes, w->capdel * sizeof(*w->deletes));
	}
	snprintf(w->deletes[w->ndel++], 40, "%s", uid);
}

/* Deep copy of a stored row. */
static void row_dup(gs_resrow *dst, const gs_resrow *src)
{
	*dst = *src; /* shallow: re-own the strings below */
	dst->path = gs_xstrdup(src->path);
	dst->api_version = gs_xstrdup(src->api_version);
	dst->labels = gs_xstrdup(src->labels);
	dst->annotations = gs_xstrdup(src->annotations);
	dst->spec = gs_xstrdup(src->spec);
	dst->body = gs_xmalloc(src->body_len + 1);
	memcpy(dst->body, src->body, src->body_len);
	dst->body[src->body_len] = 0;
	dst->content_hash = gs_xstrdup(src->content_hash);
	dst->revision = gs_xstrdup(src->revision);
	dst->blob_sha = gs_xstrdup(src->blob_sha ? src->blob_sha : "");
	dst->status = gs_xstrdup(src->status ? src->status : "{}");
}

static void write_release(ing_write *w)
{
	for (size_t i = 0; i < w->nrows; i++)
		gs_resrow_release(&w->rows[i]);
	free(w->rows);
	free(w->deletes);
	memset(w, 0, sizeof(*w));
}

static void add_common(json_t *data, const ing_event *iev, const char *path, const char *blob, const char *op)
{
	json_object_set_new(data, "path", json_string(path));
	json_object_set_new(data, "commitSha", json_string(iev->new_sha));
	json_object_set_new(data, "blobSha", json_string(blob));
	json_object_set_new(data, "operation", json_string(op));
}

static void emit_delete(ing_out *o, ing_write *w, const ing_event *iev, const ing_entry *e)
{
	char ident[256];
	json_t *data;
	const gs_resrow *r = &e->old_row;
	identity_of(ident, sizeof(ident), r->kind, r->ns, r->name);
	data = out_add(o, iev, "catalog-resource-deleted", e->path, ident);
	json_object_set_new(data, "resource", resource_json(r->api_version, r->kind, r->ns, r->name, r->uid));
	add_common(data, iev, e->path, e->old_blob, "delete");
	json_object_set_new(data, "generation", json_integer(r->generation));
	write_delete(w, r->uid);
}

static int emit_version(ing_out *o, ing_write *w, const ing_event *iev, ing_entry *e, const char *now, gs_error *err)
{
	char ident[256];
	const char *op = OP_NAMES[e->op];
	int accepted = e->adm.allowed;
	gs_resrow *row;
	json_t *data, *res;
	int error;

	identity_of(ident, sizeof(ident), e->res->kind, e->res->ns, e->res->name);
	row = write_row(w);
	if ((error = row_for(iev, e, accepted, now, row, err)) < 0) {
		w->nrows--;
		return error;
	}
	res = resource_json(e->res->api_version, e->res->kind, e->res->ns, e->res->name, row->uid);
	data = out_add(o, iev, "catalog-resource-parsed", e->path, ident);
	json_object_set_new(data, "resource", json_deep_copy(res));
	add_common(data, iev, e->path, e->new_blob, op);
	if (!accepted) {
		int truncated = 0;
		data = out_add(o, iev, "catalog-resource-validation-failed", e->path, ident);
		json_object_set_new(data, "resource", json_deep_copy(res));
		add_common(data, iev, e->path, e->new_blob, op);
		json_object_set_new(data, "stage", json_string("post-receive"));
		json_object_set_new(data, "errors", errors_json(&e->adm.errors, &truncated));
		json_object_set_new(data, "errorCount", json_integer((json_int_t)gs_cat_errors_count(&e->adm.errors)));
		if (truncated)
			json_object_set_new(data, "errorsTruncated", json_true());
	}
	data = out_add(o, iev, "catalog-admission-evaluated", e->path, ident);
	json_object_set_new(data, "resource", res);
	add_common(data, iev, e->path, e->new_blob, op);
	json_object_set_new(data, "allowed", json_boolean(accepted));
	json_object_set_new(data, "generation", json_integer(row->generation));
	json_object_set(data, "policies", e->adm.policies);
	json_object_set(data, "warnings", e->adm.warnings);
	{
		json_t *review = gs_adm_response_json(&e->adm, row->uid);
		json_object_set(data, "status", json_object_get(review, "status"));
		json_object_set(data, "conditions", json_object_get(review, "conditions"));
		json_decref(review);
	}
	if (!accepted) {
		int truncated = 0;
		json_object_set_new(data, "reason", json_pack("{s:s, s:s}", "code", e->adm.reason, "message", e->adm.message));
		/* the whole verdict in one event: what an API write answers */
		json_object_set_new(data, "errors", errors_json(&e->adm.errors, &truncated));
		if (truncated)
			json_object_set_new(data, "errorsTruncated", json_true());
	}
	return 0;
}

/* A resource document that failed before it had an identity: report it
 * by path; if the path held a resource, its last admitted version stays
 * and its status records the failure. */
static void emit_unparsable(ing_out *o, ing_write *w, const ing_event *iev, ing_entry *e, const char *now)
{
	int truncated = 0;
	json_t *data = out_add(o, iev, "catalog-resource-validation-failed", e->path, "");
	add_common(data, iev, e->path, e->new_blob, e->has_old_row ? "update" : "create");
	json_object_set_new(data, "stage", json_string("post-receive"));
	json_object_set_new(data, "errors", errors_json(&e->errs, &truncated));
	json_object_set_new(data, "errorCount", json_integer((json_int_t)gs_cat_errors_count(&e->errs)));
	if (truncated)
		json_object_set_new(data, "errorsTruncated", json_true());
	if (e->res && (e->res->kind[0] || e->res->name[0]))
		json_object_set_new(data, "resource", resource_json(e->res->api_version, e->res->kind, e->res->ns, e->res->name, NULL));
	if (e->has_old_row && !e->deletes_old) {
		gs_resrow *row = write_row(w);
		const gs_resrow *r = &e->old_row;
		row_dup(row, r);
		free(row->blob_sha);
		free(row->status);
		row->blob_sha = gs_xstrdup(e->new_blob);
		row->status = status_text(r->status, r->generation, NULL, iev->new_sha, &e->errs, now);
		row->resource_version++;
		row->updated_ms = gs_time_now_ms();
		json_object_set_new(data, "resource", resource_json(r->api_version, r->kind, r->ns, r->name, r->uid));
	}
}

static int ingest_emit(const ing_event *iev, ing_batch *b, ing_out *o, ing_write *w, gs_error *err)
{
	char now[40];
	size_t nres = 0;
	int from_metadata = 0, error;
	json_t *target;

	gs_time_now_rfc3339(now, sizeof(now));
	for (size_t i = 0; i < b->n; i++) {
		nres += b->v[i].is_resource || b->v[i].has_old_row;
		from_metadata |= b->v[i].res && b->v[i].res->ns_from_metadata;
	}
	if (nres == 0)
		return 0;
	target = out_add(o, iev, "catalog-namespace-target", NULL, iev->repo.ns);
	json_object_set_new(target, "namespace", json_string(iev->repo.ns));
	json_object_set_new(target, "determinedBy", json_string(from_metadata ? "metadata" : "repository"));
	json_object_set_new(target, "resources", json_integer((json_int_t)nres));
	json_object_set_new(target, "commitSha", json_string(iev->new_sha));
	/* deletes first, then the new versions in path order */
	for (size_t i = 0; i < b->n; i++)
		if (b->v[i].deletes_old)
			emit_delete(o, w, iev, &b->v[i]);
	{
		/* categories parents-first, then creates, then updates */
		size_t *order = gs_xcalloc(b->n + 1, sizeof(size_t));
		for (size_t i = 0; i < b->n; i++)
			order[i] = i;
		order_batch = b;
		qsort(order, b->n, sizeof(size_t), order_cmp);
		for (size_t k = 0; k < b->n; k++) {
			ing_entry *e = &b->v[order[k]];
			if (e->op == OP_CREATE || e->op == OP_UPDATE || e->op == OP_MOVE) {
				if ((error = emit_version(o, w, iev, e, now, err)) < 0) {
					free(order);
					return error;
				}
			} else if (e->op == OP_FAIL_KEEP) {
				emit_unparsable(o, w, iev, e, now);
			}
		}
		free(order);
	}
	return 0;
}

/* ---- dependents: re-checked when what they refer to changes -------------- */

/* Who refers to a kind, through which spec field (catalog-format.md 5.4). */
static const struct {
	const char *target;
	const char *kind;
	const char *field;
} REFERRERS[] = {{"Product", "ProductVariant", "productRef"},
		 {"Product", "Collection", "targetRef"},
		 {"CategoryTaxonomy", "Product", "categoryRef"},
		 {"CategoryTaxonomy", "CategoryTaxonomy", "parentRef"}};

typedef struct recheck_ctx {
	ing_view *view;
	const ing_event *iev;
	ing_batch *b;
	ing_out *o;
	ing_write *w;
	const char *now;
	json_t *queue;    /* [[kind, name], ...] identities whose referrers to re-check */
	json_t *seen;     /* {"Kind/name": true} re-checked already */
	const char *cause_kind, *cause_name;
	size_t done;
} recheck_ctx;

/* The batch decided this identity itself (new version or removal). */
static int in_batch(const ing_batch *b, const char *kind, const char *name)
{
	for (size_t i = 0; i < b->n; i++) {
		const ing_entry *e = &b->v[i];
		if (e->res && has_identity(e) && strcmp(e->res->kind, kind) == 0 && strcmp(e->res->name, name) == 0)
			return 1;
		if (e->has_old_row && strcmp(e->old_row.kind, kind) == 0 && strcmp(e->old_row.name, name) == 0)
			return 1;
	}
	return 0;
}

/* 1 when the checks' conditions differ from the stored ones. */
static int conditions_changed(json_t *old_status, const gs_adm_response *adm)
{
	json_t *conds = json_object_get(old_status, "conditions"), *c;
	size_t i, have = 0;
	json_array_foreach(conds, i, c) {
		const char *type = json_string_value(json_object_get(c, "type"));
		int found = 0;
		if (!type || strcmp(type, "AdmissionAccepted") == 0)
			continue;
		have++;
		for (int k = 0; k < adm->nconds && !found; k++) {
			const gs_adm_condition *n = &adm->conds[k];
			found = strcmp(n->type, type) == 0 &&
				strcmp(json_string_value(json_object_get(c, "status")) ? json_string_value(json_object_get(c, "status")) : "",
				       n->status ? "True" : "False") == 0 &&
				json_string_value(json_object_get(c, "reason")) &&
				strcmp(json_string_value(json_object_get(c, "reason")), n->reason) == 0 &&
				json_string_value(json_object_get(c, "message")) &&
				strcmp(json_string_value(json_object_get(c, "message")), n->message) == 0;
		}
		if (!found)
			return 1;
	}
	return have != (size_t)adm->nconds;
}

/* The stored status with the checks' conditions replaced (AdmissionAccepted
 * and everything else kept). */
static char *recheck_status(json_t *old_status, int64_t generation, const gs_adm_response *adm, const char *now)
{
	json_t *st = json_deep_copy(old_status), *conds = json_array(), *c;
	size_t i;
	char *text;
	json_array_foreach(json_object_get(old_status, "conditions"), i, c) {
		const char *type = json_string_value(json_object_get(c, "type"));
		if (type && strcmp(type, "AdmissionAccepted") == 0)
			json_array_append(conds, c);
	}
	for (int k = 0; k < adm->nconds; k++)
		json_array_append_new(conds, condition(old_status, adm->conds[k].type, adm->conds[k].status, generation,
						       adm->conds[k].reason, adm->conds[k].message, now));
	json_object_set_new(st, "conditions", conds);
	text = json_dumps(st, JSON_COMPACT);
	json_decref(st);
	return text;
}

static void recheck_emit(recheck_ctx *c, const gs_resrow *row, const gs_adm_response *adm)
{
	char ident[256], *idpath;
	json_t *data, *review;
	identity_of(ident, sizeof(ident), row->kind, row->ns, row->name);
	/* an id of its own: the same identity may be evaluated for its own
	 * version by a later ref event */
	idpath = gs_xasprintf("recheck:%s", row->path);
	data = out_add(c->o, c->iev, "catalog-admission-evaluated", idpath, ident);
	free(idpath);
	json_object_set_new(data, "resource", resource_json(row->api_version, row->kind, row->ns, row->name, row->uid));
	add_common(data, c->iev, row->path, row->blob_sha, "recheck");
	json_object_set_new(data, "allowed", json_true());
	json_object_set_new(data, "generation", json_integer(row->generation));
	json_object_set_new(data, "policies", json_array());
	json_object_set_new(data, "warnings", json_array());
	review = gs_adm_response_json(adm, row->uid);
	json_object_set_new(data, "status", json_pack("{s:i, s:s, s:s}", "code", 200, "reason", "", "message", ""));
	json_object_set(data, "conditions", json_object_get(review, "conditions"));
	json_decref(review);
	json_object_set_new(data, "trigger", json_pack("{s:s, s:s}", "kind", c->cause_kind, "name", c->cause_name));
}

/* Re-runs the checks for one stored referrer; stores and reports the
 * conditions when they changed. */
static int recheck_row(const gs_resrow *row, void *payload)
{
	recheck_ctx *c = payload;
	gs_adm_view v = {view_lookup, view_sku_owner, c->view};
	gs_adm_request q;
	gs_adm_response adm;
	json_t *old = NULL, *spec = NULL, *labels = NULL;
	char key[128];

	snprintf(key, sizeof(key), "%s/%s", row->kind, row->name);
	if (json_object_get(c->seen, key) || in_batch(c->b, row->kind, row->name) || c->done >= GS_MAX_RECHECK)
		return 0;
	json_object_set_new(c->seen, key, json_true());
	c->done++;
	old = json_loads(row->status ? row->status : "{}", 0, NULL);
	/* a resource whose latest version was denied: its conditions are
	 * that version's; the next admitted version re-evaluates them */
	if (!old || json_object_get(old, "admissionFailure"))
		goto out;
	spec = json_loads(row->spec, 0, NULL);
	labels = json_loads(row->labels, 0, NULL);
	memset(&q, 0, sizeof(q));
	q.operation = GS_ADM_UPDATE;
	q.object.kind = row->kind;
	q.object.ns = row->ns;
	q.object.name = row->name;
	q.object.spec = spec;
	q.object.labels = labels;
	q.origin = "git";
	q.user = "system";
	gs_adm_response_init(&adm);
	gs_admission_review(&q, &v, &adm);
	/* only conditions move here; a check that could not read what it
	 * needed leaves the stored status as it is */
	if (adm.code != 500 && conditions_changed(old, &adm)) {
		gs_resrow *nrow = write_row(c->w);
		row_dup(nrow, row);
		free(nrow->status);
		nrow->status = recheck_status(old, row->generation, &adm, c->now);
		nrow->resource_version++;
		nrow->updated_ms = gs_time_now_ms();
		recheck_emit(c, row, &adm);
		/* a category's Acyclic flips for everything below it too */
		if (strcmp(row->kind, "CategoryTaxonomy") == 0)
			json_array_append_new(c->queue, json_pack("[s, s]", row->kind, row->name));
	}
	gs_adm_response_release(&adm);
out:
	json_decref(spec);
	json_decref(labels);
	json_decref(old);
	return 0;
}

static void queue_batch_targets(recheck_ctx *c)
{
	for (size_t i = 0; i < c->b->n; i++) {
		const ing_entry *e = &c->b->v[i];
		if (entry_valid_version(e))
			json_array_append_new(c->queue, json_pack("[s, s]", e->res->kind, e->res->name));
		if (e->deletes_old)
			json_array_append_new(c->queue, json_pack("[s, s]", e->old_row.kind, e->old_row.name));
	}
}

/* Stored resources that refer to what this change set created, changed or
 * removed get their conditions re-evaluated against the namespace as it
 * is now (a variant pushed before its product becomes ProductResolved
 * when the product arrives). Bounded by GS_MAX_RECHECK per ref event. */
static int ingest_recheck(gs_db *db, const ing_event *iev, ing_batch *b, ing_out *o, ing_write *w, gs_error *err)
{
	ing_view view = {db, iev, b, NULL, 0, 0};
	recheck_ctx c;
	char now[40];
	int error = 0;

	gs_time_now_rfc3339(now, sizeof(now));
	memset(&c, 0, sizeof(c));
	c.view = &view;
	c.iev = iev;
	c.b = b;
	c.o = o;
	c.w = w;
	c.now = now;
	c.queue = json_array();
	c.seen = json_object();
	queue_batch_targets(&c);
	for (size_t qi = 0; qi < json_array_size(c.queue) && !error; qi++) {
		json_t *t = json_array_get(c.queue, qi);
		c.cause_kind = json_string_value(json_array_get(t, 0));
		c.cause_name = json_string_value(json_array_get(t, 1));
		for (size_t k = 0; k < sizeof(REFERRERS) / sizeof(REFERRERS[0]) && !error; k++)
			if (strcmp(REFERRERS[k].target, c.cause_kind) == 0)
				error = gs_resstore_each_referring(db, iev->repo.ns, REFERRERS[k].kind, REFERRERS[k].field,
								   c.cause_name, GS_MAX_RECHECK, recheck_row, &c, err);
	}
	if (c.done >= GS_MAX_RECHECK)
		GS_LOG(GS_LOG_WARN, "ingest", "event %s: re-check stopped at %d referrers", iev->id, GS_MAX_RECHECK);
	for (size_t i = 0; i < view.ncache; i++)
		json_decref(view.cache[i]);
	free(view.cache);
	json_decref(c.queue);
	json_decref(c.seen);
	return error;
}

static int ingest_commit(gs_db *db, const gs_ingest_ctx *ctx, ing_out *o, ing_write *w, int64_t logseq, gs_error *err)
{
	size_t appended = 0;
	int64_t head = 0;
	int error;
	out_fix(o);
	if ((error = gs_db_begin(db, err)) < 0)
		return error;
	if ((error = gs_evlog_append_tx(db, o->specs, o->n, NULL, &appended, &head, err)) < 0)
		goto out;
	/* rows only when the events are new: a replay must not bump versions */
	if (appended == o->n || o->n == 0) {
		for (size_t i = 0; i < w->ndel && !error; i++)
			error = gs_resstore_delete(db, w->deletes[i], err);
		for (size_t i = 0; i < w->nrows && !error; i++)
			error = gs_resstore_put(db, &w->rows[i], err);
		if (error)
			goto out;
	}
	if ((error = gs_consumer_ack_tx(db, GS_CONSUMER_CATALOG, logseq, err)) < 0)
		goto out;
	if (o->n && getenv("GITSTORE_TEST_FAULT") && strcmp(getenv("GITSTORE_TEST_FAULT"), "mid-catalog") == 0) {
		/* test-only crash point: events and rows written, not committed */
		GS_LOG(GS_LOG_WARN, "ingest", "test fault mid-catalog: exiting");
		_exit(137);
	}
	error = gs_db_commit(db, err);
out:
	if (error < 0) {
		gs_db_rollback(db);
	} else if (appended) {
		if (ctx->metrics)
			atomic_fetch_add(&ctx->metrics->events_appended, (long long)appended);
		gs_evnotify_bump(ctx->notify, head);
	}
	return error;
}

/* A release ref created or moved (a tag matching the repository's
 * release-refs, or an update of its publish branch): release admission.
 * 1 when handled, 0 when not a release event, <0 on error. */
static int ingest_release_maybe(const gs_ingest_ctx *ctx, gs_db *db, int64_t logseq, const ing_event *iev,
				const gs_repo_settings *set, const char *type, gs_error *err)
{
	gs_refpolicy pol;
	gs_ingest_relev rev;
	json_t *data = json_object_get(iev->ev, "data");
	int tag = type && (strstr(type, ".tag-created.") || strstr(type, ".tag-updated."));
	int publish = set->publish_branch[0] && strcmp(iev->ref, set->publish_branch) == 0 &&
		      !gs_str_is_zero_oid(iev->new_sha);
	int error;
	memset(&pol, 0, sizeof(pol));
	pol.release_refs = set->release_refs;
	if (strcmp(iev->repo.name, GS_SYSTEM_REPO) == 0 || !((tag && gs_refpolicy_is_release(&pol, iev->ref)) || publish))
		return 0;
	memset(&rev, 0, sizeof(rev));
	rev.id = iev->id;
	rev.correlation = iev->correlation;
	rev.ref = iev->ref;
	rev.commit = tag ? json_string_value(json_object_get(data, "targetSha")) : iev->new_sha;
	if (!rev.commit)
		rev.commit = GS_ZERO_OID;
	rev.ref_sha = iev->new_sha;
	rev.push_id = iev->push_id;
	rev.actor = iev->actor;
	rev.role = iev->role;
	rev.repo = &iev->repo;
	error = gs_ingest__release(ctx, db, logseq, &rev, err);
	return error < 0 ? error : 1;
}

static int ingest_event(const gs_ingest_ctx *ctx, gs_db *db, int64_t logseq, const char *json, gs_error *err)
{
	ing_event iev;
	ing_batch b;
	ing_out o;
	ing_write w;
	gs_repo_settings set;
	gs_gitrepo *git = NULL;
	json_t *data;
	char *path = NULL;
	int error = 0;

	memset(&iev, 0, sizeof(iev));
	memset(&b, 0, sizeof(b));
	memset(&o, 0, sizeof(o));
	memset(&w, 0, sizeof(w));
	iev.ev = json_loads(json, 0, NULL);
	data = json_object_get(iev.ev, "data");
	iev.id = json_string_value(json_object_get(iev.ev, "id"));
	iev.ref = json_string_value(json_object_get(data, "ref"));
	iev.old_sha = json_string_value(json_object_get(data, "oldSha"));
	iev.new_sha = json_string_value(json_object_get(data, "newSha"));
	iev.push_id = json_string_value(json_object_get(data, "pushId"));
	iev.correlation = json_string_value(json_object_get(iev.ev, "correlationid"));
	iev.actor = json_object_get(data, "actor");
	if (iev.push_id) {
		gs_push_rec p;
		gs_error ignore = GS_ERROR_INIT;
		if (gs_journal_push_get(db, iev.push_id, &p, &ignore) == 0)
			memcpy(iev.role, p.role, sizeof(iev.role));
	}
	if (!iev.id || !iev.ref || !iev.old_sha || !iev.new_sha)
		goto skip; /* not a ref event we can read: nothing to derive */
	error = gs_registry_repo_by_uid(db, json_string_value(json_object_get(json_object_get(data, "repository"), "uid")),
					&iev.repo, err);
	if (error == GS_ENOTFOUND) {
		gs_error_clear(err);
		goto skip; /* repository gone */
	}
	/* a busy database is an error to retry, never a reason to skip */
	if (error < 0 || (error = gs_reposettings_load(db, iev.repo.uid, &set, err)) < 0)
		goto out;
	if ((error = ingest_release_maybe(ctx, db, logseq, &iev, &set, json_string_value(json_object_get(iev.ev, "type")),
					  err)) != 0) {
		if (error > 0)
			error = 0; /* handled: release admission committed with the cursor */
		goto out;
	}
	if (strcmp(iev.ref, set.draft_branch) != 0)
		goto skip; /* feature branches and other tags get ref events only */
	path = gs_gitrepo_path(ctx->data_dir, iev.repo.uid);
	if ((error = gs_gitrepo_open(&git, path, NULL, err)) < 0 ||
	    (error = gs_gitrepo_diff(git, iev.old_sha, iev.new_sha, collect_change, &b, err)) < 0 ||
	    (error = ingest_parse(db, git, &iev, &b, err)) < 0)
		goto out;
	ingest_plan(&b, iev.repo.uid);
	if ((error = ingest_admit(db, &iev, &b, err)) < 0)
		goto out;
	if ((error = ingest_emit(&iev, &b, &o, &w, err)) < 0 || (error = ingest_recheck(db, &iev, &b, &o, &w, err)) < 0)
		goto out;
	error = ingest_commit(db, ctx, &o, &w, logseq, err);
	goto out;
skip:
	error = ingest_commit(db, ctx, &o, &w, logseq, err);
out:
	write_release(&w);
	out_release(&o);
	batch_release(&b);
	gs_gitrepo_close(git);
	free(path);
	json_decref(iev.ev);
	return error;
}

/* ---- the loop ---------------------------------------------------------- */

/* The catalog worker's durable consumer (events/consumer.h): the ref
 * events it derives catalog events from. */
static const char *const INGEST_TYPES[] = {"branch-created", "branch-updated", "branch-force-pushed",
					   "branch-deleted", "tag-created",    "tag-updated",
					   NULL};

/* A ref event of a push may be processed once the push is done (its
 * push-completed, or its rejection of the rest, is in the log). Events
 * without a push (reconcile) are ready at once. */
static int push_complete(gs_db *db, const char *json)
{
	json_t *ev = json_loads(json, 0, NULL);
	const char *push_id = json_string_value(json_object_get(json_object_get(ev, "data"), "pushId"));
	gs_push_rec p;
	gs_error err = GS_ERROR_INIT;
	int done = 1;
	if (push_id && gs_journal_push_get(db, push_id, &p, &err) == 0)
		done = strcmp(p.state, "done") == 0;
	json_decref(ev);
	return done;
}

/* Gives the leases from d[from] on back, uncounted: they were not looked
 * at, and a later event of a repository must not overtake an earlier one. */
static void ingest_give_back(gs_db *db, const gs_delivery *d, size_t from, size_t n)
{
	for (size_t i = from; i < n; i++) {
		gs_error ignore = GS_ERROR_INIT;
		gs_consumer_defer(db, GS_CONSUMER_CATALOG, d[i].logseq, 0, &ignore);
	}
}

/* Up to INGEST_BATCH ref events, in order: how many were processed (0:
 * caught up, or waiting for a push to complete), or <0 (that event is
 * handed back for a retry, and the rest of the batch with it). */
static int ingest_pass(const gs_ingest_ctx *ctx, gs_db *db, gs_error *err)
{
	gs_delivery *d = NULL;
	size_t n = 0, i;
	int64_t due = 0;
	int error = 0, processed = 0;

	if ((error = gs_consumer_fetch(db, ctx->notify, GS_CONSUMER_CATALOG, INGEST_BATCH, &d, &n, &due, err)) < 0)
		return error;
	for (i = 0; i < n; i++) {
		if (!push_complete(db, d[i].json)) {
			/* causes before effects: a push's catalog events follow its
			 * push-completed; come back when it is appended */
			ingest_give_back(db, d, i, n);
			break;
		}
		if ((error = ingest_event(ctx, db, d[i].logseq, d[i].json, err)) < 0) {
			gs_error ignore = GS_ERROR_INIT;
			GS_LOG(GS_LOG_ERROR, "ingest", "event %lld: %s (will retry)", (long long)d[i].logseq, err->msg);
			gs_consumer_nak(db, NULL, GS_CONSUMER_CATALOG, &d[i].logseq, 1, 0, NULL, &ignore);
			ingest_give_back(db, d, i + 1, n);
			break;
		}
		processed++;
	}
	gs_deliveries_free(d, n);
	return error < 0 ? error : (i < n ? 0 : processed);
}

int gs_ingest_run_once(const gs_ingest_ctx *ctx, gs_error *err)
{
	gs_db *db = gs_dbpool_get(ctx->pool);
	int n;
	while ((n = ingest_pass(ctx, db, err)) > 0)
		;
	gs_dbpool_put(ctx->pool, db);
	return n < 0 ? n : 0;
}

static int ingest_pass_all(const void *ctx, gs_error *err)
{
	return gs_ingest_run_once(ctx, err);
}

int gs_ingest_start(gs_ingest **out, const gs_ingest_ctx *ctx, gs_error *err)
{
	gs_ingest *w;
	gs_db *db = gs_dbpool_get(ctx->pool);
	int error = gs_consumer_builtin(db, GS_CONSUMER_CATALOG, INGEST_TYPES, err);
	gs_dbpool_put(ctx->pool, db);
	if (error < 0)
		return error;
	w = gs_xcalloc(1, sizeof(*w));
	w->ctx = *ctx;
	if ((error = gs_evworker_start(&w->worker, "ingest", ctx->notify, ingest_pass_all, &w->ctx, err)) < 0) {
		free(w);
		return error;
	}
	*out = w;
	return 0;
}

void gs_ingest_stop(gs_ingest *w)
{
	if (!w)
		return;
	/* the caller has closed the notifier: the loop sees it and ends */
	gs_evworker_stop(w->worker);
	free(w);
}
