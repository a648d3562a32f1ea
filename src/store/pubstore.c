/*
 * store/pubstore.c -- published view, release snapshots, releases (see
 * pubstore.h).
 * SPDX-License-Identifier: MIT
 */
#include "store/pubstore.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db_internal.h"
#include "util/alloc.h"

/* The published row with its content, which lives in the snapshot of the
 * release it came from. */
#define PUB_COLS                                                                                               \
	"p.namespace, p.kind, p.name, p.uid, p.repo_uid, s.path, p.api_version, s.labels, s.annotations, s.spec, " \
	"s.body, p.content_hash, p.generation, p.release_ref, p.release_commit, p.published_ms, p.since_ms"
#define PUB_FROM                                                                                          \
	" FROM published p JOIN release_resources s ON s.repo_uid = p.repo_uid AND s.commit_sha = p.release_commit" \
	" AND s.kind = p.kind AND s.name = p.name"

static const char SQL_PUB_GET[] = "SELECT " PUB_COLS PUB_FROM
				  " WHERE p.namespace = ? AND p.kind = ? AND p.name = ?";
static const char SQL_PUB_PUT[] =
	"INSERT OR REPLACE INTO published(namespace, kind, name, uid, repo_uid, api_version, content_hash, generation,"
	" release_ref, release_commit, published_ms, since_ms) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)";
static const char SQL_PUB_DELETE[] = "DELETE FROM published WHERE namespace = ? AND kind = ? AND name = ?";
/* identities only: content columns empty */
static const char SQL_PUB_OTHER[] =
	"SELECT namespace, kind, name, uid, repo_uid, '', api_version, '', '', '', '', content_hash, generation,"
	" release_ref, release_commit, published_ms, since_ms FROM published WHERE repo_uid = ?1"
	" AND NOT (release_ref IS ?2 AND release_commit IS ?3) ORDER BY kind, name";
static const char SQL_PUB_LIST[] = "SELECT " PUB_COLS PUB_FROM " WHERE p.namespace = ?1 AND p.kind = ?2"
				   " AND p.name > ?3 ORDER BY p.name LIMIT ?4";
static const char SQL_SNAP_PUT[] =
	"INSERT OR REPLACE INTO release_resources(repo_uid, commit_sha, namespace, kind, name, path, api_version,"
	" labels, annotations, spec, body, content_hash) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)";
/* identities only (content columns empty), with the draft and the current
 * published row of each */
static const char SQL_SNAP_JOIN[] =
	"SELECT s.namespace, s.kind, s.name, '', s.repo_uid, s.path, s.api_version, '', '', '', '', s.content_hash,"
	" 0, '', s.commit_sha, 0, 0,"
	" r.uid, r.generation, r.admitted, r.content_hash, p.uid, p.generation, p.content_hash, p.since_ms"
	" FROM release_resources s"
	" LEFT JOIN resources r ON r.namespace = s.namespace AND r.kind = s.kind AND r.name = s.name"
	" LEFT JOIN published p ON p.namespace = s.namespace AND p.kind = s.kind AND p.name = s.name"
	" AND p.repo_uid = s.repo_uid"
	" WHERE s.repo_uid = ? AND s.commit_sha = ? ORDER BY s.kind, s.name";
static const char SQL_STATE[] =
	"SELECT 1, generation, release_ref, release_commit, since_ms FROM published"
	" WHERE namespace = ?1 AND kind = ?2 AND name = ?3"
	" UNION ALL SELECT 2, 0, '', '', since_ms FROM unpublished WHERE namespace = ?1 AND kind = ?2 AND name = ?3"
	" LIMIT 1";
static const char SQL_WITHDRAWN_PUT[] =
	"INSERT OR REPLACE INTO unpublished(namespace, kind, name, repo_uid, since_ms) VALUES(?,?,?,?,?)";
static const char SQL_WITHDRAWN_PRUNE[] =
	"DELETE FROM unpublished WHERE repo_uid = ?1 AND EXISTS(SELECT 1 FROM published p"
	" WHERE p.namespace = unpublished.namespace AND p.kind = unpublished.kind AND p.name = unpublished.name)";
static const char SQL_REL_PUT[] =
	"INSERT OR REPLACE INTO releases(repo_uid, ref, commit_sha, state, event_id, logseq, resources, created_ms,"
	" ref_sha) VALUES(?,?,?,?,?,?,?,?,?)";
static const char SQL_REL_PASSED[] = "SELECT repo_uid, ref, commit_sha, state, event_id, logseq, resources, ref_sha FROM releases"
				     " WHERE repo_uid = ? AND state = 'passed' ORDER BY logseq DESC, ref DESC";
static const char SQL_CUR_GET[] =
	"SELECT c.repo_uid, c.ref, c.commit_sha, 'passed', c.event_id, COALESCE(r.logseq, 0),"
	" COALESCE(r.resources, 0), ''"
	" FROM release_current c LEFT JOIN releases r ON r.repo_uid = c.repo_uid AND r.ref = c.ref"
	" AND r.commit_sha = c.commit_sha AND r.state = 'passed' WHERE c.repo_uid = ?";
static const char SQL_CUR_SET[] = "INSERT OR REPLACE INTO release_current(repo_uid, ref, commit_sha, event_id)"
				  " VALUES(?,?,?,?)";
static const char SQL_CUR_DEL[] = "DELETE FROM release_current WHERE repo_uid = ?";

void gs_pubrow_release(gs_pubrow *r)
{
	free(r->path);
	free(r->api_version);
	free(r->labels);
	free(r->annotations);
	free(r->spec);
	free(r->body);
	free(r->content_hash);
	free(r->release_ref);
	memset(r, 0, sizeof(*r));
}

static void pub_read(sqlite3_stmt *st, gs_pubrow *r)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->ns, sizeof(r->ns), "%s", gs_db__col_text(st, 0));
	snprintf(r->kind, sizeof(r->kind), "%s", gs_db__col_text(st, 1));
	snprintf(r->name, sizeof(r->name), "%s", gs_db__col_text(st, 2));
	snprintf(r->uid, sizeof(r->uid), "%s", gs_db__col_text(st, 3));
	snprintf(r->repo_uid, sizeof(r->repo_uid), "%s", gs_db__col_text(st, 4));
	r->path = gs_xstrdup(gs_db__col_text(st, 5));
	r->api_version = gs_xstrdup(gs_db__col_text(st, 6));
	r->labels = gs_xstrdup(gs_db__col_text(st, 7));
	r->annotations = gs_xstrdup(gs_db__col_text(st, 8));
	r->spec = gs_xstrdup(gs_db__col_text(st, 9));
	r->body_len = (size_t)sqlite3_column_bytes(st, 10);
	r->body = gs_xmalloc(r->body_len + 1);
	if (r->body_len)
		memcpy(r->body, sqlite3_column_blob(st, 10), r->body_len);
	r->body[r->body_len] = 0;
	r->content_hash = gs_xstrdup(gs_db__col_text(st, 11));
	r->generation = sqlite3_column_int64(st, 12);
	r->release_ref = gs_xstrdup(gs_db__col_text(st, 13));
	snprintf(r->release_commit, sizeof(r->release_commit), "%s", gs_db__col_text(st, 14));
	r->published_ms = sqlite3_column_int64(st, 15);
	r->since_ms = sqlite3_column_int64(st, 16);
}

static int pub_emit(gs_db *db, sqlite3_stmt *st, gs_pubstore_cb cb, void *payload, gs_error *err)
{
	int rc, error = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		gs_pubrow r;
		pub_read(st, &r);
		error = cb(&r, payload);
		gs_pubrow_release(&r);
		if (error)
			return error;
	}
	return rc == SQLITE_DONE ? 0 : gs_db__error(err, db, rc, "published list");
}

int gs_pubstore_get(gs_db *db, const char *ns, const char *kind, const char *name, gs_pubrow *out, gs_error *err)
{
	sqlite3_stmt *st;
	int error, rc;
	if ((error = gs_db__prepare(db, &st, SQL_PUB_GET, err)) < 0)
		return error;
	gs_db__bind_text(st, 1, ns);
	gs_db__bind_text(st, 2, kind);
	gs_db__bind_text(st, 3, name);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		pub_read(st, out);
	gs_db__done(st);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? gs_error_set(err, GS_ENOTFOUND, "store", "not published")
				 : gs_db__error(err, db, rc, "published get");
}

static void bind_content(sqlite3_stmt *st, int first, const gs_pubrow *r)
{
	gs_db__bind_text(st, first, r->path ? r->path : "");
	gs_db__bind_text(st, first + 1, r->api_version ? r->api_version : "");
	gs_db__bind_text(st, first + 2, r->labels ? r->labels : "{}");
	gs_db__bind_text(st, first + 3, r->annotations ? r->annotations : "{}");
	gs_db__bind_text(st, first + 4, r->spec ? r->spec : "{}");
	sqlite3_bind_text(st, first + 5, r->body ? r->body : "", r->body ? (int)r->body_len : 0, SQLITE_TRANSIENT);
	gs_db__bind_text(st, first + 6, r->content_hash ? r->content_hash : "");
}

static int step_done(gs_db *db, sqlite3_stmt *st, const char *what, gs_error *err)
{
	int rc = sqlite3_step(st);
	gs_db__done(st);
	return rc == SQLITE_DONE ? 0 : gs_db__error(err, db, rc, what);
}

int gs_pubstore_put(gs_db *db, const gs_pubrow *r, gs_error *err)
{
	sqlite3_stmt *st;
	int error;
	if ((error = gs_db__prepare(db, &st, SQL_PUB_PUT, err)) < 0)
		return error;
	gs_db__bind_text(st, 1, r->ns);
	gs_db__bind_text(st, 2, r->kind);
	gs_db__bind_text(st, 3, r->name);
	gs_db__bind_text(st, 4, r->uid);
	gs_db__bind_text(st, 5, r->repo_uid);
	gs_db__bind_text(st, 6, r->api_version ? r->api_version : "");
	gs_db__bind_text(st, 7, r->content_hash ? r->content_hash : "");
	sqlite3_bind_int64(st, 8, r->generation);
	gs_db__bind_text(st, 9, r->release_ref ? r->release_ref : "");
	gs_db__bind_text(st, 10, r->release_commit);
	sqlite3_bind_int64(st, 11, r->published_ms);
	sqlite3_bind_int64(st, 12, r->since_ms);
	return step_done(db, st, "publish", err);
}

int gs_pubstore_state(gs_db *db, const char *ns, const char *kind, const char *name, gs_pubstate *out, gs_error *err)
{
	sqlite3_stmt *st;
	int error, rc;
	memset(out, 0, sizeof(*out));
	if ((error = gs_db__prepare(db, &st, SQL_STATE, err)) < 0)
		return error;
	gs_db__bind_text(st, 1, ns);
	gs_db__bind_text(st, 2, kind);
	gs_db__bind_text(st, 3, name);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		out->state = (gs_pubstate_kind)sqlite3_column_int(st, 0);
		out->generation = sqlite3_column_int64(st, 1);
		snprintf(out->release_ref, sizeof(out->release_ref), "%s", gs_db__col_text(st, 2));
		snprintf(out->release_commit, sizeof(out->release_commit), "%s", gs_db__col_text(st, 3));
		out->since_ms = sqlite3_column_int64(st, 4);
	}
	gs_db__done(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : gs_db__error(err, db, rc, "publication state");
}

int gs_pubstore_withdrawn_put(gs_db *db, const char *repo_uid, const char *ns, const char *kind, const char *name,
			      int64_t since_ms, gs_error *err)
{
	sqlite3_stmt *st;
	int error;
	if ((error = gs_db__prepare(db, &st, SQL_WITHDRAWN_PUT, err)) < 0)
		return error;
	gs_db__bind_text(st, 1, ns);
	gs_db__bind_text(st, 2, kind);
	gs_db__bind_text(st, 3, name);
	gs_db__bind_text(st, 4, repo_uid);
	sqlite3_bind_int64(st, 5, since_ms);
	return step_done(db, st, "withdrawn", err);
}

int gs_pubstore_withdrawn_prune(gs_db *db, const char *repo_uid, gs_error *err)
{
	sqlite3_stmt *st;
	int error;
	if ((error = gs_db__prepare(db, &st, SQL_WITHDRAWN_PRUNE, err)) < 0)
		return error;
	gs_db__bind_text(st, 1, repo_uid);
	return step_done(db, st, "withdrawn prune", err);
}

int gs_pubstore_delete(gs_db *db, const char *ns, const char *kind, const char *name, gs_error *err)
{
	sqlite3_stmt *st;
	int error;
	if ((error = gs_db__prepare(db, &st, SQL_PUB_DELETE, err)) < 0)
		return error;
	gs_db__bind_text(st, 1, ns);
	gs_db__bind_text(st, 2, kind);
	gs_db__bind_text(st, 3, name);
	return step_done(db, st, "unpublish", err);
}

int gs_pubstore_each_other(gs_db *db, const char *repo_uid, const char *ref, const char *commit, gs_pubstore_cb cb,
			   void *payload, gs_error *err)
{
	sqlite3_stmt *st;
	int error;
	if ((error = gs_db__prepare(db, &st, SQL_PUB_OTHER, err)) < 0)
		return error;
	gs_db__bind_text(st, 1, repo_uid);
	gs_db__bind_text(st, 2, ref);
	gs_db__bind_text(st, 3, ref ? commit : NULL);
	error = pub_emit(db, st, cb, payload, err);
	gs_db__done(st);
	return error;
}

int gs_pubstore_list(gs_db *db, const char *ns, const char *kind, const char *after, int limit, gs_pubstore_cb cb,
		     void *payload, gs_error *err)
{
	sqlite3_stmt *st;
	int error;
	if ((error = gs_db__prepare(db, &st, SQL_PUB_LIST, err)) < 0)
		return error;
	gs_db__bind_text(st, 1, ns);
	gs_db__bind_text(st, 2, kind);
	gs_db__bind_text(st, 3, after ? after : "");
	sqlite3_bind_int(st, 4, limit);
	error = pub_emit(db, st, cb, payload, err);
	gs_db__done(st);
	return error;
}

int gs_pubstore_snapshot_put(gs_db *db, const char *commit, const gs_pubrow *r, gs_error *err)
{
	sqlite3_stmt *st;
	int error;
	if ((error = gs_db__prepare(db, &st, SQL_SNAP_PUT, err)) < 0)
		return error;
	gs_db__bind_text(st, 1, r->repo_uid);
	gs_db__bind_text(st, 2, commit);
	gs_db__bind_text(st, 3, r->ns);
	gs_db__bind_text(st, 4, r->kind);
	gs_db__bind_text(st, 5, r->name);
	bind_content(st, 6, r);
	return step_done(db, st, "release snapshot", err);
}

static void snapjoin_read(sqlite3_stmt *st, gs_snapjoin *j)
{
	memset(j, 0, sizeof(*j));
	pub_read(st, &j->snap);
	j->has_draft = sqlite3_column_type(st, 17) != SQLITE_NULL;
	if (j->has_draft) {
		snprintf(j->draft_uid, sizeof(j->draft_uid), "%s", gs_db__col_text(st, 17));
		j->draft_generation = sqlite3_column_int64(st, 18);
		j->draft_admitted = sqlite3_column_int(st, 19);
		j->draft_hash = gs_db__col_text(st, 20);
	}
	j->has_pub = sqlite3_column_type(st, 21) != SQLITE_NULL;
	if (j->has_pub) {
		snprintf(j->pub_uid, sizeof(j->pub_uid), "%s", gs_db__col_text(st, 21));
		j->pub_generation = sqlite3_column_int64(st, 22);
		j->pub_hash = gs_db__col_text(st, 23);
		j->pub_since_ms = sqlite3_column_int64(st, 24);
	}
}

int gs_pubstore_snapshot_join(gs_db *db, const char *repo_uid, const char *commit, gs_snapjoin_cb cb, void *payload,
			      gs_error *err)
{
	sqlite3_stmt *st;
	int error, rc;
	if ((error = gs_db__prepare(db, &st, SQL_SNAP_JOIN, err)) < 0)
		return error;
	gs_db__bind_text(st, 1, repo_uid);
	gs_db__bind_text(st, 2, commit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		gs_snapjoin j;
		snapjoin_read(st, &j);
		error = cb(&j, payload);
		gs_pubrow_release(&j.snap);
		if (error)
			break;
	}
	gs_db__done(st);
	if (error)
		return error;
	return rc == SQLITE_DONE ? 0 : gs_db__error(err, db, rc, "release snapshot");
}

int gs_release_put(gs_db *db, const gs_release *r, gs_error *err)
{
	sqlite3_stmt *st;
	int error;
	if ((error = gs_db__prepare(db, &st, SQL_REL_PUT, err)) < 0)
		return error;
	gs_db__bind_text(st, 1, r->repo_uid);
	gs_db__bind_text(st, 2, r->ref);
	gs_db__bind_text(st, 3, r->commit);
	gs_db__bind_text(st, 4, r->state);
	gs_db__bind_text(st, 5, r->event_id);
	sqlite3_bind_int64(st, 6, r->logseq);
	sqlite3_bind_int64(st, 7, r->resources);
	sqlite3_bind_int64(st, 8, (sqlite3_int64)0);
	gs_db__bind_text(st, 9, r->ref_sha);
	return step_done(db, st, "release", err);
}

static void rel_read(sqlite3_stmt *st, gs_release *r)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->repo_uid, sizeof(r->repo_uid), "%s", gs_db__col_text(st, 0));
	snprintf(r->ref, sizeof(r->ref), "%s", gs_db__col_text(st, 1));
	snprintf(r->commit, sizeof(r->commit), "%s", gs_db__col_text(st, 2));
	snprintf(r->state, sizeof(r->state), "%s", gs_db__col_text(st, 3));
	snprintf(r->event_id, sizeof(r->event_id), "%s", gs_db__col_text(st, 4));
	r->logseq = sqlite3_column_int64(st, 5);
	r->resources = sqlite3_column_int64(st, 6);
	snprintf(r->ref_sha, sizeof(r->ref_sha), "%s", gs_db__col_text(st, 7));
}

int gs_release_each_passed(gs_db *db, const char *repo_uid, gs_release_cb cb, void *payload, gs_error *err)
{
	sqlite3_stmt *st;
	int error, rc;
	if ((error = gs_db__prepare(db, &st, SQL_REL_PASSED, err)) < 0)
		return error;
	gs_db__bind_text(st, 1, repo_uid);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		gs_release r;
		rel_read(st, &r);
		if ((error = cb(&r, payload)) != 0)
			break;
	}
	gs_db__done(st);
	if (error)
		return error;
	return rc == SQLITE_DONE ? 0 : gs_db__error(err, db, rc, "releases");
}

int gs_release_current_get(gs_db *db, const char *repo_uid, gs_release *out, gs_error *err)
{
	sqlite3_stmt *st;
	int error, rc;
	if ((error = gs_db__prepare(db, &st, SQL_CUR_GET, err)) < 0)
		return error;
	gs_db__bind_text(st, 1, repo_uid);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		rel_read(st, out);
	gs_db__done(st);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? gs_error_set(err, GS_ENOTFOUND, "store", "no current release")
				 : gs_db__error(err, db, rc, "current release");
}

int gs_release_current_set(gs_db *db, const char *repo_uid, const gs_release *r, gs_error *err)
{
	sqlite3_stmt *st;
	int error;
	if ((error = gs_db__prepare(db, &st, r ? SQL_CUR_SET : SQL_CUR_DEL, err)) < 0)
		return error;
	gs_db__bind_text(st, 1, repo_uid);
	if (r) {
		gs_db__bind_text(st, 2, r->ref);
		gs_db__bind_text(st, 3, r->commit);
		gs_db__bind_text(st, 4, r->event_id);
	}
	return step_done(db, st, "set current release", err);
}
