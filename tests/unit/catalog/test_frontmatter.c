/* tests/unit/catalog/test_frontmatter.c -- resource detection, the
 * front-matter/body split, and the error records (caterr). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/caterr.h"
#include "catalog/frontmatter.h"
#include "limits.h"
#include "util/error.h"

/* Splits s; returns the code and fills fm/errs. */
static int split(const char *s, size_t len, gs_frontmatter *fm, gs_cat_errors *errs)
{
	gs_cat_errors_reset(errs);
	return gs_frontmatter_split(s, len, fm, errs);
}

#define SPLIT(lit, fm, errs) split(lit, sizeof(lit) - 1, fm, errs)

static void assert_one_error(const gs_cat_errors *errs, unsigned line, const char *code)
{
	assert_int_equal(gs_cat_errors_count(errs), 1);
	assert_string_equal(errs->v[0].code, code);
	assert_string_equal(errs->v[0].field, "");
	assert_int_equal(errs->v[0].line, line);
	assert_null(strchr(errs->v[0].message, '\n'));
	assert_null(strstr(errs->v[0].message, "failed to"));
}

static void test_frontmatter__detection(void **state)
{
	gs_frontmatter fm;
	gs_cat_errors errs;
	(void)state;
	gs_cat_errors_init(&errs);
	assert_true(gs_frontmatter_is_resource("---\n", 4));
	assert_true(gs_frontmatter_is_resource("---", 3));
	assert_true(gs_frontmatter_is_resource("----\n", 5)); /* a candidate, rejected by split */
	assert_false(gs_frontmatter_is_resource("--", 2));
	assert_false(gs_frontmatter_is_resource("", 0));
	assert_false(gs_frontmatter_is_resource(NULL, 0));
	assert_false(gs_frontmatter_is_resource("\xef\xbb\xbf---\na: 1\n---\n", 18)); /* BOM */
	assert_false(gs_frontmatter_is_resource("\n---\na: 1\n---\n", 14));           /* blank line first */
	assert_false(gs_frontmatter_is_resource(" ---\n", 5));
	assert_false(gs_frontmatter_is_resource("# Notes\n\n---\n", 13));
	/* not a resource is not an error */
	assert_int_equal(SPLIT("\n---\na: 1\n---\n", &fm, &errs), GS_ENOTFOUND);
	assert_int_equal(SPLIT("\xef\xbb\xbf---\na: 1\n---\n", &fm, &errs), GS_ENOTFOUND);
	assert_int_equal(SPLIT("# Catalog notes\n", &fm, &errs), GS_ENOTFOUND);
	assert_int_equal(gs_cat_errors_count(&errs), 0);
	gs_cat_errors_release(&errs);
}

static void test_frontmatter__basic_split(void **state)
{
	gs_frontmatter fm;
	gs_cat_errors errs;
	static const char f[] = "---\napiVersion: v\nkind: Product\n---\n\n# Title\n\nText.\n";
	(void)state;
	gs_cat_errors_init(&errs);
	assert_int_equal(SPLIT(f, &fm, &errs), 0);
	assert_int_equal(fm.yaml_len, strlen("apiVersion: v\nkind: Product\n"));
	assert_memory_equal(fm.yaml, "apiVersion: v\nkind: Product\n", fm.yaml_len);
	assert_ptr_equal(fm.yaml, f + 4);
	assert_int_equal(fm.yaml_line, 2);
	assert_int_equal(fm.body_len, strlen("\n# Title\n\nText.\n"));
	assert_memory_equal(fm.body, "\n# Title\n\nText.\n", fm.body_len);
	assert_int_equal(fm.body_line, 5);
	assert_int_equal(gs_cat_errors_count(&errs), 0);

	/* empty front-matter */
	assert_int_equal(SPLIT("---\n---\n", &fm, &errs), 0);
	assert_int_equal(fm.yaml_len, 0);
	assert_int_equal(fm.body_len, 0);
	assert_int_equal(fm.body_line, 3);
	gs_cat_errors_release(&errs);
}

static void test_frontmatter__crlf(void **state)
{
	gs_frontmatter fm;
	gs_cat_errors errs;
	(void)state;
	gs_cat_errors_init(&errs);
	assert_int_equal(SPLIT("---\r\na: 1\r\nb: 2\r\n---\r\nbody\r\nmore\r\n", &fm, &errs), 0);
	assert_int_equal(fm.yaml_len, 12);
	assert_memory_equal(fm.yaml, "a: 1\r\nb: 2\r\n", 12);
	assert_int_equal(fm.body_len, 12);
	assert_memory_equal(fm.body, "body\r\nmore\r\n", 12);
	assert_int_equal(fm.body_line, 5);
	/* mixed endings and a CR-terminated close at end of file */
	assert_int_equal(SPLIT("---\na: 1\r\n---\r", &fm, &errs), 0);
	assert_memory_equal(fm.yaml, "a: 1\r\n", 6);
	assert_int_equal(fm.body_len, 0);
	/* a bare CR does not end a line */
	assert_int_equal(SPLIT("---\ra: 1\r---\r", &fm, &errs), GS_EINVALID);
	assert_one_error(&errs, 1, "invalid_frontmatter_delimiter");
	gs_cat_errors_release(&errs);
}

static void test_frontmatter__unclosed(void **state)
{
	gs_frontmatter fm;
	gs_cat_errors errs;
	(void)state;
	gs_cat_errors_init(&errs);
	assert_int_equal(SPLIT("---\na: 1\nb: 2\n", &fm, &errs), GS_EINVALID);
	assert_one_error(&errs, 1, "unclosed_frontmatter");
	assert_null(fm.yaml);
	assert_null(fm.body);
	assert_int_equal(SPLIT("---", &fm, &errs), GS_EINVALID);
	assert_one_error(&errs, 1, "unclosed_frontmatter");
	assert_int_equal(SPLIT("---\n", &fm, &errs), GS_EINVALID);
	assert_one_error(&errs, 1, "unclosed_frontmatter");
	/* close lines must be exact: trailing blanks, more dashes, `...` */
	assert_int_equal(SPLIT("---\na: 1\n--- \n---x\n----\n...\n ---\n", &fm, &errs), GS_EINVALID);
	assert_one_error(&errs, 1, "unclosed_frontmatter");
	/* `---` inside a value does not close (line-anchored, not substring) */
	assert_int_equal(SPLIT("---\ntitle: A---B\n", &fm, &errs), GS_EINVALID);
	assert_one_error(&errs, 1, "unclosed_frontmatter");
	assert_int_equal(SPLIT("---\ntitle: A---B\n---\n", &fm, &errs), 0);
	assert_memory_equal(fm.yaml, "title: A---B\n", fm.yaml_len);
	gs_cat_errors_release(&errs);
}

static void test_frontmatter__invalid_delimiter(void **state)
{
	gs_frontmatter fm;
	gs_cat_errors errs;
	(void)state;
	gs_cat_errors_init(&errs);
	assert_int_equal(SPLIT("----\na: 1\n---\n", &fm, &errs), GS_EINVALID);
	assert_one_error(&errs, 1, "invalid_frontmatter_delimiter");
	assert_non_null(strstr(errs.v[0].message, "\"----\""));
	assert_int_equal(SPLIT("--- \na: 1\n---\n", &fm, &errs), GS_EINVALID);
	assert_one_error(&errs, 1, "invalid_frontmatter_delimiter");
	assert_int_equal(SPLIT("---a: 1\n---\n", &fm, &errs), GS_EINVALID);
	assert_one_error(&errs, 1, "invalid_frontmatter_delimiter");
	/* a Markdown document opening with a horizontal rule and text */
	assert_int_equal(SPLIT("---------------------------------------------------------------\n# x\n", &fm, &errs),
	                 GS_EINVALID);
	assert_one_error(&errs, 1, "invalid_frontmatter_delimiter");
	assert_non_null(strstr(errs.v[0].message, "...\""));
	gs_cat_errors_release(&errs);
}

static void test_frontmatter__body_exact(void **state)
{
	gs_frontmatter fm;
	gs_cat_errors errs;
	static const char nul_body[] = "---\na: 1\n---\nx\0y\n";
	(void)state;
	gs_cat_errors_init(&errs);
	/* no trailing newline */
	assert_int_equal(SPLIT("---\na: 1\n---\nbody", &fm, &errs), 0);
	assert_int_equal(fm.body_len, 4);
	assert_memory_equal(fm.body, "body", 4);
	/* close at end of file, no newline: empty body */
	assert_int_equal(SPLIT("---\na: 1\n---", &fm, &errs), 0);
	assert_int_equal(fm.body_len, 0);
	assert_non_null(fm.body);
	assert_int_equal(fm.body_line, 4);
	/* `---` lines after the close belong to the body, verbatim */
	assert_int_equal(SPLIT("---\na: 1\n---\n\ntext\n---\nmore\n---\n\n", &fm, &errs), 0);
	assert_int_equal(fm.body_len, strlen("\ntext\n---\nmore\n---\n\n"));
	assert_memory_equal(fm.body, "\ntext\n---\nmore\n---\n\n", fm.body_len);
	assert_memory_equal(fm.yaml, "a: 1\n", fm.yaml_len);
	/* whitespace-only and NUL bytes are kept */
	assert_int_equal(SPLIT("---\na: 1\n---\n  \t\n", &fm, &errs), 0);
	assert_memory_equal(fm.body, "  \t\n", 4);
	assert_int_equal(split(nul_body, sizeof(nul_body) - 1, &fm, &errs), 0);
	assert_int_equal(fm.body_len, 4);
	assert_memory_equal(fm.body, "x\0y\n", 4);
	gs_cat_errors_release(&errs);
}

static void test_frontmatter__invalid_utf8(void **state)
{
	gs_frontmatter fm;
	gs_cat_errors errs;
	(void)state;
	gs_cat_errors_init(&errs);
	/* in a YAML value (line 3) */
	assert_int_equal(SPLIT("---\na: 1\nb: caf\xe9\n---\n", &fm, &errs), GS_EINVALID);
	assert_one_error(&errs, 3, "invalid_utf8");
	assert_non_null(strstr(errs.v[0].message, "0xe9"));
	/* in the body (line 6) */
	assert_int_equal(SPLIT("---\na: 1\n---\n\nok\n\xff\n", &fm, &errs), GS_EINVALID);
	assert_one_error(&errs, 6, "invalid_utf8");
	/* overlong '/', a surrogate, a code point past U+10FFFF, truncated */
	assert_int_equal(SPLIT("---\na: \xc0\xaf\n---\n", &fm, &errs), GS_EINVALID);
	assert_one_error(&errs, 2, "invalid_utf8");
	assert_int_equal(SPLIT("---\na: \xed\xa0\x80\n---\n", &fm, &errs), GS_EINVALID);
	assert_one_error(&errs, 2, "invalid_utf8");
	assert_int_equal(SPLIT("---\na: \xf4\x90\x80\x80\n---\n", &fm, &errs), GS_EINVALID);
	assert_one_error(&errs, 2, "invalid_utf8");
	assert_int_equal(SPLIT("---\na: 1\n---\n\xe2\x82", &fm, &errs), GS_EINVALID);
	assert_one_error(&errs, 4, "invalid_utf8");
	/* valid multibyte text passes */
	assert_int_equal(SPLIT("---\nt: \xc3\xa9\xe2\x82\xac\xf0\x9f\x91\x9f\n---\n\xe6\x97\xa5\n", &fm, &errs), 0);
	gs_cat_errors_release(&errs);
}

static void test_frontmatter__file_too_large(void **state)
{
	gs_frontmatter fm;
	gs_cat_errors errs;
	size_t big = 10 * 1024 * 1024, len;
	char *f = malloc(big + 32);
	(void)state;
	gs_cat_errors_init(&errs);
	assert_non_null(f);
	/* a 10 MB scalar: the file limit applies first */
	memcpy(f, "---\nt: ", 7);
	memset(f + 7, 'x', big);
	memcpy(f + 7 + big, "\n---\n", 5);
	assert_int_equal(split(f, big + 12, &fm, &errs), GS_EINVALID);
	assert_one_error(&errs, 0, "file_too_large");
	/* exactly at the limit is fine; one byte more is not */
	len = GS_MAX_RESOURCE_FILE_BYTES;
	memcpy(f, "---\na: 1\n---\n", 13);
	memset(f + 13, 'b', len - 13);
	assert_int_equal(split(f, len, &fm, &errs), 0);
	assert_int_equal(fm.body_len, len - 13);
	assert_int_equal(split(f, len + 1, &fm, &errs), GS_EINVALID);
	assert_one_error(&errs, 0, "file_too_large");
	/* a large file that is not a resource is not our business */
	f[0] = '#';
	assert_int_equal(split(f, big, &fm, &errs), GS_ENOTFOUND);
	free(f);
	gs_cat_errors_release(&errs);
}

static void test_frontmatter__caterr(void **state)
{
	gs_cat_errors errs;
	size_t i;
	char longmsg[600];
	(void)state;
	gs_cat_errors_init(&errs);
	gs_cat_errors_add(&errs, 7, "spec.title", "some_code", "title \"%s\" is odd", "a\nb\tc");
	assert_int_equal(errs.v[0].line, 7);
	assert_string_equal(errs.v[0].field, "spec.title");
	assert_string_equal(errs.v[0].code, "some_code");
	assert_string_equal(errs.v[0].message, "title \"a?b?c\" is odd");
	gs_cat_errors_add(&errs, 0, NULL, "x", "bad byte \xff here");
	assert_string_equal(errs.v[1].field, "");
	assert_string_equal(errs.v[1].message, "bad byte ? here");
	/* truncation never splits a character */
	memset(longmsg, 0, sizeof(longmsg));
	for (i = 0; i + 2 < sizeof(longmsg) - 1; i += 2)
		memcpy(longmsg + i, "\xc3\xa9", 2);
	gs_cat_errors_add(&errs, 1, "", "x", "%s", longmsg);
	assert_true(strlen(errs.v[2].message) < sizeof(errs.v[2].message));
	assert_int_equal(strlen(errs.v[2].message) % 2, 0);
	/* the cap: later records only count */
	for (i = 3; i < GS_MAX_CATALOG_ERRORS + 10; i++)
		gs_cat_errors_add(&errs, (unsigned)i, "", "x", "error %zu", i);
	assert_int_equal(errs.n, GS_MAX_CATALOG_ERRORS);
	assert_int_equal(errs.dropped, 10);
	assert_int_equal(gs_cat_errors_count(&errs), GS_MAX_CATALOG_ERRORS + 10);
	gs_cat_errors_reset(&errs);
	assert_int_equal(gs_cat_errors_count(&errs), 0);
	gs_cat_errors_add(&errs, 1, "", "x", "again");
	assert_int_equal(errs.n, 1);
	gs_cat_errors_release(&errs);
	gs_cat_errors_release(&errs); /* release twice is harmless */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_frontmatter__detection),
	    cmocka_unit_test(test_frontmatter__basic_split),
	    cmocka_unit_test(test_frontmatter__crlf),
	    cmocka_unit_test(test_frontmatter__unclosed),
	    cmocka_unit_test(test_frontmatter__invalid_delimiter),
	    cmocka_unit_test(test_frontmatter__body_exact),
	    cmocka_unit_test(test_frontmatter__invalid_utf8),
	    cmocka_unit_test(test_frontmatter__file_too_large),
	    cmocka_unit_test(test_frontmatter__caterr),
	};
	return cmocka_run_group_tests_name("frontmatter", tests, NULL, NULL);
}
