/* tests/unit/events/test_relay.c -- the relay's pure parts: NATS subject
 * and message id from a stored event, and --nats URL checking. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "events/relay.h"

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
		cmocka_unit_test(test_relay__parse_url),
		cmocka_unit_test(test_relay__parse_url_refuses),
	};
	return cmocka_run_group_tests_name("relay", tests, NULL, NULL);
}
