/*
 * store/registry.c -- registry tables (namespaces, repos, tokens).
 * SPDX-License-Identifier: MIT
 */
#include "store/registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/db_internal.h"
#include "util/alloc.h"
#include "util/time.h"

static const char SQL_NS_INSERT[] = "INSERT INTO namespaces(name, created_ms) VALUES(?, ?)";
static const char SQL_NS_EXISTS[] = "SELECT 1 FROM namespaces WHERE name = ?";
static const char SQL_REPO_INSERT[] = "INSERT INTO repos(uid, namespace, name, created_ms) VALUES(?, ?, ?, ?)";
static const char SQL_REPO_LOOKUP[] = "SELECT uid, namespace, name FROM repos WHERE namespace = ? AND name = ?";
static const char SQL_REPO_BY_UID[] = "SELECT uid, namespace, name FROM repos WHERE uid = ?";
static const char SQL_REPO_LIST[] = "SELECT uid, namespace, name FROM repos ORDER BY namespace, name";
static const char SQL_SETTING_SET[] =
	"INSERT INTO repo_settings(repo_uid, key, value) VALUES(?, ?, ?) "
	"ON CONFLICT(repo_uid, key) DO UPDATE SET value = excluded.value";
static const char SQL_SETTING_EACH[] = "SELECT key, value FROM repo_settings WHERE repo_uid = ? ORDER BY key";
static const char SQL_TOKEN_INSERT[] = "INSERT INTO tokens(user, hash, created_ms) VALUES(?, ?, ?)";
static const char SQL_ROLE_INSERT[] = "INSERT INTO token_roles(token_id, role, namespace) VALUES(?, ?, ?)";
static const char SQL_TOKEN_LOOKUP[] =
	"SELECT t.user, r.role, r.namespace FROM tokens t LEFT JOIN token_roles r ON r.token_id = t.id WHERE t.hash = ?";

int gs_registry_ns_insert(gs_db *db, const char *name, gs_error *err)
{
	sqlite3_stmt *st;
	int error, rc;
	if ((error = gs_db__prepare(db, &st, SQL_NS_INSERT, err)) < 0)
		return error;
	gs_db__bind_text(st, 1, name);
	sqlite3_bind_int64(st, 2, gs_time_now_ms());
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE) {
		if ((rc & 0xff) == SQLITE_CONSTRAINT)
			error = gs_error_set(err, GS_EEXISTS, "registry", "namespace '%s' already exists", name);
		else
			error = gs_db__error(err, db, rc, "insert namespace");
	}
	gs_db__done(st);
	return error;
}

int gs_registry_ns_exists(gs_db *db, const char *name, gs_error *err)
{
	sqlite3_stmt *st;
	int error, rc;
	if ((error = gs_db__prepare(db, &st, SQL_NS_EXISTS, err)) < 0)
		return error;
	gs_db__bind_text(st, 1, name);
	rc = sqlite3_step(st);
	error = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : gs_db__error(err, db, rc, "namespace lookup");
	gs_db__done(st);
	return error;
}

int gs_registry_repo_insert(gs_db *db, const gs_repo_info *repo, gs_error *err)
{
	sqlite3_stmt *st;
	int error, rc;
	if ((error = gs_db__prepare(db, &st, SQL_REPO_INSERT, err)) < 0)
		return error;
	gs_db__bind_text(st, 1, repo->uid);
	gs_db__bind_text(st, 2, repo->ns);
	gs_db__bind_text(st, 3, repo->name);
	sqlite3_bind_int64(st, 4, gs_time_now_ms());
	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE) {
		if ((rc & 0xff) == SQLITE_CONSTRAINT)
			error = gs_error_set(err, GS_EEXISTS, "registry", "repository '%s/%s' already exists",
					     repo->ns, repo->name);
		else
			error = gs_db__error(err, db, rc, "insert repository");
	}
	gs_db__done(st);
	return error;
}

static void repo_from_row(sqlite3_stmt *st, gs_repo_info *out)
{
	snprintf(out->uid, sizeof(out->uid), "%s", gs_db__col_text(st, 0));
	snprintf(out->ns, sizeof(out->ns), "%s", gs_db__col_text(st, 1));
	snprintf(out->name, sizeof(out->name), "%s", gs_db__col_text(st, 2));
}

static int repo_query_one(gs_db *db, const char *sql, const char *a, const char *b, gs_repo_info *out,
			  gs_error *err)
{
	sqlite3_stmt *st;
	int error, rc;
	if ((error = gs_db__prepare(db, &st, sql, err)) < 0)
		return error;
	gs_db__bind_text(st, 1, a);
	if (b)
		gs_db__bind_text(st, 2, b);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		repo_from_row(st, out);
	else if (rc == SQLITE_DONE)
		error = gs_error_set(err, GS_ENOTFOUND, "registry", "repository not found");
	else
		error = gs_db__error(err, db, rc, "repository lookup");
	gs_db__done(st);
	return error;
}

int gs_registry_repo_lookup(gs_db *db, const char *ns, const char *name, gs_repo_info *out, gs_error *err)
{
	return repo_query_one(db, SQL_REPO_LOOKUP, ns, name, out, err);
}

int gs_registry_repo_by_uid(gs_db *db, const char *uid, gs_repo_info *out, gs_error *err)
{
	return repo_query_one(db, SQL_REPO_BY_UID, uid, NULL, out, err);
}

int gs_registry_repo_list(gs_db *db, gs_repo_info **out, size_t *n, gs_error *err)
{
	sqlite3_stmt *st;
	gs_repo_info *list = NULL;
	size_t count = 0, cap = 0;
	int error, rc;
	if ((error = gs_db__prepare(db, &st, SQL_REPO_LIST, err)) < 0)
		return error;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (count == cap) {
			cap = cap ? cap * 2 : 16;
			list = gs_xrealloc(list, cap * sizeof(*list));
		}
		repo_from_row(st, &list[count++]);
	}
	if (rc != SQLITE_DONE) {
		error = gs_db__error(err, db, rc, "repository list");
		free(list);
		list = NULL;
		count = 0;
	}
	gs_db__done(st);
	*out = list;
	*n = count;
	return error;
}

int gs_registry_token_insert(gs_db *db, const char *user, const char *token_hash, const gs_grant *grants,
			     int ngrants, gs_error *err)
{
	sqlite3_stmt *st;
	sqlite3_int64 id;
	int error, rc;
	if ((error = gs_db_begin(db, err)) < 0)
		return error;
	if ((error = gs_db__prepare(db, &st, SQL_TOKEN_INSERT, err)) < 0)
		goto out;
	gs_db__bind_text(st, 1, user);
	gs_db__bind_text(st, 2, token_hash);
	sqlite3_bind_int64(st, 3, gs_time_now_ms());
	rc = sqlite3_step(st);
	gs_db__done(st);
	if (rc != SQLITE_DONE) {
		error = gs_db__error(err, db, rc, "insert token");
		goto out;
	}
	id = sqlite3_last_insert_rowid(gs_db__handle(db));
	for (int i = 0; i < ngrants; i++) {
		if ((error = gs_db__prepare(db, &st, SQL_ROLE_INSERT, err)) < 0)
			goto out;
		sqlite3_bind_int64(st, 1, id);
		gs_db__bind_text(st, 2, gs_role_name(grants[i].role));
		gs_db__bind_text(st, 3, grants[i].ns);
		rc = sqlite3_step(st);
		gs_db__done(st);
		if (rc != SQLITE_DONE) {
			error = gs_db__error(err, db, rc, "insert token role");
			goto out;
		}
	}
	error = gs_db_commit(db, err);
out:
	if (error < 0)
		gs_db_rollback(db);
	return error;
}

int gs_registry_token_lookup(gs_db *db, const char *token_hash, gs_principal *out, gs_error *err)
{
	sqlite3_stmt *st;
	int error, rc, found = 0;
	memset(out, 0, sizeof(*out));
	if ((error = gs_db__prepare(db, &st, SQL_TOKEN_LOOKUP, err)) < 0)
		return error;
	gs_db__bind_text(st, 1, token_hash);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *role = gs_db__col_text(st, 1), *ns = gs_db__col_text(st, 2);
		char spec[GS_MAX_NAME + 16];
		gs_error ignore = GS_ERROR_INIT;
		found = 1;
		snprintf(out->user, sizeof(out->user), "%s", gs_db__col_text(st, 0));
		snprintf(spec, sizeof(spec), "%s:%s", role, ns);
		if (*role && out->ngrants < GS_MAX_TOKEN_ROLES &&
		    gs_grant_parse(&out->grants[out->ngrants], spec, &ignore) == 0)
			out->ngrants++;
	}
	if (rc != SQLITE_DONE)
		error = gs_db__error(err, db, rc, "token lookup");
	else if (!found)
		error = gs_error_set(err, GS_EAUTH, "auth", "unknown token");
	gs_db__done(st);
	return error;
}

int gs_registry_setting_set(gs_db *db, const char *repo_uid, const char *key, const char *value, gs_error *err)
{
	sqlite3_stmt *st;
	int error, rc;
	if ((error = gs_db__prepare(db, &st, SQL_SETTING_SET, err)) < 0)
		return error;
	gs_db__bind_text(st, 1, repo_uid);
	gs_db__bind_text(st, 2, key);
	gs_db__bind_text(st, 3, value);
	rc = sqlite3_step(st);
	gs_db__done(st);
	return rc == SQLITE_DONE ? 0 : gs_db__error(err, db, rc, "repository setting");
}

int gs_registry_setting_each(gs_db *db, const char *repo_uid, gs_registry_setting_cb cb, void *payload, gs_error *err)
{
	sqlite3_stmt *st;
	int error, rc;
	if ((error = gs_db__prepare(db, &st, SQL_SETTING_EACH, err)) < 0)
		return error;
	gs_db__bind_text(st, 1, repo_uid);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((error = cb(gs_db__col_text(st, 0), gs_db__col_text(st, 1), payload)) != 0)
			break;
	}
	if (!error && rc != SQLITE_DONE)
		error = gs_db__error(err, db, rc, "repository settings");
	gs_db__done(st);
	return error;
}
