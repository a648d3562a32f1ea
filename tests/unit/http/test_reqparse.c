/* tests/unit/http/test_reqparse.c -- Authorization credentials and Git URL
 * routes (http/reqparse.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "http/reqparse.h"

static int cred(const char *hdr, char *out)
{
	return gs_reqparse_credentials(hdr, out, 256);
}

static void test_reqparse__bearer_and_basic(void **state)
{
	char t[256];
	(void)state;
	assert_int_equal(cred("Bearer gst_abc", t), 0);
	assert_string_equal(t, "gst_abc");
	assert_int_equal(cred("bearer   gst_abc", t), 0);
	assert_string_equal(t, "gst_abc");
	/* x:gst_abc, x:ab (one '='), x:a (two '=') */
	assert_int_equal(cred("Basic eDpnc3RfYWJj", t), 0);
	assert_string_equal(t, "gst_abc");
	assert_int_equal(cred("Basic eDphYg==", t), 0); /* "x:ab" */
	assert_string_equal(t, "ab");
	assert_int_equal(cred("Basic eDph", t), 0);
	assert_string_equal(t, "a");
	assert_int_equal(cred("Basic eDphYmM=", t), 0);
	assert_string_equal(t, "abc");
}

static void test_reqparse__refused_credentials(void **state)
{
	char t[256], small[4];
	(void)state;
	assert_int_equal(cred("Bearer ", t), -1);
	assert_int_equal(cred("Bearer    ", t), -1);
	assert_int_equal(cred("Digest abc", t), -1);
	assert_int_equal(cred("", t), -1);
	assert_int_equal(cred("Basic ", t), -1);
	assert_int_equal(cred("Basic eDo=", t), -1);     /* "x:" empty token */
	assert_int_equal(cred("Basic eHl6", t), -1);     /* "xyz" no colon */
	assert_int_equal(cred("Basic eDpnc3RfYWJ", t), -1); /* length % 4 */
	assert_int_equal(cred("Basic eDp*YWJj", t), -1); /* not base64 */
	assert_int_equal(gs_reqparse_credentials("Bearer gst_abc", small, sizeof(small)), -1);
}

/* found by fuzz_httpreq: EVP_DecodeBlock decodes "====" to 3 bytes, and
 * stripping four '=' from that count made it -1 (a write before the
 * decode buffer) */
static void test_reqparse__padding_only(void **state)
{
	char t[256];
	(void)state;
	assert_int_equal(cred("Basic ====", t), -1);
	assert_int_equal(cred("Basic A===", t), -1);
	assert_int_equal(cred("Basic =AAA", t), -1);
	assert_int_equal(cred("Basic eDph====", t), -1);
	assert_int_equal(cred("Basic eD=hYWJj", t), -1);
}

static void test_reqparse__git_urls(void **state)
{
	char ns[64], name[64];
	gs_gitroute r = 0;
	(void)state;
	assert_int_equal(gs_reqparse_git_url("/default/catalog.git/info/refs", ns, name, &r), 0);
	assert_string_equal(ns, "default");
	assert_string_equal(name, "catalog");
	assert_int_equal(r, GS_GITROUTE_INFO_REFS);
	assert_int_equal(gs_reqparse_git_url("/a/b/git-upload-pack", ns, name, &r), 0);
	assert_int_equal(r, GS_GITROUTE_UPLOAD);
	assert_int_equal(gs_reqparse_git_url("/a/b.git/git-receive-pack", ns, name, &r), 0);
	assert_int_equal(r, GS_GITROUTE_RECEIVE);
	assert_string_equal(name, "b");
}

static void test_reqparse__git_urls_refused(void **state)
{
	static const char *bad[] = {
		"", "default/catalog.git/info/refs", "/default/../info/refs", "/../catalog/info/refs",
		"/default/catalog.git/info/refs/", "/default//info/refs", "/default/./git-upload-pack",
		"/default/catalog.git/HEAD", "/default/catalog.git/objects/info/packs", "/Default/catalog/info/refs",
		"/default/cat_alog/info/refs", "/default/.git/info/refs", "/a/b/c/d/e/f",
		"/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/b/info/refs",
	};
	char ns[64], name[64];
	gs_gitroute r;
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(gs_reqparse_git_url(bad[i], ns, name, &r), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reqparse__bearer_and_basic),
		cmocka_unit_test(test_reqparse__refused_credentials),
		cmocka_unit_test(test_reqparse__padding_only),
		cmocka_unit_test(test_reqparse__git_urls),
		cmocka_unit_test(test_reqparse__git_urls_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
