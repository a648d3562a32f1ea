/* tests/fuzz/fuzz_catalog.c -- libFuzzer target: a pushed file through the
 * whole catalog parse (catalog/resource.c), at pre-receive depth and at
 * full depth, at a product path and at the one path where a Namespace
 * manifest is allowed. A ValidatingAdmissionPolicy that parses is also
 * compiled and run against a fixed product, as the ingest worker does
 * (admission/policy.c). Beyond the absence of crashes it checks what
 * callers rely on: every error record is one line with a code, a
 * resource that comes back has a kind it names a plural for, and spec,
 * labels and annotations are objects. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admission/policy.h"
#include "catalog/caterr.h"
#include "catalog/resource.h"
#include "util/error.h"

#define CHECK(c)                                                                                                       \
	do {                                                                                                           \
		if (!(c)) {                                                                                            \
			fprintf(stderr, "fuzz_catalog: check failed at line %d: %s\n", __LINE__, #c);                  \
			abort();                                                                                       \
		}                                                                                                      \
	} while (0)

static void run_policy(const gs_resource *r)
{
	gs_adm_policy *p = NULL;
	gs_adm_policy_result res;
	gs_error err = GS_ERROR_INIT;
	json_t *obj, *req;
	if (gs_adm_policy_compile(r->name, r->spec, &p, &err) < 0) {
		CHECK(err.msg[0] != 0);
		return;
	}
	obj = json_pack("{s:s, s:s, s:{s:s, s:{s:s}}, s:{s:s, s:i}}", "apiVersion", GS_CATALOG_API_VERSION, "kind",
			"Product", "metadata", "name", "p1", "labels", "app", "shop", "spec", "title", "Trail shoe",
			"price", 12);
	req = json_pack("{s:s, s:s}", "operation", "CREATE", "namespace", "default");
	memset(&res, 0, sizeof(res));
	gs_adm_policy_eval(p, "Product", "CREATE", obj, NULL, req, &res);
	CHECK(res.matched || (!res.failed && !res.errored));
	json_decref(obj);
	json_decref(req);
	gs_adm_policy_free(p);
}

static void parse_at(const char *data, size_t size, const char *path, gs_catalog_depth depth)
{
	gs_catalog_ctx ctx = {"default", "catalog", path, depth};
	gs_cat_errors errs;
	gs_resource *r = NULL;
	int rc;
	gs_cat_errors_init(&errs);
	rc = gs_catalog_parse(&ctx, data, size, &r, &errs);
	CHECK(rc == 0 || rc == GS_ENOTFOUND || rc == GS_EINVALID);
	CHECK(rc != GS_EINVALID || gs_cat_errors_count(&errs) > 0);
	for (size_t i = 0; i < errs.n; i++) {
		CHECK(errs.v[i].code[0] != 0);
		CHECK(strchr(errs.v[i].message, '\n') == NULL);
		CHECK(strchr(errs.v[i].field, '\n') == NULL);
	}
	if (r) {
		CHECK(json_is_object(r->spec) && json_is_object(r->labels) && json_is_object(r->annotations));
		CHECK(r->body != NULL && strlen(r->body) <= r->body_len);
		if (rc == 0) {
			CHECK(r->kind[0] && gs_catalog_plural(r->kind) != NULL);
			if (depth == GS_CATALOG_FULL && strcmp(r->kind, "ValidatingAdmissionPolicy") == 0)
				run_policy(r);
		}
		gs_resource_free(r);
	}
	gs_cat_errors_release(&errs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *d = (const char *)data;
	parse_at(d, size, "products/p.md", GS_CATALOG_STRUCTURAL);
	parse_at(d, size, "products/p.md", GS_CATALOG_FULL);
	parse_at(d, size, "namespaces/default.md", GS_CATALOG_FULL);
	return 0;
}
