/*
 * events/consumer.c -- durable consumers (see consumer.h).
 *
 * Owns tables consumers, consumer_pending (one row per unsettled event:
 * leased or waiting, with its delivery count and due time) and
 * consumer_dead. A consumer's pending rows are its whole in-flight state,
 * so a restart loses nothing: leases simply run out.
 * SPDX-License-Identifier: MIT
 */
#include "events/consumer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events/evlog.h"
#include "log/log.h"
#include "store/db_internal.h"
#include "store/registry.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/time.h"

#define C_COLS                                                                                                  \
	"name, types, repo_uid, repo, namespace, ack_wait_ms, max_deliver, start_after, pulled, dead, created_ms, " \
	"updated_ms"

static const char SQL_C_GET[] = "SELECT " C_COLS " FROM consumers WHERE name = ?";
static const char SQL_C_EACH[] = "SELECT " C_COLS " FROM consumers ORDER BY name";
static const char SQL_C_COUNT[] = "SELECT COUNT(*) FROM consumers";
static const char SQL_C_INSERT[] = "INSERT INTO consumers(" C_COLS ") VALUES(?,?,?,?,?,?,?,?,?,0,?,?)";
static const char SQL_C_UPDATE[] = "UPDATE consumers SET types = ?2, repo_uid = ?3, repo = ?4, namespace = ?5,"
				   " ack_wait_ms = ?6, max_deliver = ?7, updated_ms = ?8 WHERE name = ?1";
static const char SQL_C_PULLED[] = "UPDATE consumers SET pulled = ?2 WHERE name = ?1";
static const char SQL_C_DEAD[] = "UPDATE consumers SET dead = dead + 1 WHERE name = ?";
static const char SQL_C_DELETE[] = "DELETE FROM consumers WHERE name = ?";
static const char SQL_P_DELETE_ALL[] = "DELETE FROM consumer_pending WHERE consumer = ?";
static const char SQL_D_DELETE_ALL[] = "DELETE FROM consumer_dead WHERE consumer = ?";
static const char SQL_P_COUNTS[] =
	"SELECT COUNT(*), COALESCE(SUM(leased), 0), MIN(logseq) FROM consumer_pending WHERE consumer = ?";
static const char SQL_P_EXPIRED[] = "SELECT logseq, attempts FROM consumer_pending WHERE consumer = ?"
				    " AND leased = 1 AND due_ms <= ? ORDER BY logseq";
static const char SQL_P_SCAN[] = "SELECT logseq, repo_uid, attempts, leased, due_ms FROM consumer_pending"
				 " WHERE consumer = ? ORDER BY logseq";
static const char SQL_P_GET[] = "SELECT attempts, leased FROM consumer_pending WHERE consumer = ? AND logseq = ?";
static const char SQL_P_LEASE[] = "UPDATE consumer_pending SET leased = 1, attempts = attempts + 1, due_ms = ?3"
				  " WHERE consumer = ?1 AND logseq = ?2";
static const char SQL_P_READY[] = "UPDATE consumer_pending SET leased = 0, due_ms = ?3 WHERE consumer = ?1"
				  " AND logseq = ?2";
static const char SQL_P_DEFER[] = "UPDATE consumer_pending SET leased = 0, due_ms = ?3, attempts = MAX(attempts - 1, 0)"
				  " WHERE consumer = ?1 AND logseq = ?2 AND leased = 1";
static const char SQL_P_UNLEASE_ALL[] = "UPDATE consumer_pending SET leased = 0, due_ms = 0,"
					" attempts = MAX(attempts - 1, 0) WHERE consumer = ? AND leased = 1";
static const char SQL_P_DELETE[] = "DELETE FROM consumer_pending WHERE consumer = ? AND logseq = ?";
static const char SQL_P_COUNT[] = "SELECT COUNT(*) FROM consumer_pending WHERE consumer = ?";
static const char SQL_P_MIN[] = "SELECT MIN(logseq) FROM consumer_pending WHERE consumer = ?";
static const char SQL_P_MAX[] = "SELECT MAX(logseq) FROM consumer_pending WHERE consumer = ?";
static const char SQL_D_INSERT[] = "INSERT OR REPLACE INTO consumer_dead(consumer, logseq, attempts, reason, dead_ms)"
				   " VALUES(?,?,?,?,?)";
static const char SQL_D_EACH[] =
	"SELECT d.logseq, d.attempts, d.reason, d.dead_ms, COALESCE(e.json, '') FROM consumer_dead d"
	" LEFT JOIN events e ON e.logseq = d.logseq WHERE d.consumer = ? AND d.logseq > ? ORDER BY d.logseq LIMIT ?";
static const char SQL_EV_JSON[] = "SELECT json FROM events WHERE logseq = ?";
static const char SQL_EV_META[] =
	"SELECT id, type, COALESCE(repo_uid, ''), COALESCE(correlation, '') FROM events WHERE logseq = ?";
static const char SQL_HEAD[] = "SELECT COALESCE(MAX(logseq), 0) FROM events";

void gs_deliveries_free(gs_delivery *d, size_t n)
{
	for (size_t i = 0; d && i < n; i++)
		free(d[i].json);
	free(d);
}

int gs_consumer_name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > GS_MAX_CONSUMER_NAME)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || (c != '-' && c != '_' && c != '.')))
			return 0;
	}
	return 1;
}

/* ---- small statement helpers ----------------------------------------- */

static int step_done(gs_db *db, sqlite3_stmt *st, const char *what, gs_error *err)
{
	int rc = sqlite3_step(st);
	gs_db__done(st);
	return rc == SQLITE_DONE ? 0 : gs_db__error(err, db, rc, what);
}

/* Runs sql with (name, logseq) bound; *changed = rows changed. */
static int c_exec2(gs_db *db, const char *sql, const char *name, int64_t logseq, int64_t third, int *changed,
		   gs_error *err)
{
	sqlite3_stmt *st;
	int error;
	if ((error = gs_db__prepare(db, &st, sql, err)) < 0)
		return error;
	gs_db__bind_text(st, 1, name);
	sqlite3_bind_int64(st, 2, logseq);
	if (sqlite3_bind_parameter_count(st) >= 3)
		sqlite3_bind_int64(st, 3, third);
	if ((error = step_done(db, st, "consumer update", err)) < 0)
		return error;
	if (changed)
		*changed = sqlite3_changes(gs_db__handle(db));
	return 0;
}

static int c_exec1(gs_db *db, const char *sql, const char *name, gs_error *err)
{
	sqlite3_stmt *st;
	int error;
	if ((error = gs_db__prepare(db, &st, sql, err)) < 0)
		return error;
	gs_db__bind_text(st, 1, name);
	return step_done(db, st, "consumer update", err);
}

static int c_int(gs_db *db, const char *sql, const char *name, int64_t arg, int64_t *out, gs_error *err)
{
	sqlite3_stmt *st;
	int error, rc;
	if ((error = gs_db__prepare(db, &st, sql, err)) < 0)
		return error;
	if (name)
		gs_db__bind_text(st, 1, name);
	else if (sqlite3_bind_parameter_count(st) >= 1)
		sqlite3_bind_int64(st, 1, arg);
	rc = sqlite3_step(st);
	*out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	gs_db__done(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : gs_db__error(err, db, rc, "consumer query");
}

static int c_tx_end(gs_db *db, int error, gs_error *err)
{
	if (error < 0) {
		gs_db_rollback(db);
		return error;
	}
	if ((error = gs_db_commit(db, err)) < 0)
		gs_db_rollback(db);
	return error;
}

/* ---- configuration ---------------------------------------------------- */

static void types_join(const gs_consumer_cfg *c, char *out, size_t n)
{
	size_t len = 0;
	out[0] = 0;
	for (int i = 0; i < c->ntypes && len < n; i++)
		len += (size_t)snprintf(out + len, n - len, i ? ",%s" : "%s", c->types[i]);
}

static void types_split(const char *text, gs_consumer_cfg *c)
{
	char buf[GS_MAX_CONSUMER_TYPES * 48], *save = NULL, *tok;
	snprintf(buf, sizeof(buf), "%s", text ? text : "");
	c->ntypes = 0;
	for (tok = strtok_r(buf, ",", &save); tok && c->ntypes < GS_MAX_CONSUMER_TYPES;
	     tok = strtok_r(NULL, ",", &save)) {
		const char *t = gs_evlog_type_canonical(tok);
		if (t)
			c->types[c->ntypes++] = t;
	}
	c->types[c->ntypes] = NULL;
}

static void row_read(sqlite3_stmt *st, gs_consumer_info *o)
{
	memset(o, 0, sizeof(*o));
	snprintf(o->cfg.name, sizeof(o->cfg.name), "%s", gs_db__col_text(st, 0));
	types_split(gs_db__col_text(st, 1), &o->cfg);
	snprintf(o->cfg.repo_uid, sizeof(o->cfg.repo_uid), "%s", gs_db__col_text(st, 2));
	snprintf(o->cfg.repo, sizeof(o->cfg.repo), "%s", gs_db__col_text(st, 3));
	snprintf(o->cfg.ns, sizeof(o->cfg.ns), "%s", gs_db__col_text(st, 4));
	o->cfg.ack_wait_ms = sqlite3_column_int64(st, 5);
	o->cfg.max_deliver = sqlite3_column_int(st, 6);
	o->cfg.start_after = sqlite3_column_int64(st, 7);
	o->pulled = sqlite3_column_int64(st, 8);
	o->dead = sqlite3_column_int64(st, 9);
	o->created_ms = sqlite3_column_int64(st, 10);
	o->updated_ms = sqlite3_column_int64(st, 11);
}

/* The counts that are not columns: pending, leased, cursor. */
static int c_counts(gs_db *db, gs_consumer_info *o, gs_error *err)
{
	sqlite3_stmt *st;
	int error, rc;
	if ((error = gs_db__prepare(db, &st, SQL_P_COUNTS, err)) < 0)
		return error;
	gs_db__bind_text(st, 1, o->cfg.name);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		o->pending = sqlite3_column_int64(st, 0);
		o->leased = sqlite3_column_int64(st, 1);
		o->cursor = sqlite3_column_type(st, 2) == SQLITE_NULL ? o->pulled : sqlite3_column_int64(st, 2) - 1;
	}
	gs_db__done(st);
	return rc == SQLITE_ROW ? 0 : gs_db__error(err, db, rc, "consumer counts");
}

/* The configuration and position only: the counts cost a scan of the
 * pending set, which fetch and settle do not need. */
static int c_cfg(gs_db *db, const char *name, gs_consumer_info *out, gs_error *err)
{
	sqlite3_stmt *st;
	int error, rc;
	if ((error = gs_db__prepare(db, &st, SQL_C_GET, err)) < 0)
		return error;
	gs_db__bind_text(st, 1, name);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		row_read(st, out);
	gs_db__done(st);
	if (rc == SQLITE_DONE)
		return gs_error_set(err, GS_ENOTFOUND, "consumer", "no consumer named '%s'", name);
	return rc == SQLITE_ROW ? 0 : gs_db__error(err, db, rc, "consumer lookup");
}

static int c_load(gs_db *db, const char *name, gs_consumer_info *out, gs_error *err)
{
	int error = c_cfg(db, name, out, err);
	return error < 0 ? error : c_counts(db, out, err);
}

int gs_consumer_get(gs_db *db, const char *name, gs_consumer_info *out, gs_error *err)
{
	return c_load(db, name, out, err);
}

int gs_consumer_get_cfg(gs_db *db, const char *name, gs_consumer_info *out, gs_error *err)
{
	return c_cfg(db, name, out, err);
}

static int c_write(gs_db *db, const gs_consumer_cfg *cfg, int insert, gs_error *err)
{
	sqlite3_stmt *st;
	char types[GS_MAX_CONSUMER_TYPES * 48];
	int64_t now = gs_time_now_ms();
	int error;
	types_join(cfg, types, sizeof(types));
	if ((error = gs_db__prepare(db, &st, insert ? SQL_C_INSERT : SQL_C_UPDATE, err)) < 0)
		return error;
	gs_db__bind_text(st, 1, cfg->name);
	gs_db__bind_text(st, 2, types);
	gs_db__bind_text(st, 3, cfg->repo_uid);
	gs_db__bind_text(st, 4, cfg->repo);
	gs_db__bind_text(st, 5, cfg->ns);
	sqlite3_bind_int64(st, 6, cfg->ack_wait_ms);
	sqlite3_bind_int(st, 7, cfg->max_deliver);
	if (insert) {
		sqlite3_bind_int64(st, 8, cfg->start_after);
		sqlite3_bind_int64(st, 9, cfg->start_after);
		sqlite3_bind_int64(st, 10, now);
		sqlite3_bind_int64(st, 11, now);
	} else {
		sqlite3_bind_int64(st, 8, now);
	}
	return step_done(db, st, "store consumer", err);
}

int gs_consumer_put(gs_db *db, const gs_consumer_cfg *cfg, int *created, gs_error *err)
{
	gs_consumer_info cur;
	int64_t count = 0;
	int error;
	if ((error = gs_db_begin(db, err)) < 0)
		return error;
	error = c_cfg(db, cfg->name, &cur, err);
	if (error == GS_ENOTFOUND) {
		gs_error_clear(err);
		if ((error = c_int(db, SQL_C_COUNT, NULL, 0, &count, err)) == 0 && count >= GS_MAX_CONSUMERS)
			error = gs_error_set(err, GS_ELIMIT, "consumer", "at most %d consumers", GS_MAX_CONSUMERS);
		if (error == 0)
			error = c_write(db, cfg, 1, err);
		*created = 1;
	} else if (error == 0) {
		error = c_write(db, cfg, 0, err);
		*created = 0;
	}
	return c_tx_end(db, error, err);
}

int gs_consumer_delete(gs_db *db, const char *name, gs_error *err)
{
	gs_consumer_info cur;
	int error;
	if ((error = gs_db_begin(db, err)) < 0)
		return error;
	if ((error = c_cfg(db, name, &cur, err)) == 0 && (error = c_exec1(db, SQL_P_DELETE_ALL, name, err)) == 0 &&
	    (error = c_exec1(db, SQL_D_DELETE_ALL, name, err)) == 0)
		error = c_exec1(db, SQL_C_DELETE, name, err);
	return c_tx_end(db, error, err);
}

int gs_consumer_each(gs_db *db, gs_consumer_cb cb, void *payload, gs_error *err)
{
	sqlite3_stmt *st;
	gs_consumer_info *all = NULL;
	size_t n = 0, cap = 0;
	int error, rc;
	/* collected first: the counts are other queries */
	if ((error = gs_db__prepare(db, &st, SQL_C_EACH, err)) < 0)
		return error;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			all = gs_xrealloc(all, cap * sizeof(*all));
		}
		row_read(st, &all[n++]);
	}
	gs_db__done(st);
	if (rc != SQLITE_DONE)
		error = gs_db__error(err, db, rc, "consumer list");
	for (size_t i = 0; i < n && error == 0; i++) {
		if ((error = c_counts(db, &all[i], err)) == 0)
			error = cb(&all[i], payload);
	}
	free(all);
	return error < 0 ? error : 0;
}

/* ---- dead letters ------------------------------------------------------ */

/* The event that says an event was dead-lettered (not for those events
 * themselves, and not when the repository is gone). */
static int c_advise(gs_db *db, const gs_consumer_info *c, int64_t logseq, int attempts, const char *reason,
		    int *appended, gs_error *err)
{
	sqlite3_stmt *st;
	char id[GS_EVENT_ID_HEX + 1], ev_id[80] = "", ev_type[64] = "", repo_uid[40] = "", corr[80] = "";
	char seqtext[24], created[24];
	const char *parts[5];
	gs_repo_info repo;
	gs_event_spec spec;
	gs_error ignore = GS_ERROR_INIT;
	json_t *data;
	size_t added = 0;
	int64_t head;
	int error, rc;

	if ((error = gs_db__prepare(db, &st, SQL_EV_META, err)) < 0)
		return error;
	sqlite3_bind_int64(st, 1, logseq);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(ev_id, sizeof(ev_id), "%s", gs_db__col_text(st, 0));
		snprintf(ev_type, sizeof(ev_type), "%s", gs_db__col_text(st, 1));
		snprintf(repo_uid, sizeof(repo_uid), "%s", gs_db__col_text(st, 2));
		snprintf(corr, sizeof(corr), "%s", gs_db__col_text(st, 3));
	}
	gs_db__done(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return gs_db__error(err, db, rc, "dead-lettered event");
	if (rc == SQLITE_DONE || strcmp(ev_type, "event-dead-lettered") == 0 ||
	    gs_registry_repo_by_uid(db, repo_uid, &repo, &ignore) != 0)
		return 0;
	snprintf(seqtext, sizeof(seqtext), "%lld", (long long)logseq);
	snprintf(created, sizeof(created), "%lld", (long long)c->created_ms);
	parts[0] = "dead-letter";
	parts[1] = c->cfg.name;
	parts[2] = created;
	parts[3] = seqtext;
	gs_evlog_make_id(id, parts, 4);
	data = json_pack("{s:s, s:I, s:s, s:s, s:i, s:s}", "consumer", c->cfg.name, "logseq", (json_int_t)logseq,
			 "eventId", ev_id, "eventType", ev_type, "deliveryAttempts", attempts, "reason", reason);
	memset(&spec, 0, sizeof(spec));
	spec.id = id;
	spec.type = "event-dead-lettered";
	spec.repo = &repo;
	spec.subject = c->cfg.name;
	spec.correlation = corr[0] ? corr : NULL;
	spec.causation = ev_id;
	spec.data = data;
	error = gs_evlog_append_tx(db, &spec, 1, NULL, &added, &head, err);
	json_decref(data);
	*appended += (int)added;
	return error;
}

static int c_dead(gs_db *db, const gs_consumer_info *c, int64_t logseq, int attempts, const char *reason,
		  int *appended, gs_error *err)
{
	sqlite3_stmt *st;
	int error;
	if ((error = gs_db__prepare(db, &st, SQL_D_INSERT, err)) < 0)
		return error;
	gs_db__bind_text(st, 1, c->cfg.name);
	sqlite3_bind_int64(st, 2, logseq);
	sqlite3_bind_int(st, 3, attempts);
	gs_db__bind_text(st, 4, reason);
	sqlite3_bind_int64(st, 5, gs_time_now_ms());
	if ((error = step_done(db, st, "dead letter", err)) < 0 ||
	    (error = c_exec2(db, SQL_P_DELETE, c->cfg.name, logseq, 0, NULL, err)) < 0 ||
	    (error = c_exec1(db, SQL_C_DEAD, c->cfg.name, err)) < 0)
		return error;
	GS_LOG(GS_LOG_INFO, "consumer", "%s: event %lld dead-lettered after %d deliveries (%s)", c->cfg.name,
	       (long long)logseq, attempts, reason);
	return c_advise(db, c, logseq, attempts, reason, appended, err);
}

static void c_bump(gs_db *db, gs_evnotify *notify, int appended)
{
	int64_t head = 0;
	gs_error ignore = GS_ERROR_INIT;
	if (appended && notify && c_int(db, SQL_HEAD, NULL, 0, &head, &ignore) == 0)
		gs_evnotify_bump(notify, head);
}

int gs_consumer_dead_each(gs_db *db, const char *name, int64_t after, int limit, gs_dead_letter_cb cb, void *payload,
			  gs_error *err)
{
	sqlite3_stmt *st;
	int error, rc;
	if ((error = gs_db__prepare(db, &st, SQL_D_EACH, err)) < 0)
		return error;
	gs_db__bind_text(st, 1, name);
	sqlite3_bind_int64(st, 2, after);
	sqlite3_bind_int(st, 3, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		gs_dead_letter d;
		d.logseq = sqlite3_column_int64(st, 0);
		d.attempts = sqlite3_column_int(st, 1);
		d.reason = gs_db__col_text(st, 2);
		d.dead_ms = sqlite3_column_int64(st, 3);
		d.json = gs_db__col_text(st, 4);
		if ((error = cb(&d, payload)) != 0)
			break;
	}
	gs_db__done(st);
	if (error)
		return error < 0 ? error : 0;
	return rc == SQLITE_DONE ? 0 : gs_db__error(err, db, rc, "dead letters");
}

/* ---- fetch -------------------------------------------------------------- */

/* Runs out leases: ready again, or dead-lettered after max deliveries. */
static int c_expire(gs_db *db, const gs_consumer_info *c, int64_t now, int *appended, gs_error *err)
{
	sqlite3_stmt *st;
	int64_t *seqs = NULL;
	int *attempts = NULL;
	size_t n = 0, cap = 0;
	int error, rc;
	if ((error = gs_db__prepare(db, &st, SQL_P_EXPIRED, err)) < 0)
		return error;
	gs_db__bind_text(st, 1, c->cfg.name);
	sqlite3_bind_int64(st, 2, now);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			seqs = gs_xrealloc(seqs, cap * sizeof(*seqs));
			attempts = gs_xrealloc(attempts, cap * sizeof(*attempts));
		}
		seqs[n] = sqlite3_column_int64(st, 0);
		attempts[n++] = sqlite3_column_int(st, 1);
	}
	gs_db__done(st);
	error = rc == SQLITE_DONE ? 0 : gs_db__error(err, db, rc, "expired leases");
	for (size_t i = 0; i < n && error == 0; i++) {
		if (c->cfg.max_deliver > 0 && attempts[i] >= c->cfg.max_deliver)
			error = c_dead(db, c, seqs[i], attempts[i], "max-deliver", appended, err);
		else
			error = c_exec2(db, SQL_P_READY, c->cfg.name, seqs[i], 0, NULL, err);
	}
	free(seqs);
	free(attempts);
	return error;
}

/* Copies the matching events after `pulled` into the pending set, up to
 * the pending limit, in one statement; moves `pulled`. */
static int c_pull(gs_db *db, gs_consumer_info *c, gs_error *err)
{
	char sql[1024];
	size_t len;
	sqlite3_stmt *st;
	int64_t head = 0, room, pulled, pending = 0;
	int error, rc, idx = 1, changed;

	if ((error = c_int(db, SQL_HEAD, NULL, 0, &head, err)) < 0)
		return error;
	if (head <= c->pulled)
		return 0;
	if ((error = c_int(db, SQL_P_COUNT, c->cfg.name, 0, &pending, err)) < 0)
		return error;
	room = GS_MAX_CONSUMER_PENDING - pending;
	if (room <= 0)
		return 0;
	len = (size_t)snprintf(sql, sizeof(sql),
			       "INSERT INTO consumer_pending(consumer, logseq, repo_uid, type, attempts, leased, due_ms)"
			       " SELECT ?, logseq, COALESCE(repo_uid, ''), type, 0, 0, 0 FROM events"
			       " WHERE logseq > ? AND logseq <= ?");
	if (c->cfg.repo_uid[0])
		len += (size_t)snprintf(sql + len, sizeof(sql) - len, " AND repo_uid = ?");
	if (c->cfg.ntypes) {
		len += (size_t)snprintf(sql + len, sizeof(sql) - len, " AND type IN (");
		for (int i = 0; i < c->cfg.ntypes; i++)
			len += (size_t)snprintf(sql + len, sizeof(sql) - len, i ? ",?" : "?");
		len += (size_t)snprintf(sql + len, sizeof(sql) - len, ")");
	}
	snprintf(sql + len, sizeof(sql) - len, " ORDER BY logseq LIMIT ?");
	/* dynamic SQL: prepared per call, not cached */
	rc = sqlite3_prepare_v2(gs_db__handle(db), sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return gs_db__error(err, db, rc, "consumer pull");
	gs_db__bind_text(st, idx++, c->cfg.name);
	sqlite3_bind_int64(st, idx++, c->pulled);
	sqlite3_bind_int64(st, idx++, head);
	if (c->cfg.repo_uid[0])
		gs_db__bind_text(st, idx++, c->cfg.repo_uid);
	for (int i = 0; i < c->cfg.ntypes; i++)
		gs_db__bind_text(st, idx++, c->cfg.types[i]);
	sqlite3_bind_int64(st, idx, room);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return gs_db__error(err, db, rc, "consumer pull");
	changed = sqlite3_changes(gs_db__handle(db));
	pulled = head;
	/* the pending set is full: the scan stopped at the last row taken */
	if (changed >= room && (error = c_int(db, SQL_P_MAX, c->cfg.name, 0, &pulled, err)) < 0)
		return error;
	if ((error = c_exec2(db, SQL_C_PULLED, c->cfg.name, pulled, 0, NULL, err)) < 0)
		return error;
	c->pulled = pulled;
	return 0;
}

/* Repositories with an unsettled event that is not leased: their later
 * events must wait (per-repository order). */
typedef struct c_blocked {
	char (*uids)[40];
	size_t n, cap;
} c_blocked;

static int blocked_has(const c_blocked *b, const char *uid)
{
	for (size_t i = 0; i < b->n; i++)
		if (strcmp(b->uids[i], uid) == 0)
			return 1;
	return 0;
}

static void blocked_add(c_blocked *b, const char *uid)
{
	if (blocked_has(b, uid))
		return;
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 8;
		b->uids = gs_xrealloc(b->uids, b->cap * sizeof(*b->uids));
	}
	snprintf(b->uids[b->n++], sizeof(b->uids[0]), "%s", uid);
}

typedef struct c_pick {
	int64_t logseq;
	int attempts;
} c_pick;

/* Chooses what to lease: ready events, in log order, skipping every
 * repository that has an earlier unsettled event not leased. */
static int c_choose(gs_db *db, const gs_consumer_info *c, int max, int64_t now, c_pick *picks, int *npicks,
		    c_pick *dead, int *ndead, int64_t *next_due, gs_error *err)
{
	sqlite3_stmt *st;
	c_blocked b;
	int error, rc = SQLITE_DONE;
	memset(&b, 0, sizeof(b));
	*npicks = *ndead = 0;
	if ((error = gs_db__prepare(db, &st, SQL_P_SCAN, err)) < 0)
		return error;
	gs_db__bind_text(st, 1, c->cfg.name);
	while (*npicks < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t logseq = sqlite3_column_int64(st, 0), due = sqlite3_column_int64(st, 4);
		const char *repo = gs_db__col_text(st, 1);
		int attempts = sqlite3_column_int(st, 2), leased = sqlite3_column_int(st, 3);
		if (leased || due > now) {
			if (!*next_due || due < *next_due)
				*next_due = due;
			if (!leased)
				blocked_add(&b, repo);
			continue;
		}
		if (blocked_has(&b, repo))
			continue;
		if (c->cfg.max_deliver > 0 && attempts >= c->cfg.max_deliver) {
			/* the limit was lowered after it was delivered */
			if (*ndead < max)
				dead[(*ndead)++] = (c_pick){logseq, attempts};
			continue;
		}
		picks[(*npicks)++] = (c_pick){logseq, attempts};
	}
	if (*npicks < max && rc != SQLITE_DONE)
		error = gs_db__error(err, db, rc, "consumer scan");
	gs_db__done(st);
	free(b.uids);
	return error;
}

static int c_event_json(gs_db *db, int64_t logseq, char **out, gs_error *err)
{
	sqlite3_stmt *st;
	int error, rc;
	*out = NULL;
	if ((error = gs_db__prepare(db, &st, SQL_EV_JSON, err)) < 0)
		return error;
	sqlite3_bind_int64(st, 1, logseq);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = gs_xstrdup(gs_db__col_text(st, 0));
	gs_db__done(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : gs_db__error(err, db, rc, "consumer event");
}

static int c_lease(gs_db *db, const gs_consumer_info *c, const c_pick *picks, int npicks, int64_t now,
		   gs_delivery **out, size_t *n, gs_error *err)
{
	gs_delivery *d = gs_xcalloc((size_t)npicks + 1, sizeof(*d));
	size_t k = 0;
	int error = 0;
	for (int i = 0; i < npicks && error == 0; i++) {
		char *json = NULL;
		if ((error = c_event_json(db, picks[i].logseq, &json, err)) < 0)
			break;
		if (!json) {
			/* gone from the log (retention): nothing to deliver */
			GS_LOG(GS_LOG_WARN, "consumer", "%s: event %lld is no longer in the log; dropped", c->cfg.name,
			       (long long)picks[i].logseq);
			error = c_exec2(db, SQL_P_DELETE, c->cfg.name, picks[i].logseq, 0, NULL, err);
			continue;
		}
		if ((error = c_exec2(db, SQL_P_LEASE, c->cfg.name, picks[i].logseq, now + c->cfg.ack_wait_ms, NULL,
				     err)) < 0) {
			free(json);
			break;
		}
		d[k].logseq = picks[i].logseq;
		d[k].attempt = picks[i].attempts + 1;
		d[k++].json = json;
	}
	if (error < 0) {
		gs_deliveries_free(d, k);
		return error;
	}
	if (k == 0) {
		free(d); /* nothing leased: callers may skip the free */
		d = NULL;
	}
	*out = d;
	*n = k;
	return 0;
}

int gs_consumer_fetch(gs_db *db, gs_evnotify *notify, const char *name, int max, gs_delivery **out, size_t *n,
		      int64_t *next_due_ms, gs_error *err)
{
	gs_consumer_info c;
	c_pick *picks = NULL, *dead = NULL;
	int npicks = 0, ndead = 0, appended = 0, error;
	int64_t now = gs_time_now_ms();

	*out = NULL;
	*n = 0;
	*next_due_ms = 0;
	if (max < 1 || max > GS_MAX_CONSUMER_FETCH)
		return gs_error_set(err, GS_EINVALID, "consumer", "max must be 1..%d", GS_MAX_CONSUMER_FETCH);
	if ((error = gs_db_begin(db, err)) < 0)
		return error;
	if ((error = c_cfg(db, name, &c, err)) < 0 || (error = c_expire(db, &c, now, &appended, err)) < 0 ||
	    (error = c_pull(db, &c, err)) < 0)
		goto out;
	picks = gs_xcalloc((size_t)max, sizeof(*picks));
	dead = gs_xcalloc((size_t)max, sizeof(*dead));
	if ((error = c_choose(db, &c, max, now, picks, &npicks, dead, &ndead, next_due_ms, err)) < 0)
		goto out;
	for (int i = 0; i < ndead && error == 0; i++)
		error = c_dead(db, &c, dead[i].logseq, dead[i].attempts, "max-deliver", &appended, err);
	if (error == 0)
		error = c_lease(db, &c, picks, npicks, now, out, n, err);
out:
	free(picks);
	free(dead);
	if ((error = c_tx_end(db, error, err)) < 0) {
		gs_deliveries_free(*out, *n);
		*out = NULL;
		*n = 0;
		return error;
	}
	c_bump(db, notify, appended);
	return 0;
}

/* ---- settling ------------------------------------------------------------ */

typedef enum { C_ACK, C_NAK, C_TERM } c_settle_kind;

static int c_settle_one(gs_db *db, const gs_consumer_info *c, c_settle_kind kind, int64_t logseq, int64_t delay_ms,
			int *settled, int *appended, gs_error *err)
{
	sqlite3_stmt *st;
	int error, rc, attempts = 0;
	if ((error = gs_db__prepare(db, &st, SQL_P_GET, err)) < 0)
		return error;
	gs_db__bind_text(st, 1, c->cfg.name);
	sqlite3_bind_int64(st, 2, logseq);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		attempts = sqlite3_column_int(st, 0);
	gs_db__done(st);
	*settled = rc == SQLITE_ROW;
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return gs_db__error(err, db, rc, "consumer settle");
	if (kind == C_ACK)
		return c_exec2(db, SQL_P_DELETE, c->cfg.name, logseq, 0, NULL, err);
	if (kind == C_TERM)
		return c_dead(db, c, logseq, attempts, "term", appended, err);
	if (c->cfg.max_deliver > 0 && attempts >= c->cfg.max_deliver)
		return c_dead(db, c, logseq, attempts, "max-deliver", appended, err);
	return c_exec2(db, SQL_P_READY, c->cfg.name, logseq, gs_time_now_ms() + delay_ms, NULL, err);
}

static int c_settle(gs_db *db, gs_evnotify *notify, const char *name, c_settle_kind kind, const int64_t *logseqs,
		    size_t n, int64_t delay_ms, int *settled, gs_error *err)
{
	gs_consumer_info c;
	int error, appended = 0;
	if (n > GS_MAX_CONSUMER_SETTLE)
		return gs_error_set(err, GS_ELIMIT, "consumer", "at most %d events per call", GS_MAX_CONSUMER_SETTLE);
	if ((error = gs_db_begin(db, err)) < 0)
		return error;
	error = c_cfg(db, name, &c, err);
	for (size_t i = 0; i < n && error == 0; i++) {
		int one = 0;
		error = c_settle_one(db, &c, kind, logseqs[i], delay_ms, &one, &appended, err);
		if (settled)
			settled[i] = one;
	}
	if ((error = c_tx_end(db, error, err)) == 0)
		c_bump(db, notify, appended);
	return error;
}

int gs_consumer_ack(gs_db *db, const char *name, const int64_t *logseqs, size_t n, int *settled, gs_error *err)
{
	return c_settle(db, NULL, name, C_ACK, logseqs, n, 0, settled, err);
}

int gs_consumer_nak(gs_db *db, gs_evnotify *notify, const char *name, const int64_t *logseqs, size_t n,
		    int64_t delay_ms, int *settled, gs_error *err)
{
	return c_settle(db, notify, name, C_NAK, logseqs, n, delay_ms, settled, err);
}

int gs_consumer_term(gs_db *db, gs_evnotify *notify, const char *name, const int64_t *logseqs, size_t n,
		     int *settled, gs_error *err)
{
	return c_settle(db, notify, name, C_TERM, logseqs, n, 0, settled, err);
}

/* ---- built-in workers ----------------------------------------------------- */

int gs_consumer_builtin(gs_db *db, const char *name, const char *const *types, gs_error *err)
{
	gs_consumer_cfg cfg;
	gs_consumer_info cur;
	int error;
	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.name, sizeof(cfg.name), "%s", name);
	for (int i = 0; types && types[i] && cfg.ntypes < GS_MAX_CONSUMER_TYPES; i++) {
		const char *t = gs_evlog_type_canonical(types[i]);
		if (t)
			cfg.types[cfg.ntypes++] = t;
	}
	/* only this process fetches it: a short lease bounds the wait after a
	 * failed nak */
	cfg.ack_wait_ms = 5000;
	cfg.max_deliver = 0;
	if ((error = gs_db_begin(db, err)) < 0)
		return error;
	error = c_cfg(db, name, &cur, err);
	if (error == GS_ENOTFOUND) {
		gs_error_clear(err);
		error = c_write(db, &cfg, 1, err);
	} else if (error == 0) {
		error = c_write(db, &cfg, 0, err);
	}
	if (error == 0)
		error = c_exec1(db, SQL_P_UNLEASE_ALL, name, err);
	return c_tx_end(db, error, err);
}

int gs_consumer_ack_tx(gs_db *db, const char *name, int64_t logseq, gs_error *err)
{
	return c_exec2(db, SQL_P_DELETE, name, logseq, 0, NULL, err);
}

int gs_consumer_defer(gs_db *db, const char *name, int64_t logseq, int64_t delay_ms, gs_error *err)
{
	int error;
	if ((error = gs_db_begin(db, err)) < 0)
		return error;
	error = c_exec2(db, SQL_P_DEFER, name, logseq, gs_time_now_ms() + delay_ms, NULL, err);
	return c_tx_end(db, error, err);
}

int gs_consumer_cursor(gs_db *db, const char *name, int64_t *out, gs_error *err)
{
	gs_consumer_info c;
	int64_t min = 0;
	int error;
	*out = 0;
	if ((error = c_cfg(db, name, &c, err)) < 0 || (error = c_int(db, SQL_P_MIN, name, 0, &min, err)) < 0)
		return error;
	/* MIN of no rows is NULL, read as 0: nothing pending */
	*out = min > 0 ? min - 1 : c.pulled;
	return 0;
}
