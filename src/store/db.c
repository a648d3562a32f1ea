/*
 * store/db.c -- SQLite connection, schema migrations, connection pool.
 *
 * Owns the schema (see MIGRATIONS). Statement cache: each connection keeps
 * prepared statements keyed by SQL text pointer, so hot paths (event
 * append) do not re-parse SQL.
 * Threads: one connection per thread at a time; the pool uses a mutex and
 * condition variable.
 * SPDX-License-Identifier: MIT
 */
#include "store/db_internal.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"

#define DB_STMT_CACHE 96
/* The page cache stays at SQLite's default (2 MiB per connection): the
 * daemon's pool holds 24 connections, and the 32 MiB each had before grew
 * its RSS with every connection a burst of work touched (98 MiB after one
 * catalog ingest), while release -> published for 10,000 resources was
 * the same within noise (0.54-0.59x of the draft ingest either way;
 * docs/benchmarks.md). */
#define DB_BUSY_TIMEOUT_MS 30000

struct gs_db {
	sqlite3 *h;
	struct {
		const char *sql;
		sqlite3_stmt *st;
	} cache[DB_STMT_CACHE];
	int ncache;
};

struct gs_dbpool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	gs_db **free_list;
	int nfree, size;
};

/* Schema versions, applied in order inside one transaction each. Never
 * edit a shipped entry: append a new one. */
static const char *const MIGRATIONS[] = {
	/* 1: registry, journal, event log */
	"CREATE TABLE namespaces(name TEXT PRIMARY KEY, created_ms INTEGER NOT NULL);"
	"CREATE TABLE repos(uid TEXT PRIMARY KEY, namespace TEXT NOT NULL REFERENCES namespaces(name),"
	" name TEXT NOT NULL, created_ms INTEGER NOT NULL, UNIQUE(namespace, name));"
	"CREATE TABLE repo_settings(repo_uid TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,"
	" PRIMARY KEY(repo_uid, key));"
	"CREATE TABLE tokens(id INTEGER PRIMARY KEY, user TEXT NOT NULL, hash TEXT NOT NULL UNIQUE,"
	" created_ms INTEGER NOT NULL);"
	"CREATE TABLE token_roles(token_id INTEGER NOT NULL REFERENCES tokens(id), role TEXT NOT NULL,"
	" namespace TEXT NOT NULL);"
	"CREATE TABLE events(logseq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, repo_uid TEXT,"
	" namespace TEXT, seq INTEGER, type TEXT NOT NULL, correlation TEXT, time_ms INTEGER NOT NULL,"
	" json TEXT NOT NULL);"
	"CREATE INDEX events_repo ON events(repo_uid, seq);"
	"CREATE INDEX events_corr ON events(correlation);"
	"CREATE TABLE repo_seq(repo_uid TEXT PRIMARY KEY, seq INTEGER NOT NULL);"
	"CREATE TABLE pushes(push_id TEXT PRIMARY KEY, repo_uid TEXT NOT NULL, actor TEXT NOT NULL,"
	" via TEXT NOT NULL, atomic INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL,"
	" created_ms INTEGER NOT NULL);"
	"CREATE TABLE intents(push_id TEXT NOT NULL, repo_uid TEXT NOT NULL, ref TEXT NOT NULL,"
	" old TEXT NOT NULL, new TEXT NOT NULL, created_ms INTEGER NOT NULL, PRIMARY KEY(push_id, ref));"
	"CREATE TABLE refs_state(repo_uid TEXT NOT NULL, ref TEXT NOT NULL, sha TEXT NOT NULL,"
	" version INTEGER NOT NULL, PRIMARY KEY(repo_uid, ref));",
	/* 2: draft resources and worker cursors */
	"CREATE TABLE resources(uid TEXT PRIMARY KEY, repo_uid TEXT NOT NULL, namespace TEXT NOT NULL,"
	" kind TEXT NOT NULL, name TEXT NOT NULL, path TEXT NOT NULL, generation INTEGER NOT NULL,"
	" resource_version INTEGER NOT NULL, admitted INTEGER NOT NULL, api_version TEXT NOT NULL,"
	" labels TEXT NOT NULL, annotations TEXT NOT NULL, spec TEXT NOT NULL, body TEXT NOT NULL,"
	" content_hash TEXT NOT NULL, revision TEXT NOT NULL, blob_sha TEXT NOT NULL, status TEXT NOT NULL,"
	" created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL, UNIQUE(namespace, kind, name));"
	"CREATE INDEX resources_repo_path ON resources(repo_uid, path);"
	"CREATE TABLE cursors(name TEXT PRIMARY KEY, logseq INTEGER NOT NULL);",
	/* 3: the pusher's role on the namespace (admission's userInfo.roles) */
	"ALTER TABLE pushes ADD COLUMN role TEXT NOT NULL DEFAULT '';",
	/* 4: releases and the published view */
	"CREATE TABLE releases(repo_uid TEXT NOT NULL, ref TEXT NOT NULL, commit_sha TEXT NOT NULL,"
	" ref_sha TEXT NOT NULL, state TEXT NOT NULL, event_id TEXT NOT NULL, logseq INTEGER NOT NULL, resources INTEGER NOT NULL,"
	" created_ms INTEGER NOT NULL, PRIMARY KEY(repo_uid, ref, commit_sha));"
	"CREATE TABLE release_resources(repo_uid TEXT NOT NULL, commit_sha TEXT NOT NULL, namespace TEXT NOT NULL,"
	" kind TEXT NOT NULL, name TEXT NOT NULL, path TEXT NOT NULL, api_version TEXT NOT NULL,"
	" labels TEXT NOT NULL, annotations TEXT NOT NULL, spec TEXT NOT NULL, body TEXT NOT NULL,"
	" content_hash TEXT NOT NULL, PRIMARY KEY(repo_uid, commit_sha, kind, name));"
	"CREATE TABLE published(namespace TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL, uid TEXT NOT NULL,"
	" repo_uid TEXT NOT NULL, path TEXT NOT NULL, api_version TEXT NOT NULL, labels TEXT NOT NULL,"
	" annotations TEXT NOT NULL, spec TEXT NOT NULL, body TEXT NOT NULL, content_hash TEXT NOT NULL,"
	" generation INTEGER NOT NULL, release_ref TEXT NOT NULL, release_commit TEXT NOT NULL,"
	" published_ms INTEGER NOT NULL, PRIMARY KEY(namespace, kind, name));"
	"CREATE INDEX published_repo ON published(repo_uid);"
	"CREATE TABLE release_current(repo_uid TEXT PRIMARY KEY, ref TEXT NOT NULL, commit_sha TEXT NOT NULL,"
	" event_id TEXT NOT NULL);",
	/* 5: the published view points at its release snapshot's content
	 * instead of holding a copy (a swap writes identities, not documents);
	 * publication state is the published view's, read with the draft (not
	 * copied into every draft row's status): since when a resource is
	 * published, and since when it is withdrawn. The lifecycle fields
	 * older versions stored in resources.status move here. */
	"CREATE TABLE published5(namespace TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL, uid TEXT NOT NULL,"
	" repo_uid TEXT NOT NULL, api_version TEXT NOT NULL, content_hash TEXT NOT NULL, generation INTEGER NOT NULL,"
	" release_ref TEXT NOT NULL, release_commit TEXT NOT NULL, published_ms INTEGER NOT NULL,"
	" since_ms INTEGER NOT NULL, PRIMARY KEY(namespace, kind, name));"
	"INSERT INTO published5 SELECT namespace, kind, name, uid, repo_uid, api_version, content_hash, generation,"
	" release_ref, release_commit, published_ms, published_ms FROM published;"
	"DROP TABLE published;"
	"ALTER TABLE published5 RENAME TO published;"
	"CREATE INDEX published_repo ON published(repo_uid);"
	"CREATE TABLE unpublished(namespace TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL,"
	" repo_uid TEXT NOT NULL, since_ms INTEGER NOT NULL, PRIMARY KEY(namespace, kind, name));"
	"INSERT INTO unpublished SELECT r.namespace, r.kind, r.name, r.repo_uid, r.updated_ms FROM resources r"
	" WHERE EXISTS(SELECT 1 FROM json_each(r.status, '$.conditions') c"
	"  WHERE json_extract(c.value, '$.type') = 'Published' AND json_extract(c.value, '$.status') = 'False');"
	"UPDATE resources SET status = json_set(json_remove(status, '$.phase', '$.publishedGeneration',"
	"  '$.publishedRelease'), '$.conditions', (SELECT json_group_array(json(c.value))"
	"  FROM json_each(resources.status, '$.conditions') c"
	"  WHERE json_extract(c.value, '$.type') IS NOT 'Published'))"
	" WHERE json_valid(status);"
	/* reads of one repository's events after a position (the events API,
	 * consumers) walk this index; the one on (repo_uid, seq) made SQLite
	 * sort all of the repository's events for every page */
	"DROP INDEX events_repo;"
	"CREATE INDEX events_repo_logseq ON events(repo_uid, logseq);",
	/* 6: durable consumers (events/consumer.h). The built-in workers'
	 * cursors become their consumers' positions. */
	"CREATE TABLE consumers(name TEXT PRIMARY KEY, types TEXT NOT NULL, repo_uid TEXT NOT NULL,"
	" repo TEXT NOT NULL, namespace TEXT NOT NULL, ack_wait_ms INTEGER NOT NULL, max_deliver INTEGER NOT NULL,"
	" start_after INTEGER NOT NULL, pulled INTEGER NOT NULL, dead INTEGER NOT NULL DEFAULT 0,"
	" created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);"
	"CREATE TABLE consumer_pending(consumer TEXT NOT NULL, logseq INTEGER NOT NULL, repo_uid TEXT NOT NULL,"
	" type TEXT NOT NULL, attempts INTEGER NOT NULL, leased INTEGER NOT NULL, due_ms INTEGER NOT NULL,"
	" PRIMARY KEY(consumer, logseq)) WITHOUT ROWID;"
	"CREATE TABLE consumer_dead(consumer TEXT NOT NULL, logseq INTEGER NOT NULL, attempts INTEGER NOT NULL,"
	" reason TEXT NOT NULL, dead_ms INTEGER NOT NULL, PRIMARY KEY(consumer, logseq)) WITHOUT ROWID;"
	/* fetch finds the leases that ran out without reading every pending row */
	"CREATE INDEX consumer_pending_due ON consumer_pending(consumer, leased, due_ms);"
	"INSERT INTO consumers SELECT 'gitstore-catalog', '', '', '', '', 30000, 0, logseq, logseq, 0, 0, 0"
	" FROM cursors WHERE name = 'catalog';"
	"INSERT INTO consumers SELECT 'gitstore-lifecycle', '', '', '', '', 30000, 0, logseq, logseq, 0, 0, 0"
	" FROM cursors WHERE name = 'lifecycle';"
	"DELETE FROM cursors WHERE name IN ('catalog', 'lifecycle');",
	/* 7: retention: the log's removed prefix (events up to pruned_through
	 * are gone; numbering continues after the head). */
	"CREATE TABLE log_floor(id INTEGER PRIMARY KEY CHECK(id = 1), pruned_through INTEGER NOT NULL,"
	" pruned_ms INTEGER NOT NULL);"
	"CREATE INDEX events_time ON events(time_ms);",
};

sqlite3 *gs_db__handle(gs_db *db) { return db->h; }

int gs_db__error(gs_error *err, gs_db *db, int rc, const char *what)
{
	int primary = rc & 0xff;
	gs_code c = (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) ? GS_EUNAVAILABLE : GS_ERROR;
	if (primary == SQLITE_CONSTRAINT)
		c = GS_EEXISTS;
	return gs_error_set(err, c, "sqlite", "%s: %s (%d)", what, db ? sqlite3_errmsg(db->h) : sqlite3_errstr(rc), rc);
}

int gs_db__prepare(gs_db *db, sqlite3_stmt **out, const char *sql, gs_error *err)
{
	int rc;
	for (int i = 0; i < db->ncache; i++) {
		if (db->cache[i].sql == sql) {
			*out = db->cache[i].st;
			return 0;
		}
	}
	rc = sqlite3_prepare_v2(db->h, sql, -1, out, NULL);
	if (rc != SQLITE_OK)
		return gs_db__error(err, db, rc, "prepare");
	if (db->ncache < DB_STMT_CACHE) {
		db->cache[db->ncache].sql = sql;
		db->cache[db->ncache].st = *out;
		db->ncache++;
	} else {
		/* cache full: hand out a statement the caller must not keep;
		 * we never reach this with the fixed set of queries */
		GS_ASSERT(!"statement cache full");
	}
	return 0;
}

void gs_db__done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

int gs_db__bind_text(sqlite3_stmt *st, int idx, const char *s)
{
	if (!s)
		return sqlite3_bind_null(st, idx);
	return sqlite3_bind_text(st, idx, s, -1, SQLITE_TRANSIENT);
}

const char *gs_db__col_text(sqlite3_stmt *st, int idx)
{
	const unsigned char *t = sqlite3_column_text(st, idx);
	return t ? (const char *)t : "";
}

static int db_exec(gs_db *db, const char *sql, gs_error *err)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db->h, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		int primary = rc & 0xff;
		gs_error_set(err, (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) ? GS_EUNAVAILABLE : GS_ERROR,
			     "sqlite", "%s", msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return err ? err->code : GS_ERROR;
	}
	return 0;
}

static int db_migrate(gs_db *db, gs_error *err)
{
	sqlite3_stmt *st = NULL;
	int version = 0, error = 0;
	int rc = sqlite3_prepare_v2(db->h, "PRAGMA user_version", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return gs_db__error(err, db, rc, "user_version");
	if (sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	for (int v = version; v < (int)(sizeof(MIGRATIONS) / sizeof(MIGRATIONS[0])); v++) {
		char pragma[64];
		if ((error = gs_db_begin(db, err)) < 0)
			return error;
		/* re-check under the write lock: another process may have migrated */
		st = NULL;
		sqlite3_prepare_v2(db->h, "PRAGMA user_version", -1, &st, NULL);
		if (st && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) > v) {
			sqlite3_finalize(st);
			gs_db_rollback(db);
			continue;
		}
		sqlite3_finalize(st);
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version=%d", v + 1);
		if ((error = db_exec(db, MIGRATIONS[v], err)) < 0 || (error = db_exec(db, pragma, err)) < 0 ||
		    (error = gs_db_commit(db, err)) < 0) {
			gs_db_rollback(db);
			return error;
		}
	}
	return 0;
}

int gs_db_open(gs_db **out, const char *data_dir, gs_error *err)
{
	gs_db *db = gs_xcalloc(1, sizeof(*db));
	char *path = gs_xasprintf("%s/gitstore.db", data_dir);
	int error = 0, rc;

	rc = sqlite3_open_v2(path, &db->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		error = gs_error_set(err, GS_ERROR, "sqlite", "%s: %s", path, db->h ? sqlite3_errmsg(db->h) : sqlite3_errstr(rc));
		goto out;
	}
	sqlite3_busy_timeout(db->h, DB_BUSY_TIMEOUT_MS);
	if ((error = db_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;", err)) < 0 ||
	    (error = db_migrate(db, err)) < 0)
		goto out;
	*out = db;
	db = NULL;
out:
	free(path);
	gs_db_close(db);
	return error;
}

void gs_db_close(gs_db *db)
{
	if (!db)
		return;
	for (int i = 0; i < db->ncache; i++)
		sqlite3_finalize(db->cache[i].st);
	sqlite3_close(db->h);
	free(db);
}

int gs_db_begin(gs_db *db, gs_error *err) { return db_exec(db, "BEGIN IMMEDIATE", err); }
int gs_db_commit(gs_db *db, gs_error *err) { return db_exec(db, "COMMIT", err); }

void gs_db_rollback(gs_db *db)
{
	if (db && !sqlite3_get_autocommit(db->h))
		sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
}

int gs_dbpool_new(gs_dbpool **out, const char *data_dir, int size, gs_error *err)
{
	gs_dbpool *pool = gs_xcalloc(1, sizeof(*pool));
	int error = 0;
	pthread_mutex_init(&pool->mu, NULL);
	pthread_cond_init(&pool->cv, NULL);
	pool->free_list = gs_xcalloc((size_t)size, sizeof(gs_db *));
	pool->size = size;
	for (int i = 0; i < size; i++) {
		if ((error = gs_db_open(&pool->free_list[i], data_dir, err)) < 0) {
			gs_dbpool_free(pool);
			return error;
		}
		pool->nfree++;
	}
	*out = pool;
	return 0;
}

void gs_dbpool_free(gs_dbpool *pool)
{
	if (!pool)
		return;
	for (int i = 0; i < pool->nfree; i++)
		gs_db_close(pool->free_list[i]);
	free(pool->free_list);
	pthread_mutex_destroy(&pool->mu);
	pthread_cond_destroy(&pool->cv);
	free(pool);
}

gs_db *gs_dbpool_get(gs_dbpool *pool)
{
	gs_db *db;
	pthread_mutex_lock(&pool->mu);
	while (pool->nfree == 0)
		pthread_cond_wait(&pool->cv, &pool->mu);
	db = pool->free_list[--pool->nfree];
	pthread_mutex_unlock(&pool->mu);
	return db;
}

void gs_dbpool_put(gs_dbpool *pool, gs_db *db)
{
	if (!db)
		return;
	gs_db_rollback(db); /* never hand on an open transaction */
	pthread_mutex_lock(&pool->mu);
	pool->free_list[pool->nfree++] = db;
	pthread_cond_signal(&pool->cv);
	pthread_mutex_unlock(&pool->mu);
}
