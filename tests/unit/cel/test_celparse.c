/* tests/unit/cel/test_celparse.c -- the CEL parser: grammar, precedence,
 * syntax errors with line:column, reserved words, and the size limits
 * (expression bytes, AST nodes, nesting depth). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "celtest.h"
#include "limits.h"

static void test_celparse__precedence(void **state)
{
	(void)state;
	EXPECT("1 + 2 * 3 == 7 && !false || false", T_TRUE);
	EXPECT("true ? (false ? 1 : 2) : 3", T_INT("2"));
	EXPECT_PARSE_ERROR("true ? false ? 1 : 2 : 3", "1:14: syntax error: expected ':'");
	EXPECT("false ? 1 : true ? 2 : 3", T_INT("2"));
	EXPECT("1 < 2 == true", T_TRUE);
	EXPECT("10 - 2 - 3", T_INT("5"));
	EXPECT("100 / 10 / 5", T_INT("2"));
	EXPECT("-2 * 3", T_INT("-6"));
	EXPECT("!!true", T_TRUE);
	EXPECT("[1, 2][0] + {'a': [3]}.a[0]", T_INT("4"));
	EXPECT("3 in [3] == true", T_TRUE);
	EXPECT("// comment\n 1 +\r\n\t2 // more", T_INT("3"));
	EXPECT("{'while': 1}.while + {'if': 2}['if']", T_INT("3"));
}

static void test_celparse__errors(void **state)
{
	(void)state;
	EXPECT_PARSE_ERROR("1 +", "1:4: syntax error: unexpected end of expression");
	EXPECT_PARSE_ERROR("(1", "1:3: syntax error: expected ')', found end of expression");
	EXPECT_PARSE_ERROR("[1, 2", "1:6: syntax error: expected ']'");
	EXPECT_PARSE_ERROR("{1 2}", "1:4: syntax error: expected ':'");
	EXPECT_PARSE_ERROR("a.b.\n  )", "2:3: syntax error: unexpected ')'");
	EXPECT_PARSE_ERROR("1 2", "1:3: syntax error: unexpected '2'");
	EXPECT_PARSE_ERROR("a ? b", "1:6: syntax error: expected ':'");
	EXPECT_PARSE_ERROR("if", "1:1: reserved identifier 'if'");
	EXPECT_PARSE_ERROR("x + while", "1:5: reserved identifier 'while'");
	EXPECT_PARSE_ERROR("a.`b c`()", "1:8: syntax error: unexpected '('");
	EXPECT_PARSE_ERROR("'\xff'", "1:2: invalid UTF-8");
	EXPECT_PARSE_ERROR("", "1:1: syntax error: unexpected end of expression");
	EXPECT_PARSE_ERROR("a.1", "1:2: syntax error: unexpected '.1'");
}

static void parse_error_has(const char *expr, const char *part)
{
	char *got = cel_run(expr, NULL, 0);
	if (!got || strncmp(got, "parse error: ", 13) || !strstr(got, part))
		fail_msg("%.60s...: want a parse error with '%s', got %.200s", expr, part, got ? got : "(null)");
	free(got);
}

static char *repeat(const char *head, const char *unit, int n, const char *tail)
{
	size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail), i;
	char *s = malloc(hl + ul * (size_t)n + tl + 1);
	memcpy(s, head, hl);
	for (i = 0; i < (size_t)n; i++)
		memcpy(s + hl + i * ul, unit, ul);
	memcpy(s + hl + ul * (size_t)n, tail, tl + 1);
	return s;
}

static char *nest(const char *open, const char *inner, const char *close, int n)
{
	char *a = repeat("", open, n, inner), *b = repeat(a, close, n, "");
	free(a);
	return b;
}

static void test_celparse__limits(void **state)
{
	char *s;
	(void)state;
	/* the spec's minimums: 32 levels of nesting, 32 repetitions */
	s = nest("(", "7", ")", 32);
	EXPECT(s, T_INT("7"));
	free(s);
	s = nest("size([", "0", "])", 32);
	EXPECT(s, T_INT("1"));
	free(s);
	s = repeat("", "-", 32, "19");
	EXPECT(s, T_INT("19"));
	free(s);
	s = repeat("0", " + 1", 100, "");
	EXPECT(s, T_INT("100"));
	free(s);
	/* past the depth limit: parentheses, unary chains, operator chains */
	s = nest("(", "7", ")", GS_CEL_MAX_AST_DEPTH + 1);
	parse_error_has(s, "expression nested too deeply");
	free(s);
	s = repeat("", "!", GS_CEL_MAX_AST_DEPTH + 1, "true");
	EXPECT_PARSE_ERROR(s, "1:1: expression nested too deeply");
	free(s);
	s = repeat("0", " + 1", GS_CEL_MAX_AST_DEPTH + 1, "");
	parse_error_has(s, "expression nested too deeply");
	free(s);
	s = nest("f(", "1", ")", 5000); /* never recurses that deep */
	parse_error_has(s, "expression nested too deeply");
	free(s);
	/* node count: a flat list is shallow but large */
	s = repeat("[0", ", 0", GS_CEL_MAX_AST_NODES, "]");
	parse_error_has(s, "expression too large");
	free(s);
	s = repeat("size([0", ", 0", 1000, "]) == 1001");
	EXPECT(s, T_TRUE);
	free(s);
	/* source length */
	s = repeat("'", "a", GS_CEL_MAX_EXPR_BYTES, "'");
	EXPECT_PARSE_ERROR(s, "1:1: expression too long");
	free(s);
}

static void test_celparse__messages_and_names(void **state)
{
	(void)state;
	/* message construction parses (for the conformance suite) but does not evaluate */
	EXPECT_ERROR("a.b.Msg{x: 1, y: [2]}", NULL, "message construction is not supported: a.b.Msg");
	EXPECT("Msg{x: 1 / 0} == 1 || true", T_TRUE);
	EXPECT_PARSE_ERROR("Msg{1: 2}", "1:5: syntax error: unexpected '1'");
	/* qualified and rooted names */
	EXPECT_JSON(".a.b", "{\"a.b\": 5}", "5");
	EXPECT_JSON("a.b.size()", "{\"a\": {\"b\": [1, 2]}}", "2");
	EXPECT_JSON("a.b.size()", "{\"a.b\": \"xyz\"}", "3");
	EXPECT("int == type(1) && bool == type(true) && google.protobuf.Timestamp == type(timestamp(0))", T_TRUE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_celparse__precedence),
		cmocka_unit_test(test_celparse__errors),
		cmocka_unit_test(test_celparse__limits),
		cmocka_unit_test(test_celparse__messages_and_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
