/* tests/unit/admission/test_admission.c -- the admission chain with a
 * fake view of the namespace. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "admission/admission.h"

typedef struct fake_obj {
	const char *kind, *name;
	json_t *spec;
} fake_obj;

typedef struct fake_view {
	fake_obj objs[16];
	int n;
	int fail; /* lookups error out */
} fake_view;

static int fake_lookup(void *p, const char *kind, const char *name, gs_adm_object *out)
{
	fake_view *v = p;
	if (v->fail)
		return -1;
	for (int i = 0; i < v->n; i++)
		if (strcmp(v->objs[i].kind, kind) == 0 && strcmp(v->objs[i].name, name) == 0) {
			out->kind = kind;
			out->ns = "shop";
			out->name = v->objs[i].name;
			out->spec = v->objs[i].spec;
			out->labels = NULL;
			return 1;
		}
	return 0;
}

static int fake_sku(void *p, const char *sku, const char *name, char owner[64])
{
	fake_view *v = p;
	if (v->fail)
		return -1;
	for (int i = 0; i < v->n; i++) {
		const char *s = json_string_value(json_object_get(v->objs[i].spec, "sku"));
		if (strcmp(v->objs[i].kind, "ProductVariant") == 0 && strcmp(v->objs[i].name, name) != 0 && s &&
		    strcmp(s, sku) == 0) {
			snprintf(owner, 64, "%s", v->objs[i].name);
			return 1;
		}
	}
	return 0;
}

static void add(fake_view *v, const char *kind, const char *name, const char *spec_json)
{
	v->objs[v->n].kind = kind;
	v->objs[v->n].name = name;
	v->objs[v->n].spec = json_loads(spec_json, 0, NULL);
	assert_non_null(v->objs[v->n].spec);
	v->n++;
}

static void release(fake_view *v)
{
	for (int i = 0; i < v->n; i++)
		json_decref(v->objs[i].spec);
}

static const gs_adm_condition *cond(const gs_adm_response *r, const char *type)
{
	for (int i = 0; i < r->nconds; i++)
		if (strcmp(r->conds[i].type, type) == 0)
			return &r->conds[i];
	return NULL;
}

static void review(fake_view *fv, const char *kind, const char *name, const char *spec_json, gs_adm_response *r)
{
	gs_adm_view v = {fake_lookup, fake_sku, fv};
	gs_adm_request q;
	json_t *spec = json_loads(spec_json, 0, NULL);
	assert_non_null(spec);
	memset(&q, 0, sizeof(q));
	q.operation = GS_ADM_CREATE;
	q.object.kind = kind;
	q.object.ns = "shop";
	q.object.name = name;
	q.object.spec = spec;
	q.origin = "git";
	gs_adm_response_init(r);
	gs_admission_review(&q, &v, r);
	json_decref(spec);
}

static void test_admission__variant_product_and_options(void **state)
{
	fake_view fv = {0};
	gs_adm_response r;
	(void)state;
	/* product absent: ProductResolved False, options not checked, allowed */
	review(&fv, "ProductVariant", "v1", "{\"sku\":\"A\",\"productRef\":{\"name\":\"shoe\"},\"selectedOptions\":[{\"name\":\"color\",\"value\":\"gold\"}]}", &r);
	assert_true(r.allowed);
	assert_int_equal(cond(&r, "ProductResolved")->status, 0);
	assert_string_equal(cond(&r, "ProductResolved")->reason, "ProductNotFound");
	assert_string_equal(cond(&r, "OptionsAccepted")->reason, "NotChecked");
	gs_adm_response_release(&r);
	/* product present: options checked both ways */
	add(&fv, "Product", "shoe", "{\"options\":[{\"name\":\"color\",\"values\":[\"red\",\"blue\"]},{\"name\":\"size\"}]}");
	review(&fv, "ProductVariant", "v1", "{\"sku\":\"A\",\"productRef\":{\"name\":\"shoe\"},\"selectedOptions\":[{\"name\":\"color\",\"value\":\"gold\"}]}", &r);
	assert_true(r.allowed);
	assert_int_equal(cond(&r, "ProductResolved")->status, 1);
	assert_int_equal(cond(&r, "OptionsAccepted")->status, 0);
	assert_non_null(strstr(cond(&r, "OptionsAccepted")->message, "value \"gold\" for option \"color\""));
	gs_adm_response_release(&r);
	review(&fv, "ProductVariant", "v1", "{\"sku\":\"A\",\"productRef\":{\"name\":\"shoe\"},\"selectedOptions\":[{\"name\":\"width\",\"value\":\"w\"}]}", &r);
	assert_int_equal(cond(&r, "OptionsAccepted")->status, 0);
	assert_non_null(strstr(cond(&r, "OptionsAccepted")->message, "name \"width\""));
	gs_adm_response_release(&r);
	review(&fv, "ProductVariant", "v1", "{\"sku\":\"A\",\"productRef\":{\"name\":\"shoe\"},\"selectedOptions\":[{\"name\":\"color\",\"value\":\"red\"},{\"name\":\"size\",\"value\":\"42\"}]}", &r);
	assert_int_equal(cond(&r, "OptionsAccepted")->status, 1);
	gs_adm_response_release(&r);
	release(&fv);
}

static void test_admission__duplicate_sku_denies(void **state)
{
	fake_view fv = {0};
	gs_adm_response r;
	json_t *j;
	(void)state;
	add(&fv, "ProductVariant", "first", "{\"sku\":\"SKU-1\",\"productRef\":{\"name\":\"p\"}}");
	review(&fv, "ProductVariant", "second", "{\"sku\":\"SKU-1\",\"productRef\":{\"name\":\"p\"}}", &r);
	assert_false(r.allowed);
	assert_int_equal(r.code, 409);
	assert_string_equal(r.reason, "DuplicateSku");
	assert_string_equal(r.errors.v[0].code, "duplicate_sku");
	assert_string_equal(r.errors.v[0].field, "spec.sku");
	j = gs_adm_response_json(&r, "u1");
	assert_false(json_is_true(json_object_get(j, "allowed")));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "status"), "code")), 409);
	json_decref(j);
	gs_adm_response_release(&r);
	/* the holder itself is not a clash */
	review(&fv, "ProductVariant", "first", "{\"sku\":\"SKU-1\",\"productRef\":{\"name\":\"p\"}}", &r);
	assert_true(r.allowed);
	gs_adm_response_release(&r);
	release(&fv);
}

static void test_admission__category_parent_and_cycles(void **state)
{
	fake_view fv = {0};
	gs_adm_response r;
	(void)state;
	review(&fv, "CategoryTaxonomy", "root", "{\"title\":\"Root\"}", &r);
	assert_int_equal(cond(&r, "ParentResolved")->status, 1);
	assert_int_equal(cond(&r, "Acyclic")->status, 1);
	gs_adm_response_release(&r);
	review(&fv, "CategoryTaxonomy", "orphan", "{\"title\":\"O\",\"parentRef\":{\"name\":\"missing\"}}", &r);
	assert_int_equal(cond(&r, "ParentResolved")->status, 0);
	assert_string_equal(cond(&r, "ParentResolved")->reason, "ParentNotFound");
	gs_adm_response_release(&r);
	/* a -> b -> c -> a */
	add(&fv, "CategoryTaxonomy", "b", "{\"title\":\"B\",\"parentRef\":{\"name\":\"c\"}}");
	add(&fv, "CategoryTaxonomy", "c", "{\"title\":\"C\",\"parentRef\":{\"name\":\"a\"}}");
	review(&fv, "CategoryTaxonomy", "a", "{\"title\":\"A\",\"parentRef\":{\"name\":\"b\"}}", &r);
	assert_true(r.allowed);
	assert_int_equal(cond(&r, "ParentResolved")->status, 1);
	assert_int_equal(cond(&r, "Acyclic")->status, 0);
	assert_string_equal(cond(&r, "Acyclic")->reason, "CycleDetected");
	gs_adm_response_release(&r);
	/* d -> b: b's cycle does not run through d */
	review(&fv, "CategoryTaxonomy", "d", "{\"title\":\"D\",\"parentRef\":{\"name\":\"b\"}}", &r);
	assert_int_equal(cond(&r, "Acyclic")->status, 1);
	gs_adm_response_release(&r);
	release(&fv);
}

static void test_admission__product_collection_and_fail_closed(void **state)
{
	fake_view fv = {0};
	gs_adm_response r;
	gs_cat_errors schema;
	gs_adm_view v = {fake_lookup, fake_sku, &fv};
	gs_adm_request q;
	(void)state;
	review(&fv, "Product", "p", "{\"categoryRef\":{\"name\":\"shoes\"}}", &r);
	assert_true(r.allowed);
	assert_int_equal(cond(&r, "CategoryResolved")->status, 0);
	gs_adm_response_release(&r);
	add(&fv, "Product", "p", "{}");
	review(&fv, "Collection", "c", "{\"title\":\"C\",\"targetRef\":{\"kind\":\"Product\",\"name\":\"p\"}}", &r);
	assert_int_equal(cond(&r, "TargetResolved")->status, 1);
	gs_adm_response_release(&r);
	/* a lookup error denies */
	fv.fail = 1;
	review(&fv, "ProductVariant", "v", "{\"sku\":\"S\",\"productRef\":{\"name\":\"p\"}}", &r);
	assert_false(r.allowed);
	assert_int_equal(r.code, 500);
	assert_string_equal(r.reason, "CheckFailed");
	gs_adm_response_release(&r);
	fv.fail = 0;
	/* schema errors deny first */
	gs_cat_errors_init(&schema);
	gs_cat_errors_add(&schema, 7, "spec.title", "too_long", "spec.title exceeds 200 characters");
	memset(&q, 0, sizeof(q));
	q.operation = GS_ADM_UPDATE;
	q.object.kind = "Product";
	q.object.ns = "shop";
	q.object.name = "p";
	q.schema_errors = &schema;
	gs_adm_response_init(&r);
	gs_admission_review(&q, &v, &r);
	assert_false(r.allowed);
	assert_int_equal(r.code, 422);
	assert_string_equal(r.reason, "SchemaValidationFailed");
	assert_string_equal(r.errors.v[0].code, "too_long");
	gs_adm_response_release(&r);
	gs_cat_errors_release(&schema);
	release(&fv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_admission__variant_product_and_options),
		cmocka_unit_test(test_admission__duplicate_sku_denies),
		cmocka_unit_test(test_admission__category_parent_and_cycles),
		cmocka_unit_test(test_admission__product_collection_and_fail_closed),
	};
	return cmocka_run_group_tests_name("admission", tests, NULL, NULL);
}
