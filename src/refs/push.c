/*
 * refs/push.c -- push sessions, authorisation, ref journal, ref events,
 * start-up recovery and reconcile.
 *
 * Owns: the in-memory session list and the per-ref in-flight set.
 * Threads: hook worker threads and MHD connection threads call in
 *   concurrently; `mu` guards sessions and in-flight refs. No lock is held
 *   across database or git calls.
 * Invariants:
 *   - a ref event is appended only for a ref git has committed (committed
 *     phase, or recovery that saw the new value on disk);
 *   - event ids are deterministic, so any replay is dropped by the log;
 *   - for one ref, "prepared" of a later transaction waits until the
 *     earlier one's events are appended, so per-ref order in the log
 *     equals the order git applied the updates.
 * SPDX-License-Identifier: MIT
 */
#include "refs/push.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "events/evlog.h"
#include "git/gitrepo.h"
#include "limits.h"
#include "log/log.h"
#include "refs/precheck.h"
#include "refs/refpolicy.h"
#include "refs/reposettings.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/hash.h"
#include "util/str.h"
#include "util/time.h"


typedef struct refs_session {
	char push_id[65];
	gs_repo_info repo;
	gs_principal who;
	char via[16];
	gs_ref_update *requested;
	size_t nrequested;
	int rejected; /* a push-rejected was recorded in pre-receive */
	struct refs_session *next;
} refs_session;

typedef struct refs_inflight {
	char repo_uid[37];
	char *ref;
	char push_id[65];
	struct refs_inflight *next;
} refs_inflight;

struct gs_refs {
	gs_refs_ctx ctx;
	char *data_dir;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	refs_session *sessions;
	refs_inflight *inflight;
	const char *fault; /* GITSTORE_TEST_FAULT: test-only crash points */
	/* API writes of one repository run one at a time (striped by
	 * repository uid): they never race each other, only pushes */
	pthread_mutex_t api_mu[16];
};

/* ---- helpers ---------------------------------------------------------- */

static void refs_fault(gs_refs *r, const char *point)
{
	if (r->fault && strcmp(r->fault, point) == 0) {
		GS_LOG(GS_LOG_WARN, "refs", "test fault %s: exiting", point);
		_exit(137);
	}
}

static int is_branch(const char *ref) { return gs_str_has_prefix(ref, "refs/heads/"); }

static const char *ref_event_type(const gs_ref_update *u, int forced)
{
	int created = gs_str_is_zero_oid(u->old_sha), deleted = gs_str_is_zero_oid(u->new_sha);
	if (is_branch(u->ref))
		return created ? "branch-created" : deleted ? "branch-deleted" : forced ? "branch-force-pushed" : "branch-updated";
	return created ? "tag-created" : deleted ? "tag-deleted" : "tag-updated";
}

static json_t *actor_json(const char *name, const char *via)
{
	return json_pack("{s:s, s:s}", "name", name, "via", via);
}

static void refs_bump(gs_refs *r, size_t appended, int64_t head)
{
	if (r->ctx.metrics)
		atomic_fetch_add(&r->ctx.metrics->events_appended, (long long)appended);
	if (r->ctx.notify && appended)
		gs_evnotify_bump(r->ctx.notify, head);
}

/* Parses [["old","new","ref"], ...], dropping the all-zero records git
 * 2.39 emits around packed-refs deletions. */
int gs_refs_parse_updates(json_t *arr, int flags, gs_ref_update **out, size_t *n, gs_error *err)
{
	size_t i, count = 0;
	json_t *row;
	gs_ref_update *list;
	if (!json_is_array(arr))
		return gs_error_set(err, GS_EINVALID, "hook", "updates must be an array");
	if (json_array_size(arr) > GS_MAX_REFS_PER_PUSH)
		return gs_error_set(err, GS_ELIMIT, "hook", "more than %d ref updates", GS_MAX_REFS_PER_PUSH);
	list = gs_xcalloc(json_array_size(arr) + 1, sizeof(*list));
	json_array_foreach(arr, i, row) {
		const char *o = json_string_value(json_array_get(row, 0));
		const char *nw = json_string_value(json_array_get(row, 1));
		const char *ref = json_string_value(json_array_get(row, 2));
		if (!o || !nw || !ref || !gs_str_is_oid(o) || !gs_str_is_oid(nw) || !*ref ||
		    strlen(ref) > GS_MAX_REF_NAME) {
			free(list);
			return gs_error_set(err, GS_EINVALID, "hook", "malformed ref update record %zu", i);
		}
		if (gs_str_is_zero_oid(o) && gs_str_is_zero_oid(nw) && !(flags & GS_UPD_KEEP_ZERO))
			continue;
		/* git also reports HEAD when the branch it points to moves;
		 * only branches and tags are events */
		if ((flags & GS_UPD_EVENTS_ONLY) && !gs_str_has_prefix(ref, "refs/heads/") &&
		    !gs_str_has_prefix(ref, "refs/tags/"))
			continue;
		memcpy(list[count].old_sha, o, 41);
		memcpy(list[count].new_sha, nw, 41);
		memcpy(list[count].ref, ref, strlen(ref) + 1);
		count++;
	}
	*out = list;
	*n = count;
	return 0;
}

/* ---- sessions and in-flight refs --------------------------------------- */

static refs_session *session_find_locked(gs_refs *r, const char *push_id)
{
	for (refs_session *s = r->sessions; s; s = s->next)
		if (strcmp(s->push_id, push_id) == 0)
			return s;
	return NULL;
}

static int session_copy(gs_refs *r, const char *push_id, refs_session *out)
{
	refs_session *s;
	int found = 0;
	pthread_mutex_lock(&r->mu);
	s = session_find_locked(r, push_id);
	if (s) {
		*out = *s;
		out->requested = NULL;
		out->nrequested = 0;
		found = 1;
	}
	pthread_mutex_unlock(&r->mu);
	return found;
}

/* True when this committed batch is the whole push: every ref the
 * client asked for is in u (a single-ref or --atomic push). */
static int session_covers(gs_refs *r, const char *push_id, const gs_ref_update *u, size_t n)
{
	refs_session *s;
	int covers = 0;
	pthread_mutex_lock(&r->mu);
	s = session_find_locked(r, push_id);
	if (s && !s->rejected && s->nrequested > 0 && s->nrequested <= n) {
		covers = 1;
		for (size_t i = 0; i < s->nrequested && covers; i++) {
			int found = 0;
			for (size_t j = 0; j < n && !found; j++)
				found = strcmp(s->requested[i].ref, u[j].ref) == 0;
			covers = found;
		}
	}
	pthread_mutex_unlock(&r->mu);
	return covers;
}

static void session_mark_rejected(gs_refs *r, const char *push_id)
{
	refs_session *s;
	pthread_mutex_lock(&r->mu);
	if ((s = session_find_locked(r, push_id)))
		s->rejected = 1;
	pthread_mutex_unlock(&r->mu);
}

static int inflight_busy_locked(gs_refs *r, const char *repo_uid, const char *ref, const char *push_id)
{
	for (refs_inflight *f = r->inflight; f; f = f->next)
		if (strcmp(f->repo_uid, repo_uid) == 0 && strcmp(f->ref, ref) == 0 && strcmp(f->push_id, push_id) != 0)
			return 1;
	return 0;
}

/* Marks refs as in flight for push_id, waiting (bounded) while another
 * transaction on the same ref has not reached "committed" yet. */
static int inflight_acquire(gs_refs *r, const char *repo_uid, const char *push_id, const gs_ref_update *u, size_t n,
			    gs_error *err)
{
	struct timespec deadline;
	int error = 0;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += GS_HOOK_TIMEOUT_S / 2;
	pthread_mutex_lock(&r->mu);
	for (size_t i = 0; i < n && !error; i++) {
		refs_inflight *f;
		while (inflight_busy_locked(r, repo_uid, u[i].ref, push_id)) {
			if (pthread_cond_timedwait(&r->cv, &r->mu, &deadline) != 0) {
				error = gs_error_set(err, GS_EUNAVAILABLE, "refs",
						     "%s: an earlier update of this ref is still being recorded", u[i].ref);
				break;
			}
		}
		if (error)
			break;
		f = gs_xcalloc(1, sizeof(*f));
		memcpy(f->repo_uid, repo_uid, sizeof(f->repo_uid));
		f->ref = gs_xstrdup(u[i].ref);
		snprintf(f->push_id, sizeof(f->push_id), "%s", push_id);
		f->next = r->inflight;
		r->inflight = f;
	}
	pthread_mutex_unlock(&r->mu);
	return error;
}

/* Releases in-flight marks of push_id (all of them when ref is NULL). */
static void inflight_release(gs_refs *r, const char *push_id, const char *ref)
{
	pthread_mutex_lock(&r->mu);
	for (refs_inflight **pp = &r->inflight; *pp;) {
		refs_inflight *f = *pp;
		if (strcmp(f->push_id, push_id) == 0 && (!ref || strcmp(f->ref, ref) == 0)) {
			*pp = f->next;
			free(f->ref);
			free(f);
		} else {
			pp = &f->next;
		}
	}
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

/* ---- engine lifecycle ------------------------------------------------ */

int gs_refs_new(gs_refs **out, const gs_refs_ctx *ctx, gs_error *err)
{
	gs_refs *r = gs_xcalloc(1, sizeof(*r));
	pthread_condattr_t a;
	(void)err;
	r->ctx = *ctx;
	r->data_dir = gs_xstrdup(ctx->data_dir);
	r->ctx.data_dir = r->data_dir;
	pthread_mutex_init(&r->mu, NULL);
	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&r->cv, &a);
	pthread_condattr_destroy(&a);
	for (size_t i = 0; i < sizeof(r->api_mu) / sizeof(r->api_mu[0]); i++)
		pthread_mutex_init(&r->api_mu[i], NULL);
	r->fault = getenv("GITSTORE_TEST_FAULT");
	*out = r;
	return 0;
}

const gs_refs_ctx *gs_refs_context(const gs_refs *r) { return &r->ctx; }

void gs_refs_free(gs_refs *r)
{
	if (!r)
		return;
	while (r->sessions) {
		refs_session *s = r->sessions;
		r->sessions = s->next;
		free(s->requested);
		free(s);
	}
	while (r->inflight) {
		refs_inflight *f = r->inflight;
		r->inflight = f->next;
		free(f->ref);
		free(f);
	}
	for (size_t i = 0; i < sizeof(r->api_mu) / sizeof(r->api_mu[0]); i++)
		pthread_mutex_destroy(&r->api_mu[i]);
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv);
	free(r->data_dir);
	free(r);
}

/* ---- event builders ---------------------------------------------------- */

typedef struct refs_evbatch {
	gs_event_spec *specs;
	json_t **datas;
	char (*ids)[GS_EVENT_ID_HEX + 1];
	size_t n, cap;
} refs_evbatch;

static gs_event_spec *evbatch_add(refs_evbatch *b, json_t *data)
{
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 8;
		b->specs = gs_xrealloc(b->specs, b->cap * sizeof(*b->specs));
		b->datas = gs_xrealloc(b->datas, b->cap * sizeof(*b->datas));
		b->ids = gs_xrealloc(b->ids, b->cap * sizeof(*b->ids));
	}
	memset(&b->specs[b->n], 0, sizeof(b->specs[b->n]));
	b->datas[b->n] = data;
	b->specs[b->n].data = data;
	return &b->specs[b->n++];
}

static void evbatch_release(refs_evbatch *b)
{
	for (size_t i = 0; i < b->n; i++)
		json_decref(b->datas[i]);
	free(b->specs);
	free(b->datas);
	free(b->ids);
	memset(b, 0, sizeof(*b));
}

/* Ids point into b->ids, which may move while adding: fix them up once
 * the batch is complete. */
static void evbatch_fix_ids(refs_evbatch *b)
{
	for (size_t i = 0; i < b->n; i++)
		b->specs[i].id = b->ids[i];
}

/* One ref event. push_id doubles as correlation id. */
static void add_ref_event(refs_evbatch *b, gs_gitrepo *git, const gs_repo_info *repo, const char *push_id,
			  const char *actor, const char *via, const char *origin, const gs_ref_update *u,
			  const char *extra_id_part)
{
	gs_update_info info;
	gs_error ignore = GS_ERROR_INIT;
	int tag = !is_branch(u->ref);
	const char *type;
	json_t *data;
	gs_event_spec *spec;

	if (!git || gs_gitrepo_describe(git, u->ref, u->old_sha, u->new_sha, tag, &info, &ignore) < 0) {
		memset(&info, 0, sizeof(info));
		memcpy(info.target_sha, GS_ZERO_OID, 41);
	}
	type = ref_event_type(u, info.forced);
	data = json_pack("{s:s, s:s, s:s}", "ref", u->ref, "oldSha", u->old_sha, "newSha", u->new_sha);
	if (tag) {
		json_object_set_new(data, "annotated", json_boolean(info.annotated));
		json_object_set_new(data, "targetSha", json_string(info.target_sha));
	} else if (!gs_str_is_zero_oid(u->new_sha)) {
		json_object_set_new(data, "forced", json_boolean(info.forced));
		json_object_set_new(data, "commits", json_integer(info.commits));
		if (info.commits_truncated)
			json_object_set_new(data, "commitsTruncated", json_true());
	}
	if (push_id)
		json_object_set_new(data, "pushId", json_string(push_id));
	json_object_set_new(data, "actor", actor_json(actor, via));
	json_object_set_new(data, "origin", json_string(origin));
	spec = evbatch_add(b, data);
	{
		const char *parts[] = {"ref", push_id ? push_id : "", u->ref, u->old_sha, u->new_sha, type,
				       extra_id_part ? extra_id_part : ""};
		gs_evlog_make_id(b->ids[b->n - 1], parts, 7);
	}
	spec->type = type;
	spec->repo = repo;
	spec->subject = u->ref;
	spec->correlation = push_id;
}

/* Appends a batch of ref events with their refs_state updates and intent
 * drops in one transaction. Only refs whose event was new move
 * refs_state, so a late replay never rewinds it. */
/* Appends one event; in its own transaction unless the caller has one
 * open (in_tx), in which case the caller bumps the notifier after its
 * commit (*head says how far). */
static int append_one(gs_refs *r, gs_db *db, gs_event_spec *spec, int in_tx, int *added, int64_t *head_out,
		      gs_error *err)
{
	size_t appended = 0;
	int64_t head = 0;
	int error;
	if (!in_tx && (error = gs_db_begin(db, err)) < 0)
		return error;
	if ((error = gs_evlog_append_tx(db, spec, 1, NULL, &appended, &head, err)) < 0 ||
	    (!in_tx && (error = gs_db_commit(db, err)) < 0)) {
		if (!in_tx)
			gs_db_rollback(db);
		return error;
	}
	if (!in_tx)
		refs_bump(r, appended, head);
	else if (r->ctx.metrics)
		atomic_fetch_add(&r->ctx.metrics->events_appended, (long long)appended);
	if (added)
		*added = appended > 0;
	if (head_out && head > *head_out)
		*head_out = head;
	return 0;
}

/* refs: [{ref, oldSha, newSha, ...}] with a byte budget. */
static void refs_list_add(json_t *list, size_t *budget, json_t *entry, int *truncated)
{
	char *text = json_dumps(entry, JSON_COMPACT);
	size_t len = text ? strlen(text) : 0;
	free(text);
	if (len + 1 > *budget) {
		*truncated = 1;
		json_decref(entry);
		return;
	}
	*budget -= len + 1;
	json_array_append_new(list, entry);
}

/* push-completed listing the refs of batch b (DESIGN 4). */
static json_t *completed_data(const refs_evbatch *b, const gs_ref_update *u, const gs_push_rec *p)
{
	json_t *refs = json_array(), *data;
	size_t budget = GS_MAX_INLINE_REFS_BYTES;
	int truncated = 0;
	for (size_t i = 0; i < b->n; i++)
		refs_list_add(refs, &budget,
			      json_pack("{s:s, s:s, s:s, s:s}", "ref", u[i].ref, "oldSha", u[i].old_sha, "newSha",
					u[i].new_sha, "event", b->specs[i].type),
			      &truncated);
	data = json_pack("{s:o, s:b, s:s, s:o}", "refs", refs, "atomic", p->atomic, "pushId", p->push_id, "actor",
			 actor_json(p->actor, p->via));
	if (truncated) {
		json_object_set_new(data, "refsTruncated", json_true());
		json_object_set_new(data, "refCount", json_integer((json_int_t)b->n));
	}
	return data;
}

/* Appends a batch of ref events with their refs_state updates and intent
 * drops in one transaction. Only refs whose event was new move
 * refs_state, so a late replay never rewinds it. With complete (the
 * batch is the whole push: single ref or --atomic) push-completed and
 * the push's end commit in the same transaction: one fsync less. */
static int commit_ref_events(gs_refs *r, gs_db *db, refs_evbatch *b, const gs_ref_update *u, const char *push_id,
			     const gs_push_rec *complete, gs_error *err)
{
	int *added = gs_xcalloc(b->n + 1, sizeof(int));
	size_t appended = 0;
	int64_t head = 0;
	json_t *cdata = NULL;
	int error, cadded = 0;

	evbatch_fix_ids(b);
	if ((error = gs_db_begin(db, err)) < 0)
		goto out;
	if ((error = gs_evlog_append_tx(db, b->specs, b->n, added, &appended, &head, err)) < 0)
		goto out;
	for (size_t i = 0; i < b->n; i++) {
		if (added[i] && (error = gs_journal_ref_set(db, b->specs[i].repo->uid, u[i].ref, u[i].new_sha, err)) < 0)
			goto out;
		if (push_id && (error = gs_journal_intent_drop(db, push_id, u[i].ref, err)) < 0)
			goto out;
	}
	if (complete && b->n > 0) {
		char id[GS_EVENT_ID_HEX + 1], subject[2 * GS_MAX_NAME + 2];
		const char *parts[] = {"push-completed", complete->push_id};
		gs_event_spec spec;
		cdata = completed_data(b, u, complete);
		gs_evlog_make_id(id, parts, 2);
		snprintf(subject, sizeof(subject), "%s/%s", b->specs[0].repo->ns, b->specs[0].repo->name);
		memset(&spec, 0, sizeof(spec));
		spec.id = id;
		spec.type = "push-completed";
		spec.repo = b->specs[0].repo;
		spec.subject = subject;
		spec.correlation = complete->push_id;
		spec.data = cdata;
		if ((error = append_one(r, db, &spec, 1, &cadded, &head, err)) < 0 ||
		    (error = gs_journal_push_set_state(db, complete->push_id, "done", err)) < 0)
			goto out;
	}
	error = gs_db_commit(db, err);
out:
	if (error < 0) {
		gs_db_rollback(db);
	} else {
		refs_bump(r, appended, head);
		if (cadded && r->ctx.metrics)
			atomic_fetch_add(&r->ctx.metrics->pushes, 1);
	}
	json_decref(cdata);
	free(added);
	return error;
}

static int record_rejection(gs_refs *r, gs_db *db, int in_tx, int64_t *head, const gs_repo_info *repo,
			    const char *push_id, const char *actor, const char *via, const char *stage, const char *code,
			    const char *message, const gs_ref_update *u, size_t n, const char *const *per_ref_code,
			    json_t *extra, gs_error *err)
{
	json_t *refs = json_array(), *data;
	/* with error records attached the refs share the event's budget */
	size_t budget = extra ? GS_MAX_INLINE_REFS_BYTES / 3 : GS_MAX_INLINE_REFS_BYTES;
	int truncated = 0, added = 0, error, subject_is_refused = 0;
	char id[GS_EVENT_ID_HEX + 1], subject[GS_MAX_REF_NAME + 1];
	const char *parts[] = {"push-rejected", push_id, stage};
	gs_event_spec spec;

	snprintf(subject, sizeof(subject), "%s/%s", repo->ns, repo->name);
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_pack("{s:s, s:s, s:s}", "ref", u[i].ref, "oldSha", u[i].old_sha, "newSha", u[i].new_sha);
		if (per_ref_code && per_ref_code[i])
			json_object_set_new(e, "reason", json_string(per_ref_code[i]));
		/* subject: the first refused ref (or the first ref) */
		if (i == 0 || (per_ref_code && per_ref_code[i] && !subject_is_refused))
			snprintf(subject, sizeof(subject), "%s", u[i].ref);
		if (per_ref_code && per_ref_code[i])
			subject_is_refused = 1;
		refs_list_add(refs, &budget, e, &truncated);
	}
	data = json_pack("{s:o, s:s, s:{s:s, s:s}, s:s, s:o}", "refs", refs, "stage", stage, "reason", "code", code,
			 "message", message, "pushId", push_id, "actor", actor_json(actor, via));
	if (truncated) {
		json_object_set_new(data, "refsTruncated", json_true());
		json_object_set_new(data, "refCount", json_integer((json_int_t)n));
	}
	if (extra)
		json_object_update(data, extra);
	gs_evlog_make_id(id, parts, 3);
	memset(&spec, 0, sizeof(spec));
	spec.id = id;
	spec.type = "push-rejected";
	spec.repo = repo;
	spec.subject = subject;
	spec.correlation = push_id;
	spec.data = data;
	error = append_one(r, db, &spec, in_tx, &added, head, err);
	if (error == GS_ELIMIT) {
		/* never lose a refusal to its size: keep the summary, drop the
		 * lists (their counts stay) */
		gs_error_clear(err);
		json_object_set_new(data, "refs", json_array());
		json_object_set_new(data, "refsTruncated", json_true());
		json_object_set_new(data, "refCount", json_integer((json_int_t)n));
		if (json_object_get(data, "errors")) {
			json_object_set_new(data, "errors", json_array());
			json_object_set_new(data, "errorsTruncated", json_true());
		}
		error = append_one(r, db, &spec, in_tx, &added, head, err);
	}
	if (error == 0 && added && r->ctx.metrics)
		atomic_fetch_add(&r->ctx.metrics->refusals, 1);
	json_decref(data);
	return error;
}

/* ---- sessions API -------------------------------------------------------- */

int gs_refs_push_begin(gs_refs *r, const gs_repo_info *repo, const gs_principal *who, const char *via,
		       const gs_push_cmds *cmds, char push_id[65], gs_error *err)
{
	refs_session *s;
	gs_push_rec rec;
	gs_db *db;
	int error;

	memset(&rec, 0, sizeof(rec));
	if ((error = gs_uuid_v4(rec.push_id, err)) < 0)
		return error;
	memcpy(rec.repo_uid, repo->uid, sizeof(rec.repo_uid));
	snprintf(rec.actor, sizeof(rec.actor), "%s", who->user);
	snprintf(rec.via, sizeof(rec.via), "%s", via);
	snprintf(rec.role, sizeof(rec.role), "%s", gs_role_name(gs_principal_role(who, repo->ns)));
	rec.atomic = cmds ? cmds->atomic : 0;
	memcpy(rec.state, "open", 5);
	db = gs_dbpool_get(r->ctx.pool);
	error = gs_journal_push_insert(db, &rec, err);
	gs_dbpool_put(r->ctx.pool, db);
	if (error < 0)
		return error;

	s = gs_xcalloc(1, sizeof(*s));
	memcpy(s->push_id, rec.push_id, sizeof(s->push_id));
	s->repo = *repo;
	s->who = *who;
	snprintf(s->via, sizeof(s->via), "%s", via);
	if (cmds && cmds->n) {
		s->requested = gs_xcalloc(cmds->n, sizeof(*s->requested));
		for (size_t i = 0; i < cmds->n; i++) {
			memcpy(s->requested[i].old_sha, cmds->cmds[i].old_sha, 41);
			memcpy(s->requested[i].new_sha, cmds->cmds[i].new_sha, 41);
			snprintf(s->requested[i].ref, sizeof(s->requested[i].ref), "%s", cmds->cmds[i].ref);
		}
		s->nrequested = cmds->n;
	}
	pthread_mutex_lock(&r->mu);
	s->next = r->sessions;
	r->sessions = s;
	pthread_mutex_unlock(&r->mu);
	memcpy(push_id, rec.push_id, 65);
	return 0;
}

int gs_refs_reject_transport(gs_refs *r, const gs_repo_info *repo, const gs_principal *who, const char *code,
			     const char *message, gs_error *err)
{
	return gs_refs_reject_early(r, repo, who, "git", "transport", code, message, err);
}

int gs_refs_reject_early(gs_refs *r, const gs_repo_info *repo, const gs_principal *who, const char *via,
			 const char *stage, const char *code, const char *message, gs_error *err)
{
	char push_id[37];
	gs_db *db;
	int error;
	if ((error = gs_uuid_v4(push_id, err)) < 0)
		return error;
	db = gs_dbpool_get(r->ctx.pool);
	error = record_rejection(r, db, 0, NULL, repo, push_id, who->user, via, stage, code, message, NULL, 0, NULL,
				 NULL, err);
	gs_dbpool_put(r->ctx.pool, db);
	return error;
}

/* ---- finalisation ------------------------------------------------------ */

typedef struct finalize_ctx {
	json_t *refs;
	size_t budget;
	int truncated;
	size_t count;
	char (*done_refs)[GS_MAX_REF_NAME + 1];
	size_t ndone, capdone;
} finalize_ctx;

static int finalize_collect(int64_t logseq, const char *type, const char *json, void *payload)
{
	finalize_ctx *f = payload;
	json_t *ev, *data;
	const char *ref;
	(void)logseq;
	if (strcmp(type, "push-completed") == 0 || strcmp(type, "push-rejected") == 0)
		return 0;
	if (!gs_str_has_prefix(type, "branch-") && !gs_str_has_prefix(type, "tag-"))
		return 0;
	ev = json_loads(json, 0, NULL);
	data = json_object_get(ev, "data");
	ref = json_string_value(json_object_get(data, "ref"));
	if (ref) {
		json_t *e = json_pack("{s:s, s:O, s:O, s:s}", "ref", ref, "oldSha", json_object_get(data, "oldSha"),
				      "newSha", json_object_get(data, "newSha"), "event", type);
		refs_list_add(f->refs, &f->budget, e, &f->truncated);
		f->count++;
		if (f->ndone == f->capdone) {
			f->capdone = f->capdone ? f->capdone * 2 : 16;
			f->done_refs = gs_xrealloc(f->done_refs, f->capdone * sizeof(*f->done_refs));
		}
		snprintf(f->done_refs[f->ndone++], GS_MAX_REF_NAME + 1, "%s", ref);
	}
	json_decref(ev);
	return 0;
}

static int ref_done(const finalize_ctx *f, const char *ref)
{
	for (size_t i = 0; i < f->ndone; i++)
		if (strcmp(f->done_refs[i], ref) == 0)
			return 1;
	return 0;
}

/* Appends push-completed once the push's ref events exist; with
 * session (at receive-pack exit) also records refs that never moved. */
static int refs_finalize(gs_refs *r, gs_db *db, const gs_push_rec *p, const refs_session *s, gs_error *err)
{
	finalize_ctx f;
	gs_repo_info repo;
	int64_t head = 0;
	int error;

	memset(&f, 0, sizeof(f));
	f.refs = json_array();
	f.budget = GS_MAX_INLINE_REFS_BYTES;
	/* push-completed, rejections and the state change commit together:
	 * one fsync per push for its completion */
	if ((error = gs_db_begin(db, err)) < 0)
		goto out_nodb;
	if ((error = gs_registry_repo_by_uid(db, p->repo_uid, &repo, err)) < 0)
		goto out;
	if ((error = gs_evlog_read_correlation(db, p->push_id, finalize_collect, &f, err)) < 0)
		goto out;
	if (f.count > 0) {
		char id[GS_EVENT_ID_HEX + 1], subject[2 * GS_MAX_NAME + 2];
		const char *parts[] = {"push-completed", p->push_id};
		gs_event_spec spec;
		json_t *data = json_pack("{s:O, s:b, s:s, s:o}", "refs", f.refs, "atomic", p->atomic, "pushId",
					 p->push_id, "actor", actor_json(p->actor, p->via));
		int added = 0;
		if (f.truncated) {
			json_object_set_new(data, "refsTruncated", json_true());
			json_object_set_new(data, "refCount", json_integer((json_int_t)f.count));
		}
		gs_evlog_make_id(id, parts, 2);
		snprintf(subject, sizeof(subject), "%s/%s", repo.ns, repo.name);
		memset(&spec, 0, sizeof(spec));
		spec.id = id;
		spec.type = "push-completed";
		spec.repo = &repo;
		spec.subject = subject;
		spec.correlation = p->push_id;
		spec.data = data;
		error = append_one(r, db, &spec, 1, &added, &head, err);
		json_decref(data);
		if (error < 0)
			goto out;
		if (added && r->ctx.metrics)
			atomic_fetch_add(&r->ctx.metrics->pushes, 1);
	}
	if (s && !s->rejected && s->nrequested) {
		/* refs the client asked for that git did not move: stale old
		 * value, lock contention, fsck or unpack failure */
		gs_ref_update *missed = gs_xcalloc(s->nrequested, sizeof(*missed));
		size_t nm = 0;
		for (size_t i = 0; i < s->nrequested; i++) {
			/* an open intent means git may have committed it and only
			 * the event is pending (recovery appends it): not a failure */
			if (ref_done(&f, s->requested[i].ref) ||
			    gs_journal_intent_open(db, p->push_id, s->requested[i].ref, err) != 0)
				continue;
			missed[nm++] = s->requested[i];
		}
		if (nm)
			error = record_rejection(r, db, 1, &head, &repo, p->push_id, p->actor, p->via, "reference-transaction",
						 "ref_update_failed",
						 "git did not update the ref (stale old value, concurrent update, or objects "
						 "that failed verification)",
						 missed, nm, NULL, NULL, err);
		free(missed);
		if (error < 0)
			goto out;
	}
	/* with intents still open the push stays open: recovery completes it */
	if ((s || f.count > 0) && gs_journal_intent_open(db, p->push_id, NULL, err) == 0 &&
	    (error = gs_journal_push_set_state(db, p->push_id, "done", err)) < 0)
		goto out;
	error = gs_db_commit(db, err);
out:
	if (error < 0)
		gs_db_rollback(db);
	else if (head && r->ctx.notify)
		gs_evnotify_bump(r->ctx.notify, head);
out_nodb:
	json_decref(f.refs);
	free(f.done_refs);
	return error;
}

void gs_refs_push_end(gs_refs *r, const char *push_id)
{
	refs_session *s = NULL;
	gs_push_rec p;
	gs_error err = GS_ERROR_INIT;
	gs_db *db;

	pthread_mutex_lock(&r->mu);
	for (refs_session **pp = &r->sessions; *pp; pp = &(*pp)->next) {
		if (strcmp((*pp)->push_id, push_id) == 0) {
			s = *pp;
			*pp = s->next;
			break;
		}
	}
	pthread_mutex_unlock(&r->mu);
	inflight_release(r, push_id, NULL);
	db = gs_dbpool_get(r->ctx.pool);
	if (gs_journal_push_get(db, push_id, &p, &err) < 0 ||
	    (strcmp(p.state, "done") != 0 && refs_finalize(r, db, &p, s, &err) < 0))
		GS_LOG(GS_LOG_ERROR, "refs", "push %s: cannot complete: %s (recovery will retry)", push_id, err.msg);
	gs_dbpool_put(r->ctx.pool, db);
	if (s)
		free(s->requested);
	free(s);
}

/* ---- hook phases -------------------------------------------------------- */

static json_t *reply(int exit_code, const char *message)
{
	return json_pack("{s:i, s:s}", "exit", exit_code, "message", message ? message : "");
}

static int prerecv_open(gs_refs *r, const refs_session *s, const char *quarantine, gs_gitrepo **git)
{
	gs_error err = GS_ERROR_INIT;
	char *path = gs_gitrepo_path(r->data_dir, s->repo.uid);
	int error = gs_gitrepo_open(git, path, quarantine, &err);
	if (error < 0)
		GS_LOG(GS_LOG_ERROR, "refs", "pre-receive: %s", err.msg);
	free(path);
	return error;
}

/* Role and protection rules per ref; returns how many refs are refused
 * (codes[i] set for each, the first one's code/message kept). */
static size_t prerecv_authorize(gs_refs *r, const refs_session *s, const gs_refpolicy *pol, gs_gitrepo **git,
				const char *quarantine, gs_ref_update *u, size_t n, const char **codes,
				const char **first_code, char *first_msg, size_t first_msg_size, gs_buf *msg)
{
	gs_role role = gs_principal_role(&s->who, s->repo.ns);
	gs_error err = GS_ERROR_INIT;
	size_t refused = 0;
	for (size_t i = 0; i < n; i++) {
		gs_ref_decision d;
		int is_ff = 1;
		if (gs_refpolicy_needs_ancestry(pol, u[i].ref, u[i].old_sha, u[i].new_sha) && role < GS_ROLE_ADMIN) {
			if (!*git && prerecv_open(r, s, quarantine, git) < 0)
				GS_LOG(GS_LOG_ERROR, "refs", "pre-receive: repository %s unreadable", s->repo.uid);
			/* fail closed: if ancestry cannot be read, treat as forced */
			is_ff = *git && gs_gitrepo_contains(*git, u[i].new_sha, u[i].old_sha, &err) == 1;
		}
		gs_refpolicy_check(pol, role, u[i].ref, u[i].old_sha, u[i].new_sha, is_ff, &d);
		if (d.allowed)
			continue;
		codes[i] = d.code;
		if (!*first_code) {
			*first_code = d.code;
			snprintf(first_msg, first_msg_size, "%s", d.message);
		}
		if (++refused <= 50)
			gs_buf_printf(msg, NULL, "gitstore: refused %s [%s]\n", d.message, d.code);
	}
	if (refused > 50)
		gs_buf_printf(msg, NULL, "gitstore: ... and %zu more refused refs\n", refused - 50);
	return refused;
}

/* Catalog check of the files the push brings (DESIGN 7). Returns 0 when
 * clean, 1 when refused (msg, code and extra filled). */
static int prerecv_catalog(gs_refs *r, const refs_session *s, const gs_repo_settings *set, gs_gitrepo **git,
			   const char *quarantine, const gs_ref_update *u, size_t n, gs_buf *msg, const char **code,
			   char *reason, size_t reason_size, json_t **extra)
{
	gs_precheck_result res;
	gs_policyset pols;
	gs_error err = GS_ERROR_INIT;
	int refused = 0, have_pols;
	gs_db *db = gs_dbpool_get(r->ctx.pool);
	/* a preview only: if the policies cannot be read, the push goes on
	 * and the catalog worker (which retries) applies them */
	have_pols = gs_policyset_load(db, s->repo.ns, &pols, &err) == 0;
	gs_dbpool_put(r->ctx.pool, db);
	gs_error_clear(&err);
	gs_precheck_result_init(&res);
	if ((!*git && prerecv_open(r, s, quarantine, git) < 0) ||
	    gs_precheck_run(*git, &s->repo, set->draft_branch, set->schema_pre_receive ? GS_CATALOG_FULL : GS_CATALOG_STRUCTURAL,
			    have_pols ? &pols : NULL, s->who.user, gs_role_name(gs_principal_role(&s->who, s->repo.ns)), u,
			    n, &res, &err) < 0) {
		/* fail closed: what cannot be checked is not accepted */
		*code = "catalog_check_failed";
		snprintf(reason, reason_size, "the pushed catalog files could not be read: %s", err.msg);
		gs_buf_printf(msg, NULL, "gitstore: %s [%s]\n", reason, *code);
		refused = 1;
	} else if (res.nerrors) {
		*code = "catalog_validation_failed";
		snprintf(reason, reason_size, "%zu catalog error%s in the pushed files", res.nerrors, res.nerrors == 1 ? "" : "s");
		gs_buf_add(msg, res.lines.ptr, res.lines.len, NULL);
		if (res.nerrors > 200)
			gs_buf_printf(msg, NULL, "gitstore: ... %zu errors in all\n", res.nerrors);
		gs_buf_printf(msg, NULL, "gitstore: refused: %s [%s]\n", reason, *code);
		*extra = json_pack("{s:O, s:I}", "errors", res.errors, "errorCount", (json_int_t)res.nerrors);
		if (res.truncated)
			json_object_set_new(*extra, "errorsTruncated", json_true());
		refused = 1;
	} else {
		gs_buf_add(msg, res.notes.ptr, res.notes.len, NULL);
	}
	gs_precheck_result_release(&res);
	if (have_pols)
		gs_policyset_release(&pols);
	return refused;
}

/* The pre-receive checks of u for session s: authorisation, then the
 * catalog files. Returns 0 when allowed; 1 when refused, with the
 * refusal recorded (push-rejected at stage), the git text in msg and,
 * when refusal is not NULL, *refusal = {code, message, forbidden,
 * errors?, errorCount?} (caller-owned). */
static int refs_precheck(gs_refs *r, const refs_session *s, const char *quarantine, const char *stage,
			 gs_ref_update *u, size_t n, gs_buf *msg, json_t **refusal)
{
	gs_refpolicy pol;
	gs_repo_settings set;
	gs_gitrepo *git = NULL;
	gs_error err = GS_ERROR_INIT;
	const char **codes = NULL;
	const char *first_code = NULL;
	char first_msg[384] = "";
	json_t *extra = NULL;
	size_t refused;
	gs_db *db;

	db = gs_dbpool_get(r->ctx.pool);
	if (gs_reposettings_load(db, s->repo.uid, &set, &err) < 0) {
		gs_dbpool_put(r->ctx.pool, db);
		/* fail closed: unknown settings, unknown rules */
		gs_buf_printf(msg, NULL, "gitstore: repository settings unreadable; push refused\n");
		if (refusal)
			*refusal = json_pack("{s:s, s:s, s:b}", "code", "settings_unreadable", "message",
					     "repository settings unreadable", "forbidden", 0);
		return 1;
	}
	gs_dbpool_put(r->ctx.pool, db);
	memset(&pol, 0, sizeof(pol));
	pol.system_repo = strcmp(s->repo.name, GS_SYSTEM_REPO) == 0;
	pol.draft_branch = set.draft_branch;
	pol.release_refs = set.release_refs;
	pol.publish_branch = set.publish_branch;
	codes = gs_xcalloc(n + 1, sizeof(*codes));
	refused = prerecv_authorize(r, s, &pol, &git, quarantine, u, n, codes, &first_code, first_msg,
				    sizeof(first_msg), msg);
	if (refused && refusal)
		*refusal = json_pack("{s:s, s:s, s:b}", "code", first_code, "message", first_msg, "forbidden", 1);
	if (!refused) {
		refused = (size_t)prerecv_catalog(r, s, &set, &git, quarantine, u, n, msg, &first_code, first_msg,
						  sizeof(first_msg), &extra);
		if (refused && refusal) {
			*refusal = json_pack("{s:s, s:s, s:b}", "code", first_code, "message", first_msg, "forbidden", 0);
			if (extra)
				json_object_update(*refusal, extra);
		}
	}
	if (refused) {
		db = gs_dbpool_get(r->ctx.pool);
		gs_error_clear(&err);
		if (record_rejection(r, db, 0, NULL, &s->repo, s->push_id, s->who.user, s->via, stage, first_code,
				     first_msg, u, n, codes, extra, &err) < 0)
			GS_LOG(GS_LOG_ERROR, "refs", "push %s: push-rejected not recorded: %s", s->push_id, err.msg);
		gs_dbpool_put(r->ctx.pool, db);
		session_mark_rejected(r, s->push_id);
	}
	json_decref(extra);
	gs_gitrepo_close(git);
	free(codes);
	return refused ? 1 : 0;
}

static json_t *hook_pre_receive(gs_refs *r, const char *push_id, const char *quarantine, gs_ref_update *u, size_t n)
{
	refs_session s;
	gs_buf msg;
	json_t *out;

	if (!session_copy(r, push_id, &s))
		return reply(1, "gitstore: no active push session (daemon restarted?); push refused, retry\n");
	gs_buf_init(&msg, 1024 * 1024);
	if (refs_precheck(r, &s, quarantine, "pre-receive", u, n, &msg, NULL)) {
		gs_buf_printf(&msg, NULL, "gitstore: push refused; no ref was changed\n");
		out = reply(1, msg.ptr);
	} else {
		out = reply(0, msg.len ? msg.ptr : ""); /* policy warnings, if any */
	}
	gs_buf_release(&msg);
	return out;
}

/* git reports a deletion it made without checking an old value
 * (receive-pack drops an old id it cannot find) as an all-zero record,
 * the same shape as its spurious records around packed-refs deletions.
 * The last known value stands in for old; the record is dropped when
 * there is none or, once committed (git != NULL), when the ref still
 * exists. Returns the new count. */
static size_t resolve_zero_records(gs_db *db, const char *repo_uid, gs_ref_update *u, size_t n, gs_gitrepo *git)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (gs_str_is_zero_oid(u[i].old_sha) && gs_str_is_zero_oid(u[i].new_sha)) {
			char sha[41], cur[41];
			int64_t version;
			gs_error e = GS_ERROR_INIT;
			if (gs_journal_ref_get(db, repo_uid, u[i].ref, sha, &version, &e) < 0 || gs_str_is_zero_oid(sha))
				continue;
			if (git && gs_gitrepo_ref_read(git, u[i].ref, cur, &e) == 0)
				continue;
			memcpy(u[i].old_sha, sha, 41);
		}
		if (k != i)
			u[k] = u[i];
		k++;
	}
	return k;
}

/* Keeps only updates whose new value is what the ref holds now. While a
 * transaction is in flight no other push can move its refs (prepared
 * waits), so a mismatch means a stale replay or a forged message: the
 * real state reaches the log through reconcile instead. */
static size_t keep_committed(gs_gitrepo *git, const char *push_id, gs_ref_update *u, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		char cur[41];
		gs_error e = GS_ERROR_INIT;
		if (gs_gitrepo_ref_read(git, u[i].ref, cur, &e) < 0)
			memcpy(cur, GS_ZERO_OID, 41);
		if (strcmp(cur, u[i].new_sha) != 0) {
			/* a deletion of a ref that is still there is, normally,
			 * git pack-refs removing a loose copy it has packed */
			GS_LOG(gs_str_is_zero_oid(u[i].new_sha) ? GS_LOG_DEBUG : GS_LOG_WARN, "refs",
			       "push %s: committed %s=%.12s but the ref is %.12s; not recorded", push_id, u[i].ref,
			       u[i].new_sha, cur);
			continue;
		}
		if (k != i)
			u[k] = u[i];
		k++;
	}
	return k;
}

/* `git pack-refs` (run by the `git gc --auto` that receive-pack starts
 * after a push, in the push's environment) copies loose refs into
 * packed-refs in a transaction that fires the hook with a creation
 * 0 -> value for every ref it packs. A real creation's ref does not exist
 * before it commits (git checks that under the ref's lock), so a creation
 * of a ref that already exists is not one. Returns the new count. */
static size_t drop_repacked(gs_refs *r, const char *repo_uid, gs_ref_update *u, size_t n)
{
	gs_gitrepo *git = NULL;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (gs_str_is_zero_oid(u[i].old_sha) && !gs_str_is_zero_oid(u[i].new_sha)) {
			char cur[41];
			gs_error e = GS_ERROR_INIT;
			if (!git) {
				char *path = gs_gitrepo_path(r->data_dir, repo_uid);
				if (gs_gitrepo_open(&git, path, NULL, &e) < 0)
					git = NULL;
				free(path);
			}
			if (git && gs_gitrepo_ref_read(git, u[i].ref, cur, &e) == 0)
				continue;
		}
		if (k != i)
			u[k] = u[i];
		k++;
	}
	gs_gitrepo_close(git);
	return k;
}

/* Keeps only updates that "prepared" recorded an intent for: the others
 * were dropped there (drop_repacked, zero records) and are not ref
 * changes. Returns the new count. */
static size_t keep_prepared(gs_db *db, const char *push_id, gs_ref_update *u, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		gs_error e = GS_ERROR_INIT;
		if (gs_journal_intent_open(db, push_id, u[i].ref, &e) == 0)
			continue;
		if (k != i)
			u[k] = u[i];
		k++;
	}
	return k;
}

static json_t *hook_prepared(gs_refs *r, const char *push_id, const char *repo_uid, gs_ref_update *u, size_t n)
{
	gs_error err = GS_ERROR_INIT;
	gs_db *db;
	int error = 0;

	db = gs_dbpool_get(r->ctx.pool);
	n = resolve_zero_records(db, repo_uid, u, n, NULL);
	gs_dbpool_put(r->ctx.pool, db);
	n = drop_repacked(r, repo_uid, u, n);
	if (n == 0)
		return reply(0, "");
	if ((error = inflight_acquire(r, repo_uid, push_id, u, n, &err)) < 0)
		goto fail;
	db = gs_dbpool_get(r->ctx.pool);
	if ((error = gs_db_begin(db, &err)) == 0) {
		for (size_t i = 0; i < n && !error; i++)
			error = gs_journal_intent_put(db, push_id, repo_uid, &u[i], &err);
		if (!error)
			error = gs_db_commit(db, &err);
		if (error)
			gs_db_rollback(db);
	}
	gs_dbpool_put(r->ctx.pool, db);
	if (error < 0) {
		inflight_release(r, push_id, NULL);
		goto fail;
	}
	refs_fault(r, "after-intent");
	return reply(0, "");
fail:
	GS_LOG(GS_LOG_ERROR, "refs", "push %s: intent not recorded: %s", push_id, err.msg);
	{
		char m[400];
		snprintf(m, sizeof(m), "gitstore: cannot record the ref transaction (%s); push refused\n", err.msg);
		return reply(1, m);
	}
}

static json_t *hook_committed(gs_refs *r, const char *push_id, const char *repo_uid, gs_ref_update *u, size_t n)
{
	gs_error err = GS_ERROR_INIT;
	gs_push_rec p;
	gs_repo_info repo;
	gs_gitrepo *git = NULL;
	gs_ref_update *all = NULL;
	refs_evbatch b;
	char *path = NULL;
	gs_db *db;
	int error, complete;
	size_t nall = 0;

	refs_fault(r, "after-ref-commit");
	memset(&b, 0, sizeof(b));
	db = gs_dbpool_get(r->ctx.pool);
	if ((error = gs_journal_push_get(db, push_id, &p, &err)) < 0 ||
	    (error = gs_registry_repo_by_uid(db, repo_uid, &repo, &err)) < 0)
		goto out;
	n = keep_prepared(db, push_id, u, n);
	/* the records with an intent: the ones filtered out below end here */
	nall = n;
	all = gs_xcalloc(nall + 1, sizeof(*all));
	memcpy(all, u, nall * sizeof(*u));
	path = gs_gitrepo_path(r->data_dir, repo.uid);
	if (gs_gitrepo_open(&git, path, NULL, &err) < 0) {
		GS_LOG(GS_LOG_WARN, "refs", "push %s: %s (events without ancestry data)", push_id, err.msg);
		gs_error_clear(&err);
	}
	if (git) {
		n = resolve_zero_records(db, repo.uid, u, n, git);
		n = keep_committed(git, push_id, u, n);
	} else { /* cannot tell deletions from git's spurious records */
		size_t k = 0;
		for (size_t i = 0; i < n; i++)
			if (!gs_str_is_zero_oid(u[i].old_sha) || !gs_str_is_zero_oid(u[i].new_sha))
				u[k++] = u[i];
		n = k;
	}
	for (size_t i = 0; i < n; i++)
		add_ref_event(&b, git, &repo, push_id, p.actor, p.via, p.via[0] && strcmp(p.via, "api") == 0 ? "api" : "push",
			      &u[i], NULL);
	/* a busy database is retried: giving up leaves the event to
	 * start-up recovery, which is slower to reach consumers */
	complete = session_covers(r, push_id, u, n);
	for (int attempt = 0; attempt < 5; attempt++) {
		gs_error_clear(&err);
		if ((error = commit_ref_events(r, db, &b, u, push_id, complete ? &p : NULL, &err)) == 0)
			break;
		usleep(100 * 1000 * (useconds_t)(attempt + 1));
	}
out:
	/* a record filtered out has no event: its intent ends here, and its
	 * in-flight mark must not hold up later updates of the ref until the
	 * push ends. u is all's subsequence. */
	for (size_t i = 0, k = 0; i < nall; i++) {
		gs_error e = GS_ERROR_INIT;
		if (error == 0 && k < n && strcmp(all[i].ref, u[k].ref) == 0) {
			k++;
			continue;
		}
		if (error == 0 && gs_journal_intent_drop(db, push_id, all[i].ref, &e) < 0)
			GS_LOG(GS_LOG_WARN, "refs", "push %s: intent for %s not dropped: %s", push_id, all[i].ref, e.msg);
		inflight_release(r, push_id, all[i].ref);
	}
	gs_dbpool_put(r->ctx.pool, db);
	for (size_t i = 0; i < n; i++)
		inflight_release(r, push_id, u[i].ref);
	free(all);
	gs_gitrepo_close(git);
	free(path);
	evbatch_release(&b);
	if (error < 0) {
		/* the ref has moved; the intent stays and start-up recovery
		 * appends the events. Tell the pusher. */
		GS_LOG(GS_LOG_ERROR, "refs", "push %s: events not appended: %s (left to recovery)", push_id, err.msg);
		return reply(0, "gitstore: warning: ref events delayed; they will be recorded on recovery\n");
	}
	return reply(0, "");
}

static json_t *hook_aborted(gs_refs *r, const char *push_id, gs_ref_update *u, size_t n)
{
	gs_error err = GS_ERROR_INIT;
	gs_db *db = gs_dbpool_get(r->ctx.pool);
	for (size_t i = 0; i < n; i++) {
		if (gs_journal_intent_drop(db, push_id, u[i].ref, &err) < 0)
			GS_LOG(GS_LOG_WARN, "refs", "push %s: intent for %s not dropped: %s", push_id, u[i].ref, err.msg);
		inflight_release(r, push_id, u[i].ref);
	}
	gs_dbpool_put(r->ctx.pool, db);
	return reply(0, "");
}

static json_t *hook_post_receive(gs_refs *r, const char *push_id)
{
	gs_error err = GS_ERROR_INIT;
	gs_push_rec p;
	gs_db *db = gs_dbpool_get(r->ctx.pool);
	if (gs_journal_push_get(db, push_id, &p, &err) < 0 || refs_finalize(r, db, &p, NULL, &err) < 0)
		GS_LOG(GS_LOG_WARN, "refs", "push %s: post-receive: %s", push_id, err.msg);
	gs_dbpool_put(r->ctx.pool, db);
	return reply(0, "");
}

/* ---- API writes ------------------------------------------------------------ */

static pthread_mutex_t *api_stripe(gs_refs *r, const char *repo_uid)
{
	char h[GS_SHA256_HEX];
	gs_sha256_hex(h, repo_uid, strlen(repo_uid));
	return &r->api_mu[strtoul((char[3]){h[0], h[1], 0}, NULL, 16) % (sizeof(r->api_mu) / sizeof(r->api_mu[0]))];
}

void gs_refs_api_lock(gs_refs *r, const char *repo_uid) { pthread_mutex_lock(api_stripe(r, repo_uid)); }
void gs_refs_api_unlock(gs_refs *r, const char *repo_uid) { pthread_mutex_unlock(api_stripe(r, repo_uid)); }

int gs_refs_api_refuse(gs_refs *r, const char *push_id, const gs_ref_update *u, const char *code, const char *message,
		       json_t *extra, gs_error *err)
{
	refs_session s;
	gs_db *db;
	int error;
	if (!session_copy(r, push_id, &s))
		return gs_error_set(err, GS_ENOTFOUND, "refs", "no session for push %s", push_id);
	db = gs_dbpool_get(r->ctx.pool);
	error = record_rejection(r, db, 0, NULL, &s.repo, push_id, s.who.user, s.via, "api", code, message, u, 1,
				 (const char *[]){code}, extra, err);
	gs_dbpool_put(r->ctx.pool, db);
	session_mark_rejected(r, push_id);
	return error;
}

static int reply_failed(json_t *rep, gs_error *err)
{
	int failed = json_integer_value(json_object_get(rep, "exit")) != 0;
	if (failed)
		gs_error_set(err, GS_EUNAVAILABLE, "refs", "%s", json_string_value(json_object_get(rep, "message")));
	json_decref(rep);
	return failed;
}

int gs_refs_api_apply(gs_refs *r, const char *push_id, const gs_ref_update *u0, json_t **refusal, gs_error *err)
{
	refs_session s;
	gs_ref_update u = *u0;
	gs_gitrepo *git = NULL;
	gs_buf msg;
	char *path;
	int error, refused;

	*refusal = NULL;
	if (!session_copy(r, push_id, &s))
		return gs_error_set(err, GS_ENOTFOUND, "refs", "no session for push %s", push_id);
	gs_buf_init(&msg, 1024 * 1024);
	refused = refs_precheck(r, &s, NULL, "api", &u, 1, &msg, refusal);
	gs_buf_release(&msg);
	if (refused)
		return gs_error_set(err, GS_EINVALID, "refs", "%s",
				    json_string_value(json_object_get(*refusal, "message")));
	/* the same journal as a push: durable intent, the ref move, then
	 * the events (what git's reference-transaction hook drives) */
	if (reply_failed(hook_prepared(r, push_id, s.repo.uid, &u, 1), err))
		return GS_EUNAVAILABLE;
	path = gs_gitrepo_path(r->data_dir, s.repo.uid);
	error = gs_gitrepo_open(&git, path, NULL, err);
	free(path);
	if (error == 0)
		error = gs_gitrepo_ref_cas(git, u.ref, u.old_sha, u.new_sha, "gitstore: API write", err);
	gs_gitrepo_close(git);
	if (error < 0) {
		gs_error ignore = GS_ERROR_INIT;
		json_decref(hook_aborted(r, push_id, &u, 1));
		if (error == GS_ECONFLICT) {
			*refusal = json_pack("{s:s, s:s, s:b}", "code", "ref_conflict", "message",
					     "the draft branch moved while this write was being prepared; retry", "forbidden", 0);
			gs_refs_api_refuse(r, push_id, &u, "ref_conflict",
					   "the draft branch moved while this write was being prepared", NULL, &ignore);
		}
		return error;
	}
	json_decref(hook_committed(r, push_id, s.repo.uid, &u, 1));
	return 0;
}

json_t *gs_refs_hook(gs_refs *r, json_t *req)
{
	const char *hook = json_string_value(json_object_get(req, "hook"));
	const char *phase = json_string_value(json_object_get(req, "phase"));
	const char *push_id = json_string_value(json_object_get(req, "pushId"));
	const char *repo_uid = json_string_value(json_object_get(req, "repoUid"));
	const char *quarantine = json_string_value(json_object_get(req, "quarantine"));
	gs_ref_update *u = NULL;
	size_t n = 0;
	gs_error err = GS_ERROR_INIT;
	json_t *out;
	int flags;

	if (!hook || !push_id || !repo_uid || strlen(push_id) > 64 || strlen(repo_uid) > 36)
		return reply(1, "gitstore: malformed hook request (missing pushId/repoUid)\n");
	{
		int txn = strcmp(hook, "reference-transaction") == 0;
		int keep_zero = txn && phase && strcmp(phase, "aborted") != 0;
		flags = (strcmp(hook, "pre-receive") != 0 ? GS_UPD_EVENTS_ONLY : 0) | (keep_zero ? GS_UPD_KEEP_ZERO : 0);
	}
	if (gs_refs_parse_updates(json_object_get(req, "updates"), flags, &u, &n, &err) < 0) {
		char m[320];
		snprintf(m, sizeof(m), "gitstore: %s\n", err.msg);
		return reply(1, m);
	}
	if (strcmp(hook, "pre-receive") == 0)
		out = hook_pre_receive(r, push_id, quarantine, u, n);
	else if (strcmp(hook, "post-receive") == 0)
		out = hook_post_receive(r, push_id);
	else if (strcmp(hook, "reference-transaction") == 0 && phase && strcmp(phase, "prepared") == 0)
		out = hook_prepared(r, push_id, repo_uid, u, n);
	else if (strcmp(hook, "reference-transaction") == 0 && phase && strcmp(phase, "committed") == 0)
		out = hook_committed(r, push_id, repo_uid, u, n);
	else if (strcmp(hook, "reference-transaction") == 0 && phase && strcmp(phase, "aborted") == 0)
		out = hook_aborted(r, push_id, u, n);
	else
		out = reply(1, "gitstore: unknown hook\n");
	free(u);
	return out;
}

/* ---- recovery and reconcile ---------------------------------------------- */

static int recover_intents(gs_refs *r, gs_db *db, gs_error *err)
{
	gs_intent *list = NULL;
	size_t n = 0;
	int error;
	if ((error = gs_journal_intent_list(db, &list, &n, err)) < 0)
		return error;
	for (size_t i = 0; i < n && !error; i++) {
		gs_intent *it = &list[i];
		gs_repo_info repo;
		gs_push_rec p;
		gs_gitrepo *git = NULL;
		char actual[41], *path;
		gs_error e2 = GS_ERROR_INIT;

		if (gs_registry_repo_by_uid(db, it->repo_uid, &repo, &e2) < 0 ||
		    gs_journal_push_get(db, it->push_id, &p, &e2) < 0) {
			GS_LOG(GS_LOG_WARN, "recovery", "intent %s %s: %s; dropped", it->push_id, it->u.ref, e2.msg);
			error = gs_journal_intent_drop(db, it->push_id, it->u.ref, err);
			continue;
		}
		path = gs_gitrepo_path(r->data_dir, repo.uid);
		if (gs_gitrepo_open(&git, path, NULL, &e2) < 0) {
			GS_LOG(GS_LOG_ERROR, "recovery", "%s: %s", path, e2.msg);
			free(path);
			continue; /* keep the intent for the next start */
		}
		free(path);
		if (gs_gitrepo_ref_read(git, it->u.ref, actual, &e2) < 0)
			memcpy(actual, GS_ZERO_OID, 41);
		if (strcmp(actual, it->u.new_sha) == 0) {
			/* git committed it; the events were not appended */
			refs_evbatch b;
			memset(&b, 0, sizeof(b));
			add_ref_event(&b, git, &repo, it->push_id, p.actor, p.via, "recovery", &it->u, NULL);
			GS_LOG(GS_LOG_INFO, "recovery", "push %s: %s committed before the crash; appending its event",
			       it->push_id, it->u.ref);
			error = commit_ref_events(r, db, &b, &it->u, it->push_id, NULL, err);
			evbatch_release(&b);
		} else {
			/* never committed (or moved since: reconcile reports it) */
			error = gs_journal_intent_drop(db, it->push_id, it->u.ref, err);
		}
		gs_gitrepo_close(git);
	}
	free(list);
	return error;
}

static int recover_pushes(gs_refs *r, gs_db *db, gs_error *err)
{
	gs_push_rec *list = NULL;
	size_t n = 0;
	int error;
	if ((error = gs_journal_push_list_open(db, &list, &n, err)) < 0)
		return error;
	for (size_t i = 0; i < n && !error; i++) {
		/* no session survives a restart: mark done whatever happened */
		error = refs_finalize(r, db, &list[i], NULL, err);
		if (!error)
			error = gs_journal_push_set_state(db, list[i].push_id, "done", err);
	}
	free(list);
	return error;
}

typedef struct reconcile_ref {
	char *ref;
	char stored[41];
	char actual[41];
	int64_t version;
} reconcile_ref;

typedef struct reconcile_ctx {
	reconcile_ref *refs;
	size_t n, cap;
} reconcile_ctx;

static reconcile_ref *reconcile_slot(reconcile_ctx *c, const char *ref)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->refs[i].ref, ref) == 0)
			return &c->refs[i];
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 32;
		c->refs = gs_xrealloc(c->refs, c->cap * sizeof(*c->refs));
	}
	memset(&c->refs[c->n], 0, sizeof(c->refs[c->n]));
	c->refs[c->n].ref = gs_xstrdup(ref);
	memcpy(c->refs[c->n].stored, GS_ZERO_OID, 41);
	memcpy(c->refs[c->n].actual, GS_ZERO_OID, 41);
	return &c->refs[c->n++];
}

static int reconcile_stored_cb(const char *ref, const char *sha, int64_t version, void *payload)
{
	reconcile_ref *s = reconcile_slot(payload, ref);
	snprintf(s->stored, sizeof(s->stored), "%s", sha);
	s->version = version;
	return 0;
}

static int reconcile_actual_cb(const char *ref, const char *sha, void *payload)
{
	reconcile_ref *s = reconcile_slot(payload, ref);
	snprintf(s->actual, sizeof(s->actual), "%s", sha);
	return 0;
}

static int reconcile_cmp(const void *a, const void *b)
{
	return strcmp(((const reconcile_ref *)a)->ref, ((const reconcile_ref *)b)->ref);
}

static int reconcile_repo(gs_refs *r, gs_db *db, const gs_repo_info *repo, gs_error *err)
{
	reconcile_ctx c;
	gs_gitrepo *git = NULL;
	refs_evbatch b;
	gs_ref_update *u = NULL;
	char *path = gs_gitrepo_path(r->data_dir, repo->uid);
	char corr[GS_EVENT_ID_HEX + 1];
	int error;

	memset(&c, 0, sizeof(c));
	memset(&b, 0, sizeof(b));
	if ((error = gs_gitrepo_open(&git, path, NULL, err)) < 0 ||
	    (error = gs_journal_ref_each(db, repo->uid, reconcile_stored_cb, &c, err)) < 0 ||
	    (error = gs_gitrepo_refs_each(git, reconcile_actual_cb, &c, err)) < 0)
		goto out;
	if (c.n)
		qsort(c.refs, c.n, sizeof(*c.refs), reconcile_cmp);
	u = gs_xcalloc(c.n + 1, sizeof(*u));
	{
		/* one correlation id per reconcile of this repository state */
		char head[24];
		int64_t h = 0;
		const char *parts[] = {"reconcile", repo->uid, head};
		gs_evlog_head(db, &h, NULL);
		snprintf(head, sizeof(head), "%lld", (long long)h);
		gs_evlog_make_id(corr, parts, 3);
	}
	for (size_t i = 0; i < c.n; i++) {
		reconcile_ref *s = &c.refs[i];
		char version[24];
		size_t k = b.n;
		if (strcmp(s->stored, s->actual) == 0)
			continue;
		snprintf(u[k].ref, sizeof(u[k].ref), "%s", s->ref);
		memcpy(u[k].old_sha, s->stored, 41);
		memcpy(u[k].new_sha, s->actual, 41);
		snprintf(version, sizeof(version), "v%lld", (long long)s->version);
		add_ref_event(&b, git, repo, NULL, "system", "system", "reconcile", &u[k], version);
		/* reconcile events are not part of a push: own id namespace,
		 * shared correlation for the pass */
		{
			const char *parts[] = {"reconcile", repo->uid, s->ref, s->stored, s->actual, version};
			gs_evlog_make_id(b.ids[k], parts, 6);
		}
		b.specs[k].correlation = NULL;
		GS_LOG(GS_LOG_INFO, "reconcile", "%s/%s %s changed behind the service: %.12s -> %.12s", repo->ns,
		       repo->name, s->ref, s->stored, s->actual);
	}
	if (b.n) {
		for (size_t i = 0; i < b.n; i++)
			b.specs[i].correlation = corr;
		error = commit_ref_events(r, db, &b, u, NULL, NULL, err);
	}
out:
	for (size_t i = 0; i < c.n; i++)
		free(c.refs[i].ref);
	free(c.refs);
	free(u);
	evbatch_release(&b);
	gs_gitrepo_close(git);
	free(path);
	return error;
}

static void leftover_removed(const char *path, void *payload)
{
	const gs_repo_info *repo = payload;
	GS_LOG(GS_LOG_WARN, "recovery", "%s/%s: removed %s, left by a git process that did not finish", repo->ns,
	       repo->name, path);
}

int gs_refs_recover(gs_refs *r, gs_error *err)
{
	gs_repo_info *repos = NULL;
	size_t n = 0;
	gs_db *db = gs_dbpool_get(r->ctx.pool);
	int error;

	if ((error = gs_registry_repo_list(db, &repos, &n, err)) < 0)
		goto out;
	/* git processes of the previous run are gone (killed with it, or
	 * failed closed without its hook socket): the ref locks they held
	 * would refuse those refs' updates for good, their quarantined
	 * objects would stay on disk for good */
	for (size_t i = 0; i < n; i++) {
		gs_error e2 = GS_ERROR_INIT;
		char *path = gs_gitrepo_path(r->data_dir, repos[i].uid);
		if (gs_gitrepo_remove_stale_locks(path, leftover_removed, &repos[i], &e2) < 0 ||
		    gs_gitrepo_remove_stale_quarantines(path, leftover_removed, &repos[i], &e2) < 0)
			GS_LOG(GS_LOG_ERROR, "recovery", "%s/%s: removing what a killed git left: %s", repos[i].ns,
			       repos[i].name, e2.msg);
		free(path);
	}
	if ((error = recover_intents(r, db, err)) < 0 || (error = recover_pushes(r, db, err)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		gs_error e2 = GS_ERROR_INIT;
		if (reconcile_repo(r, db, &repos[i], &e2) < 0)
			GS_LOG(GS_LOG_ERROR, "reconcile", "%s/%s: %s", repos[i].ns, repos[i].name, e2.msg);
	}
out:
	free(repos);
	gs_dbpool_put(r->ctx.pool, db);
	return error;
}
