/* tests/unit/events/test_relay.c -- the relay's pure parts: NATS subject
 * and message id from a stored event, and --nats URL checking. relay.c is
 * included to reach relay_scan, the fast path that reads evlog's own
 * layout off the text: it must take every event evlog writes and agree
 * with the full parse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "events/evlog.h"
#include "events/relay.c"

#include "../testdb.h"

/* an event as evlog stores it, with type, namespace and name substituted */
static const char EVENT_FMT[] =
	"{\"specversion\":\"1.0\",\"id\":\"%s\",\"source\":\"/gitstore/repositories/u1\",\"type\":\"%s\","
	"\"subject\":\"refs/heads/main\",\"time\":\"2026-11-26T18:10:41.123Z\",\"datacontenttype\":\"application/json\","
	"\"sequence\":\"00000000000000000001\",\"logseq\":1,\"data\":{\"ref\":\"refs/heads/main\","
	"\"repository\":{\"uid\":\"u1\",\"namespace\":%s,\"name\":%s}}}";

static int subject_of(const char *id, const char *type, const char *ns_json, const char *name_json, char *subject,
		      char *msgid, gs_error *err)
{
	char json[1024];
	int n = snprintf(json, sizeof(json), EVENT_FMT, id, type, ns_json, name_json);
	assert_true(n > 0 && (size_t)n < sizeof(json));
	return gs_relay_subject(json, (size_t)n, subject, msgid, err);
}

static void test_relay__subject_from_event(void **state)
{
	char subject[GS_RELAY_MAX_SUBJECT], id[GS_RELAY_MAX_ID];
	gs_error err = GS_ERROR_INIT;
	(void)state;
	assert_int_equal(subject_of("c1511e5e2322900ad41bee67f1da6e4f", "dev.gitstore.branch-created.v1", "\"default\"",
				    "\"catalog\"", subject, id, &err),
			 0);
	assert_string_equal(subject, "gitstore.default.catalog.branch-created");
	assert_string_equal(id, "c1511e5e2322900ad41bee67f1da6e4f");

	/* the name is what lies between the prefix and the version */
	assert_int_equal(subject_of("a", "dev.gitstore.catalog-admission-evaluated.v1", "\"shop\"", "\"cat-01\"",
				    subject, id, &err),
			 0);
	assert_string_equal(subject, "gitstore.shop.cat-01.catalog-admission-evaluated");
	assert_int_equal(subject_of("a", "dev.gitstore.push-completed.v12", "\"a_b\"", "\"X\"", subject, id, &err), 0);
	assert_string_equal(subject, "gitstore.a_b.X.push-completed");
}

static void test_relay__subject_longest_tokens(void **state)
{
	char subject[GS_RELAY_MAX_SUBJECT], id[GS_RELAY_MAX_ID], tok[64], quoted[70], type[100], longid[GS_RELAY_MAX_ID];
	gs_error err = GS_ERROR_INIT;
	(void)state;
	memset(tok, 'a', 63);
	tok[63] = 0;
	snprintf(quoted, sizeof(quoted), "\"%s\"", tok);
	snprintf(type, sizeof(type), "dev.gitstore.%s.v1", tok);
	memset(longid, 'f', GS_RELAY_MAX_ID - 1);
	longid[GS_RELAY_MAX_ID - 1] = 0;
	assert_int_equal(subject_of(longid, type, quoted, quoted, subject, id, &err), 0);
	assert_int_equal(strlen(subject), strlen("gitstore...") + 3 * 63);
	assert_string_equal(id, longid);
}

/* each case must be refused with GS_EINVALID and a message naming what */
static void refused(const char *id, const char *type, const char *ns_json, const char *name_json, const char *what)
{
	char subject[GS_RELAY_MAX_SUBJECT] = "unchanged", msgid[GS_RELAY_MAX_ID];
	gs_error err = GS_ERROR_INIT;
	assert_int_equal(subject_of(id, type, ns_json, name_json, subject, msgid, &err), GS_EINVALID);
	if (!strstr(err.msg, what))
		fail_msg("message '%s' does not mention '%s'", err.msg, what);
	assert_string_equal(subject, "unchanged");
}

static void test_relay__subject_refuses_malformed(void **state)
{
	char longtok[80], longid[GS_RELAY_MAX_ID + 1];
	(void)state;
	/* type not dev.gitstore.<name>.v<N> */
	refused("a", "branch-created", "\"d\"", "\"c\"", "type");
	refused("a", "dev.gitstore.branch-created", "\"d\"", "\"c\"", "type");
	refused("a", "dev.gitstore.branch-created.v", "\"d\"", "\"c\"", "type");
	refused("a", "dev.gitstore.branch-created.x1", "\"d\"", "\"c\"", "type");
	refused("a", "dev.gitstore..v1", "\"d\"", "\"c\"", "type");
	refused("a", "dev.gitstore.v1", "\"d\"", "\"c\"", "type");
	refused("a", "dev.gitstore.a.b.v1", "\"d\"", "\"c\"", "type");
	refused("a", "dev.gitstore.a*.v1", "\"d\"", "\"c\"", "type");
	refused("a", "com.example.branch-created.v1", "\"d\"", "\"c\"", "type");
	/* namespace and repository must be single subject tokens */
	refused("a", "dev.gitstore.x.v1", "\"a.b\"", "\"c\"", "repository.namespace");
	refused("a", "dev.gitstore.x.v1", "\"*\"", "\"c\"", "repository.namespace");
	refused("a", "dev.gitstore.x.v1", "\">\"", "\"c\"", "repository.namespace");
	refused("a", "dev.gitstore.x.v1", "\"\"", "\"c\"", "repository.namespace");
	refused("a", "dev.gitstore.x.v1", "\"a b\"", "\"c\"", "repository.namespace");
	refused("a", "dev.gitstore.x.v1", "7", "\"c\"", "repository.namespace");
	refused("a", "dev.gitstore.x.v1", "null", "\"c\"", "repository.namespace");
	refused("a", "dev.gitstore.x.v1", "\"d\"", "\"c.d\"", "repository.name ");
	refused("a", "dev.gitstore.x.v1", "\"d\"", "\"c\\nd\"", "repository.name ");
	refused("a", "dev.gitstore.x.v1", "\"d\"", "{}", "repository.name ");
	memset(longtok, 'a', 65);
	longtok[0] = '"';
	longtok[65] = '"';
	longtok[66] = 0; /* 64 characters: one too many */
	refused("a", "dev.gitstore.x.v1", longtok, "\"c\"", "repository.namespace");
	/* the id becomes a header value: printable, no spaces, bounded */
	refused("", "dev.gitstore.x.v1", "\"d\"", "\"c\"", "id");
	refused("a b", "dev.gitstore.x.v1", "\"d\"", "\"c\"", "id");
	refused("a\\r\\nX-Evil: 1", "dev.gitstore.x.v1", "\"d\"", "\"c\"", "id");
	memset(longid, 'f', GS_RELAY_MAX_ID);
	longid[GS_RELAY_MAX_ID] = 0;
	refused(longid, "dev.gitstore.x.v1", "\"d\"", "\"c\"", "id");
}

static void test_relay__subject_refuses_non_events(void **state)
{
	char subject[GS_RELAY_MAX_SUBJECT], id[GS_RELAY_MAX_ID];
	gs_error err = GS_ERROR_INIT;
	const char *cases[] = {
		"",
		"not json",
		"[1,2]",
		"{\"id\":\"a\",\"type\":\"dev.gitstore.x.v1\"}",                                  /* no data */
		"{\"id\":\"a\",\"type\":\"dev.gitstore.x.v1\",\"data\":{}}",                      /* no repository */
		"{\"id\":\"a\",\"type\":\"dev.gitstore.x.v1\",\"data\":{\"repository\":\"d/c\"}}", /* not an object */
		"{\"type\":\"dev.gitstore.x.v1\",\"data\":{\"repository\":{\"namespace\":\"d\",\"name\":\"c\"}}}",
		"{\"id\":7,\"type\":\"dev.gitstore.x.v1\",\"data\":{\"repository\":{\"namespace\":\"d\",\"name\":\"c\"}}}",
		"{\"id\":\"a\",\"data\":{\"repository\":{\"namespace\":\"d\",\"name\":\"c\"}}}",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		gs_error_clear(&err);
		if (gs_relay_subject(cases[i], strlen(cases[i]), subject, id, &err) != GS_EINVALID)
			fail_msg("accepted: %s", cases[i]);
		assert_true(err.msg[0] != 0);
	}
	/* the length is honoured: a valid event cut short is refused */
	{
		const char *ok = "{\"id\":\"a\",\"type\":\"dev.gitstore.x.v1\",\"data\":{\"repository\":"
				 "{\"namespace\":\"d\",\"name\":\"c\"}}}";
		gs_error_clear(&err);
		assert_int_equal(gs_relay_subject(ok, strlen(ok), subject, id, &err), 0);
		assert_string_equal(subject, "gitstore.d.c.x");
		assert_int_equal(gs_relay_subject(ok, strlen(ok) - 1, subject, id, &err), GS_EINVALID);
	}
}

/* the subject and id computed here from the parsed event (the full path) */
static void expected_from_tree(const char *json, char *subject, size_t cap, char *id, size_t idcap)
{
	json_t *ev = json_loads(json, 0, NULL);
	json_t *repo = json_object_get(json_object_get(ev, "data"), "repository");
	const char *type = json_string_value(json_object_get(ev, "type"));
	size_t n = strlen(type);
	assert_non_null(ev);
	snprintf(subject, cap, "gitstore.%s.%s.%.*s", json_string_value(json_object_get(repo, "namespace")),
		 json_string_value(json_object_get(repo, "name")), (int)(n - strlen("dev.gitstore.") - 3),
		 type + strlen("dev.gitstore."));
	snprintf(id, idcap, "%s", json_string_value(json_object_get(ev, "id")));
	json_decref(ev);
}

static int check_stored(int64_t logseq, const char *type, const char *json, void *payload)
{
	relay_parts parts;
	char subject[GS_RELAY_MAX_SUBJECT], id[GS_RELAY_MAX_ID], want_subject[GS_RELAY_MAX_SUBJECT], want_id[GS_RELAY_MAX_ID];
	gs_error err = GS_ERROR_INIT;
	int *n = payload;
	(void)logseq;
	(void)type;
	memset(&parts, 0, sizeof(parts));
	if (relay_scan(json, strlen(json), &parts) != 0)
		fail_msg("the fast path does not take an event evlog wrote: %s", json);
	assert_int_equal(gs_relay_subject(json, strlen(json), subject, id, &err), 0);
	expected_from_tree(json, want_subject, sizeof(want_subject), want_id, sizeof(want_id));
	assert_string_equal(subject, want_subject);
	assert_string_equal(id, want_id);
	(*n)++;
	return 0;
}

static void test_relay__fast_path_reads_what_evlog_writes(void **state)
{
	gs_db *db = state[0];
	gs_repo_info r1 = {"11111111-1111-4111-8111-111111111111", "shop", "catalog"};
	gs_repo_info r2 = {"22222222-2222-4222-8222-222222222222", "a-b_c", "r-2"};
	gs_error err = GS_ERROR_INIT;
	gs_evlog_filter f;
	gs_event_spec ev[4];
	json_t *empty = json_object();
	/* data whose strings look like the tail the fast path reads */
	json_t *tricky = json_pack("{s:s, s:{s:{s:s, s:s}}, s:s}", "note",
				   "\"repository\":{\"uid\":\"x\",\"namespace\":\"evil\",\"name\":\"n\"}}}", "resource",
				   "repository", "namespace", "other", "name", "other", "path", "caf\xc3\xa9/\\\"q\".md");
	int n = 0;

	memset(ev, 0, sizeof(ev));
	ev[0] = (gs_event_spec){"c1511e5e2322900ad41bee67f1da6e4f", "branch-created", &r1, "refs/heads/main", "p1", NULL, empty};
	ev[1] = (gs_event_spec){"0b265c52a7718ce344920beda602d138", "catalog-admission-evaluated", &r1, "Product/shop/boot",
				"p1", "c1511e5e2322900ad41bee67f1da6e4f", tricky};
	ev[2] = (gs_event_spec){"353af2cbb79752654f4da1f51f9b36da", "push-completed", &r2, "a-b_c/r-2", NULL, NULL, NULL};
	ev[3] = (gs_event_spec){"fd00c46df9c61c5037f275fb41bfa762", "tag-created", &r2, "refs/tags/\"x\"", "p2", NULL, tricky};
	assert_int_equal(gs_evlog_append(db, ev, 4, NULL, NULL, &err), 0);
	memset(&f, 0, sizeof(f));
	f.limit = 10;
	assert_int_equal(gs_evlog_read(db, &f, check_stored, &n, &err), 0);
	assert_int_equal(n, 4);
	json_decref(empty);
	json_decref(tricky);
}

static void test_relay__other_layouts_take_the_full_parse(void **state)
{
	char subject[GS_RELAY_MAX_SUBJECT], id[GS_RELAY_MAX_ID];
	gs_error err = GS_ERROR_INIT;
	relay_parts parts;
	const char *cases[] = {
		/* another key order, white space, an escape in the id */
		"{\"id\":\"a\",\"specversion\":\"1.0\",\"type\":\"dev.gitstore.x.v1\",\"data\":{\"repository\":"
		"{\"uid\":\"u\",\"namespace\":\"d\",\"name\":\"c\"}}}",
		"{ \"specversion\": \"1.0\", \"id\": \"a\", \"type\": \"dev.gitstore.x.v1\", \"data\": {\"repository\":"
		"{\"uid\":\"u\",\"namespace\":\"d\",\"name\":\"c\"}} }",
		"{\"specversion\":\"1.0\",\"id\":\"\\u0061\",\"source\":\"s\",\"type\":\"dev.gitstore.x.v1\",\"data\":"
		"{\"repository\":{\"uid\":\"u\",\"namespace\":\"d\",\"name\":\"c\"}}}",
		/* repository not the last member of data */
		"{\"specversion\":\"1.0\",\"id\":\"a\",\"source\":\"s\",\"type\":\"dev.gitstore.x.v1\",\"data\":"
		"{\"repository\":{\"uid\":\"u\",\"namespace\":\"d\",\"name\":\"c\"},\"z\":1}}",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&parts, 0, sizeof(parts));
		if (relay_scan(cases[i], strlen(cases[i]), &parts) == 0)
			fail_msg("fast path took a layout evlog does not write: %s", cases[i]);
		assert_int_equal(gs_relay_subject(cases[i], strlen(cases[i]), subject, id, &err), 0);
		assert_string_equal(subject, "gitstore.d.c.x");
		assert_string_equal(id, "a");
	}
}

static void test_relay__parse_url(void **state)
{
	char host[GS_RELAY_MAX_HOST];
	int port = 0;
	gs_error err = GS_ERROR_INIT;
	(void)state;
	assert_int_equal(gs_relay_parse_url("nats://127.0.0.1:4223", host, &port, &err), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 4223);
	assert_int_equal(gs_relay_parse_url("nats://nats.example-1.internal", host, &port, &err), 0);
	assert_string_equal(host, "nats.example-1.internal");
	assert_int_equal(port, 4222);
	assert_int_equal(gs_relay_parse_url("nats://[::1]:65535", host, &port, &err), 0);
	assert_string_equal(host, "[::1]");
	assert_int_equal(port, 65535);
	assert_int_equal(gs_relay_parse_url("nats://localhost:1", NULL, NULL, &err), 0);
}

static void test_relay__parse_url_refuses(void **state)
{
	const char *bad[] = {
		"",
		"127.0.0.1:4222",
		"http://127.0.0.1:4222",
		"tls://127.0.0.1:4222",
		"NATS://127.0.0.1:4222",
		"nats://",
		"nats://:4222",
		"nats://127.0.0.1:",
		"nats://127.0.0.1:0",
		"nats://127.0.0.1:65536",
		"nats://127.0.0.1:123456",
		"nats://127.0.0.1:42x",
		"nats://127.0.0.1:-1",
		"nats://127.0.0.1:4222:1",
		"nats://user:secret@127.0.0.1:4222",
		"nats://127.0.0.1:4222/",
		"nats://127.0.0.1:4222?x=1",
		"nats://a:1,nats://b:2",
		"nats://a b:1",
		"nats://[::1",
		"nats://[]:1",
		"nats://[::1]x",
		"nats://[zz]:1",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		gs_error err = GS_ERROR_INIT;
		int port = -7;
		if (gs_relay_parse_url(bad[i], NULL, &port, &err) != GS_EINVALID)
			fail_msg("accepted: '%s'", bad[i]);
		if (!strstr(err.msg, "--nats"))
			fail_msg("message for '%s' does not name the option: %s", bad[i], err.msg);
		assert_int_equal(port, -7);
	}
	/* the secret is not echoed back */
	{
		gs_error err = GS_ERROR_INIT;
		gs_relay_parse_url("nats://user:secret@127.0.0.1:4222", NULL, NULL, &err);
		assert_null(strstr(err.msg, "secret"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_relay__subject_from_event),
		cmocka_unit_test(test_relay__subject_longest_tokens),
		cmocka_unit_test(test_relay__subject_refuses_malformed),
		cmocka_unit_test(test_relay__subject_refuses_non_events),
		cmocka_unit_test_setup_teardown(test_relay__fast_path_reads_what_evlog_writes, gs_testdb_setup,
						gs_testdb_teardown),
		cmocka_unit_test(test_relay__other_layouts_take_the_full_parse),
		cmocka_unit_test(test_relay__parse_url),
		cmocka_unit_test(test_relay__parse_url_refuses),
	};
	return cmocka_run_group_tests_name("relay", tests, NULL, NULL);
}
