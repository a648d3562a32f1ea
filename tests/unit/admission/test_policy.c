/* tests/unit/admission/test_policy.c -- ValidatingAdmissionPolicy compile
 * and evaluation, alone and inside the admission function. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "admission/admission.h"
#include "admission/policy.h"

static gs_adm_policy *compile(const char *json)
{
	json_t *spec = json_loads(json, 0, NULL);
	gs_adm_policy *p = NULL;
	gs_error err = GS_ERROR_INIT;
	assert_non_null(spec);
	assert_int_equal(gs_adm_policy_compile("p", spec, &p, &err), 0);
	json_decref(spec);
	return p;
}

static void eval(gs_adm_policy *p, const char *kind, const char *op, const char *object, gs_adm_policy_result *r)
{
	json_t *obj = json_loads(object, 0, NULL);
	json_t *req = json_pack("{s:s}", "operation", op);
	gs_adm_policy_eval(p, kind, op, obj, NULL, req, r);
	json_decref(obj);
	json_decref(req);
}

static void test_policy__deny_and_match(void **state)
{
	gs_adm_policy_result r;
	gs_adm_policy *p = compile("{\"matchConstraints\": {\"kinds\": [\"Product\"], \"operations\": [\"CREATE\"]},"
				   " \"validations\": [{\"expression\": \"object.spec.title.size() <= 3\","
				   " \"messageExpression\": \"'too long: ' + object.spec.title\", \"reason\": \"Forbidden\"}],"
				   " \"validationActions\": [\"Deny\"]}");
	(void)state;
	eval(p, "Product", "CREATE", "{\"spec\": {\"title\": \"abcd\"}}", &r);
	assert_true(r.matched && r.failed && r.deny && !r.warn);
	assert_int_equal(r.code, 403);
	assert_string_equal(r.message, "too long: abcd");
	eval(p, "Product", "CREATE", "{\"spec\": {\"title\": \"abc\"}}", &r);
	assert_true(r.matched && !r.failed);
	eval(p, "Product", "UPDATE", "{\"spec\": {\"title\": \"abcd\"}}", &r);
	assert_false(r.matched);
	eval(p, "ProductVariant", "CREATE", "{\"spec\": {\"title\": \"abcd\"}}", &r);
	assert_false(r.matched);
	gs_adm_policy_free(p);
}

static void test_policy__conditions_and_failure_policy(void **state)
{
	gs_adm_policy_result r;
	gs_adm_policy *fail = compile("{\"matchConstraints\": {\"kinds\": [\"Product\"]},"
				      " \"matchConditions\": [{\"name\": \"c\", \"expression\": \"has(object.spec.strict)\"}],"
				      " \"validations\": [{\"expression\": \"object.spec.nothere == 1\"}],"
				      " \"validationActions\": [\"Deny\"]}");
	gs_adm_policy *ignore = compile("{\"failurePolicy\": \"Ignore\", \"matchConstraints\": {\"kinds\": [\"Product\"]},"
					" \"validations\": [{\"expression\": \"object.spec.nothere == 1\"}],"
					" \"validationActions\": [\"Deny\"]}");
	(void)state;
	eval(fail, "Product", "UPDATE", "{\"spec\": {}}", &r);
	assert_false(r.matched); /* the condition is false */
	eval(fail, "Product", "UPDATE", "{\"spec\": {\"strict\": true}}", &r);
	assert_true(r.matched && r.failed && r.errored && r.deny);
	assert_int_equal(r.code, 422);
	eval(ignore, "Product", "UPDATE", "{\"spec\": {}}", &r);
	assert_true(r.matched && r.errored && !r.failed && !r.deny);
	gs_adm_policy_free(fail);
	gs_adm_policy_free(ignore);
}

static void test_policy__compile_errors(void **state)
{
	json_t *bad = json_loads("{\"matchConstraints\": {\"kinds\": [\"Product\"]}, \"validations\": [{\"expression\": "
				 "\"1 +\"}], \"validationActions\": [\"Deny\"]}",
				 0, NULL);
	json_t *nokinds = json_loads("{\"matchConstraints\": {}, \"validations\": [{\"expression\": \"true\"}],"
				     " \"validationActions\": [\"Deny\"]}",
				     0, NULL);
	gs_adm_policy *p = NULL;
	gs_error err = GS_ERROR_INIT;
	(void)state;
	assert_int_equal(gs_adm_policy_compile("bad", bad, &p, &err), GS_EINVALID);
	assert_null(p);
	assert_non_null(strstr(err.msg, "policy bad: validations: 1:"));
	gs_error_clear(&err);
	assert_int_equal(gs_adm_policy_compile("nokinds", nokinds, &p, &err), GS_EINVALID);
	json_decref(bad);
	json_decref(nokinds);
}

static int none_lookup(void *p, const char *kind, const char *name, gs_adm_object *out)
{
	(void)p, (void)kind, (void)name, (void)out;
	return 0;
}

static int none_sku(void *p, const char *sku, const char *name, char owner[64])
{
	(void)p, (void)sku, (void)name, (void)owner;
	return 0;
}

static void test_policy__in_admission(void **state)
{
	gs_adm_policy *pols[2];
	gs_adm_view v = {none_lookup, none_sku, NULL, pols, 2};
	gs_adm_request q;
	gs_adm_response r;
	json_t *spec = json_pack("{s:s}", "title", "Long title");
	json_t *out;
	const char *roles[1] = {"writer"};
	(void)state;
	pols[0] = compile("{\"matchConstraints\": {\"kinds\": [\"Product\"]}, \"validations\": [{\"expression\":"
			  " \"request.user.roles.exists(r, r == 'admin')\", \"message\": \"admins only\"}],"
			  " \"validationActions\": [\"Warn\", \"Audit\"]}");
	pols[1] = compile("{\"matchConstraints\": {\"kinds\": [\"Product\"]}, \"validations\": [{\"expression\":"
			  " \"object.spec.title.size() < 5 && object.metadata.name == 'shoe'\", \"message\": \"short\"}],"
			  " \"validationActions\": [\"Deny\"]}");
	memset(&q, 0, sizeof(q));
	q.operation = GS_ADM_CREATE;
	q.object.kind = "Product";
	q.object.ns = "shop";
	q.object.name = "shoe";
	q.object.spec = spec;
	q.user = "wes";
	q.roles = roles;
	q.nroles = 1;
	gs_adm_response_init(&r);
	gs_admission_review(&q, &v, &r);
	assert_false(r.allowed);
	assert_int_equal(r.code, 422);
	assert_string_equal(r.policy, "p");
	out = gs_adm_response_json(&r, "u");
	assert_int_equal(json_array_size(json_object_get(out, "warnings")), 1);
	assert_int_equal(json_array_size(json_object_get(out, "policies")), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(out, "errors"), 0), "policy")),
			    "p");
	json_decref(out);
	gs_adm_response_release(&r);
	gs_adm_policy_free(pols[0]);
	gs_adm_policy_free(pols[1]);
	json_decref(spec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy__deny_and_match),
		cmocka_unit_test(test_policy__conditions_and_failure_policy),
		cmocka_unit_test(test_policy__compile_errors),
		cmocka_unit_test(test_policy__in_admission),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
