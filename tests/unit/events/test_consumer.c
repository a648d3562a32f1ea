/* tests/unit/events/test_consumer.c -- durable consumers: lease, ack, nak,
 * term, ack-wait redelivery, max-deliver dead letters, per-repository
 * order, filters, independence, built-in defer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "events/consumer.h"
#include "events/evlog.h"
#include "store/registry.h"

#include "../testdb.h"

static gs_repo_info repo_a, repo_b;

static void repos(gs_db *db)
{
	gs_error err = GS_ERROR_INIT;
	memset(&repo_a, 0, sizeof(repo_a));
	memset(&repo_b, 0, sizeof(repo_b));
	snprintf(repo_a.uid, sizeof(repo_a.uid), "00000000-0000-7000-8000-00000000000a");
	snprintf(repo_a.ns, sizeof(repo_a.ns), "acme");
	snprintf(repo_a.name, sizeof(repo_a.name), "a");
	repo_b = repo_a;
	snprintf(repo_b.uid, sizeof(repo_b.uid), "00000000-0000-7000-8000-00000000000b");
	snprintf(repo_b.name, sizeof(repo_b.name), "b");
	assert_int_equal(gs_registry_ns_insert(db, "acme", &err), 0);
	assert_int_equal(gs_registry_repo_insert(db, &repo_a, &err), 0);
	assert_int_equal(gs_registry_repo_insert(db, &repo_b, &err), 0);
}

/* Appends one event; returns its logseq. */
static int64_t emit(gs_db *db, const gs_repo_info *repo, const char *type, const char *tag)
{
	gs_error err = GS_ERROR_INIT;
	char id[GS_EVENT_ID_HEX + 1];
	const char *parts[] = {"test", repo->uid, type, tag};
	gs_event_spec spec;
	int64_t last = 0;
	size_t added = 0;
	json_t *data = json_pack("{s:s}", "ref", tag);
	gs_evlog_make_id(id, parts, 4);
	memset(&spec, 0, sizeof(spec));
	spec.id = id;
	spec.type = type;
	spec.repo = repo;
	spec.subject = tag;
	spec.data = data;
	assert_int_equal(gs_evlog_append(db, &spec, 1, &added, &last, &err), 0);
	assert_int_equal(added, 1);
	json_decref(data);
	return last;
}

static void make(gs_db *db, const char *name, int64_t ack_wait_ms, int max_deliver, const char *type,
		 const gs_repo_info *repo)
{
	gs_consumer_cfg cfg;
	gs_error err = GS_ERROR_INIT;
	int created = -1;
	memset(&cfg, 0, sizeof(cfg));
	snprintf(cfg.name, sizeof(cfg.name), "%s", name);
	if (type) {
		cfg.types[0] = gs_evlog_type_canonical(type);
		cfg.ntypes = 1;
	}
	if (repo) {
		snprintf(cfg.repo_uid, sizeof(cfg.repo_uid), "%s", repo->uid);
		snprintf(cfg.repo, sizeof(cfg.repo), "%s/%s", repo->ns, repo->name);
		snprintf(cfg.ns, sizeof(cfg.ns), "%s", repo->ns);
	}
	cfg.ack_wait_ms = ack_wait_ms;
	cfg.max_deliver = max_deliver;
	assert_int_equal(gs_consumer_put(db, &cfg, &created, &err), 0);
	assert_int_equal(created, 1);
}

/* Fetches up to max; returns how many, their logseqs and attempts. */
static size_t fetch(gs_db *db, const char *name, int max, int64_t *seqs, int *attempts)
{
	gs_error err = GS_ERROR_INIT;
	gs_delivery *d = NULL;
	size_t n = 0;
	int64_t due = 0;
	assert_int_equal(gs_consumer_fetch(db, NULL, name, max, &d, &n, &due, &err), 0);
	for (size_t i = 0; i < n; i++) {
		json_t *ev = json_loads(d[i].json, 0, NULL);
		assert_non_null(ev);
		assert_int_equal(json_integer_value(json_object_get(ev, "logseq")), d[i].logseq);
		json_decref(ev);
		if (seqs)
			seqs[i] = d[i].logseq;
		if (attempts)
			attempts[i] = d[i].attempt;
	}
	gs_deliveries_free(d, n);
	return n;
}

static void nap_ms(int ms)
{
	struct timespec ts = {0, ms * 1000000L};
	nanosleep(&ts, NULL);
}

static void test_consumer__lease_ack_cursor(void **state)
{
	gs_db *db = state[0];
	gs_error err = GS_ERROR_INIT;
	gs_consumer_info info;
	int64_t e[3], got[8];
	int att[8], settled[2];
	repos(db);
	e[0] = emit(db, &repo_a, "branch-created", "1");
	e[1] = emit(db, &repo_a, "branch-updated", "2");
	e[2] = emit(db, &repo_a, "branch-updated", "3");
	make(db, "c1", 30000, 5, NULL, NULL);
	assert_int_equal(fetch(db, "c1", 10, got, att), 3);
	assert_int_equal(got[0], e[0]);
	assert_int_equal(got[2], e[2]);
	assert_int_equal(att[0], 1);
	/* leased: not handed out again */
	assert_int_equal(fetch(db, "c1", 10, NULL, NULL), 0);
	assert_int_equal(gs_consumer_ack(db, "c1", e, 2, settled, &err), 0);
	assert_int_equal(settled[0], 1);
	assert_int_equal(settled[1], 1);
	/* acked twice: reported as not pending */
	assert_int_equal(gs_consumer_ack(db, "c1", e, 1, settled, &err), 0);
	assert_int_equal(settled[0], 0);
	assert_int_equal(gs_consumer_get(db, "c1", &info, &err), 0);
	assert_int_equal(info.pending, 1);
	assert_int_equal(info.leased, 1);
	assert_int_equal(info.cursor, e[2] - 1);
	assert_int_equal(gs_consumer_ack(db, "c1", &e[2], 1, settled, &err), 0);
	assert_int_equal(gs_consumer_get(db, "c1", &info, &err), 0);
	assert_int_equal(info.pending, 0);
	assert_int_equal(info.cursor, e[2]);
	assert_int_equal(gs_consumer_get(db, "nope", &info, &err), GS_ENOTFOUND);
}

static int keep_last(int64_t logseq, const char *type, const char *json, void *p)
{
	(void)logseq;
	(void)type;
	free(*(char **)p);
	*(char **)p = strdup(json);
	return 0;
}

static void test_consumer__redelivery_and_dead_letter(void **state)
{
	gs_db *db = state[0];
	gs_error err = GS_ERROR_INIT;
	gs_consumer_info info;
	int64_t e, got[4];
	int att[4];
	json_t *adv;
	char *last = NULL;
	repos(db);
	e = emit(db, &repo_a, "tag-created", "t");
	make(db, "c2", 1, 2, "tag-created", NULL);
	assert_int_equal(fetch(db, "c2", 5, got, att), 1);
	assert_int_equal(att[0], 1);
	nap_ms(5);
	assert_int_equal(fetch(db, "c2", 5, got, att), 1);
	assert_int_equal(got[0], e);
	assert_int_equal(att[0], 2);
	nap_ms(5);
	/* two deliveries spent: dead-lettered, not delivered */
	assert_int_equal(fetch(db, "c2", 5, NULL, NULL), 0);
	assert_int_equal(gs_consumer_get(db, "c2", &info, &err), 0);
	assert_int_equal(info.dead, 1);
	assert_int_equal(info.pending, 0);
	assert_true(info.cursor >= e); /* settled; the scan may be past it */
	/* and the log says so */
	{
		gs_evlog_filter f;
		static const char *const t[] = {"event-dead-lettered", NULL};
		memset(&f, 0, sizeof(f));
		f.limit = 10;
		f.types = t;
		assert_int_equal(gs_evlog_read(db, &f, keep_last, &last, &err), 0);
	}
	assert_non_null(last);
	adv = json_loads(last, 0, NULL);
	assert_string_equal(json_string_value(json_object_get(json_object_get(adv, "data"), "consumer")), "c2");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(adv, "data"), "logseq")), e);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(adv, "data"), "deliveryAttempts")), 2);
	assert_string_equal(json_string_value(json_object_get(json_object_get(adv, "data"), "reason")), "max-deliver");
	assert_string_equal(json_string_value(json_object_get(json_object_get(adv, "data"), "eventType")),
			    "tag-created");
	assert_string_equal(json_string_value(json_object_get(adv, "subject")), "c2");
	json_decref(adv);
	free(last);
}

static void test_consumer__nak_delay_blocks_repo_not_others(void **state)
{
	gs_db *db = state[0];
	gs_error err = GS_ERROR_INIT;
	int64_t a1, a2, b1, got[4];
	int att[4], settled[1];
	repos(db);
	a1 = emit(db, &repo_a, "branch-created", "a1");
	a2 = emit(db, &repo_a, "branch-updated", "a2");
	b1 = emit(db, &repo_b, "branch-created", "b1");
	make(db, "c3", 30000, 0, NULL, NULL);
	assert_int_equal(fetch(db, "c3", 1, got, NULL), 1);
	assert_int_equal(got[0], a1);
	assert_int_equal(gs_consumer_nak(db, NULL, "c3", &a1, 1, 80, settled, &err), 0);
	assert_int_equal(settled[0], 1);
	/* a1 waits: a2 (same repository) must not overtake it; b1 may */
	assert_int_equal(fetch(db, "c3", 10, got, NULL), 1);
	assert_int_equal(got[0], b1);
	nap_ms(100);
	assert_int_equal(fetch(db, "c3", 10, got, att), 2);
	assert_int_equal(got[0], a1);
	assert_int_equal(att[0], 2);
	assert_int_equal(got[1], a2);
	assert_int_equal(att[1], 1);
}

static void test_consumer__term_filters_independent(void **state)
{
	gs_db *db = state[0];
	gs_error err = GS_ERROR_INIT;
	gs_consumer_info info;
	int64_t a1, b1, got[4];
	int settled[1];
	gs_delivery *d = NULL;
	size_t n = 0;
	int64_t due = 0;
	repos(db);
	a1 = emit(db, &repo_a, "branch-created", "a1");
	b1 = emit(db, &repo_b, "tag-created", "b1");
	make(db, "only-b", 30000, 5, NULL, &repo_b);
	make(db, "only-tags", 30000, 5, "tag-created", NULL);
	make(db, "all", 30000, 5, NULL, NULL);
	assert_int_equal(fetch(db, "only-b", 10, got, NULL), 1);
	assert_int_equal(got[0], b1);
	assert_int_equal(fetch(db, "only-tags", 10, got, NULL), 1);
	assert_int_equal(got[0], b1);
	assert_int_equal(fetch(db, "all", 10, got, NULL), 2);
	assert_int_equal(got[0], a1);
	/* term: dead-lettered at once, the others unaffected */
	assert_int_equal(gs_consumer_term(db, NULL, "all", &a1, 1, settled, &err), 0);
	assert_int_equal(settled[0], 1);
	assert_int_equal(gs_consumer_get(db, "all", &info, &err), 0);
	assert_int_equal(info.dead, 1);
	assert_int_equal(gs_consumer_get(db, "only-b", &info, &err), 0);
	assert_int_equal(info.dead, 0);
	assert_int_equal(info.leased, 1);
	/* limits and names */
	assert_int_equal(gs_consumer_fetch(db, NULL, "all", 0, &d, &n, &due, &err), GS_EINVALID);
	assert_true(gs_consumer_name_ok("orders-v2.x_1"));
	assert_false(gs_consumer_name_ok("-x"));
	assert_false(gs_consumer_name_ok("a/b"));
	assert_false(gs_consumer_name_ok(""));
	assert_int_equal(gs_consumer_delete(db, "all", &err), 0);
	assert_int_equal(gs_consumer_get(db, "all", &info, &err), GS_ENOTFOUND);
	assert_int_equal(gs_consumer_delete(db, "all", &err), GS_ENOTFOUND);
}

static void test_consumer__builtin_defer_and_restart(void **state)
{
	gs_db *db = state[0];
	gs_error err = GS_ERROR_INIT;
	static const char *const types[] = {"branch-created", NULL};
	int64_t a1, got[4], cur = -1;
	int att[4];
	repos(db);
	a1 = emit(db, &repo_a, "branch-created", "a1");
	assert_int_equal(gs_consumer_builtin(db, GS_CONSUMER_CATALOG, types, &err), 0);
	assert_int_equal(fetch(db, GS_CONSUMER_CATALOG, 1, got, att), 1);
	/* not ready yet: given back uncounted */
	assert_int_equal(gs_consumer_defer(db, GS_CONSUMER_CATALOG, a1, 0, &err), 0);
	assert_int_equal(fetch(db, GS_CONSUMER_CATALOG, 1, got, att), 1);
	assert_int_equal(att[0], 1);
	/* the process dies holding the lease: the next start returns it */
	gs_db_close(db);
	state[0] = NULL;
	assert_int_equal(gs_db_open(&db, gs_test_dir, &err), 0);
	state[0] = db;
	assert_int_equal(gs_consumer_builtin(db, GS_CONSUMER_CATALOG, types, &err), 0);
	assert_int_equal(fetch(db, GS_CONSUMER_CATALOG, 1, got, att), 1);
	assert_int_equal(got[0], a1);
	assert_int_equal(att[0], 1);
	assert_int_equal(gs_db_begin(db, &err), 0);
	assert_int_equal(gs_consumer_ack_tx(db, GS_CONSUMER_CATALOG, a1, &err), 0);
	assert_int_equal(gs_db_commit(db, &err), 0);
	assert_int_equal(gs_consumer_cursor(db, GS_CONSUMER_CATALOG, &cur, &err), 0);
	assert_int_equal(cur, a1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_consumer__lease_ack_cursor, gs_testdb_setup, gs_testdb_teardown),
		cmocka_unit_test_setup_teardown(test_consumer__redelivery_and_dead_letter, gs_testdb_setup,
						gs_testdb_teardown),
		cmocka_unit_test_setup_teardown(test_consumer__nak_delay_blocks_repo_not_others, gs_testdb_setup,
						gs_testdb_teardown),
		cmocka_unit_test_setup_teardown(test_consumer__term_filters_independent, gs_testdb_setup,
						gs_testdb_teardown),
		cmocka_unit_test_setup_teardown(test_consumer__builtin_defer_and_restart, gs_testdb_setup,
						gs_testdb_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
