/*
 * store/resstore.c -- resources and cursors tables.
 * SPDX-License-Identifier: MIT
 */
#include "store/resstore.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db_internal.h"
#include "util/alloc.h"

#define RES_COLS                                                                                         \
	"uid, repo_uid, namespace, kind, name, path, generation, resource_version, admitted, api_version, " \
	"labels, annotations, spec, body, content_hash, revision, blob_sha, status, created_ms, updated_ms"

static const char SQL_GET[] = "SELECT " RES_COLS " FROM resources WHERE namespace = ? AND kind = ? AND name = ?";
static const char SQL_GET_PATH[] = "SELECT " RES_COLS " FROM resources WHERE repo_uid = ? AND path = ?";
static const char SQL_PUT[] = "INSERT OR REPLACE INTO resources(" RES_COLS
			      ") VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
static const char SQL_DELETE[] = "DELETE FROM resources WHERE uid = ?";
static const char SQL_EACH_REPO[] = "SELECT " RES_COLS " FROM resources WHERE repo_uid = ? ORDER BY path";
static const char SQL_LIST[] = "SELECT " RES_COLS " FROM resources WHERE namespace = ?1 AND kind = ?2"
			       " AND (?3 = 0 OR admitted = 1) AND name > ?4 ORDER BY name LIMIT ?5";
static const char SQL_SKU[] = "SELECT name FROM resources WHERE namespace = ? AND kind = 'ProductVariant'"
			      " AND admitted = 1 AND json_extract(spec, '$.sku') = ? AND name <> ?"
			      " ORDER BY created_ms, name LIMIT 1";
static const char SQL_REFERRING[] = "SELECT " RES_COLS " FROM resources WHERE namespace = ?1 AND kind = ?2"
				    " AND admitted = 1 AND json_extract(spec, ?3) = ?4 ORDER BY name LIMIT ?5";
static const char SQL_CURSOR_GET[] = "SELECT logseq FROM cursors WHERE name = ?";
static const char SQL_CURSOR_SET[] =
	"INSERT INTO cursors(name, logseq) VALUES(?, ?) ON CONFLICT(name) DO UPDATE SET logseq = excluded.logseq";

void gs_resrow_release(gs_resrow *r)
{
	free(r->path);
	free(r->api_version);
	free(r->labels);
	free(r->annotations);
	free(r->spec);
	free(r->body);
	free(r->content_hash);
	free(r->revision);
	free(r->blob_sha);
	free(r->status);
	memset(r, 0, sizeof(*r));
}

static void row_read(sqlite3_stmt *st, gs_resrow *r)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->uid, sizeof(r->uid), "%s", gs_db__col_text(st, 0));
	snprintf(r->repo_uid, sizeof(r->repo_uid), "%s", gs_db__col_text(st, 1));
	snprintf(r->ns, sizeof(r->ns), "%s", gs_db__col_text(st, 2));
	snprintf(r->kind, sizeof(r->kind), "%s", gs_db__col_text(st, 3));
	snprintf(r->name, sizeof(r->name), "%s", gs_db__col_text(st, 4));
	r->path = gs_xstrdup(gs_db__col_text(st, 5));
	r->generation = sqlite3_column_int64(st, 6);
	r->resource_version = sqlite3_column_int64(st, 7);
	r->admitted = sqlite3_column_int(st, 8);
	r->api_version = gs_xstrdup(gs_db__col_text(st, 9));
	r->labels = gs_xstrdup(gs_db__col_text(st, 10));
	r->annotations = gs_xstrdup(gs_db__col_text(st, 11));
	r->spec = gs_xstrdup(gs_db__col_text(st, 12));
	/* byte-exact, NUL bytes included */
	r->body_len = (size_t)sqlite3_column_bytes(st, 13);
	r->body = gs_xmalloc(r->body_len + 1);
	if (r->body_len)
		memcpy(r->body, sqlite3_column_blob(st, 13), r->body_len);
	r->body[r->body_len] = 0;
	r->content_hash = gs_xstrdup(gs_db__col_text(st, 14));
	r->revision = gs_xstrdup(gs_db__col_text(st, 15));
	r->blob_sha = gs_xstrdup(gs_db__col_text(st, 16));
	r->status = gs_xstrdup(gs_db__col_text(st, 17));
	r->created_ms = sqlite3_column_int64(st, 18);
	r->updated_ms = sqlite3_column_int64(st, 19);
}

static int row_query(gs_db *db, const char *sql, const char *a, const char *b, const char *c, gs_resrow *out,
		     gs_error *err)
{
	sqlite3_stmt *st;
	int error, rc;
	if ((error = gs_db__prepare(db, &st, sql, err)) < 0)
		return error;
	gs_db__bind_text(st, 1, a);
	gs_db__bind_text(st, 2, b);
	if (c)
		gs_db__bind_text(st, 3, c);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		row_read(st, out);
	else if (rc == SQLITE_DONE)
		error = gs_error_set(err, GS_ENOTFOUND, "resources", "resource not found");
	else
		error = gs_db__error(err, db, rc, "resource lookup");
	gs_db__done(st);
	return error;
}

int gs_resstore_get(gs_db *db, const char *ns, const char *kind, const char *name, gs_resrow *out, gs_error *err)
{
	return row_query(db, SQL_GET, ns, kind, name, out, err);
}

int gs_resstore_get_by_path(gs_db *db, const char *repo_uid, const char *path, gs_resrow *out, gs_error *err)
{
	return row_query(db, SQL_GET_PATH, repo_uid, path, NULL, out, err);
}

int gs_resstore_put(gs_db *db, const gs_resrow *r, gs_error *err)
{
	sqlite3_stmt *st;
	int error, rc;
	if ((error = gs_db__prepare(db, &st, SQL_PUT, err)) < 0)
		return error;
	gs_db__bind_text(st, 1, r->uid);
	gs_db__bind_text(st, 2, r->repo_uid);
	gs_db__bind_text(st, 3, r->ns);
	gs_db__bind_text(st, 4, r->kind);
	gs_db__bind_text(st, 5, r->name);
	gs_db__bind_text(st, 6, r->path ? r->path : "");
	sqlite3_bind_int64(st, 7, r->generation);
	sqlite3_bind_int64(st, 8, r->resource_version);
	sqlite3_bind_int(st, 9, r->admitted);
	gs_db__bind_text(st, 10, r->api_version ? r->api_version : "");
	gs_db__bind_text(st, 11, r->labels ? r->labels : "{}");
	gs_db__bind_text(st, 12, r->annotations ? r->annotations : "{}");
	gs_db__bind_text(st, 13, r->spec ? r->spec : "{}");
	sqlite3_bind_text(st, 14, r->body ? r->body : "", r->body ? (int)r->body_len : 0, SQLITE_TRANSIENT);
	gs_db__bind_text(st, 15, r->content_hash ? r->content_hash : "");
	gs_db__bind_text(st, 16, r->revision ? r->revision : "");
	gs_db__bind_text(st, 17, r->blob_sha ? r->blob_sha : "");
	gs_db__bind_text(st, 18, r->status ? r->status : "{}");
	sqlite3_bind_int64(st, 19, r->created_ms);
	sqlite3_bind_int64(st, 20, r->updated_ms);
	rc = sqlite3_step(st);
	gs_db__done(st);
	return rc == SQLITE_DONE ? 0 : gs_db__error(err, db, rc, "store resource");
}

int gs_resstore_delete(gs_db *db, const char *uid, gs_error *err)
{
	sqlite3_stmt *st;
	int error, rc;
	if ((error = gs_db__prepare(db, &st, SQL_DELETE, err)) < 0)
		return error;
	gs_db__bind_text(st, 1, uid);
	rc = sqlite3_step(st);
	gs_db__done(st);
	return rc == SQLITE_DONE ? 0 : gs_db__error(err, db, rc, "delete resource");
}

static int rows_emit(gs_db *db, sqlite3_stmt *st, gs_resstore_cb cb, void *payload, gs_error *err)
{
	int rc, error = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		gs_resrow r;
		row_read(st, &r);
		error = cb(&r, payload);
		gs_resrow_release(&r);
		if (error)
			return error;
	}
	return rc == SQLITE_DONE ? 0 : gs_db__error(err, db, rc, "resource list");
}

int gs_resstore_each_in_repo(gs_db *db, const char *repo_uid, gs_resstore_cb cb, void *payload, gs_error *err)
{
	sqlite3_stmt *st;
	int error;
	if ((error = gs_db__prepare(db, &st, SQL_EACH_REPO, err)) < 0)
		return error;
	gs_db__bind_text(st, 1, repo_uid);
	error = rows_emit(db, st, cb, payload, err);
	gs_db__done(st);
	return error;
}

int gs_resstore_each_referring(gs_db *db, const char *ns, const char *kind, const char *ref_field, const char *name,
			       int limit, gs_resstore_cb cb, void *payload, gs_error *err)
{
	sqlite3_stmt *st;
	char path[64];
	int error;
	snprintf(path, sizeof(path), "$.%s.name", ref_field);
	if ((error = gs_db__prepare(db, &st, SQL_REFERRING, err)) < 0)
		return error;
	gs_db__bind_text(st, 1, ns);
	gs_db__bind_text(st, 2, kind);
	gs_db__bind_text(st, 3, path);
	gs_db__bind_text(st, 4, name);
	sqlite3_bind_int(st, 5, limit);
	error = rows_emit(db, st, cb, payload, err);
	gs_db__done(st);
	return error;
}

int gs_resstore_list(gs_db *db, const char *ns, const char *kind, int admitted_only, const char *after, int limit,
		     gs_resstore_cb cb, void *payload, gs_error *err)
{
	sqlite3_stmt *st;
	int error;
	if ((error = gs_db__prepare(db, &st, SQL_LIST, err)) < 0)
		return error;
	gs_db__bind_text(st, 1, ns);
	gs_db__bind_text(st, 2, kind);
	sqlite3_bind_int(st, 3, admitted_only);
	gs_db__bind_text(st, 4, after ? after : "");
	sqlite3_bind_int(st, 5, limit);
	error = rows_emit(db, st, cb, payload, err);
	gs_db__done(st);
	return error;
}

int gs_cursor_get(gs_db *db, const char *name, int64_t *out, gs_error *err)
{
	sqlite3_stmt *st;
	int error, rc;
	*out = 0;
	if ((error = gs_db__prepare(db, &st, SQL_CURSOR_GET, err)) < 0)
		return error;
	gs_db__bind_text(st, 1, name);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	else if (rc != SQLITE_DONE)
		error = gs_db__error(err, db, rc, "cursor");
	gs_db__done(st);
	return error;
}

int gs_cursor_set(gs_db *db, const char *name, int64_t logseq, gs_error *err)
{
	sqlite3_stmt *st;
	int error, rc;
	if ((error = gs_db__prepare(db, &st, SQL_CURSOR_SET, err)) < 0)
		return error;
	gs_db__bind_text(st, 1, name);
	sqlite3_bind_int64(st, 2, logseq);
	rc = sqlite3_step(st);
	gs_db__done(st);
	return rc == SQLITE_DONE ? 0 : gs_db__error(err, db, rc, "cursor");
}

int gs_resstore_sku_owner(gs_db *db, const char *ns, const char *sku, const char *except, char owner[64],
			  gs_error *err)
{
	sqlite3_stmt *st;
	int error, rc;
	if ((error = gs_db__prepare(db, &st, SQL_SKU, err)) < 0)
		return error;
	gs_db__bind_text(st, 1, ns);
	gs_db__bind_text(st, 2, sku);
	gs_db__bind_text(st, 3, except);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		snprintf(owner, 64, "%s", gs_db__col_text(st, 0));
		error = 1;
	} else if (rc != SQLITE_DONE) {
		error = gs_db__error(err, db, rc, "sku lookup");
	}
	gs_db__done(st);
	return error;
}

int gs_resstore_admitted_spec(gs_db *db, const char *ns, const char *kind, const char *name, json_t **out,
			      gs_error *err)
{
	gs_resrow row;
	int error = gs_resstore_get(db, ns, kind, name, &row, err);
	*out = NULL;
	if (error == GS_ENOTFOUND) {
		gs_error_clear(err);
		return 0;
	}
	if (error < 0)
		return error;
	if (row.admitted) {
		*out = json_loads(row.spec, 0, NULL);
		if (!*out)
			*out = json_object();
	}
	gs_resrow_release(&row);
	return *out ? 1 : 0;
}
