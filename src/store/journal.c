/*
 * store/journal.c -- pushes, intents, refs_state tables.
 * SPDX-License-Identifier: MIT
 */
#include "store/journal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db_internal.h"
#include "util/alloc.h"
#include "util/str.h"
#include "util/time.h"

static const char SQL_PUSH_INSERT[] =
	"INSERT OR IGNORE INTO pushes(push_id, repo_uid, actor, via, atomic, state, created_ms, role)"
	" VALUES(?,?,?,?,?,?,?,?)";
static const char SQL_PUSH_GET[] =
	"SELECT push_id, repo_uid, actor, via, atomic, state, role FROM pushes WHERE push_id = ?";
static const char SQL_PUSH_ATOMIC[] = "UPDATE pushes SET atomic = ? WHERE push_id = ?";
static const char SQL_PUSH_STATE[] = "UPDATE pushes SET state = ? WHERE push_id = ?";
static const char SQL_PUSH_OPEN[] =
	"SELECT push_id, repo_uid, actor, via, atomic, state, role FROM pushes WHERE state = 'open' ORDER BY created_ms";
static const char SQL_INTENT_PUT[] =
	"INSERT OR REPLACE INTO intents(push_id, repo_uid, ref, old, new, created_ms) VALUES(?,?,?,?,?,?)";
static const char SQL_INTENT_DROP[] = "DELETE FROM intents WHERE push_id = ? AND ref = ?";
static const char SQL_INTENT_LIST[] =
	"SELECT push_id, repo_uid, ref, old, new FROM intents ORDER BY created_ms, push_id, ref";
static const char SQL_INTENT_OPEN[] = "SELECT 1 FROM intents WHERE push_id = ?1 AND (?2 IS NULL OR ref = ?2) LIMIT 1";
static const char SQL_REF_GET[] = "SELECT sha, version FROM refs_state WHERE repo_uid = ? AND ref = ?";
static const char SQL_REF_SET[] =
	"INSERT INTO refs_state(repo_uid, ref, sha, version) VALUES(?, ?, ?, 1) "
	"ON CONFLICT(repo_uid, ref) DO UPDATE SET sha = excluded.sha, version = version + 1";
static const char SQL_REF_EACH[] = "SELECT ref, sha, version FROM refs_state WHERE repo_uid = ? ORDER BY ref";

static int journal_step_done(gs_db *db, sqlite3_stmt *st, const char *what, gs_error *err)
{
	int rc = sqlite3_step(st);
	gs_db__done(st);
	return rc == SQLITE_DONE ? 0 : gs_db__error(err, db, rc, what);
}

int gs_journal_push_insert(gs_db *db, const gs_push_rec *p, gs_error *err)
{
	sqlite3_stmt *st;
	int error;
	if ((error = gs_db__prepare(db, &st, SQL_PUSH_INSERT, err)) < 0)
		return error;
	gs_db__bind_text(st, 1, p->push_id);
	gs_db__bind_text(st, 2, p->repo_uid);
	gs_db__bind_text(st, 3, p->actor);
	gs_db__bind_text(st, 4, p->via);
	sqlite3_bind_int(st, 5, p->atomic);
	gs_db__bind_text(st, 6, p->state[0] ? p->state : "open");
	sqlite3_bind_int64(st, 7, gs_time_now_ms());
	gs_db__bind_text(st, 8, p->role);
	/* no fsync of its own: the push's first durable write (the intent
	 * at "prepared") syncs the WAL, and with it this row */
	sqlite3_exec(gs_db__handle(db), "PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
	error = journal_step_done(db, st, "insert push", err);
	sqlite3_exec(gs_db__handle(db), "PRAGMA synchronous=FULL", NULL, NULL, NULL);
	return error;
}

static void push_from_row(sqlite3_stmt *st, gs_push_rec *out)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->push_id, sizeof(out->push_id), "%s", gs_db__col_text(st, 0));
	snprintf(out->repo_uid, sizeof(out->repo_uid), "%s", gs_db__col_text(st, 1));
	snprintf(out->actor, sizeof(out->actor), "%s", gs_db__col_text(st, 2));
	snprintf(out->via, sizeof(out->via), "%s", gs_db__col_text(st, 3));
	out->atomic = sqlite3_column_int(st, 4);
	snprintf(out->state, sizeof(out->state), "%s", gs_db__col_text(st, 5));
	snprintf(out->role, sizeof(out->role), "%s", gs_db__col_text(st, 6));
}

int gs_journal_push_get(gs_db *db, const char *push_id, gs_push_rec *out, gs_error *err)
{
	sqlite3_stmt *st;
	int error, rc;
	if ((error = gs_db__prepare(db, &st, SQL_PUSH_GET, err)) < 0)
		return error;
	gs_db__bind_text(st, 1, push_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		push_from_row(st, out);
	else if (rc == SQLITE_DONE)
		error = gs_error_set(err, GS_ENOTFOUND, "journal", "unknown push %.64s", push_id);
	else
		error = gs_db__error(err, db, rc, "push lookup");
	gs_db__done(st);
	return error;
}

int gs_journal_push_set_atomic(gs_db *db, const char *push_id, int atomic, gs_error *err)
{
	sqlite3_stmt *st;
	int error;
	if ((error = gs_db__prepare(db, &st, SQL_PUSH_ATOMIC, err)) < 0)
		return error;
	sqlite3_bind_int(st, 1, atomic);
	gs_db__bind_text(st, 2, push_id);
	return journal_step_done(db, st, "update push", err);
}

int gs_journal_push_set_state(gs_db *db, const char *push_id, const char *state, gs_error *err)
{
	sqlite3_stmt *st;
	int error;
	if ((error = gs_db__prepare(db, &st, SQL_PUSH_STATE, err)) < 0)
		return error;
	gs_db__bind_text(st, 1, state);
	gs_db__bind_text(st, 2, push_id);
	return journal_step_done(db, st, "update push", err);
}

int gs_journal_push_list_open(gs_db *db, gs_push_rec **out, size_t *n, gs_error *err)
{
	sqlite3_stmt *st;
	gs_push_rec *list = NULL;
	size_t count = 0, cap = 0;
	int error, rc;
	if ((error = gs_db__prepare(db, &st, SQL_PUSH_OPEN, err)) < 0)
		return error;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (count == cap) {
			cap = cap ? cap * 2 : 16;
			list = gs_xrealloc(list, cap * sizeof(*list));
		}
		push_from_row(st, &list[count++]);
	}
	if (rc != SQLITE_DONE) {
		error = gs_db__error(err, db, rc, "push list");
		free(list);
		list = NULL;
		count = 0;
	}
	gs_db__done(st);
	*out = list;
	*n = count;
	return error;
}

int gs_journal_intent_put(gs_db *db, const char *push_id, const char *repo_uid, const gs_ref_update *u,
			  gs_error *err)
{
	sqlite3_stmt *st;
	int error;
	if ((error = gs_db__prepare(db, &st, SQL_INTENT_PUT, err)) < 0)
		return error;
	gs_db__bind_text(st, 1, push_id);
	gs_db__bind_text(st, 2, repo_uid);
	gs_db__bind_text(st, 3, u->ref);
	gs_db__bind_text(st, 4, u->old_sha);
	gs_db__bind_text(st, 5, u->new_sha);
	sqlite3_bind_int64(st, 6, gs_time_now_ms());
	return journal_step_done(db, st, "write intent", err);
}

int gs_journal_intent_drop(gs_db *db, const char *push_id, const char *ref, gs_error *err)
{
	sqlite3_stmt *st;
	int error;
	if ((error = gs_db__prepare(db, &st, SQL_INTENT_DROP, err)) < 0)
		return error;
	gs_db__bind_text(st, 1, push_id);
	gs_db__bind_text(st, 2, ref);
	return journal_step_done(db, st, "drop intent", err);
}

int gs_journal_intent_list(gs_db *db, gs_intent **out, size_t *n, gs_error *err)
{
	sqlite3_stmt *st;
	gs_intent *list = NULL;
	size_t count = 0, cap = 0;
	int error, rc;
	if ((error = gs_db__prepare(db, &st, SQL_INTENT_LIST, err)) < 0)
		return error;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		gs_intent *it;
		if (count == cap) {
			cap = cap ? cap * 2 : 16;
			list = gs_xrealloc(list, cap * sizeof(*list));
		}
		it = &list[count++];
		memset(it, 0, sizeof(*it));
		snprintf(it->push_id, sizeof(it->push_id), "%s", gs_db__col_text(st, 0));
		snprintf(it->repo_uid, sizeof(it->repo_uid), "%s", gs_db__col_text(st, 1));
		snprintf(it->u.ref, sizeof(it->u.ref), "%s", gs_db__col_text(st, 2));
		snprintf(it->u.old_sha, sizeof(it->u.old_sha), "%s", gs_db__col_text(st, 3));
		snprintf(it->u.new_sha, sizeof(it->u.new_sha), "%s", gs_db__col_text(st, 4));
	}
	if (rc != SQLITE_DONE) {
		error = gs_db__error(err, db, rc, "intent list");
		free(list);
		list = NULL;
		count = 0;
	}
	gs_db__done(st);
	*out = list;
	*n = count;
	return error;
}

int gs_journal_intent_open(gs_db *db, const char *push_id, const char *ref, gs_error *err)
{
	sqlite3_stmt *st;
	int error, rc;
	if ((error = gs_db__prepare(db, &st, SQL_INTENT_OPEN, err)) < 0)
		return error;
	gs_db__bind_text(st, 1, push_id);
	gs_db__bind_text(st, 2, ref);
	rc = sqlite3_step(st);
	error = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : gs_db__error(err, db, rc, "intent lookup");
	gs_db__done(st);
	return error;
}

int gs_journal_ref_get(gs_db *db, const char *repo_uid, const char *ref, char sha[41], int64_t *version,
		       gs_error *err)
{
	sqlite3_stmt *st;
	int error, rc;
	if ((error = gs_db__prepare(db, &st, SQL_REF_GET, err)) < 0)
		return error;
	gs_db__bind_text(st, 1, repo_uid);
	gs_db__bind_text(st, 2, ref);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(sha, 41, "%s", gs_db__col_text(st, 0));
		*version = sqlite3_column_int64(st, 1);
	} else if (rc == SQLITE_DONE) {
		memcpy(sha, GS_ZERO_OID, 41);
		*version = 0;
	} else {
		error = gs_db__error(err, db, rc, "ref state");
	}
	gs_db__done(st);
	return error;
}

int gs_journal_ref_set(gs_db *db, const char *repo_uid, const char *ref, const char *sha, gs_error *err)
{
	sqlite3_stmt *st;
	int error;
	if ((error = gs_db__prepare(db, &st, SQL_REF_SET, err)) < 0)
		return error;
	gs_db__bind_text(st, 1, repo_uid);
	gs_db__bind_text(st, 2, ref);
	gs_db__bind_text(st, 3, sha);
	return journal_step_done(db, st, "set ref state", err);
}

int gs_journal_ref_each(gs_db *db, const char *repo_uid, gs_journal_ref_cb cb, void *payload, gs_error *err)
{
	sqlite3_stmt *st;
	int error, rc;
	if ((error = gs_db__prepare(db, &st, SQL_REF_EACH, err)) < 0)
		return error;
	gs_db__bind_text(st, 1, repo_uid);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		error = cb(gs_db__col_text(st, 0), gs_db__col_text(st, 1), sqlite3_column_int64(st, 2), payload);
		if (error)
			break;
	}
	if (!error && rc != SQLITE_DONE)
		error = gs_db__error(err, db, rc, "ref state list");
	gs_db__done(st);
	return error;
}
