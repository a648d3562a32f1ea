/* tests/unit/store/test_pubstate.c -- the publication state a draft shows
 * (store/pubstore.h), and migration 5, which moves it out of the stored
 * draft status of older data directories. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/db_internal.h"
#include "store/pubstore.h"

#include "../testdb.h"

static void exec(gs_db *db, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(gs_db__handle(db), sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK)
		fail_msg("%s: %s", sql, msg ? msg : "?");
}

static char *text_of(gs_db *db, const char *sql)
{
	sqlite3_stmt *st;
	char *out = NULL;
	assert_int_equal(sqlite3_prepare_v2(gs_db__handle(db), sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		out = strdup(sqlite3_column_text(st, 0) ? (const char *)sqlite3_column_text(st, 0) : "");
	sqlite3_finalize(st);
	return out;
}

static void pubrow(gs_pubrow *r, const char *name, int64_t gen)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->ns, sizeof(r->ns), "acme");
	snprintf(r->kind, sizeof(r->kind), "Product");
	snprintf(r->name, sizeof(r->name), "%s", name);
	snprintf(r->uid, sizeof(r->uid), "uid-%s", name);
	snprintf(r->repo_uid, sizeof(r->repo_uid), "repo-1");
	r->generation = gen;
	r->release_ref = "refs/tags/v1";
	snprintf(r->release_commit, sizeof(r->release_commit), "%040d", 1);
	r->published_ms = 2000;
	r->since_ms = 1000;
}

static void test_pubstate__never_published_withdrawn(void **state)
{
	gs_db *db = state[0];
	gs_error err = GS_ERROR_INIT;
	gs_pubstate p;
	gs_pubrow r, got;

	/* the content is the release snapshot's */
	pubrow(&r, "shoe", 3);
	r.path = "products/shoe.md";
	r.api_version = "catalog.gitstore.dev/v1beta1";
	r.spec = "{\"title\":\"Shoe\"}";
	r.body = "# Shoe\n";
	r.body_len = 7;
	r.content_hash = "h1";
	assert_int_equal(gs_pubstore_snapshot_put(db, r.release_commit, &r, &err), 0);

	assert_int_equal(gs_pubstore_state(db, "acme", "Product", "shoe", &p, &err), 0);
	assert_int_equal(p.state, GS_PUB_NEVER);

	assert_int_equal(gs_pubstore_put(db, &r, &err), 0);
	assert_int_equal(gs_pubstore_get(db, "acme", "Product", "shoe", &got, &err), 0);
	assert_string_equal(got.spec, "{\"title\":\"Shoe\"}");
	assert_string_equal(got.body, "# Shoe\n");
	assert_string_equal(got.path, "products/shoe.md");
	assert_string_equal(got.uid, "uid-shoe");
	assert_int_equal(got.generation, 3);
	gs_pubrow_release(&got);
	assert_int_equal(gs_pubstore_state(db, "acme", "Product", "shoe", &p, &err), 0);
	assert_int_equal(p.state, GS_PUB_PUBLISHED);
	assert_int_equal(p.generation, 3);
	assert_string_equal(p.release_ref, "refs/tags/v1");
	assert_int_equal(p.since_ms, 1000);

	/* withdrawn: it left the view */
	assert_int_equal(gs_pubstore_delete(db, "acme", "Product", "shoe", &err), 0);
	assert_int_equal(gs_pubstore_withdrawn_put(db, "repo-1", "acme", "Product", "shoe", 5000, &err), 0);
	assert_int_equal(gs_pubstore_state(db, "acme", "Product", "shoe", &p, &err), 0);
	assert_int_equal(p.state, GS_PUB_WITHDRAWN);
	assert_int_equal(p.since_ms, 5000);

	/* published again: the prune forgets the withdrawal */
	assert_int_equal(gs_pubstore_put(db, &r, &err), 0);
	assert_int_equal(gs_pubstore_withdrawn_prune(db, "repo-1", &err), 0);
	assert_int_equal(gs_pubstore_delete(db, "acme", "Product", "shoe", &err), 0);
	assert_int_equal(gs_pubstore_state(db, "acme", "Product", "shoe", &p, &err), 0);
	assert_int_equal(p.state, GS_PUB_NEVER);
}

/* A version-4 data directory kept the lifecycle's fields in each draft's
 * status; version 5 moves them to the published view, version 6 turns the
 * workers' cursors into durable consumers. */
static void test_pubstate__migration_5_6(void **state)
{
	gs_db *db = state[0];
	gs_error err = GS_ERROR_INIT;
	gs_pubstate p;
	char *s;

	exec(db, "INSERT INTO resources VALUES('u1','repo-1','acme','Product','gone','products/gone.md',2,4,1,"
		 "'catalog.gitstore.dev/v1beta1','{}','{}','{}','body','h','main@sha1:x','b',"
		 "'{\"phase\":\"draft\",\"observedGeneration\":2,\"conditions\":["
		 "{\"type\":\"AdmissionAccepted\",\"status\":\"True\"},"
		 "{\"type\":\"Published\",\"status\":\"False\",\"reason\":\"NotPublished\"}]}',1,777)");
	exec(db, "INSERT INTO resources VALUES('u2','repo-1','acme','Product','live','products/live.md',1,2,1,"
		 "'catalog.gitstore.dev/v1beta1','{}','{}','{}','body','h','main@sha1:x','b',"
		 "'{\"phase\":\"published\",\"observedGeneration\":1,\"conditions\":["
		 "{\"type\":\"AdmissionAccepted\",\"status\":\"True\"},"
		 "{\"type\":\"Published\",\"status\":\"True\"}],\"publishedGeneration\":1,"
		 "\"publishedRelease\":{\"ref\":\"refs/tags/v1\",\"commitSha\":\"c\"}}',1,888)");
	/* back to version 4: its published table held a copy of the content */
	exec(db, "DROP TABLE log_floor; DROP INDEX events_time;"
		 "DROP TABLE consumers; DROP TABLE consumer_pending; DROP TABLE consumer_dead;"
		 "DROP TABLE unpublished; DROP TABLE published; DROP INDEX events_repo_logseq;"
		 "CREATE INDEX events_repo ON events(repo_uid, seq);"
		 "CREATE TABLE published(namespace TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL, uid TEXT NOT NULL,"
		 " repo_uid TEXT NOT NULL, path TEXT NOT NULL, api_version TEXT NOT NULL, labels TEXT NOT NULL,"
		 " annotations TEXT NOT NULL, spec TEXT NOT NULL, body TEXT NOT NULL, content_hash TEXT NOT NULL,"
		 " generation INTEGER NOT NULL, release_ref TEXT NOT NULL, release_commit TEXT NOT NULL,"
		 " published_ms INTEGER NOT NULL, PRIMARY KEY(namespace, kind, name));"
		 "CREATE INDEX published_repo ON published(repo_uid);"
		 "INSERT INTO cursors VALUES('catalog', 7), ('lifecycle', 3);"
		 "PRAGMA user_version=4;");
	exec(db, "INSERT INTO release_resources VALUES('repo-1','c','acme','Product','live','products/live.md','v','{}',"
		 "'{}','{\"title\":\"Live\"}','body','h')");
	exec(db, "INSERT INTO published VALUES('acme','Product','live','u2','repo-1','products/live.md','v','{}','{}',"
		 "'{\"title\":\"Live\"}','body','h',1,'refs/tags/v1','c',4242)");
	gs_db_close(db);
	state[0] = NULL;
	assert_int_equal(gs_db_open(&db, gs_test_dir, &err), 0);
	state[0] = db;

	s = text_of(db, "PRAGMA user_version");
	assert_true(atoi(s) >= 6);
	free(s);
	/* 6: the workers' cursors became their consumers' positions */
	s = text_of(db, "SELECT group_concat(name || '=' || pulled, ' ') FROM consumers");
	assert_string_equal(s, "gitstore-catalog=7 gitstore-lifecycle=3");
	free(s);
	s = text_of(db, "SELECT COUNT(*) FROM cursors");
	assert_string_equal(s, "0");
	free(s);
	s = text_of(db, "SELECT status FROM resources WHERE uid = 'u1'");
	assert_string_equal(s, "{\"observedGeneration\":2,\"conditions\":[{\"type\":\"AdmissionAccepted\",\"status\":\"True\"}]}");
	free(s);
	s = text_of(db, "SELECT status FROM resources WHERE uid = 'u2'");
	assert_null(strstr(s, "published"));
	assert_null(strstr(s, "Published"));
	free(s);
	assert_int_equal(gs_pubstore_state(db, "acme", "Product", "gone", &p, &err), 0);
	assert_int_equal(p.state, GS_PUB_WITHDRAWN);
	assert_int_equal(p.since_ms, 777);
	assert_int_equal(gs_pubstore_state(db, "acme", "Product", "live", &p, &err), 0);
	assert_int_equal(p.state, GS_PUB_PUBLISHED);
	assert_int_equal(p.generation, 1);
	assert_int_equal(p.since_ms, 4242);
	{
		gs_pubrow got;
		assert_int_equal(gs_pubstore_get(db, "acme", "Product", "live", &got, &err), 0);
		assert_string_equal(got.spec, "{\"title\":\"Live\"}");
		assert_string_equal(got.uid, "u2");
		assert_string_equal(got.release_ref, "refs/tags/v1");
		gs_pubrow_release(&got);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pubstate__never_published_withdrawn, gs_testdb_setup, gs_testdb_teardown),
		cmocka_unit_test_setup_teardown(test_pubstate__migration_5_6, gs_testdb_setup, gs_testdb_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
