/* tests/unit/util/test_labelsel.c -- label selector parsing and matching. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "util/labelsel.h"

static int matches(const char *selector, json_t *labels)
{
	gs_labelsel *sel = NULL;
	gs_error err = GS_ERROR_INIT;
	int m;
	assert_int_equal(gs_labelsel_parse(&sel, selector, &err), 0);
	m = gs_labelsel_match(sel, labels);
	gs_labelsel_free(sel);
	return m;
}

static void test_labelsel__operators(void **state)
{
	json_t *l = json_pack("{s:s, s:s}", "tier", "gold", "gitstore.dev/terrain", "trail");
	(void)state;
	assert_true(matches("tier=gold", l));
	assert_true(matches("tier==gold", l));
	assert_false(matches("tier=silver", l));
	assert_true(matches("tier!=silver", l));
	assert_false(matches("tier!=gold", l));
	assert_true(matches("tier", l));
	assert_false(matches("!tier", l));
	assert_true(matches("!discontinued", l));
	assert_true(matches("gitstore.dev/terrain in (road, trail)", l));
	assert_false(matches("gitstore.dev/terrain notin (trail)", l));
	assert_true(matches("tier=gold, gitstore.dev/terrain in (trail), !discontinued", l));
	assert_false(matches("tier=gold,missing", l));
	json_decref(l);
}

static void test_labelsel__errors(void **state)
{
	const char *bad[] = {"", "=x", "tier=", "tier in ()", "tier in (a", "tier in a", "a,,b", "tier=gold extra", "!", "a b"};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		gs_labelsel *sel = NULL;
		gs_error err = GS_ERROR_INIT;
		assert_int_equal(gs_labelsel_parse(&sel, bad[i], &err), GS_EINVALID);
		assert_null(sel);
		assert_non_null(strstr(err.msg, "labelSelector"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_labelsel__operators),
		cmocka_unit_test(test_labelsel__errors),
	};
	return cmocka_run_group_tests_name("labelsel", tests, NULL, NULL);
}
