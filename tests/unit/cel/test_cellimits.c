/* tests/unit/cel/test_cellimits.c -- a hostile expression cannot hang or
 * exhaust the daemon: the cost budget, the size limits on produced
 * strings and lists, regex backtracking, and deep typed bindings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <time.h>

#include "celtest.h"
#include "limits.h"

static double cpu_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* f(x) nested n times around inner, with distinct variable names */
static char *map_bomb(int n)
{
	char *s = strdup("1"), *t;
	int i;
	for (i = 0; i < n; i++) {
		if (asprintf(&t, "[1,2,3].map(v%d, %s)", i, s) < 0)
			abort();
		free(s);
		s = t;
	}
	return s;
}

static void test_cellimits__macro_bomb(void **state)
{
	char *s = map_bomb(15); /* 3^15 = 14 million leaves */
	double t0 = cpu_seconds();
	(void)state;
	EXPECT_ERROR(s, NULL, "cost limit exceeded");
	assert_true(cpu_seconds() - t0 < 1.0);
	free(s);
	s = map_bomb(3);
	EXPECT_JSON(s, NULL, "[[[1,1,1],[1,1,1],[1,1,1]],[[1,1,1],[1,1,1],[1,1,1]],[[1,1,1],[1,1,1],[1,1,1]]]");
	free(s);
}

static void test_cellimits__exponential_all(void **state)
{
	char *s = strdup("1/0 == 1"), *t;
	int i;
	double t0 = cpu_seconds();
	(void)state;
	for (i = 0; i < 30; i++) {
		if (asprintf(&t, "[0,1].all(x%d, %s)", i, s) < 0)
			abort();
		free(s);
		s = t;
	}
	EXPECT_ERROR(s, NULL, "cost limit exceeded");
	/* a limit is not an ordinary error: || true does not absorb it */
	if (asprintf(&t, "(%s) || true", s) < 0)
		abort();
	EXPECT_ERROR(t, NULL, "cost limit exceeded");
	assert_true(cpu_seconds() - t0 < 2.0);
	free(t);
	free(s);
}

static void test_cellimits__shared_structure_output(void **state)
{
	/* lists share sublists, so the arena stays small while the result
	 * doubles at every step: converting it to JSON is charged too */
	char *s = strdup("['ab']"), *t;
	int i;
	(void)state;
	for (i = 0; i < 30; i++) {
		if (asprintf(&t, "%s.map(x, [x, x])", s) < 0)
			abort();
		free(s);
		s = t;
	}
	EXPECT_ERROR(s, NULL, "cost limit exceeded");
	free(s);
}

static void test_cellimits__string_and_list_size(void **state)
{
	char *big = malloc(GS_CEL_MAX_STRING_BYTES / 2 + 100), *bind;
	size_t n = GS_CEL_MAX_STRING_BYTES / 2 + 1;
	(void)state;
	memset(big, 'a', n);
	big[n] = 0;
	if (asprintf(&bind, "{\"s\": \"%s\"}", big) < 0)
		abort();
	EXPECT_JSON("size(s) + 1", bind, "524290");
	EXPECT_ERROR("s + s", bind, "string size limit exceeded");
	EXPECT_ERROR("b'' + bytes(s) + bytes(s)", bind, "string size limit exceeded");
	free(bind);
	free(big);
	/* lists: doubling by concatenation */
	EXPECT_ERROR("[0].map(a, [1,2,3,4,5,6,7,8,9,10].map(b, [1,2,3,4,5,6,7,8,9,10].map(c, "
		     "[1,2,3,4,5,6,7,8,9,10].map(d, [1,2,3,4,5,6,7,8,9,10].map(e, [1,2,3,4,5,6,7,8,9,10])))))"
		     ".map(x, x + x + x + x)",
		     NULL, "limit exceeded");
}

static void test_cellimits__regex(void **state)
{
	double t0 = cpu_seconds();
	(void)state;
	EXPECT_ERROR("'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!'.matches('(a+)+$')", NULL,
		     "regular expression match limit exceeded");
	assert_true(cpu_seconds() - t0 < 1.0);
	char *s = malloc(GS_CEL_MAX_REGEX_BYTES + 20);
	strcpy(s, "'a'.matches(x)");
	char *bind = malloc(GS_CEL_MAX_REGEX_BYTES + 20);
	memset(bind, 0, GS_CEL_MAX_REGEX_BYTES + 20);
	strcpy(bind, "{\"x\": \"");
	memset(bind + 7, 'a', GS_CEL_MAX_REGEX_BYTES + 1);
	strcpy(bind + 7 + GS_CEL_MAX_REGEX_BYTES + 1, "\"}");
	EXPECT_ERROR(s, bind, "regular expression too long");
	free(s);
	free(bind);
}

static void test_cellimits__typed_depth(void **state)
{
	char *b = NULL, *t;
	int i;
	(void)state;
	b = strdup("{\"int64Value\": \"1\"}");
	for (i = 0; i < GS_CEL_MAX_VALUE_DEPTH + 2; i++) {
		if (asprintf(&t, "{\"listValue\": {\"values\": [%s]}}", b) < 0)
			abort();
		free(b);
		b = t;
	}
	if (asprintf(&t, "{\"x\": %s}", b) < 0)
		abort();
	CEL_CHECK("size(x)", t, GS_CEL_IN_TYPED, "error: 0:0: binding 'x': value nested too deeply");
	free(t);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cellimits__macro_bomb),
		cmocka_unit_test(test_cellimits__exponential_all),
		cmocka_unit_test(test_cellimits__shared_structure_output),
		cmocka_unit_test(test_cellimits__string_and_list_size),
		cmocka_unit_test(test_cellimits__regex),
		cmocka_unit_test(test_cellimits__typed_depth),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
