/* tests/unit/events/test_consumerreq.c -- consumer API request bodies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "events/consumerreq.h"

static int put(const char *body, gs_consumer_cfg *cfg, char repo[130], const char **code)
{
	gs_error err = GS_ERROR_INIT;
	memset(cfg, 0, sizeof(*cfg));
	*code = NULL;
	return gs_consumerreq_put(body, strlen(body), cfg, repo, code, &err);
}

static void test_consumerreq__put(void **state)
{
	gs_consumer_cfg cfg;
	char repo[130];
	const char *code;
	(void)state;
	assert_int_equal(put("{\"filter\": {\"types\": [\"branch-created\", \"dev.gitstore.tag-created.v1\"],"
			     " \"repo\": \"shop/catalog\"}, \"ackWaitSeconds\": 7, \"maxDeliver\": 0, \"startAfter\": 9}",
			     &cfg, repo, &code),
			 0);
	assert_int_equal(cfg.ntypes, 2);
	assert_string_equal(cfg.types[1], "tag-created");
	assert_null(cfg.types[2]);
	assert_string_equal(repo, "shop/catalog");
	assert_int_equal(cfg.ack_wait_ms, 7000);
	assert_int_equal(cfg.max_deliver, 0);
	assert_int_equal(cfg.start_after, 9);
	/* defaults */
	assert_int_equal(put("{}", &cfg, repo, &code), 0);
	assert_int_equal(cfg.ntypes, 0);
	assert_string_equal(repo, "");
	assert_int_equal(cfg.ack_wait_ms, 30000);
	assert_int_equal(cfg.max_deliver, 5);
	/* refusals, each with its code */
	assert_int_equal(put("[]", &cfg, repo, &code), GS_EINVALID);
	assert_string_equal(code, "invalid_json");
	assert_int_equal(put("{\"filter\": {}, \"filter\": {}}", &cfg, repo, &code), GS_EINVALID);
	assert_string_equal(code, "invalid_json");
	assert_int_equal(put("{\"ackwait\": 1}", &cfg, repo, &code), GS_EINVALID);
	assert_string_equal(code, "invalid_request");
	assert_int_equal(put("{\"filter\": {\"types\": [\"nope\"]}}", &cfg, repo, &code), GS_EINVALID);
	assert_string_equal(code, "invalid_type");
	assert_int_equal(put("{\"filter\": {\"types\": \"branch-created\"}}", &cfg, repo, &code), GS_EINVALID);
	assert_string_equal(code, "invalid_consumer");
	assert_int_equal(put("{\"filter\": {\"repo\": \"a/b/c\"}}", &cfg, repo, &code), GS_EINVALID);
	assert_string_equal(code, "invalid_repo");
	assert_int_equal(put("{\"filter\": 3}", &cfg, repo, &code), GS_EINVALID);
	assert_int_equal(put("{\"ackWaitSeconds\": 0}", &cfg, repo, &code), GS_EINVALID);
	assert_int_equal(put("{\"ackWaitSeconds\": 43201}", &cfg, repo, &code), GS_EINVALID);
	assert_int_equal(put("{\"maxDeliver\": 1001}", &cfg, repo, &code), GS_EINVALID);
	assert_int_equal(put("{\"startAfter\": -1}", &cfg, repo, &code), GS_EINVALID);
	assert_int_equal(put("{\"maxDeliver\": 1.5}", &cfg, repo, &code), GS_EINVALID);
}

static void test_consumerreq__settle(void **state)
{
	int64_t *seqs = NULL, delay = -1;
	size_t n = 0;
	const char *code = NULL;
	gs_error err = GS_ERROR_INIT;
	const char *ok = "{\"logseq\": [3, 4], \"delaySeconds\": 5}";
	(void)state;
	assert_int_equal(gs_consumerreq_settle(ok, strlen(ok), 1, &seqs, &n, &delay, &code, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(seqs[1], 4);
	assert_int_equal(delay, 5);
	free(seqs);
	/* delaySeconds belongs to nak only */
	assert_int_equal(gs_consumerreq_settle(ok, strlen(ok), 0, &seqs, &n, &delay, &code, &err), GS_EINVALID);
	assert_null(seqs);
	{
		static const char *const bad[] = {"{\"logseq\": []}", "{\"logseq\": [0]}", "{\"logseq\": [\"1\"]}",
						  "{}", "{\"logseq\": 1}", "nope", NULL};
		for (int i = 0; bad[i]; i++) {
			assert_int_equal(gs_consumerreq_settle(bad[i], strlen(bad[i]), 1, &seqs, &n, &delay, &code, &err),
					 GS_EINVALID);
			assert_null(seqs);
			assert_int_equal(n, 0);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_consumerreq__put),
		cmocka_unit_test(test_consumerreq__settle),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
