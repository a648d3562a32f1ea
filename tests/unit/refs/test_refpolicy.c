/* tests/unit/refs/test_refpolicy.c -- who may move which ref. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "refs/refpolicy.h"

#define Z "0000000000000000000000000000000000000000"
#define A "1111111111111111111111111111111111111111"
#define B "2222222222222222222222222222222222222222"

static const char *decide(gs_role role, const char *ref, const char *o, const char *n, int ff, int system)
{
	gs_refpolicy p = {NULL, NULL, system};
	static gs_ref_decision d;
	gs_refpolicy_check(&p, role, ref, o, n, ff, &d);
	return d.allowed ? "ok" : d.code;
}

static void test_refpolicy__branches(void **state)
{
	(void)state;
	assert_string_equal(decide(GS_ROLE_WRITER, "refs/heads/main", A, B, 1, 0), "ok");
	assert_string_equal(decide(GS_ROLE_WRITER, "refs/heads/main", Z, A, 0, 0), "ok");
	assert_string_equal(decide(GS_ROLE_WRITER, "refs/heads/main", A, B, 0, 0), "protected_branch_force_push");
	assert_string_equal(decide(GS_ROLE_WRITER, "refs/heads/main", A, Z, 1, 0), "protected_branch_delete");
	assert_string_equal(decide(GS_ROLE_ADMIN, "refs/heads/main", A, B, 0, 0), "ok");
	assert_string_equal(decide(GS_ROLE_ADMIN, "refs/heads/main", A, Z, 0, 0), "ok");
	assert_string_equal(decide(GS_ROLE_WRITER, "refs/heads/feature", A, B, 0, 0), "ok");
	assert_string_equal(decide(GS_ROLE_WRITER, "refs/heads/feature", A, Z, 0, 0), "ok");
	assert_string_equal(decide(GS_ROLE_READER, "refs/heads/feature", Z, A, 1, 0), "writer_role_required");
	/* "main-old" is not the protected branch (anchored match) */
	assert_string_equal(decide(GS_ROLE_WRITER, "refs/heads/main-old", A, B, 0, 0), "ok");
}

static void test_refpolicy__release_refs(void **state)
{
	(void)state;
	assert_string_equal(decide(GS_ROLE_WRITER, "refs/tags/v1.0", Z, A, 1, 0), "release_ref_requires_publisher");
	assert_string_equal(decide(GS_ROLE_WRITER, "refs/tags/release/2026", Z, A, 1, 0), "release_ref_requires_publisher");
	assert_string_equal(decide(GS_ROLE_WRITER, "refs/tags/v1.0", A, Z, 1, 0), "release_ref_requires_publisher");
	assert_string_equal(decide(GS_ROLE_PUBLISHER, "refs/tags/v1.0", A, B, 1, 0), "ok");
	assert_string_equal(decide(GS_ROLE_WRITER, "refs/tags/nightly", Z, A, 1, 0), "ok");
}

static void test_refpolicy__system_repo_and_namespaces(void **state)
{
	(void)state;
	assert_string_equal(decide(GS_ROLE_PUBLISHER, "refs/heads/main", Z, A, 1, 1), "system_repository_admin_only");
	assert_string_equal(decide(GS_ROLE_ADMIN, "refs/heads/main", Z, A, 1, 1), "ok");
	assert_string_equal(decide(GS_ROLE_ADMIN, "refs/notes/commits", Z, A, 1, 0), "ref_namespace_forbidden");
	assert_string_equal(decide(GS_ROLE_ADMIN, "HEAD", Z, A, 1, 0), "ref_namespace_forbidden");
}

static void test_refpolicy__custom_patterns(void **state)
{
	gs_refpolicy p = {"refs/heads/draft", "refs/tags/pub-*", 0};
	gs_ref_decision d;
	(void)state;
	gs_refpolicy_check(&p, GS_ROLE_WRITER, "refs/heads/main", A, Z, 1, &d);
	assert_true(d.allowed);
	gs_refpolicy_check(&p, GS_ROLE_WRITER, "refs/heads/draft", A, Z, 1, &d);
	assert_false(d.allowed);
	gs_refpolicy_check(&p, GS_ROLE_WRITER, "refs/tags/v1", Z, A, 1, &d);
	assert_true(d.allowed);
	gs_refpolicy_check(&p, GS_ROLE_WRITER, "refs/tags/pub-1", Z, A, 1, &d);
	assert_false(d.allowed);
	assert_true(gs_refpolicy_needs_ancestry(&p, "refs/heads/draft", A, B));
	assert_false(gs_refpolicy_needs_ancestry(&p, "refs/heads/draft", Z, B));
	/* the publish branch is a release ref: publisher only */
	p.publish_branch = "refs/heads/live";
	assert_true(gs_refpolicy_is_release(&p, "refs/heads/live"));
	gs_refpolicy_check(&p, GS_ROLE_WRITER, "refs/heads/live", A, B, 1, &d);
	assert_false(d.allowed);
	assert_string_equal(d.code, "release_ref_requires_publisher");
	gs_refpolicy_check(&p, GS_ROLE_PUBLISHER, "refs/heads/live", A, B, 1, &d);
	assert_true(d.allowed);
	assert_false(gs_refpolicy_is_release(&p, "refs/heads/lively"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refpolicy__branches),
		cmocka_unit_test(test_refpolicy__release_refs),
		cmocka_unit_test(test_refpolicy__system_repo_and_namespaces),
		cmocka_unit_test(test_refpolicy__custom_patterns),
	};
	return cmocka_run_group_tests_name("refpolicy", tests, NULL, NULL);
}
