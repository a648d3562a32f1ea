/*
 * lifecycle/lifecycle.c -- the lifecycle controller (see lifecycle.h).
 * SPDX-License-Identifier: MIT
 */
#include "lifecycle/lifecycle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "events/consumer.h"
#include "events/evlog.h"
#include "events/evworker.h"
#include "limits.h"
#include "log/log.h"
#include "store/journal.h"
#include "store/pubstore.h"
#include "store/registry.h"
#include "store/resstore.h"
#include "util/alloc.h"
#include "util/hash.h"
#include "util/str.h"
#include "util/time.h"


struct gs_lifecycle {
	gs_ingest_ctx ctx;
	gs_evworker *worker;
};

/* The event being handled. */
typedef struct lc_cause {
	const char *id;
	const char *type; /* taxonomy name */
	const char *correlation;
	json_t *data;
	gs_repo_info repo;
} lc_cause;

/* Events appended by one apply. */
typedef struct lc_out {
	gs_event_spec *specs;
	json_t **datas;
	char (*ids)[GS_EVENT_ID_HEX + 1];
	char (*subjects)[256];
	size_t n, cap;
} lc_out;

static json_t *lc_add(lc_out *o, const lc_cause *c, const char *type, const char *causation, const char *subject)
{
	const char *parts[] = {"lifecycle", type, causation, subject};
	if (o->n == o->cap) {
		o->cap = o->cap ? o->cap * 2 : 16;
		o->specs = gs_xrealloc(o->specs, o->cap * sizeof(*o->specs));
		o->datas = gs_xrealloc(o->datas, o->cap * sizeof(*o->datas));
		o->ids = gs_xrealloc(o->ids, o->cap * sizeof(*o->ids));
		o->subjects = gs_xrealloc(o->subjects, o->cap * sizeof(*o->subjects));
	}
	gs_evlog_make_id(o->ids[o->n], parts, 4);
	snprintf(o->subjects[o->n], sizeof(o->subjects[o->n]), "%s", subject);
	memset(&o->specs[o->n], 0, sizeof(o->specs[o->n]));
	o->specs[o->n].type = type;
	o->specs[o->n].repo = &c->repo;
	o->specs[o->n].correlation = c->correlation;
	o->specs[o->n].causation = causation;
	o->datas[o->n] = json_object();
	o->specs[o->n].data = o->datas[o->n];
	return o->datas[o->n++];
}

static void lc_out_release(lc_out *o)
{
	for (size_t i = 0; i < o->n; i++)
		json_decref(o->datas[i]);
	free(o->specs);
	free(o->datas);
	free(o->ids);
	free(o->subjects);
}

/* ---- the current release ---------------------------------------------- */

typedef struct lc_find {
	gs_db *db;
	gs_release found;
	int has;
} lc_find;

static int lc_find_cb(const gs_release *r, void *payload)
{
	lc_find *f = payload;
	char sha[41];
	int64_t version;
	gs_error err = GS_ERROR_INIT;
	if (gs_journal_ref_get(f->db, r->repo_uid, r->ref, sha, &version, &err) < 0)
		return 0;
	if (strcmp(sha, r->ref_sha) != 0)
		return 0; /* the ref was deleted or moved since */
	f->found = *r;
	f->has = 1;
	return 1;
}

/* The newest passed release whose ref still has its value. */
static int lc_target(gs_db *db, const char *repo_uid, gs_release *out, int *has, gs_error *err)
{
	lc_find f;
	int error;
	memset(&f, 0, sizeof(f));
	f.db = db;
	error = gs_release_each_passed(db, repo_uid, lc_find_cb, &f, err);
	if (error < 0)
		return error;
	*has = f.has;
	if (f.has)
		*out = f.found;
	return 0;
}

/* ---- applying a release ----------------------------------------------- */

typedef struct lc_apply {
	gs_db *db;
	const lc_cause *cause;
	const gs_release *target; /* NULL: empty view */
	const char *causation;
	lc_out *out;
	gs_pubrow *rest;          /* rows of the old view not in the target */
	size_t nrest, caprest;
	gs_error *err;
	int error;
	int64_t now_ms;
} lc_apply;

static json_t *lc_resource(const char *api_version, const char *kind, const char *ns, const char *name, const char *uid)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s}", "apiVersion", api_version, "kind", kind, "namespace", ns, "name",
			 name, "uid", uid);
}

static json_t *lc_release_json(const gs_release *r)
{
	return r ? json_pack("{s:s, s:s}", "ref", r->ref, "commitSha", r->commit) : json_null();
}

/* The published copy of one snapshot row: uid, generation, since. */
static void lc_identity(const gs_snapjoin *j, int64_t now_ms, gs_pubrow *pub)
{
	if (j->has_pub)
		snprintf(pub->uid, sizeof(pub->uid), "%s", j->pub_uid);
	else if (j->has_draft)
		snprintf(pub->uid, sizeof(pub->uid), "%s", j->draft_uid);
	else
		gs_uuid_v7(pub->uid, NULL);
	/* publishedGeneration: the draft generation this content is; else the
	 * one it already had; 0 when the draft never held it as admitted */
	if (j->has_draft && j->draft_admitted && strcmp(j->draft_hash, j->snap.content_hash) == 0)
		pub->generation = j->draft_generation;
	else if (j->has_pub && strcmp(j->pub_hash, j->snap.content_hash) == 0)
		pub->generation = j->pub_generation;
	else
		pub->generation = 0;
	pub->since_ms = j->has_pub ? j->pub_since_ms : now_ms;
}

static int lc_publish_cb(const gs_snapjoin *j, void *payload)
{
	lc_apply *a = payload;
	const gs_pubrow *snap = &j->snap;
	char subject[256];
	json_t *data;
	gs_pubrow pub;
	/* decided before the write below changes the joined row */
	int changed = !j->has_pub || strcmp(j->pub_hash, snap->content_hash) != 0;

	pub = *snap; /* shallow: strings stay the snapshot's */
	lc_identity(j, a->now_ms, &pub);
	pub.release_ref = (char *)a->target->ref;
	snprintf(pub.release_commit, sizeof(pub.release_commit), "%s", a->target->commit);
	pub.published_ms = a->now_ms;
	if ((a->error = gs_pubstore_put(a->db, &pub, a->err)) < 0)
		return 1;
	if (!changed)
		return 0;
	snprintf(subject, sizeof(subject), "%s/%s/%s", snap->kind, snap->ns, snap->name);
	data = lc_add(a->out, a->cause, "draft-published", a->causation, subject);
	json_object_set_new(data, "resource", lc_resource(snap->api_version, snap->kind, snap->ns, snap->name, pub.uid));
	json_object_set_new(data, "generation", json_integer(pub.generation));
	json_object_set_new(data, "release", lc_release_json(a->target));
	return 0;
}

/* Collects a row of the old view the target does not have (deleted after
 * the query, not while it runs). */
static int lc_rest_cb(const gs_pubrow *r, void *payload)
{
	lc_apply *a = payload;
	gs_pubrow *k;
	if (a->nrest == a->caprest) {
		a->caprest = a->caprest ? a->caprest * 2 : 16;
		a->rest = gs_xrealloc(a->rest, a->caprest * sizeof(*a->rest));
	}
	k = &a->rest[a->nrest++];
	memset(k, 0, sizeof(*k));
	snprintf(k->ns, sizeof(k->ns), "%s", r->ns);
	snprintf(k->kind, sizeof(k->kind), "%s", r->kind);
	snprintf(k->name, sizeof(k->name), "%s", r->name);
	snprintf(k->uid, sizeof(k->uid), "%s", r->uid);
	k->api_version = gs_xstrdup(r->api_version);
	k->generation = r->generation;
	return 0;
}

/* What is left of the old view is not in the target: unpublish it. */
static int lc_unpublish_rest(lc_apply *a)
{
	int error;
	if ((error = gs_pubstore_each_other(a->db, a->cause->repo.uid, a->target ? a->target->ref : NULL,
					    a->target ? a->target->commit : NULL, lc_rest_cb, a, a->err)) < 0)
		return error;
	for (size_t i = 0; i < a->nrest; i++) {
		const gs_pubrow *r = &a->rest[i];
		char subject[256];
		json_t *data;
		if ((error = gs_pubstore_delete(a->db, r->ns, r->kind, r->name, a->err)) < 0 ||
		    (error = gs_pubstore_withdrawn_put(a->db, a->cause->repo.uid, r->ns, r->kind, r->name, a->now_ms,
						       a->err)) < 0)
			return error;
		snprintf(subject, sizeof(subject), "%s/%s/%s", r->kind, r->ns, r->name);
		data = lc_add(a->out, a->cause, "resource-unpublished", a->causation, subject);
		json_object_set_new(data, "resource", lc_resource(r->api_version, r->kind, r->ns, r->name, r->uid));
		json_object_set_new(data, "generation", json_integer(r->generation));
		json_object_set_new(data, "release", lc_release_json(a->target));
	}
	return 0;
}

/* Swaps the repository's view to target (NULL: empty); withdrawn is the
 * release the view showed when its ref went away. */
static int lc_swap(gs_db *db, const lc_cause *c, const gs_release *target, const gs_release *withdrawn, lc_out *out,
		   gs_error *err)
{
	lc_apply a;
	int error;
	memset(&a, 0, sizeof(a));
	a.db = db;
	a.cause = c;
	a.target = target;
	a.out = out;
	a.err = err;
	a.causation = c->id;
	a.now_ms = gs_time_now_ms();
	if (withdrawn) {
		json_t *data = lc_add(out, c, "release-withdrawn", c->id, withdrawn->ref);
		json_object_set_new(data, "release", lc_release_json(withdrawn));
		json_object_set_new(data, "resources", json_integer(withdrawn->resources));
		json_object_set_new(data, "rolledBackTo", lc_release_json(target));
		a.causation = out->ids[out->n - 1];
	}
	if (target) {
		error = gs_pubstore_snapshot_join(db, c->repo.uid, target->commit, lc_publish_cb, &a, err);
		if (a.error < 0 || error < 0) {
			error = a.error < 0 ? a.error : error;
			goto out;
		}
	}
	if ((error = lc_unpublish_rest(&a)) < 0 ||
	    (error = gs_pubstore_withdrawn_prune(db, c->repo.uid, err)) < 0)
		goto out;
	error = gs_release_current_set(db, c->repo.uid, target, err);
out:
	/* causation pointers into out->ids may move while adding: fixed below */
	for (size_t i = 0; i < a.nrest; i++)
		gs_pubrow_release(&a.rest[i]);
	free(a.rest);
	return error;
}

static void lc_fix(lc_out *o, const char *withdrawn_cause)
{
	for (size_t i = 0; i < o->n; i++) {
		o->specs[i].id = o->ids[i];
		o->specs[i].subject = o->subjects[i];
		/* per-resource events of a rollback are caused by the withdrawal */
		if (withdrawn_cause && i > 0)
			o->specs[i].causation = o->ids[0];
	}
}

/* One event: bring the repository's view to its current release.
 * 1 when the view changed, 0 when it was already current. */
static int lc_handle(const gs_ingest_ctx *ctx, gs_db *db, const lc_cause *c, gs_error *err)
{
	gs_release cur, target;
	int has_cur, has_target = 0, error, withdrawn = 0;
	lc_out out;
	size_t appended = 0;
	int64_t head = 0;

	memset(&out, 0, sizeof(out));
	if ((error = gs_db_begin(db, err)) < 0)
		return error;
	error = gs_release_current_get(db, c->repo.uid, &cur, err);
	has_cur = error == 0;
	if (error == GS_ENOTFOUND) {
		gs_error_clear(err);
		error = 0;
	}
	if (error < 0 || (error = lc_target(db, c->repo.uid, &target, &has_target, err)) < 0)
		goto fail;
	if (has_cur == has_target && (!has_cur || (strcmp(cur.ref, target.ref) == 0 &&
						    strcmp(cur.commit, target.commit) == 0))) {
		gs_db_rollback(db); /* already current: a redelivery, or nothing to do */
		return 0;
	}
	/* a newer release replaces the shown one, whichever event is being
	 * handled (behind the catalog worker, the controller may handle v2's
	 * release-created when v3 has passed too); the view goes back to an
	 * older release (or none) only when the shown release's ref went
	 * away: a withdrawal and a rollback */
	withdrawn = has_cur && (!has_target || target.logseq < cur.logseq);
	if ((error = lc_swap(db, c, has_target ? &target : NULL, withdrawn ? &cur : NULL, &out, err)) < 0)
		goto fail;
	lc_fix(&out, withdrawn ? c->id : NULL);
	if ((error = gs_evlog_append_tx(db, out.specs, out.n, NULL, &appended, &head, err)) < 0 ||
	    (error = gs_db_commit(db, err)) < 0)
		goto fail;
	if (appended) {
		if (ctx->metrics)
			atomic_fetch_add(&ctx->metrics->events_appended, (long long)appended);
		gs_evnotify_bump(ctx->notify, head);
	}
	lc_out_release(&out);
	return 1;
fail:
	gs_db_rollback(db);
	lc_out_release(&out);
	return error;
}

/* ---- the consumer ------------------------------------------------------ */

static int lc_event(const gs_ingest_ctx *ctx, gs_db *db, const char *json, gs_error *err)
{
	json_t *ev = json_loads(json, 0, NULL);
	const char *type = json_string_value(json_object_get(ev, "type"));
	const char *repo_uid = json_string_value(json_object_get(json_object_get(json_object_get(ev, "data"),
										   "repository"),
								 "uid"));
	lc_cause c;
	int error = 0;
	memset(&c, 0, sizeof(c));
	c.id = json_string_value(json_object_get(ev, "id"));
	c.correlation = json_string_value(json_object_get(ev, "correlationid"));
	c.data = json_object_get(ev, "data");
	/* dev.gitstore.<name>.v1 -> <name> */
	c.type = type && strlen(type) > 16 ? type + 13 : "";
	if (c.id && repo_uid && (error = gs_registry_repo_by_uid(db, repo_uid, &c.repo, err)) == 0) {
		char name[64];
		snprintf(name, sizeof(name), "%.*s", (int)(strlen(c.type) > 3 ? strlen(c.type) - 3 : 0), c.type);
		c.type = name;
		error = lc_handle(ctx, db, &c, err);
		if (error > 0 && getenv("GITSTORE_TEST_FAULT") &&
		    strcmp(getenv("GITSTORE_TEST_FAULT"), "lifecycle-before-ack") == 0) {
			/* test-only crash point: applied, not acknowledged */
			GS_LOG(GS_LOG_WARN, "lifecycle", "test fault lifecycle-before-ack: exiting");
			_exit(137);
		}
	} else if (error == GS_ENOTFOUND) {
		gs_error_clear(err);
		error = 0; /* repository gone */
	}
	json_decref(ev);
	return error;
}

/* The controller's durable consumer (events/consumer.h): release
 * outcomes and the ref deletions that can withdraw a release. */
static const char *const LC_TYPES[] = {"release-created", "release-rejected", "tag-deleted", "branch-deleted", NULL};

int gs_lifecycle_run_once(const gs_ingest_ctx *ctx, gs_error *err)
{
	gs_db *db = gs_dbpool_get(ctx->pool);
	int error = 0;
	for (;;) {
		gs_delivery *d = NULL;
		size_t n = 0;
		int64_t due = 0;
		if ((error = gs_consumer_fetch(db, ctx->notify, GS_CONSUMER_LIFECYCLE, 1, &d, &n, &due, err)) < 0 || n == 0) {
			gs_deliveries_free(d, n);
			break;
		}
		/* applied in its own transaction, acknowledged after it commits:
		 * a crash in between redelivers it, and the re-apply is a no-op */
		if ((error = lc_event(ctx, db, d[0].json, err)) < 0) {
			gs_error ignore = GS_ERROR_INIT;
			gs_consumer_nak(db, NULL, GS_CONSUMER_LIFECYCLE, &d[0].logseq, 1, 0, NULL, &ignore);
		} else {
			error = gs_consumer_ack(db, GS_CONSUMER_LIFECYCLE, &d[0].logseq, 1, NULL, err);
		}
		gs_deliveries_free(d, n);
		if (error < 0)
			break;
	}
	gs_dbpool_put(ctx->pool, db);
	return error;
}

static int lc_pass(const void *ctx, gs_error *err)
{
	return gs_lifecycle_run_once(ctx, err);
}

int gs_lifecycle_start(gs_lifecycle **out, const gs_ingest_ctx *ctx, gs_error *err)
{
	gs_lifecycle *l;
	gs_db *db = gs_dbpool_get(ctx->pool);
	int error = gs_consumer_builtin(db, GS_CONSUMER_LIFECYCLE, LC_TYPES, err);
	gs_dbpool_put(ctx->pool, db);
	if (error < 0)
		return error;
	l = gs_xcalloc(1, sizeof(*l));
	l->ctx = *ctx;
	if ((error = gs_evworker_start(&l->worker, "lifecycle", ctx->notify, lc_pass, &l->ctx, err)) < 0) {
		free(l);
		return error;
	}
	*out = l;
	return 0;
}

void gs_lifecycle_stop(gs_lifecycle *l)
{
	if (!l)
		return;
	gs_evworker_stop(l->worker);
	free(l);
}
