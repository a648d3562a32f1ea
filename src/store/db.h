/*
 * store/db.h -- the SQLite database (WAL) holding registry, journal and log.
 *
 * Ownership: gs_db_open() gives the caller a connection; gs_db_close()
 *   releases it. A gs_dbpool hands out connections with gs_dbpool_get()
 *   and takes them back with gs_dbpool_put().
 * Threads: a gs_db is used by one thread at a time; the pool is
 *   thread-safe. Writers are serialised by SQLite (BEGIN IMMEDIATE with a
 *   busy timeout), so the CLI may write while the daemon runs.
 * Durability: WAL with synchronous=FULL, so a committed transaction
 *   survives power loss, which the ref journal relies on.
 * Errors: GS_EUNAVAILABLE (database busy/locked past the timeout),
 *   GS_ERROR (anything else, message copied from sqlite).
 */
#ifndef GS_DB_H
#define GS_DB_H

#include "util/error.h"

typedef struct gs_db gs_db;
typedef struct gs_dbpool gs_dbpool;

/* Opens (creating and migrating if needed) DIR/gitstore.db. */
int gs_db_open(gs_db **out, const char *data_dir, gs_error *err);
void gs_db_close(gs_db *db);

/* BEGIN IMMEDIATE: takes the write lock up front so that the
 * read-then-write sequences (sequence numbers) cannot race. */
int gs_db_begin(gs_db *db, gs_error *err);
int gs_db_commit(gs_db *db, gs_error *err);
/* Never fails; safe to call when no transaction is open. */
void gs_db_rollback(gs_db *db);

int gs_dbpool_new(gs_dbpool **out, const char *data_dir, int size, gs_error *err);
void gs_dbpool_free(gs_dbpool *pool);
/* Blocks until a connection is free. */
gs_db *gs_dbpool_get(gs_dbpool *pool);
void gs_dbpool_put(gs_dbpool *pool, gs_db *db);

#endif
