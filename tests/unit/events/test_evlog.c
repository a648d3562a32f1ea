/* tests/unit/events/test_evlog.c -- gap-free, de-duplicated appends. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "events/evlog.h"

#include "../testdb.h"

typedef struct {
	int64_t seqs[16];
	char types[16][32];
	int n;
} seen;

static int collect(int64_t logseq, const char *type, const char *json, void *p)
{
	seen *s = p;
	json_t *ev = json_loads(json, 0, NULL);
	assert_non_null(ev);
	assert_int_equal(json_integer_value(json_object_get(ev, "logseq")), logseq);
	s->seqs[s->n] = logseq;
	snprintf(s->types[s->n], 32, "%s", type);
	s->n++;
	json_decref(ev);
	return 0;
}

static void test_evlog__dedup_no_gap(void **state)
{
	gs_db *db = state[0];
	gs_repo_info r1 = {"11111111-1111-4111-8111-111111111111", "ns", "a"};
	gs_repo_info r2 = {"22222222-2222-4222-8222-222222222222", "ns", "b"};
	gs_event_spec ev[3];
	gs_error err = GS_ERROR_INIT;
	size_t appended = 0;
	int64_t head = 0;
	seen s;
	gs_evlog_filter f;
	json_t *data = json_object();
	int added[3];

	memset(ev, 0, sizeof(ev));
	ev[0] = (gs_event_spec){"id-1", "branch-created", &r1, "refs/heads/main", "p1", NULL, data};
	ev[1] = (gs_event_spec){"id-2", "push-completed", &r1, "ns/a", "p1", NULL, data};
	ev[2] = (gs_event_spec){"id-3", "branch-created", &r2, "refs/heads/main", "p2", NULL, data};
	assert_int_equal(gs_evlog_append(db, ev, 2, &appended, &head, &err), 0);
	assert_int_equal(appended, 2);
	assert_int_equal(head, 2);
	/* replay of id-2 plus a new event: the new one gets logseq 3 */
	assert_int_equal(gs_db_begin(db, &err), 0);
	assert_int_equal(gs_evlog_append_tx(db, &ev[1], 2, added, &appended, &head, &err), 0);
	assert_int_equal(gs_db_commit(db, &err), 0);
	assert_int_equal(appended, 1);
	assert_false(added[0]);
	assert_true(added[1]);
	assert_int_equal(head, 3);

	memset(&s, 0, sizeof(s));
	memset(&f, 0, sizeof(f));
	f.limit = 10;
	assert_int_equal(gs_evlog_read(db, &f, collect, &s, &err), 0);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.seqs[0], 1);
	assert_int_equal(s.seqs[2], 3);
	/* filters */
	{
		const char *types[] = {"push-completed", NULL};
		memset(&s, 0, sizeof(s));
		f.types = types;
		assert_int_equal(gs_evlog_read(db, &f, collect, &s, &err), 0);
		assert_int_equal(s.n, 1);
		assert_string_equal(s.types[0], "push-completed");
		f.types = NULL;
		f.repo_uid = r2.uid;
		memset(&s, 0, sizeof(s));
		assert_int_equal(gs_evlog_read(db, &f, collect, &s, &err), 0);
		assert_int_equal(s.n, 1);
		assert_int_equal(s.seqs[0], 3);
	}
	json_decref(data);
}

static void test_evlog__ids_deterministic(void **state)
{
	char a[GS_EVENT_ID_HEX + 1], b[GS_EVENT_ID_HEX + 1], c[GS_EVENT_ID_HEX + 1];
	const char *p1[] = {"ref", "push", "refs/heads/main"};
	const char *p2[] = {"ref", "push", "refs/heads/main"};
	const char *p3[] = {"ref", "pus", "hrefs/heads/main"};
	(void)state;
	gs_evlog_make_id(a, p1, 3);
	gs_evlog_make_id(b, p2, 3);
	gs_evlog_make_id(c, p3, 3);
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	assert_int_equal(strlen(a), GS_EVENT_ID_HEX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_evlog__dedup_no_gap, gs_testdb_setup, gs_testdb_teardown),
		cmocka_unit_test(test_evlog__ids_deterministic),
	};
	return cmocka_run_group_tests_name("evlog", tests, NULL, NULL);
}
