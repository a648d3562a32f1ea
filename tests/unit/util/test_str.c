/* tests/unit/util/test_str.c -- names, ids, globs, numbers, roles. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "auth/principal.h"
#include "util/buf.h"
#include "util/str.h"

static void test_str__dns_label(void **state)
{
	(void)state;
	assert_true(gs_str_is_dns_label("default"));
	assert_true(gs_str_is_dns_label("a-1"));
	assert_true(gs_str_is_dns_label("a"));
	assert_false(gs_str_is_dns_label(""));
	assert_false(gs_str_is_dns_label("-a"));
	assert_false(gs_str_is_dns_label("a-"));
	assert_false(gs_str_is_dns_label("A"));
	assert_false(gs_str_is_dns_label("a_b"));
	assert_false(gs_str_is_dns_label(".."));
	assert_false(gs_str_is_dns_label("a/b"));
	assert_true(gs_str_is_dns_label("abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij123"));
	assert_false(gs_str_is_dns_label("abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij1234"));
}

static void test_str__glob_and_oid(void **state)
{
	(void)state;
	assert_true(gs_str_glob_match("refs/tags/v*", "refs/tags/v1.2"));
	assert_true(gs_str_glob_match("refs/tags/release/*", "refs/tags/release/a/b"));
	assert_false(gs_str_glob_match("refs/tags/v*", "refs/tags/x1"));
	assert_true(gs_str_glob_match("*", ""));
	assert_true(gs_str_glob_match("a*b*c", "axxbyyc"));
	assert_false(gs_str_glob_match("a*b*c", "axxbyy"));
	assert_true(gs_str_is_oid("0123456789abcdef0123456789abcdef01234567"));
	assert_false(gs_str_is_oid("0123456789ABCDEF0123456789abcdef01234567"));
	assert_false(gs_str_is_oid("0123"));
}

static void test_str__parse_u64_and_repo(void **state)
{
	uint64_t v;
	char ns[64], name[64];
	gs_error err = GS_ERROR_INIT;
	(void)state;
	assert_int_equal(gs_str_parse_u64("42", 100, &v, &err), 0);
	assert_int_equal(v, 42);
	assert_int_equal(gs_str_parse_u64("101", 100, &v, &err), GS_EINVALID);
	gs_error_clear(&err);
	assert_int_equal(gs_str_parse_u64("-1", 100, &v, &err), GS_EINVALID);
	gs_error_clear(&err);
	assert_int_equal(gs_str_parse_u64("18446744073709551616", UINT64_MAX, &v, &err), GS_EINVALID);
	gs_error_clear(&err);
	assert_int_equal(gs_str_split_repo("default/catalog", ns, name, &err), 0);
	assert_string_equal(ns, "default");
	assert_string_equal(name, "catalog");
	assert_int_equal(gs_str_split_repo("../x", ns, name, &err), GS_EINVALID);
}

static void test_str__if_match(void **state)
{
	gs_error err = GS_ERROR_INIT;
	int64_t v = 0;
	(void)state;
	assert_int_equal(gs_str_parse_if_match("\"12\"", &v, &err), 0);
	assert_int_equal(v, 12);
	assert_int_equal(gs_str_parse_if_match(" 7 ", &v, &err), 0);
	assert_int_equal(v, 7);
	assert_int_equal(gs_str_parse_if_match("W/\"3\"", &v, &err), 0);
	assert_int_equal(v, 3);
	assert_int_equal(gs_str_parse_if_match("*", &v, &err), 0);
	assert_int_equal(v, -1);
	assert_int_equal(gs_str_parse_if_match("\"1\", \"2\"", &v, &err), GS_EINVALID);
	gs_error_clear(&err);
	assert_int_equal(gs_str_parse_if_match("\"\"", &v, &err), GS_EINVALID);
	gs_error_clear(&err);
	assert_int_equal(gs_str_parse_if_match("-1", &v, &err), GS_EINVALID);
	gs_error_clear(&err);
	assert_int_equal(gs_str_parse_if_match("\"99999999999999999999\"", &v, &err), GS_EINVALID);
	gs_error_clear(&err);
	assert_int_equal(gs_str_parse_if_match("W/", &v, &err), GS_EINVALID);
}

static void test_str__roles(void **state)
{
	gs_principal p;
	gs_error err = GS_ERROR_INIT;
	(void)state;
	memset(&p, 0, sizeof(p));
	assert_int_equal(gs_grant_parse(&p.grants[0], "writer:shop", &err), 0);
	assert_int_equal(gs_grant_parse(&p.grants[1], "reader:*", &err), 0);
	p.ngrants = 2;
	assert_int_equal(gs_principal_role(&p, "shop"), GS_ROLE_WRITER);
	assert_int_equal(gs_principal_role(&p, "other"), GS_ROLE_READER);
	assert_true(gs_principal_is_global(&p, GS_ROLE_READER));
	assert_false(gs_principal_is_global(&p, GS_ROLE_WRITER));
	assert_int_equal(gs_grant_parse(&p.grants[2], "owner:shop", &err), GS_EINVALID);
	gs_error_clear(&err);
	assert_int_equal(gs_grant_parse(&p.grants[2], "admin:Shop", &err), GS_EINVALID);
}

static void test_str__buf_limit(void **state)
{
	gs_buf b;
	gs_error err = GS_ERROR_INIT;
	(void)state;
	gs_buf_init(&b, 8);
	assert_int_equal(gs_buf_adds(&b, "12345678", &err), 0);
	assert_int_equal(gs_buf_adds(&b, "9", &err), GS_ELIMIT);
	assert_int_equal(b.len, 8);
	assert_string_equal(b.ptr, "12345678");
	gs_buf_consume(&b, 3);
	assert_string_equal(b.ptr, "45678");
	gs_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_str__dns_label),
		cmocka_unit_test(test_str__glob_and_oid),
		cmocka_unit_test(test_str__parse_u64_and_repo),
		cmocka_unit_test(test_str__if_match),
		cmocka_unit_test(test_str__roles),
		cmocka_unit_test(test_str__buf_limit),
	};
	return cmocka_run_group_tests_name("str", tests, NULL, NULL);
}
