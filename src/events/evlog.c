/*
 * events/evlog.c -- event log on SQLite.
 *
 * Owns tables events and repo_seq. Invariants: logseq contiguous from 1;
 * per-repository seq contiguous from 1; id unique. Both numbers are taken
 * under the write transaction the caller opened with gs_db_begin, which
 * SQLite holds exclusively (BEGIN IMMEDIATE), so concurrent appenders in
 * any process cannot interleave.
 * SPDX-License-Identifier: MIT
 */
#include "events/evlog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "limits.h"
#include "store/db_internal.h"
#include "util/hash.h"
#include "util/time.h"

static const char SQL_EXISTS[] = "SELECT 1 FROM events WHERE id = ?";
static const char SQL_HEAD[] = "SELECT COALESCE(MAX(logseq), 0) FROM events";
static const char SQL_REPO_SEQ[] = "SELECT seq FROM repo_seq WHERE repo_uid = ?";
static const char SQL_REPO_SEQ_SET[] =
	"INSERT INTO repo_seq(repo_uid, seq) VALUES(?, ?) ON CONFLICT(repo_uid) DO UPDATE SET seq = excluded.seq";
static const char SQL_INSERT[] = "INSERT INTO events(logseq, id, repo_uid, namespace, seq, type, correlation, time_ms, json)"
				 " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char SQL_CORR[] = "SELECT logseq, type, json FROM events WHERE correlation = ? ORDER BY logseq";

void gs_evlog_make_id(char out[GS_EVENT_ID_HEX + 1], const char *const *parts, size_t n)
{
	char full[GS_SHA256_HEX];
	gs_sha256_parts_hex(full, parts, n);
	memcpy(out, full, GS_EVENT_ID_HEX);
	out[GS_EVENT_ID_HEX] = 0;
}

static int evlog_int_query(gs_db *db, const char *sql, const char *arg, int64_t *out, gs_error *err)
{
	sqlite3_stmt *st;
	int error, rc;
	if ((error = gs_db__prepare(db, &st, sql, err)) < 0)
		return error;
	if (arg)
		gs_db__bind_text(st, 1, arg);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int64(st, 0);
		error = 1;
	} else if (rc == SQLITE_DONE) {
		*out = 0;
		error = 0;
	} else {
		error = gs_db__error(err, db, rc, "event log query");
	}
	gs_db__done(st);
	return error;
}

int gs_evlog_exists(gs_db *db, const char *id, gs_error *err)
{
	int64_t v;
	return evlog_int_query(db, SQL_EXISTS, id, &v, err);
}

int gs_evlog_head(gs_db *db, int64_t *out, gs_error *err)
{
	int error = evlog_int_query(db, SQL_HEAD, NULL, out, err);
	return error < 0 ? error : 0;
}

/* Builds the structured-mode CloudEvent (DESIGN 4). */
static char *evlog_envelope(const gs_event_spec *ev, int64_t logseq, int64_t seq, int64_t now_ms)
{
	char ts[40], seqs[24], type[128], source[96];
	json_t *env = json_object(), *data = json_deep_copy(ev->data ? ev->data : json_object());
	json_t *repo = json_object();
	char *text;

	gs_time_fmt_rfc3339(now_ms, ts, sizeof(ts));
	snprintf(seqs, sizeof(seqs), "%020lld", (long long)seq);
	snprintf(type, sizeof(type), GS_EVENT_TYPE_PREFIX "%s.v1", ev->type);
	snprintf(source, sizeof(source), "/gitstore/repositories/%s", ev->repo->uid);
	json_object_set_new(repo, "uid", json_string(ev->repo->uid));
	json_object_set_new(repo, "namespace", json_string(ev->repo->ns));
	json_object_set_new(repo, "name", json_string(ev->repo->name));
	json_object_set_new(data, "repository", repo);

	json_object_set_new(env, "specversion", json_string("1.0"));
	json_object_set_new(env, "id", json_string(ev->id));
	json_object_set_new(env, "source", json_string(source));
	json_object_set_new(env, "type", json_string(type));
	json_object_set_new(env, "subject", json_string(ev->subject));
	json_object_set_new(env, "time", json_string(ts));
	json_object_set_new(env, "datacontenttype", json_string("application/json"));
	json_object_set_new(env, "sequence", json_string(seqs));
	json_object_set_new(env, "logseq", json_integer(logseq));
	if (ev->correlation)
		json_object_set_new(env, "correlationid", json_string(ev->correlation));
	if (ev->causation)
		json_object_set_new(env, "causationid", json_string(ev->causation));
	json_object_set_new(env, "data", data);
	text = json_dumps(env, JSON_COMPACT);
	json_decref(env);
	return text;
}

static int evlog_append_one(gs_db *db, const gs_event_spec *ev, int64_t *head, int *added, gs_error *err)
{
	sqlite3_stmt *st;
	int64_t seq = 0, now = gs_time_now_ms();
	char *json = NULL;
	int error, rc;

	*added = 0;
	if ((error = gs_evlog_exists(db, ev->id, err)) != 0)
		return error < 0 ? error : 0; /* duplicate: dropped, no number used */
	if ((error = evlog_int_query(db, SQL_REPO_SEQ, ev->repo->uid, &seq, err)) < 0)
		return error;
	seq++;
	json = evlog_envelope(ev, *head + 1, seq, now);
	if (!json)
		return gs_error_set(err, GS_ERROR, "events", "cannot serialise %s event", ev->type);
	if (strlen(json) > GS_MAX_EVENT_BYTES) {
		error = gs_error_set(err, GS_ELIMIT, "events", "%s event of %zu bytes exceeds %d", ev->type,
				     strlen(json), GS_MAX_EVENT_BYTES);
		goto out;
	}
	if ((error = gs_db__prepare(db, &st, SQL_INSERT, err)) < 0)
		goto out;
	sqlite3_bind_int64(st, 1, *head + 1);
	gs_db__bind_text(st, 2, ev->id);
	gs_db__bind_text(st, 3, ev->repo->uid);
	gs_db__bind_text(st, 4, ev->repo->ns);
	sqlite3_bind_int64(st, 5, seq);
	gs_db__bind_text(st, 6, ev->type);
	gs_db__bind_text(st, 7, ev->correlation);
	sqlite3_bind_int64(st, 8, now);
	gs_db__bind_text(st, 9, json);
	rc = sqlite3_step(st);
	gs_db__done(st);
	if (rc != SQLITE_DONE) {
		error = gs_db__error(err, db, rc, "append event");
		goto out;
	}
	if ((error = gs_db__prepare(db, &st, SQL_REPO_SEQ_SET, err)) < 0)
		goto out;
	gs_db__bind_text(st, 1, ev->repo->uid);
	sqlite3_bind_int64(st, 2, seq);
	rc = sqlite3_step(st);
	gs_db__done(st);
	if (rc != SQLITE_DONE) {
		error = gs_db__error(err, db, rc, "repository sequence");
		goto out;
	}
	(*head)++;
	*added = 1;
out:
	free(json);
	return error;
}

int gs_evlog_append_tx(gs_db *db, const gs_event_spec *evs, size_t n, int *added_flags, size_t *appended,
		       int64_t *last_logseq, gs_error *err)
{
	int64_t head = 0;
	size_t count = 0;
	int error;
	if ((error = gs_evlog_head(db, &head, err)) < 0)
		return error;
	for (size_t i = 0; i < n; i++) {
		int added;
		if ((error = evlog_append_one(db, &evs[i], &head, &added, err)) < 0)
			return error;
		if (added_flags)
			added_flags[i] = added;
		count += (size_t)added;
	}
	if (appended)
		*appended = count;
	if (last_logseq)
		*last_logseq = head;
	return 0;
}

int gs_evlog_append(gs_db *db, const gs_event_spec *evs, size_t n, size_t *appended, int64_t *last_logseq,
		    gs_error *err)
{
	int error;
	if ((error = gs_db_begin(db, err)) < 0)
		return error;
	if ((error = gs_evlog_append_tx(db, evs, n, NULL, appended, last_logseq, err)) < 0 ||
	    (error = gs_db_commit(db, err)) < 0)
		gs_db_rollback(db);
	return error;
}

/* Hands each (logseq, type, json) row to cb; stops at cb's non-zero. */
static int evlog_emit_rows(gs_db *db, sqlite3_stmt *st, gs_evlog_cb cb, void *payload, gs_error *err)
{
	int rc, error = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		error = cb(sqlite3_column_int64(st, 0), gs_db__col_text(st, 1), gs_db__col_text(st, 2), payload);
		if (error)
			return error;
	}
	return rc == SQLITE_DONE ? 0 : gs_db__error(err, db, rc, "event query");
}

static int evlog_bind_list(sqlite3_stmt *st, int idx, const char *const *list)
{
	for (int i = 0; list && list[i]; i++)
		gs_db__bind_text(st, idx++, list[i]);
	return idx;
}

int gs_evlog_read(gs_db *db, const gs_evlog_filter *f, gs_evlog_cb cb, void *payload, gs_error *err)
{
	char sql[4096];
	size_t len;
	sqlite3_stmt *st = NULL;
	int rc, error = 0, idx = 1, ntypes = 0, nns = 0;

	for (; f->types && f->types[ntypes]; ntypes++)
		;
	for (; f->namespaces && f->namespaces[nns]; nns++)
		;
	if (ntypes > 64 || nns > 256)
		return gs_error_set(err, GS_ELIMIT, "events", "too many filter values");
	len = (size_t)snprintf(sql, sizeof(sql), "SELECT logseq, type, json FROM events WHERE logseq > ?");
	if (f->repo_uid)
		len += (size_t)snprintf(sql + len, sizeof(sql) - len, " AND repo_uid = ?");
	if (f->types) {
		len += (size_t)snprintf(sql + len, sizeof(sql) - len, " AND type IN (");
		for (int i = 0; i < ntypes; i++)
			len += (size_t)snprintf(sql + len, sizeof(sql) - len, i ? ",?" : "?");
		len += (size_t)snprintf(sql + len, sizeof(sql) - len, ")");
	}
	if (f->namespaces) {
		len += (size_t)snprintf(sql + len, sizeof(sql) - len, " AND namespace IN (");
		for (int i = 0; i < nns; i++)
			len += (size_t)snprintf(sql + len, sizeof(sql) - len, i ? ",?" : "?");
		len += (size_t)snprintf(sql + len, sizeof(sql) - len, nns ? ")" : "NULL)");
	}
	snprintf(sql + len, sizeof(sql) - len, " ORDER BY logseq LIMIT ?");

	/* dynamic SQL: prepared per call, not cached */
	rc = sqlite3_prepare_v2(gs_db__handle(db), sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return gs_db__error(err, db, rc, "event query");
	sqlite3_bind_int64(st, idx++, f->after);
	if (f->repo_uid)
		gs_db__bind_text(st, idx++, f->repo_uid);
	idx = evlog_bind_list(st, idx, f->types);
	idx = evlog_bind_list(st, idx, f->namespaces);
	sqlite3_bind_int(st, idx, f->limit);
	error = evlog_emit_rows(db, st, cb, payload, err);
	sqlite3_finalize(st);
	return error;
}

int gs_evlog_read_correlation(gs_db *db, const char *correlation, gs_evlog_cb cb, void *payload, gs_error *err)
{
	sqlite3_stmt *st;
	int error;
	if ((error = gs_db__prepare(db, &st, SQL_CORR, err)) < 0)
		return error;
	gs_db__bind_text(st, 1, correlation);
	error = evlog_emit_rows(db, st, cb, payload, err);
	gs_db__done(st);
	return error;
}
