/* tests/unit/cel/test_cellex.c -- the CEL lexer: tokens, numbers, every
 * string and bytes literal form, and positions of lexical errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "cel/internal.h"
#include "util/error.h"

typedef struct lexfix {
	gs_cel_program prog;
	gs_cel_lexer lx;
	gs_cel_error err;
} lexfix;

static void lex_start(lexfix *f, const char *src)
{
	memset(f, 0, sizeof(*f));
	f->lx.src = src;
	f->lx.len = strlen(src);
	f->lx.prog = &f->prog;
}

static void lex_done(lexfix *f)
{
	gs_cel_program *p = calloc(1, sizeof(*p));
	*p = f->prog; /* hands the decoded literals to the program for freeing */
	gs_cel_program_free(p);
}

/* The token types of src, 0-terminated into out. */
static int lex_types(const char *src, int *out, size_t max)
{
	lexfix f;
	gs_cel_token t;
	size_t n = 0;
	lex_start(&f, src);
	do {
		if (gs_cel__lex(&f.lx, &t, &f.err) < 0 || n == max) {
			lex_done(&f);
			return -1;
		}
		out[n++] = t.type;
	} while (t.type != GS_CEL_T_EOF);
	lex_done(&f);
	return (int)n;
}

static void test_cellex__tokens(void **state)
{
	int types[32];
	const int want[] = {GS_CEL_T_IDENT,  GS_CEL_T_DOT,	 GS_CEL_T_IDENT,  GS_CEL_T_LPAREN, GS_CEL_T_UINT,
			    GS_CEL_T_COMMA,  GS_CEL_T_DOUBLE, GS_CEL_T_RPAREN, GS_CEL_T_AND,    GS_CEL_T_NOT,
			    GS_CEL_T_IDENT,  GS_CEL_T_OR,	 GS_CEL_T_INT,	  GS_CEL_T_IN,	   GS_CEL_T_LBRACKET,
			    GS_CEL_T_TRUE,   GS_CEL_T_RBRACKET, GS_CEL_T_LE,   GS_CEL_T_NULL,   GS_CEL_T_NE,
			    GS_CEL_T_RESERVED, GS_CEL_T_QIDENT, GS_CEL_T_EOF};
	(void)state;
	assert_int_equal(lex_types("a.b(1u, 2.5e3) && !x || 0x1F in [true] <= null != while `a-b` // c", types, 32),
			 (int)(sizeof(want) / sizeof(want[0])));
	assert_memory_equal(types, want, sizeof(want));
}

/* The first token of src must be a string/bytes literal decoding to want. */
static void check_literal(const char *src, int type, const char *want, size_t want_len)
{
	lexfix f;
	gs_cel_token t;
	lex_start(&f, src);
	if (gs_cel__lex(&f.lx, &t, &f.err) < 0)
		fail_msg("%s: %s", src, f.err.message);
	assert_int_equal(t.type, type);
	assert_int_equal(t.str_len, want_len);
	assert_memory_equal(t.str, want, want_len);
	lex_done(&f);
}

static void test_cellex__strings(void **state)
{
	(void)state;
	check_literal("'a\\'b'", GS_CEL_T_STRING, "a'b", 3);
	check_literal("\"\\a\\b\\f\\n\\r\\t\\v\\\\\\?\\\"\\`\"", GS_CEL_T_STRING, "\a\b\f\n\r\t\v\\?\"`", 11);
	check_literal("'\\x41\\X42\\103\\u00e9\\U0001F431'", GS_CEL_T_STRING, "ABC\xc3\xa9\xf0\x9f\x90\xb1", 9);
	check_literal("'''it's\nmulti'''", GS_CEL_T_STRING, "it's\nmulti", 10);
	check_literal("\"\"\"x\"y\"\"\"", GS_CEL_T_STRING, "x\"y", 3);
	check_literal("r'\\n\\d'", GS_CEL_T_STRING, "\\n\\d", 4);
	check_literal("R\"\"\"\\\"\"\"", GS_CEL_T_STRING, "\\", 1);
	check_literal("b'\\377\\x00ÿ'", GS_CEL_T_BYTES, "\xff\x00\xc3\xbf", 4);
	check_literal("bR'\\x00'", GS_CEL_T_BYTES, "\\x00", 4);
	check_literal("rb''", GS_CEL_T_BYTES, "", 0);
	check_literal("'\\377'", GS_CEL_T_STRING, "\xc3\xbf", 2); /* a code point in strings */
}

static void check_lex_error(const char *src, int line, int column, const char *msg)
{
	lexfix f;
	gs_cel_token t;
	int rc = 0;
	lex_start(&f, src);
	while (rc == 0) {
		rc = gs_cel__lex(&f.lx, &t, &f.err);
		if (rc == 0 && t.type == GS_CEL_T_EOF)
			fail_msg("%s: no error", src);
	}
	assert_int_equal(rc, GS_EINVALID);
	if (!strstr(f.err.message, msg))
		fail_msg("%s: message '%s' lacks '%s'", src, f.err.message, msg);
	assert_int_equal(f.err.line, line);
	assert_int_equal(f.err.column, column);
	lex_done(&f);
}

static void test_cellex__errors(void **state)
{
	(void)state;
	check_lex_error("'abc", 1, 1, "unterminated string");
	check_lex_error("x +\n  'a\nb'", 2, 5, "newline in string literal");
	check_lex_error("'\\q'", 1, 2, "invalid escape");
	check_lex_error("'\\uD800'", 1, 8, "invalid unicode code point");
	check_lex_error("b'\\u0041'", 1, 3, "not allowed in bytes");
	check_lex_error("'\\400'", 1, 2, "invalid escape");
	check_lex_error("1 + 18446744073709551616", 1, 5, "integer literal out of range");
	check_lex_error("12abc", 1, 3, "invalid number literal");
	check_lex_error("a # b", 1, 3, "unexpected character '#'");
	check_lex_error("0x", 1, 1, "invalid hex literal");
	check_lex_error("é + `a b`", 1, 1, "unexpected character");
}

static void test_cellex__numbers(void **state)
{
	lexfix f;
	gs_cel_token t;
	(void)state;
	lex_start(&f, "18446744073709551615u .5 1e-3 0xFFu 9223372036854775808");
	assert_int_equal(gs_cel__lex(&f.lx, &t, &f.err), 0);
	assert_int_equal(t.type, GS_CEL_T_UINT);
	assert_true(t.u == UINT64_MAX);
	assert_int_equal(gs_cel__lex(&f.lx, &t, &f.err), 0);
	assert_int_equal(t.type, GS_CEL_T_DOUBLE);
	assert_true(t.d == 0.5);
	assert_int_equal(gs_cel__lex(&f.lx, &t, &f.err), 0);
	assert_true(t.type == GS_CEL_T_DOUBLE && t.d == 1e-3);
	assert_int_equal(gs_cel__lex(&f.lx, &t, &f.err), 0);
	assert_true(t.type == GS_CEL_T_UINT && t.u == 255);
	/* the magnitude is the parser's to range-check (a leading - allows it) */
	assert_int_equal(gs_cel__lex(&f.lx, &t, &f.err), 0);
	assert_true(t.type == GS_CEL_T_INT && t.u == 9223372036854775808ULL);
	lex_done(&f);
}

static void test_cellex__position(void **state)
{
	int line, col;
	const char *src = "ab\r\ncd\ref\nπx";
	(void)state;
	gs_cel__position(src, strlen(src), 5, &line, &col); /* the d */
	assert_int_equal(line, 2);
	assert_int_equal(col, 2);
	gs_cel__position(src, strlen(src), 8, &line, &col); /* the f */
	assert_int_equal(line, 3);
	assert_int_equal(col, 2);
	gs_cel__position(src, strlen(src), 12, &line, &col); /* the x, after a 2-byte π */
	assert_int_equal(line, 4);
	assert_int_equal(col, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cellex__tokens),	 cmocka_unit_test(test_cellex__strings),
		cmocka_unit_test(test_cellex__errors),	 cmocka_unit_test(test_cellex__numbers),
		cmocka_unit_test(test_cellex__position),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
