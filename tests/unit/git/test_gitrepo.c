/* tests/unit/git/test_gitrepo.c -- libgit2 wrappers on a sandbox bare
 * repository: commits for API writes, ref CAS, tree diffs, blob reads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "git/gitrepo.h"
#include "util/str.h"

static char sandbox[64];

static int setup(void **state)
{
	gs_gitrepo *r = NULL;
	gs_error err = GS_ERROR_INIT;
	char path[128];
	gs_gitrepo_global_init();
	snprintf(sandbox, sizeof(sandbox), "/tmp/gs-gitrepo-XXXXXX");
	assert_non_null(mkdtemp(sandbox));
	snprintf(path, sizeof(path), "%s/r.git", sandbox);
	assert_int_equal(gs_gitrepo_create(path, &err), 0);
	assert_int_equal(gs_gitrepo_open(&r, path, NULL, &err), 0);
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	char cmd[160];
	gs_gitrepo_close(*state);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", sandbox);
	assert_int_equal(system(cmd), 0);
	gs_gitrepo_global_shutdown();
	return 0;
}

typedef struct {
	char paths[8][64];
	int n;
} changes;

static int collect(const gs_tree_change *c, void *p)
{
	changes *ch = p;
	snprintf(ch->paths[ch->n++], 64, "%s%s", gs_str_is_zero_oid(c->new_blob) ? "-" : "+", c->path);
	return 0;
}

static void test_gitrepo__commit_cas_and_diff(void **state)
{
	gs_gitrepo *r = *state;
	gs_error err = GS_ERROR_INIT;
	char c1[41], c2[41], c3[41], cur[41];
	changes ch = {0};
	char *data = NULL;
	size_t len = 0;

	assert_int_equal(gs_gitrepo_commit_file(r, GS_ZERO_OID, "products/a.md", "---\nA\n", 6, "alice", "alice@gitstore",
						"create a", c1, &err), 0);
	/* no ref moved yet */
	assert_int_equal(gs_gitrepo_ref_read(r, "refs/heads/main", cur, &err), GS_ENOTFOUND);
	gs_error_clear(&err);
	assert_int_equal(gs_gitrepo_ref_cas(r, "refs/heads/main", GS_ZERO_OID, c1, "api", &err), 0);
	/* creating again is a conflict */
	assert_int_equal(gs_gitrepo_ref_cas(r, "refs/heads/main", GS_ZERO_OID, c1, "api", &err), GS_ECONFLICT);
	gs_error_clear(&err);

	assert_int_equal(gs_gitrepo_commit_file(r, c1, "products/b.md", "---\nB\n", 6, "bob", "bob@gitstore", "b", c2, &err), 0);
	assert_int_equal(gs_gitrepo_ref_cas(r, "refs/heads/main", c1, c2, "api", &err), 0);
	/* a stale expectation loses cleanly */
	assert_int_equal(gs_gitrepo_ref_cas(r, "refs/heads/main", c1, c2, "api", &err), GS_ECONFLICT);
	gs_error_clear(&err);
	assert_int_equal(gs_gitrepo_ref_read(r, "refs/heads/main", cur, &err), 0);
	assert_string_equal(cur, c2);

	assert_int_equal(gs_gitrepo_commit_file(r, c2, "products/a.md", NULL, 0, "bob", "bob@gitstore", "rm a", c3, &err), 0);
	assert_int_equal(gs_gitrepo_diff(r, c1, c3, collect, &ch, &err), 0);
	assert_int_equal(ch.n, 2);
	assert_string_equal(ch.paths[0], "-products/a.md");
	assert_string_equal(ch.paths[1], "+products/b.md");
	/* removing a path the parent lacks */
	assert_int_equal(gs_gitrepo_commit_file(r, c3, "products/a.md", NULL, 0, "bob", "bob@gitstore", "x", cur, &err),
			 GS_ENOTFOUND);
	gs_error_clear(&err);

	/* deep paths: only the trees on the path are rebuilt; siblings stay;
	 * a directory left empty disappears */
	{
		char d1[41], d2[41], blob[41];
		assert_int_equal(gs_gitrepo_commit_file(r, c3, "x/y/z.md", "---\nZ\n", 6, "a", "a@b", "z", d1, &err), 0);
		assert_int_equal(gs_gitrepo_path_blob(r, d1, "x/y/z.md", blob, &err), 0);
		assert_int_equal(gs_gitrepo_path_blob(r, d1, "products/b.md", blob, &err), 0);
		assert_int_equal(gs_gitrepo_path_blob(r, d1, "x/y", blob, &err), GS_ENOTFOUND);
		gs_error_clear(&err);
		assert_int_equal(gs_gitrepo_commit_file(r, d1, "x/y/z.md", NULL, 0, "a", "a@b", "rm z", d2, &err), 0);
		memset(&ch, 0, sizeof(ch));
		assert_int_equal(gs_gitrepo_diff(r, c3, d2, collect, &ch, &err), 0);
		assert_int_equal(ch.n, 0); /* same tree as before: x/ is gone */
		assert_int_equal(gs_gitrepo_commit_file(r, d1, "x/y/q/z.md", NULL, 0, "a", "a@b", "x", cur, &err),
				 GS_ENOTFOUND);
		gs_error_clear(&err);
	}

	memset(&ch, 0, sizeof(ch));
	assert_int_equal(gs_gitrepo_diff(r, GS_ZERO_OID, c2, collect, &ch, &err), 0);
	assert_int_equal(ch.n, 2);
	/* a missing object is an error, not an empty blob */
	assert_true(gs_gitrepo_blob_read(r, "0000000000000000000000000000000000000001", 10, &data, &len, &err) < 0);
	gs_error_clear(&err);

	/* delete with CAS */
	assert_int_equal(gs_gitrepo_ref_cas(r, "refs/heads/main", c1, GS_ZERO_OID, "api", &err), GS_ECONFLICT);
	gs_error_clear(&err);
	assert_int_equal(gs_gitrepo_ref_cas(r, "refs/heads/main", c2, GS_ZERO_OID, "api", &err), 0);
	assert_int_equal(gs_gitrepo_ref_read(r, "refs/heads/main", cur, &err), GS_ENOTFOUND);
	free(data);
}

static int first_blob(const gs_tree_change *c, void *p)
{
	snprintf(p, 41, "%s", c->new_blob);
	return 1; /* stop after the first */
}

static void test_gitrepo__blob_limits(void **state)
{
	gs_gitrepo *r = *state;
	gs_error err = GS_ERROR_INIT;
	char c1[41], blob[41] = "", head[4];
	char *data = NULL;
	size_t len = 0, got = 0;
	assert_int_equal(gs_gitrepo_commit_file(r, GS_ZERO_OID, "big.md", "---\n0123456789", 14, "a", "a@b", "m", c1, &err), 0);
	assert_int_equal(gs_gitrepo_diff(r, GS_ZERO_OID, c1, first_blob, blob, &err), 1);
	assert_int_equal(gs_gitrepo_blob_read(r, blob, 8, &data, &len, &err), GS_ELIMIT);
	assert_null(data);
	assert_int_equal(len, 14);
	gs_error_clear(&err);
	assert_int_equal(gs_gitrepo_blob_read(r, blob, 100, &data, &len, &err), 0);
	assert_int_equal(len, 14);
	assert_string_equal(data, "---\n0123456789");
	free(data);
	assert_int_equal(gs_gitrepo_blob_prefix(r, blob, head, 3, &got, &err), 0);
	assert_int_equal(got, 3);
	assert_memory_equal(head, "---", 3);
}

static void count_lock(const char *path, void *payload)
{
	(void)path;
	(*(int *)payload)++;
}

static void touch(const char *path)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("0123456789012345678901234567890123456789\n", f);
	fclose(f);
}

static void test_gitrepo__remove_stale_locks(void **state)
{
	gs_error err = GS_ERROR_INIT;
	char p[256], cmd[300];
	int n = 0;
	struct stat st;
	(void)state;
	static const char *const locks[] = {"HEAD.lock", "packed-refs.lock", "refs/heads/main.lock",
					    "refs/tags/v1.lock", "refs/heads/a/b/c.lock"};
	static const char *const kept[] = {"config", "refs/heads/keep", "objects/x.lock", "refs/heads/a/b/lock"};
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/r.git/refs/heads/a/b' '%s/r.git/objects'", sandbox, sandbox);
	assert_int_equal(system(cmd), 0);
	for (size_t i = 0; i < sizeof(locks) / sizeof(*locks); i++) {
		snprintf(p, sizeof(p), "%s/r.git/%s", sandbox, locks[i]);
		touch(p);
	}
	for (size_t i = 1; i < sizeof(kept) / sizeof(*kept); i++) {
		snprintf(p, sizeof(p), "%s/r.git/%s", sandbox, kept[i]);
		touch(p);
	}
	/* a directory named like a lock is not a lock */
	snprintf(p, sizeof(p), "%s/r.git/refs/heads/dir.lock", sandbox);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/r.git", sandbox);
	assert_int_equal(gs_gitrepo_remove_stale_locks(p, count_lock, &n, &err), 0);
	assert_int_equal(n, (int)(sizeof(locks) / sizeof(*locks)));
	for (size_t i = 0; i < sizeof(locks) / sizeof(*locks); i++) {
		snprintf(p, sizeof(p), "%s/r.git/%s", sandbox, locks[i]);
		assert_int_equal(stat(p, &st), -1);
	}
	for (size_t i = 0; i < sizeof(kept) / sizeof(*kept); i++) {
		snprintf(p, sizeof(p), "%s/r.git/%s", sandbox, kept[i]);
		assert_int_equal(stat(p, &st), 0);
	}
	snprintf(p, sizeof(p), "%s/r.git/refs/heads/dir.lock", sandbox);
	assert_int_equal(stat(p, &st), 0);
	/* nothing left: a second pass removes nothing; a missing repository
	 * is not an error */
	n = 0;
	snprintf(p, sizeof(p), "%s/r.git", sandbox);
	assert_int_equal(gs_gitrepo_remove_stale_locks(p, count_lock, &n, &err), 0);
	assert_int_equal(n, 0);
	snprintf(p, sizeof(p), "%s/none.git", sandbox);
	assert_int_equal(gs_gitrepo_remove_stale_locks(p, NULL, NULL, &err), 0);
}

static void test_gitrepo__remove_stale_quarantines(void **state)
{
	gs_error err = GS_ERROR_INIT;
	char p[256], cmd[400];
	int n = 0;
	struct stat st;
	(void)state;
	snprintf(cmd, sizeof(cmd),
		 "cd '%s/r.git/objects' && mkdir -p tmp_objdir-incoming-a1/ab tmp_objdir-incoming-b2/pack keep && "
		 "touch tmp_objdir-incoming-a1/ab/cdef tmp_objdir-incoming-b2/pack/p.pack keep/x tmp_objdir-incoming-file",
		 sandbox);
	assert_int_equal(system(cmd), 0);
	snprintf(p, sizeof(p), "%s/r.git", sandbox);
	assert_int_equal(gs_gitrepo_remove_stale_quarantines(p, count_lock, &n, &err), 0);
	assert_int_equal(n, 2);
	snprintf(p, sizeof(p), "%s/r.git/objects/tmp_objdir-incoming-a1", sandbox);
	assert_int_equal(stat(p, &st), -1);
	snprintf(p, sizeof(p), "%s/r.git/objects/tmp_objdir-incoming-b2", sandbox);
	assert_int_equal(stat(p, &st), -1);
	snprintf(p, sizeof(p), "%s/r.git/objects/keep/x", sandbox);
	assert_int_equal(stat(p, &st), 0);
	snprintf(p, sizeof(p), "%s/r.git/objects/tmp_objdir-incoming-file", sandbox);
	assert_int_equal(stat(p, &st), 0);
	snprintf(p, sizeof(p), "%s/none.git", sandbox);
	assert_int_equal(gs_gitrepo_remove_stale_quarantines(p, NULL, NULL, &err), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_gitrepo__commit_cas_and_diff, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gitrepo__blob_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gitrepo__remove_stale_locks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gitrepo__remove_stale_quarantines, setup, teardown),
	};
	return cmocka_run_group_tests_name("gitrepo", tests, NULL, NULL);
}
