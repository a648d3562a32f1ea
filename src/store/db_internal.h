/*
 * store/db_internal.h -- raw SQLite access for store/ and events/ only
 * (the only folders allowed to include sqlite3.h).
 */
#ifndef GS_DB_INTERNAL_H
#define GS_DB_INTERNAL_H

#include <sqlite3.h>

#include "store/db.h"

sqlite3 *gs_db__handle(gs_db *db);
/* Copies sqlite3_errmsg and maps busy/locked to GS_EUNAVAILABLE. */
int gs_db__error(gs_error *err, gs_db *db, int rc, const char *what);
/* Prepares a cached statement; the statement is owned by the gs_db and
 * reset by the caller after use (gs_db__done). */
int gs_db__prepare(gs_db *db, sqlite3_stmt **out, const char *sql, gs_error *err);
void gs_db__done(sqlite3_stmt *st);
/* Binds text, or NULL when s is NULL. */
int gs_db__bind_text(sqlite3_stmt *st, int idx, const char *s);
/* Column text or "" when NULL. */
const char *gs_db__col_text(sqlite3_stmt *st, int idx);

#endif
