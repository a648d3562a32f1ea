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
#include "util/alloc.h"
#include "util/buf.h"
#include "util/hash.h"
#include "util/time.h"

static const char SQL_EXISTS[] = "SELECT 1 FROM events WHERE id = ?";
static const char SQL_HEAD[] = "SELECT MAX(COALESCE((SELECT MAX(logseq) FROM events), 0),"
				" COALESCE((SELECT pruned_through FROM log_floor), 0))";
static const char SQL_FLOOR[] = "SELECT COALESCE((SELECT pruned_through FROM log_floor), 0)";
static const char SQL_PRUNE_CUT[] = "SELECT COALESCE(MAX(logseq), 0) FROM events WHERE time_ms < ?";
static const char SQL_PRUNE_MIN[] = "SELECT COALESCE(MIN(logseq), 0) FROM events";
static const char SQL_PRUNE_DEL[] = "DELETE FROM events WHERE logseq <= ?";
static const char SQL_PRUNE_FLOOR[] =
	"INSERT INTO log_floor(id, pruned_through, pruned_ms) VALUES(1, ?1, ?2)"
	" ON CONFLICT(id) DO UPDATE SET pruned_through = MAX(pruned_through, ?1), pruned_ms = ?2";
static const char SQL_REPO_SEQ[] = "SELECT seq FROM repo_seq WHERE repo_uid = ?";
static const char SQL_REPO_SEQ_SET[] =
	"INSERT INTO repo_seq(repo_uid, seq) VALUES(?, ?) ON CONFLICT(repo_uid) DO UPDATE SET seq = excluded.seq";
static const char SQL_INSERT[] = "INSERT INTO events(logseq, id, repo_uid, namespace, seq, type, correlation, time_ms, json)"
				 " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char SQL_CORR[] = "SELECT logseq, type, json FROM events WHERE correlation = ? ORDER BY logseq";

const char *const gs_evlog_taxonomy[] = {
	"branch-created", "branch-updated", "branch-force-pushed", "branch-deleted", "tag-created",
	"tag-updated", "tag-deleted", "push-rejected", "push-completed", "catalog-resource-parsed",
	"catalog-resource-validation-failed", "catalog-namespace-target", "catalog-admission-evaluated",
	"catalog-resource-deleted", "release-created", "release-rejected", "draft-published",
	"release-withdrawn", "resource-unpublished", "event-dead-lettered", NULL};

const char *gs_evlog_type_canonical(const char *t)
{
	size_t plen = strlen(GS_EVENT_TYPE_PREFIX), len = t ? strlen(t) : 0;
	for (int i = 0; t && gs_evlog_taxonomy[i]; i++) {
		const char *n = gs_evlog_taxonomy[i];
		size_t nlen = strlen(n);
		if (strcmp(t, n) == 0)
			return n;
		if (len == plen + nlen + 3 && strncmp(t, GS_EVENT_TYPE_PREFIX, plen) == 0 &&
		    strncmp(t + plen, n, nlen) == 0 && strcmp(t + plen + nlen, ".v1") == 0)
			return n;
	}
	return NULL;
}

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

/* Appends s as a JSON string. Most envelope values (ids, times, names)
 * need no escaping and are copied; anything else is escaped by jansson. */
static void evlog_add_str(gs_buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	json_t *j;
	char *text;
	while (*p && *p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\')
		p++;
	if (!*p) {
		gs_buf_adds(b, "\"", NULL);
		gs_buf_add(b, s ? s : "", (size_t)(p - (const unsigned char *)(s ? s : "")), NULL);
		gs_buf_adds(b, "\"", NULL);
		return;
	}
	j = json_string(s);
	text = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
	gs_buf_adds(b, text ? text : "\"\"", NULL);
	free(text);
	json_decref(j);
}

static void evlog_add_member(gs_buf *b, const char *key, const char *value)
{
	gs_buf_adds(b, ",\"", NULL);
	gs_buf_adds(b, key, NULL);
	gs_buf_adds(b, "\":", NULL);
	evlog_add_str(b, value);
}

static int evlog_dump_cb(const char *buffer, size_t size, void *data)
{
	return gs_buf_add(data, buffer, size, NULL) < 0 ? -1 : 0;
}

/* Builds the structured-mode CloudEvent (DESIGN 4) into b (reset first;
 * one buffer serves a whole batch). The envelope is written as text
 * around the data's one dump: building it as a jansson tree, and a fresh
 * buffer per event, cost more than the append itself. */
static int evlog_envelope(gs_buf *b, const gs_event_spec *ev, int64_t logseq, int64_t seq, int64_t now_ms)
{
	char ts[40], seqs[24], type[128], source[96];
	size_t data_at;

	if (ev->data && !json_is_object(ev->data))
		return -1;
	gs_buf_reset(b);
	gs_time_fmt_rfc3339(now_ms, ts, sizeof(ts));
	snprintf(seqs, sizeof(seqs), "%020lld", (long long)seq);
	snprintf(type, sizeof(type), GS_EVENT_TYPE_PREFIX "%s.v1", ev->type);
	snprintf(source, sizeof(source), "/gitstore/repositories/%s", ev->repo->uid);
	gs_buf_adds(b, "{\"specversion\":\"1.0\"", NULL);
	evlog_add_member(b, "id", ev->id);
	evlog_add_member(b, "source", source);
	evlog_add_member(b, "type", type);
	evlog_add_member(b, "subject", ev->subject);
	evlog_add_member(b, "time", ts);
	evlog_add_member(b, "datacontenttype", "application/json");
	evlog_add_member(b, "sequence", seqs);
	gs_buf_printf(b, NULL, ",\"logseq\":%lld", (long long)logseq);
	if (ev->correlation)
		evlog_add_member(b, "correlationid", ev->correlation);
	if (ev->causation)
		evlog_add_member(b, "causationid", ev->causation);
	/* data with data.repository added last: "{...}" -> "{...,"repository":{...}}" */
	gs_buf_adds(b, ",\"data\":", NULL);
	data_at = b->len;
	if (!ev->data)
		gs_buf_adds(b, "{}", NULL);
	else if (json_dump_callback(ev->data, evlog_dump_cb, b, JSON_COMPACT) < 0)
		return -1;
	b->len--; /* the closing brace */
	gs_buf_adds(b, b->len - data_at > 1 ? ",\"repository\":{\"uid\":" : "\"repository\":{\"uid\":", NULL);
	evlog_add_str(b, ev->repo->uid);
	evlog_add_member(b, "namespace", ev->repo->ns);
	evlog_add_member(b, "name", ev->repo->name);
	return gs_buf_adds(b, "}}}", NULL) < 0 ? -1 : 0;
}

/* The per-repository sequence of a batch: read once per repository run,
 * written back when the batch moves to another repository or ends. */
typedef struct evlog_seq {
	char repo_uid[40];
	int64_t seq;
	int dirty;
} evlog_seq;

static int evlog_seq_flush(gs_db *db, evlog_seq *s, gs_error *err)
{
	sqlite3_stmt *st;
	int error, rc;
	if (!s->dirty)
		return 0;
	if ((error = gs_db__prepare(db, &st, SQL_REPO_SEQ_SET, err)) < 0)
		return error;
	gs_db__bind_text(st, 1, s->repo_uid);
	sqlite3_bind_int64(st, 2, s->seq);
	rc = sqlite3_step(st);
	gs_db__done(st);
	if (rc != SQLITE_DONE)
		return gs_db__error(err, db, rc, "repository sequence");
	s->dirty = 0;
	return 0;
}

static int evlog_seq_next(gs_db *db, evlog_seq *s, const char *repo_uid, int64_t *out, gs_error *err)
{
	int error;
	if (strcmp(s->repo_uid, repo_uid) != 0) {
		if ((error = evlog_seq_flush(db, s, err)) < 0)
			return error;
		snprintf(s->repo_uid, sizeof(s->repo_uid), "%s", repo_uid);
		if ((error = evlog_int_query(db, SQL_REPO_SEQ, repo_uid, &s->seq, err)) < 0) {
			s->repo_uid[0] = 0;
			return error;
		}
	}
	*out = ++s->seq;
	s->dirty = 1;
	return 0;
}

static int evlog_append_one(gs_db *db, const gs_event_spec *ev, int64_t *head, evlog_seq *seqs, gs_buf *json,
			    int *added, gs_error *err)
{
	sqlite3_stmt *st;
	int64_t seq = 0, now = gs_time_now_ms();
	int error, rc;

	*added = 0;
	if ((error = gs_evlog_exists(db, ev->id, err)) != 0)
		return error < 0 ? error : 0; /* duplicate: dropped, no number used */
	if ((error = evlog_seq_next(db, seqs, ev->repo->uid, &seq, err)) < 0)
		return error;
	if (evlog_envelope(json, ev, *head + 1, seq, now) < 0)
		return gs_error_set(err, GS_ERROR, "events", "cannot serialise %s event", ev->type);
	if (json->len > GS_MAX_EVENT_BYTES)
		return gs_error_set(err, GS_ELIMIT, "events", "%s event of %zu bytes exceeds %d", ev->type, json->len,
				    GS_MAX_EVENT_BYTES);
	if ((error = gs_db__prepare(db, &st, SQL_INSERT, err)) < 0)
		return error;
	sqlite3_bind_int64(st, 1, *head + 1);
	gs_db__bind_text(st, 2, ev->id);
	gs_db__bind_text(st, 3, ev->repo->uid);
	gs_db__bind_text(st, 4, ev->repo->ns);
	sqlite3_bind_int64(st, 5, seq);
	gs_db__bind_text(st, 6, ev->type);
	gs_db__bind_text(st, 7, ev->correlation);
	sqlite3_bind_int64(st, 8, now);
	sqlite3_bind_text(st, 9, json->ptr, (int)json->len, SQLITE_STATIC);
	rc = sqlite3_step(st);
	gs_db__done(st);
	if (rc != SQLITE_DONE)
		return gs_db__error(err, db, rc, "append event");
	(*head)++;
	*added = 1;
	return 0;
}

int gs_evlog_append_tx(gs_db *db, const gs_event_spec *evs, size_t n, int *added_flags, size_t *appended,
		       int64_t *last_logseq, gs_error *err)
{
	int64_t head = 0;
	size_t count = 0;
	evlog_seq seqs;
	gs_buf json;
	int error;
	memset(&seqs, 0, sizeof(seqs));
	/* not bounded here: an event over GS_MAX_EVENT_BYTES is refused, with
	 * its size, once its envelope is built */
	gs_buf_init(&json, (size_t)1 << 30);
	if ((error = gs_evlog_head(db, &head, err)) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		int added;
		if ((error = evlog_append_one(db, &evs[i], &head, &seqs, &json, &added, err)) < 0)
			goto out;
		if (added_flags)
			added_flags[i] = added;
		count += (size_t)added;
	}
	if ((error = evlog_seq_flush(db, &seqs, err)) < 0)
		goto out;
	if (appended)
		*appended = count;
	if (last_logseq)
		*last_logseq = head;
out:
	gs_buf_release(&json);
	return error;
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

int gs_evlog_floor(gs_db *db, int64_t *through, gs_error *err)
{
	int error = evlog_int_query(db, SQL_FLOOR, NULL, through, err);
	return error < 0 ? error : 0;
}

static int evlog_int_bind(gs_db *db, const char *sql, int64_t a, int64_t b, int nargs, int64_t *out, gs_error *err)
{
	sqlite3_stmt *st;
	int error, rc;
	if ((error = gs_db__prepare(db, &st, sql, err)) < 0)
		return error;
	if (nargs > 0)
		sqlite3_bind_int64(st, 1, a);
	if (nargs > 1)
		sqlite3_bind_int64(st, 2, b);
	rc = sqlite3_step(st);
	if (out)
		*out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	gs_db__done(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : gs_db__error(err, db, rc, "event log retention");
}

int gs_evlog_prune(gs_db *db, int64_t before_ms, int64_t keep_after, int64_t *removed, gs_error *err)
{
	int64_t cut = 0, low = 0;
	int error;
	*removed = 0;
	if ((error = evlog_int_bind(db, SQL_PRUNE_CUT, before_ms, 0, 1, &cut, err)) < 0)
		return error;
	if (cut > keep_after)
		cut = keep_after;
	/* a transaction per batch: appends wait for one batch, not all */
	for (;;) {
		int64_t upto;
		if ((error = evlog_int_bind(db, SQL_PRUNE_MIN, 0, 0, 0, &low, err)) < 0)
			return error;
		if (low == 0 || low > cut)
			return 0;
		upto = low + GS_PRUNE_BATCH - 1 < cut ? low + GS_PRUNE_BATCH - 1 : cut;
		if ((error = gs_db_begin(db, err)) < 0)
			return error;
		if ((error = evlog_int_bind(db, SQL_PRUNE_DEL, upto, 0, 1, NULL, err)) < 0 ||
		    (error = evlog_int_bind(db, SQL_PRUNE_FLOOR, upto, gs_time_now_ms(), 2, NULL, err)) < 0 ||
		    (error = gs_db_commit(db, err)) < 0) {
			gs_db_rollback(db);
			return error;
		}
		*removed += upto - low + 1;
	}
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
