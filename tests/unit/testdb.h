/* tests/unit/testdb.h -- cmocka setup/teardown for tests that need a
 * fresh data directory with an open database in state[0]. Include after
 * cmocka.h; the directory is /tmp/gs-unit-XXXXXX, kept in gs_test_dir. */
#ifndef GS_TESTS_UNIT_TESTDB_H
#define GS_TESTS_UNIT_TESTDB_H

#include <stdio.h>
#include <unistd.h>

#include "store/db.h"

static char gs_test_dir[64];

static int gs_testdb_setup(void **state)
{
	gs_db *db = NULL;
	gs_error err = GS_ERROR_INIT;
	snprintf(gs_test_dir, sizeof(gs_test_dir), "/tmp/gs-unit-XXXXXX");
	assert_non_null(mkdtemp(gs_test_dir));
	assert_int_equal(gs_db_open(&db, gs_test_dir, &err), 0);
	state[0] = db;
	return 0;
}

static int gs_testdb_teardown(void **state)
{
	const char *files[] = {"gitstore.db", "gitstore.db-wal", "gitstore.db-shm"};
	char path[128];
	gs_db_close(state[0]);
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", gs_test_dir, files[i]);
		unlink(path);
	}
	rmdir(gs_test_dir);
	return 0;
}

#endif
