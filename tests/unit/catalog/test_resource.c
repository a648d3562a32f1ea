/*
 * tests/unit/catalog/test_resource.c -- the catalog validator: the
 * reference examples (tests/data/catalog, copied from
 * shared/reference/examples), one case per rule and error code, the
 * schema-typed spec JSON, identities and the whole-tree check.
 *
 * Rule cases are rows of a table (name, repository, path, depth, file,
 * expected records as "line|field|code" lines in output order; a field
 * ending in '*' matches by prefix); each row runs as its own cmocka test
 * named test_resource__<row>.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/caterr.h"
#include "catalog/resource.h"
#include "util/buf.h"

/* ---- helpers ------------------------------------------------------------ */

static gs_catalog_ctx ctx_catalog(gs_catalog_depth depth)
{
	gs_catalog_ctx c = {"acme-outfitters", "catalog", "products/x.md", depth};
	return c;
}

static gs_catalog_ctx ctx_system(const char *path)
{
	gs_catalog_ctx c = {"gitstore-system", "gitstore-system", path, GS_CATALOG_FULL};
	return c;
}

static char *read_data(const char *name, size_t *len)
{
	static const char *const dirs[] = {"tests/data/catalog/", "../tests/data/catalog/", "../../tests/data/catalog/"};
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		char path[512];
		FILE *f;
		char *buf;
		long n;
		snprintf(path, sizeof(path), "%s%s", dirs[i], name);
		f = fopen(path, "rb");
		if (!f)
			continue;
		fseek(f, 0, SEEK_END);
		n = ftell(f);
		fseek(f, 0, SEEK_SET);
		buf = malloc((size_t)n + 1);
		assert_non_null(buf);
		assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
		buf[n] = 0;
		fclose(f);
		*len = (size_t)n;
		return buf;
	}
	fail_msg("cannot find tests/data/catalog/%s (run from the repository root)", name);
	return NULL;
}

/* "line|field|code\n" per record. */
static void format_errors(const gs_cat_errors *errs, gs_buf *out)
{
	for (size_t i = 0; i < errs->n; i++)
		gs_buf_printf(out, NULL, "%u|%s|%s\n", errs->v[i].line, errs->v[i].field, errs->v[i].code);
}

static void print_errors(const char *what, const gs_cat_errors *errs)
{
	for (size_t i = 0; i < errs->n; i++)
		print_message("%s: %u: %s: %s [%s]\n", what, errs->v[i].line, errs->v[i].field, errs->v[i].message,
			      errs->v[i].code);
}

/* Exact list compare; an expected field ending in '*' is a prefix. */
static int errors_match(const char *expect, const char *actual)
{
	while (*expect && *actual) {
		const char *e_end = strchr(expect, '\n'), *a_end = strchr(actual, '\n');
		const char *e_bar1, *e_bar2, *a_bar1, *a_bar2;
		if (!e_end || !a_end)
			return 0;
		e_bar1 = strchr(expect, '|');
		e_bar2 = strchr(e_bar1 + 1, '|');
		a_bar1 = strchr(actual, '|');
		a_bar2 = strchr(a_bar1 + 1, '|');
		/* line */
		if (e_bar1 - expect != a_bar1 - actual || memcmp(expect, actual, (size_t)(e_bar1 - expect)) != 0)
			return 0;
		/* field */
		if (e_bar2 > e_bar1 + 1 && e_bar2[-1] == '*') {
			size_t n = (size_t)(e_bar2 - 1 - (e_bar1 + 1));
			if ((size_t)(a_bar2 - (a_bar1 + 1)) < n || memcmp(e_bar1 + 1, a_bar1 + 1, n) != 0)
				return 0;
		} else if (e_bar2 - e_bar1 != a_bar2 - a_bar1 ||
			   memcmp(e_bar1, a_bar1, (size_t)(e_bar2 - e_bar1)) != 0) {
			return 0;
		}
		/* code */
		if (e_end - e_bar2 != a_end - a_bar2 || memcmp(e_bar2, a_bar2, (size_t)(e_end - e_bar2)) != 0)
			return 0;
		expect = e_end + 1;
		actual = a_end + 1;
	}
	return *expect == 0 && *actual == 0;
}

static int has_code(const gs_cat_errors *errs, const char *code)
{
	for (size_t i = 0; i < errs->n; i++)
		if (strcmp(errs->v[i].code, code) == 0)
			return 1;
	return 0;
}

static int parse_text(const gs_catalog_ctx *ctx, const char *text, gs_resource **res, gs_cat_errors *errs)
{
	return gs_catalog_parse(ctx, text, strlen(text), res, errs);
}

/* ---- the rule table ----------------------------------------------------- */

typedef struct rcase {
	const char *name;
	const char *repo_ns;   /* NULL: acme-outfitters/catalog */
	const char *repo_name;
	const char *path;      /* NULL: products/x.md */
	gs_catalog_depth depth; /* 0: FULL */
	const char *text;
	const char *expect;    /* "" when valid */
} rcase;

#define SYS "gitstore-system", "gitstore-system"
#define API "apiVersion: catalog.gitstore.dev/v1beta1\n"
/* headers: the next line is line 6 */
#define PRODUCT "---\n" API "kind: Product\nmetadata:\n  name: p\n"
#define VARIANT "---\n" API "kind: ProductVariant\nmetadata:\n  name: v\n"
#define CATEGORY "---\n" API "kind: CategoryTaxonomy\nmetadata:\n  name: c\n"
#define COLLECTION "---\n" API "kind: Collection\nmetadata:\n  name: col\n"
#define NAMESPACE "---\napiVersion: gitstore.dev/v1beta1\nkind: Namespace\nmetadata:\n  name: acme\n"
/* lines 6-10; the next line is 11 */
#define VARIANT_REQ VARIANT "spec:\n  title: T\n  sku: S\n  productRef:\n    name: p\n"
/* pricing under VARIANT_REQ: lines 11-15 (type at 15); the next is 16 */
#define PRICE0 "  pricing:\n    priceSet:\n      name: retail\n      prices:\n      - currencyCode: EUR\n" \
	       "        amount: \"1.00\"\n        strategy:\n          type: fixed\n"
/* labels under PRODUCT: the first label is line 7 */
#define LABELS PRODUCT "  labels:\n"
#define END "---\n"

#define S10 "abcdefghij"
#define S60 S10 S10 S10 S10 S10 S10
#define S63 S60 "abc"
#define S64 S60 "abcd"
#define S50 S10 S10 S10 S10 S10
#define P253 S50 S50 S50 S50 S50 "abc"
#define X10 "xxxxxxxxxx"
#define X100 X10 X10 X10 X10 X10 X10 X10 X10 X10 X10
#define E10 "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
#define E50 E10 E10 E10 E10 E10
#define E200 E50 E50 E50 E50

static const rcase CASES[] = {
	/* -- detection, front-matter, YAML (lower layers, seen through parse) -- */
	{"unclosed_frontmatter", NULL, NULL, NULL, 0, "---\n" API "kind: Product\nspec: {}\n", "1||unclosed_frontmatter\n"},
	{"yaml_duplicate_key", NULL, NULL, NULL, 0, PRODUCT "spec:\n  title: a\n  title: b\n" END,
	 "8|spec.title|yaml_duplicate_key\n"},
	{"yaml_syntax", NULL, NULL, NULL, 0, PRODUCT "spec:\n  title: \"open\n" END, "8||yaml_syntax\n"},
	{"yaml_alias_and_anchor", NULL, NULL, NULL, 0, PRODUCT "  labels: &l {a: b}\nspec:\n  title: *l\n" END,
	 "6|metadata.labels|yaml_anchor\n8|spec.title|yaml_alias\n"},
	{"yaml_not_mapping", NULL, NULL, NULL, 0, "---\n- a\n- b\n" END, "2||yaml_not_mapping\n"},
	{"invalid_frontmatter_delimiter", NULL, NULL, NULL, 0, "--- \n" API "kind: Product\n" END,
	 "1||invalid_frontmatter_delimiter\n"},
	{"invalid_utf8", NULL, NULL, NULL, 0, PRODUCT "spec:\n  title: \"a\xff\"\n" END, "7||invalid_utf8\n"},
	{"yaml_tag", NULL, NULL, NULL, 0, PRODUCT "spec:\n  title: !!binary eA==\n" END, "7|spec.title|yaml_tag\n"},
	{"yaml_str_tag_makes_a_string", NULL, NULL, NULL, 0,
	 PRODUCT "spec:\n  media:\n  - fileRef: {kind: File, name: x, optional: !!str true}\n" END,
	 "8|spec.media[0].fileRef.optional|invalid_type\n"},
	{"yaml_multiple_documents", NULL, NULL, NULL, 0, PRODUCT "spec: {}\n--- {a: b}\n" END,
	 "7||yaml_multiple_documents\n"},
	{"yaml_too_deep", NULL, NULL, NULL, 0,
	 PRODUCT "spec:\n  tags: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n" END,
	 "7||yaml_too_deep\n"},
	{"crlf_file_valid", NULL, NULL, NULL, 0,
	 "---\r\n" "apiVersion: catalog.gitstore.dev/v1beta1\r\nkind: Product\r\nmetadata:\r\n  name: p\r\nspec: {}\r\n---\r\n",
	 ""},

	/* -- envelope -- */
	{"legacy_frontmatter", NULL, NULL, NULL, 0, "---\nkind: Product\ntitle: Old\nprice: 49.90\n" END,
	 "1||legacy_frontmatter\n"},
	{"legacy_empty_block", NULL, NULL, NULL, 0, "---\n---\nbody\n", "1||legacy_frontmatter\n"},
	{"api_version_v1", NULL, NULL, NULL, 0,
	 "---\napiVersion: catalog.gitstore.dev/v1\nkind: Product\nmetadata:\n  name: p\nspec: {}\n" END,
	 "2|apiVersion|unsupported_api_version\n"},
	{"api_version_empty", NULL, NULL, NULL, 0,
	 "---\napiVersion: \"\"\nkind: Product\nmetadata:\n  name: p\nspec: {}\n" END, "2|apiVersion|required\n"},
	{"api_version_null", NULL, NULL, NULL, 0,
	 "---\napiVersion:\nkind: Product\nmetadata:\n  name: p\nspec: {}\n" END, "2|apiVersion|required\n"},
	{"api_version_not_string", NULL, NULL, NULL, 0,
	 "---\napiVersion: [a]\nkind: Product\nmetadata:\n  name: p\nspec: {}\n" END, "2|apiVersion|invalid_type\n"},
	{"api_version_other_group_for_kind", SYS, "namespaces/acme.md", 0,
	 "---\n" API "kind: Namespace\nmetadata:\n  name: acme\nspec:\n  tier: USER\n" END,
	 "2|apiVersion|unsupported_api_version\n"},
	{"api_version_unknown_and_kind_unknown", NULL, NULL, NULL, 0,
	 "---\napiVersion: storage.gitstore.dev/v1beta1\nkind: File\nmetadata:\n  name: f\nspec: {}\n" END,
	 "2|apiVersion|unsupported_api_version\n3|kind|unknown_kind\n"},
	{"kind_missing", NULL, NULL, NULL, 0, "---\n" API "metadata:\n  name: p\nspec: {}\n" END, "1|kind|required\n"},
	{"kind_empty", NULL, NULL, NULL, 0, "---\n" API "kind: \"\"\nmetadata:\n  name: p\nspec: {}\n" END,
	 "3|kind|required\n"},
	{"kind_not_string", NULL, NULL, NULL, 0, "---\n" API "kind: {a: b}\nmetadata:\n  name: p\nspec: {}\n" END,
	 "3|kind|invalid_type\n"},
	{"unknown_kind_case_sensitive", NULL, NULL, NULL, 0,
	 "---\n" API "kind: collection\nmetadata:\n  name: p\nspec: {}\n" END, "3|kind|unknown_kind\n"},
	{"unknown_kind_file", NULL, NULL, NULL, 0, "---\n" API "kind: File\nmetadata:\n  name: p\nspec: {}\n" END,
	 "3|kind|unknown_kind\n"},
	{"unknown_kind_repository", NULL, NULL, NULL, 0,
	 "---\napiVersion: gitstore.dev/v1beta1\nkind: Repository\nmetadata:\n  name: p\nspec: {}\n" END,
	 "3|kind|unknown_kind\n"},
	{"metadata_missing", NULL, NULL, NULL, 0, "---\n" API "kind: Product\nspec: {}\n" END, "1|metadata|required\n"},
	{"metadata_not_mapping", NULL, NULL, NULL, 0, "---\n" API "kind: Product\nmetadata: p\nspec: {}\n" END,
	 "4|metadata|invalid_type\n"},
	{"metadata_name_missing", NULL, NULL, NULL, 0, "---\n" API "kind: Product\nmetadata: {}\nspec: {}\n" END,
	 "4|metadata.name|required\n"},
	{"metadata_name_empty", NULL, NULL, NULL, 0, "---\n" API "kind: Product\nmetadata:\n  name: \"\"\nspec: {}\n" END,
	 "5|metadata.name|required\n"},
	{"metadata_name_not_string", NULL, NULL, NULL, 0,
	 "---\n" API "kind: Product\nmetadata:\n  name: [a]\nspec: {}\n" END, "5|metadata.name|invalid_type\n"},
	{"spec_missing", NULL, NULL, NULL, 0, PRODUCT END, "1|spec|required\n"},
	{"spec_null_is_present", NULL, NULL, NULL, 0, PRODUCT "spec:\n" END, ""},
	{"spec_not_mapping", NULL, NULL, NULL, 0, PRODUCT "spec: [a]\n" END, "6|spec|invalid_type\n"},
	{"status_forbidden", NULL, NULL, NULL, 0, PRODUCT "spec: {}\nstatus: {}\n" END, "7|status|status_forbidden\n"},
	{"status_forbidden_even_null", NULL, NULL, NULL, 0, PRODUCT "spec: {}\nstatus:\n" END,
	 "7|status|status_forbidden\n"},
	{"status_tolerated_on_namespace", SYS, "namespaces/acme.md", 0,
	 NAMESPACE "spec:\n  tier: USER\nstatus:\n  conditions: []\n" END, ""},
	{"readonly_metadata_all_seven", NULL, NULL, NULL, 0,
	 "---\n" API "kind: Product\nmetadata:\n  name: p\n  uid: u\n  resourceVersion: \"1\"\n  generation: 1\n"
	 "  creationTimestamp: 2026-01-01T00:00:00Z\n  revision: main@sha1:0\n  ownerReferences: []\n  finalizers:\n"
	 "  - x\nspec: {}\n" END,
	 "6|metadata.uid|readonly_metadata\n7|metadata.resourceVersion|readonly_metadata\n"
	 "8|metadata.generation|readonly_metadata\n9|metadata.creationTimestamp|readonly_metadata\n"
	 "10|metadata.revision|readonly_metadata\n11|metadata.ownerReferences|readonly_metadata\n"
	 "12|metadata.finalizers|readonly_metadata\n"},
	{"readonly_metadata_null_value", NULL, NULL, NULL, 0, PRODUCT "  uid:\nspec: {}\n" END,
	 "6|metadata.uid|readonly_metadata\n"},
	{"generate_name_ignored", NULL, NULL, NULL, 0, PRODUCT "  generateName: p-\nspec: {}\n" END, ""},
	{"every_envelope_error_at_once", NULL, NULL, NULL, 0,
	 "---\napiVersion: [x]\nmetadata:\n  uid: u\nspec: []\nstatus: {}\n" END,
	 "1|kind|required\n2|apiVersion|invalid_type\n3|metadata.name|required\n4|metadata.uid|readonly_metadata\n"
	 "5|spec|invalid_type\n6|status|status_forbidden\n"},

	/* -- metadata.name, metadata.namespace -- */
	{"name_dns_label_ok_63", NULL, NULL, NULL, 0, "---\n" API "kind: Product\nmetadata:\n  name: " S63 "\nspec: {}\n" END,
	 ""},
	{"invalid_name_64", NULL, NULL, NULL, 0, "---\n" API "kind: Product\nmetadata:\n  name: " S64 "\nspec: {}\n" END,
	 "5|metadata.name|invalid_name\n"},
	{"invalid_name_uppercase", NULL, NULL, NULL, 0, "---\n" API "kind: Product\nmetadata:\n  name: Trail\nspec: {}\n" END,
	 "5|metadata.name|invalid_name\n"},
	{"invalid_name_underscore", NULL, NULL, NULL, 0,
	 "---\n" API "kind: Product\nmetadata:\n  name: trail_runner\nspec: {}\n" END, "5|metadata.name|invalid_name\n"},
	{"invalid_name_hyphen_edge", NULL, NULL, NULL, 0, "---\n" API "kind: Product\nmetadata:\n  name: -trail\nspec: {}\n" END,
	 "5|metadata.name|invalid_name\n"},
	{"invalid_name_dotted", NULL, NULL, NULL, 0, "---\n" API "kind: Product\nmetadata:\n  name: a.b\nspec: {}\n" END,
	 "5|metadata.name|invalid_name\n"},
	{"namespace_mismatch", NULL, NULL, NULL, 0, PRODUCT "  namespace: other-shop\nspec: {}\n" END,
	 "6|metadata.namespace|namespace_mismatch\n"},
	{"namespace_equal_ok", NULL, NULL, NULL, 0, PRODUCT "  namespace: acme-outfitters\nspec: {}\n" END, ""},
	{"namespace_empty_is_inferred", NULL, NULL, NULL, 0, PRODUCT "  namespace: \"\"\nspec: {}\n" END, ""},
	{"namespace_not_string", NULL, NULL, NULL, 0, PRODUCT "  namespace: [a]\nspec: {}\n" END,
	 "6|metadata.namespace|invalid_type\n"},

	/* -- labels (bytes) and annotations -- */
	{"labels_boundaries_ok", NULL, NULL, NULL, 0,
	 LABELS "    " S63 ": " S63 "\n    " P253 "/" S63 ": x\n    \"\": \"\"\nspec: {}\n" END, ""},
	{"label_key_prefix_254", NULL, NULL, NULL, 0, LABELS "    " P253 "a/x: v\nspec: {}\n" END,
	 "7|metadata.labels[abc*|label_key_too_long\n"},
	{"label_key_name_segment_64", NULL, NULL, NULL, 0, LABELS "    example.com/" S64 ": v\nspec: {}\n" END,
	 "7|metadata.labels[example.com/" S64 "]|label_key_too_long\n"},
	{"label_key_64", NULL, NULL, NULL, 0, LABELS "    " S64 ": v\nspec: {}\n" END,
	 "7|metadata.labels[" S64 "]|label_key_too_long\n"},
	{"label_key_split_at_first_slash", NULL, NULL, NULL, 0, LABELS "    a/b/" S63 ": v\nspec: {}\n" END,
	 "7|metadata.labels[a/b/" S63 "]|label_key_too_long\n"},
	{"label_value_64", NULL, NULL, NULL, 0, LABELS "    k: " S64 "\nspec: {}\n" END,
	 "7|metadata.labels[k]|label_value_too_long\n"},
	{"label_value_counts_bytes", NULL, NULL, NULL, 0, LABELS "    k: " E10 E10 E10 "\xc3\xa9\xc3\xa9\nspec: {}\n" END,
	 "7|metadata.labels[k]|label_value_too_long\n"},
	{"label_value_63_bytes_multibyte_ok", NULL, NULL, NULL, 0,
	 LABELS "    k: " E10 E10 E10 "\xc3\xa9" "a\nspec: {}\n" END, ""},
	{"labels_every_error_reported", NULL, NULL, NULL, 0,
	 LABELS "    " S64 ": " S64 "\n    b: " S64 "\nspec: {}\n" END,
	 "7|metadata.labels[" S64 "]|label_key_too_long\n7|metadata.labels[" S64 "]|label_value_too_long\n"
	 "8|metadata.labels[b]|label_value_too_long\n"},
	{"label_value_not_string", NULL, NULL, NULL, 0, LABELS "    k: [a]\nspec: {}\n" END,
	 "7|metadata.labels[k]|invalid_type\n"},
	{"labels_not_mapping", NULL, NULL, NULL, 0, PRODUCT "  labels: [a]\nspec: {}\n" END,
	 "6|metadata.labels|invalid_type\n"},
	{"annotations_unlimited", NULL, NULL, NULL, 0,
	 PRODUCT "  annotations:\n    " S64 S64 ": " X100 X100 X100 "\nspec: {}\n" END, ""},
	{"annotation_value_not_string", NULL, NULL, NULL, 0, PRODUCT "  annotations:\n    a: {b: c}\nspec: {}\n" END,
	 "7|metadata.annotations[a]|invalid_type\n"},

	/* -- Product -- */
	{"product_spec_empty_ok", NULL, NULL, NULL, 0, PRODUCT "spec: {}\n" END, ""},
	{"title_200_ascii_ok", NULL, NULL, NULL, 0, PRODUCT "spec:\n  title: " X100 X100 "\n" END, ""},
	{"too_long_title_201", NULL, NULL, NULL, 0, PRODUCT "spec:\n  title: " X100 X100 "x\n" END,
	 "7|spec.title|too_long\n"},
	{"title_200_code_points_ok", NULL, NULL, NULL, 0, PRODUCT "spec:\n  title: " E200 "\n" END, ""},
	{"too_long_title_201_code_points", NULL, NULL, NULL, 0, PRODUCT "spec:\n  title: " E200 "a\n" END,
	 "7|spec.title|too_long\n"},
	{"title_not_string", NULL, NULL, NULL, 0, PRODUCT "spec:\n  title: {en: x}\n" END, "7|spec.title|invalid_type\n"},
	{"invalid_type_category_ref_list", NULL, NULL, NULL, 0, PRODUCT "spec:\n  categoryRef:\n  - name: a\n" END,
	 "8|spec.categoryRef|invalid_type\n"},
	{"category_ref_name_required", NULL, NULL, NULL, 0,
	 PRODUCT "spec:\n  categoryRef:\n    kind: CategoryTaxonomy\n" END, "7|spec.categoryRef.name|required\n"},
	{"tags_not_list", NULL, NULL, NULL, 0, PRODUCT "spec:\n  tags: running\n" END, "7|spec.tags|invalid_type\n"},
	{"tag_not_string", NULL, NULL, NULL, 0, PRODUCT "spec:\n  tags: [a, [b]]\n" END, "7|spec.tags[1]|invalid_type\n"},
	{"option_name_required", NULL, NULL, NULL, 0, PRODUCT "spec:\n  options:\n  - title: Colour\n" END,
	 "8|spec.options[0].name|required\n"},
	{"duplicate_option", NULL, NULL, NULL, 0,
	 PRODUCT "spec:\n  options:\n  - name: color\n  - name: size\n  - name: color\n  - name: color\n" END,
	 "10|spec.options[2].name|duplicate_option\n11|spec.options[3].name|duplicate_option\n"},
	{"options_case_sensitive_ok", NULL, NULL, NULL, 0,
	 PRODUCT "spec:\n  options:\n  - name: color\n    values: []\n  - name: Color\n" END, ""},
	{"option_values_not_list", NULL, NULL, NULL, 0, PRODUCT "spec:\n  options:\n  - name: c\n    values: red\n" END,
	 "9|spec.options[0].values|invalid_type\n"},
	{"media_file_ref_name_required", NULL, NULL, NULL, 0,
	 PRODUCT "spec:\n  media:\n  - fileRef:\n      kind: File\n      optional: true\n" END,
	 "8|spec.media[0].fileRef.name|required\n"},
	{"media_file_ref_kind_required", NULL, NULL, NULL, 0, PRODUCT "spec:\n  media:\n  - fileRef:\n      name: x\n" END,
	 "8|spec.media[0].fileRef.kind|required\n"},
	{"media_file_ref_required", NULL, NULL, NULL, 0, PRODUCT "spec:\n  media:\n  - {}\n  -\n" END,
	 "8|spec.media[0].fileRef|required\n9|spec.media[1].fileRef|required\n"},
	{"media_item_not_mapping", NULL, NULL, NULL, 0, PRODUCT "spec:\n  media:\n  - hero.png\n" END,
	 "8|spec.media[0]|invalid_type\n"},
	{"bool_yes_is_not_a_bool", NULL, NULL, NULL, 0,
	 PRODUCT "spec:\n  media:\n  - fileRef:\n      kind: File\n      name: x\n      optional: yes\n" END,
	 "11|spec.media[0].fileRef.optional|invalid_type\n"},
	{"bool_capitalised_is_not_a_bool", NULL, NULL, NULL, 0,
	 PRODUCT "spec:\n  media:\n  - fileRef:\n      kind: File\n      name: x\n      optional: True\n" END,
	 "11|spec.media[0].fileRef.optional|invalid_type\n"},
	{"unknown_spec_keys_dropped", NULL, NULL, NULL, 0, PRODUCT "spec:\n  price: 9.90\n  FileRef: {}\n" END, ""},

	/* -- ProductVariant -- */
	{"variant_minimal_ok", NULL, NULL, NULL, 0, VARIANT_REQ END, ""},
	{"variant_sku_and_product_ref_required", NULL, NULL, NULL, 0, VARIANT "spec:\n  title: T\n" END,
	 "6|spec.sku|required\n6|spec.productRef|required\n"},
	{"variant_title_required", NULL, NULL, NULL, 0, VARIANT "spec:\n  sku: S\n  productRef: {name: p}\n" END,
	 "6|spec.title|required\n"},
	{"variant_title_empty", NULL, NULL, NULL, 0, VARIANT "spec:\n  title: \"\"\n  sku: S\n  productRef: {name: p}\n" END,
	 "7|spec.title|required\n"},
	{"variant_title_has_no_max", NULL, NULL, NULL, 0,
	 VARIANT "spec:\n  title: " X100 X100 X100 "\n  sku: S\n  productRef: {name: p}\n" END, ""},
	{"variant_product_ref_name_required", NULL, NULL, NULL, 0,
	 VARIANT "spec:\n  title: T\n  sku: S\n  productRef: {kind: Product}\n" END, "9|spec.productRef.name|required\n"},
	{"variant_spec_null_all_required", NULL, NULL, NULL, 0, VARIANT "spec:\n" END,
	 "6|spec.title|required\n6|spec.sku|required\n6|spec.productRef|required\n"},
	{"selected_options_required", NULL, NULL, NULL, 0,
	 VARIANT_REQ "  selectedOptions:\n  - name: color\n  - value: blue\n  - {name: \"\", value: x}\n" END,
	 "12|spec.selectedOptions[0].value|required\n13|spec.selectedOptions[1].name|required\n"
	 "14|spec.selectedOptions[2].name|required\n"},
	{"pricing_valid", NULL, NULL, NULL, 0, VARIANT_REQ PRICE0 END, ""},
	{"price_set_name_required", NULL, NULL, NULL, 0, VARIANT_REQ "  pricing:\n    priceSet:\n      prices: []\n" END,
	 "12|spec.pricing.priceSet.name|required\n"},
	{"price_required_fields", NULL, NULL, NULL, 0,
	 VARIANT_REQ "  pricing:\n    priceSet:\n      name: r\n      prices:\n      - name: n\n      - strategy: {}\n" END,
	 "15|spec.pricing.priceSet.prices[0].currencyCode|required\n15|spec.pricing.priceSet.prices[0].amount|required\n"
	 "15|spec.pricing.priceSet.prices[0].strategy|required\n16|spec.pricing.priceSet.prices[1].currencyCode|required\n"
	 "16|spec.pricing.priceSet.prices[1].amount|required\n16|spec.pricing.priceSet.prices[1].strategy.type|required\n"},
	{"invalid_enum_strategy_type", NULL, NULL, NULL, 0,
	 VARIANT_REQ "  pricing:\n    priceSet:\n      name: r\n      prices:\n      - currencyCode: EUR\n"
	 "        amount: \"1\"\n        strategy: {type: bogo}\n" END,
	 "17|spec.pricing.priceSet.prices[0].strategy.type|invalid_enum\n"},
	{"strategy_types_known", NULL, NULL, NULL, 0,
	 VARIANT_REQ "  pricing:\n    priceSet:\n      name: r\n      prices:\n"
	 "      - {currencyCode: EUR, amount: \"1\", strategy: {type: fixed}}\n"
	 "      - {currencyCode: EUR, amount: \"1\", strategy: {type: fixedUnitPrice}}\n"
	 "      - {currencyCode: EUR, amount: \"1\", strategy: {type: percentage}}\n"
	 "      - {currencyCode: EUR, amount: \"1\", strategy: {type: tiered}}\n" END,
	 ""},
	{"numbers_are_literal_strings", NULL, NULL, NULL, 0,
	 VARIANT "spec:\n  title: 42\n  sku: 12345\n  productRef: {name: p}\n  pricing:\n    priceSet:\n      name: r\n"
	 "      prices:\n      - {currencyCode: EUR, amount: 9.90, strategy: {type: fixed}}\n" END,
	 ""},
	{"int32_priority_bounds_ok", NULL, NULL, NULL, 0,
	 VARIANT_REQ PRICE0 "        priority: -2147483648\n      - {currencyCode: EUR, amount: \"1\", strategy: {type: fixed}, "
	 "priority: 2147483647}\n" END,
	 ""},
	{"out_of_range_int32", NULL, NULL, NULL, 0, VARIANT_REQ PRICE0 "        priority: 2147483648\n" END,
	 "19|spec.pricing.priceSet.prices[0].priority|out_of_range\n"},
	{"out_of_range_int32_negative", NULL, NULL, NULL, 0, VARIANT_REQ PRICE0 "        priority: -2147483649\n" END,
	 "19|spec.pricing.priceSet.prices[0].priority|out_of_range\n"},
	{"int_quoted_is_a_string", NULL, NULL, NULL, 0, VARIANT_REQ PRICE0 "        priority: \"10\"\n" END,
	 "19|spec.pricing.priceSet.prices[0].priority|invalid_type\n"},
	{"int_float_rejected", NULL, NULL, NULL, 0, VARIANT_REQ PRICE0 "        priority: 1.5\n" END,
	 "19|spec.pricing.priceSet.prices[0].priority|invalid_type\n"},
	{"int_leading_zero_rejected", NULL, NULL, NULL, 0, VARIANT_REQ PRICE0 "        priority: 010\n" END,
	 "19|spec.pricing.priceSet.prices[0].priority|invalid_type\n"},
	{"int_hex_and_octal_ok", NULL, NULL, NULL, 0,
	 VARIANT_REQ PRICE0 "        priority: 0x10\n        quantity: {min: 0o7, max: 0o10}\n" END, ""},
	{"invalid_quantity_range", NULL, NULL, NULL, 0, VARIANT_REQ PRICE0 "        quantity:\n          min: 5\n          max: 2\n" END,
	 "21|spec.pricing.priceSet.prices[0].quantity.max|invalid_quantity_range\n"},
	{"quantity_equal_ok", NULL, NULL, NULL, 0, VARIANT_REQ PRICE0 "        quantity: {min: 3, max: 3}\n" END, ""},
	{"quantity_min_defaults_to_zero", NULL, NULL, NULL, 0, VARIANT_REQ PRICE0 "        quantity: {max: -1}\n" END,
	 "19|spec.pricing.priceSet.prices[0].quantity.max|invalid_quantity_range\n"},
	{"time_window_ok", NULL, NULL, NULL, 0,
	 VARIANT_REQ PRICE0 "        validFromTime: 2026-03-01T00:00:00.5Z\n        validUntilTime: \"2026-03-01T00:00:00.6Z\"\n" END,
	 ""},
	{"invalid_time_window_before", NULL, NULL, NULL, 0,
	 VARIANT_REQ PRICE0 "        validFromTime: 2026-05-01T00:00:00Z\n        validUntilTime: 2026-04-01T00:00:00Z\n" END,
	 "20|spec.pricing.priceSet.prices[0].validUntilTime|invalid_time_window\n"},
	{"invalid_time_window_equal_instants", NULL, NULL, NULL, 0,
	 VARIANT_REQ PRICE0 "        validFromTime: 2026-03-01T10:00:00+02:00\n        validUntilTime: 2026-03-01T08:00:00Z\n" END,
	 "20|spec.pricing.priceSet.prices[0].validUntilTime|invalid_time_window\n"},
	{"time_offsets_compared_in_utc", NULL, NULL, NULL, 0,
	 VARIANT_REQ PRICE0 "        validFromTime: 2026-03-01T10:00:00+02:00\n        validUntilTime: 2026-03-01T08:00:01Z\n" END,
	 ""},
	{"leap_day_ok", NULL, NULL, NULL, 0, VARIANT_REQ PRICE0 "        validFromTime: 2024-02-29T23:59:59-05:30\n" END, ""},
	{"invalid_timestamp_date_only", NULL, NULL, NULL, 0, VARIANT_REQ PRICE0 "        validFromTime: \"2026-03-01\"\n" END,
	 "19|spec.pricing.priceSet.prices[0].validFromTime|invalid_timestamp\n"},
	{"invalid_timestamp_no_leap_day", NULL, NULL, NULL, 0,
	 VARIANT_REQ PRICE0 "        validFromTime: 2025-02-29T00:00:00Z\n" END,
	 "19|spec.pricing.priceSet.prices[0].validFromTime|invalid_timestamp\n"},
	{"invalid_timestamp_no_offset", NULL, NULL, NULL, 0,
	 VARIANT_REQ PRICE0 "        validFromTime: 2026-03-01T00:00:00\n" END,
	 "19|spec.pricing.priceSet.prices[0].validFromTime|invalid_timestamp\n"},
	{"invalid_timestamp_lowercase_t", NULL, NULL, NULL, 0,
	 VARIANT_REQ PRICE0 "        validFromTime: 2026-03-01t00:00:00Z\n" END,
	 "19|spec.pricing.priceSet.prices[0].validFromTime|invalid_timestamp\n"},
	{"invalid_timestamp_hour_24", NULL, NULL, NULL, 0,
	 VARIANT_REQ PRICE0 "        validUntilTime: 2026-03-01T24:00:00Z\n" END,
	 "19|spec.pricing.priceSet.prices[0].validUntilTime|invalid_timestamp\n"},
	{"eligibility_rules", NULL, NULL, NULL, 0,
	 VARIANT_REQ PRICE0 "        eligibility:\n          constraints:\n          - name: no-expr\n"
	 "      - currencyCode: EUR\n        amount: \"1\"\n        strategy: {type: fixed}\n"
	 "        eligibility: {operator: all, constraints: [{expression: \"cart.total >\"}]}\n" END,
	 "19|spec.pricing.priceSet.prices[0].eligibility.operator|required\n"
	 "21|spec.pricing.priceSet.prices[0].eligibility.constraints[0].expression|required\n"
	 "25|spec.pricing.priceSet.prices[1].eligibility.operator|invalid_enum\n"},
	{"invalid_enum_inventory_policy", NULL, NULL, NULL, 0, VARIANT_REQ "  inventory:\n    policy: preorder\n" END,
	 "12|spec.inventory.policy|invalid_enum\n"},
	{"inventory_policy_empty_ok", NULL, NULL, NULL, 0,
	 VARIANT_REQ "  inventory:\n    managed: false\n    policy: \"\"\n  media: []\n" END, ""},
	{"inventory_managed_quoted", NULL, NULL, NULL, 0, VARIANT_REQ "  inventory: {managed: \"true\"}\n" END,
	 "11|spec.inventory.managed|invalid_type\n"},
	{"stock_location_name_required", NULL, NULL, NULL, 0,
	 VARIANT_REQ "  inventory:\n    stockLocationRefs:\n    - kind: StockLocation\n" END,
	 "13|spec.inventory.stockLocationRefs[0].name|required\n"},

	/* -- CategoryTaxonomy -- */
	{"category_ok", NULL, NULL, NULL, 0, CATEGORY "spec:\n  title: " X100 X100 X100 "\n  parentRef: {name: footwear}\n" END,
	 ""},
	{"category_title_required", NULL, NULL, NULL, 0, CATEGORY "spec: {}\n" END, "6|spec.title|required\n"},
	{"self_parent", NULL, NULL, NULL, 0, CATEGORY "spec:\n  title: C\n  parentRef:\n    name: c\n" END,
	 "9|spec.parentRef.name|self_parent\n"},
	{"parent_ref_name_required", NULL, NULL, NULL, 0, CATEGORY "spec:\n  title: C\n  parentRef: {kind: CategoryTaxonomy}\n" END,
	 "8|spec.parentRef.name|required\n"},

	/* -- Collection -- */
	{"collection_ok", NULL, NULL, NULL, 0,
	 COLLECTION "spec:\n  title: T\n  targetRef: {kind: Product, name: p}\n  selector:\n    matchLabels: {a: b, n: 1}\n"
	 "    matchExpressions:\n    - {key: a, operator: Exists}\n    - {key: b, operator: DoesNotExist, values: [ignored]}\n"
	 "    - {key: c, operator: NotIn, values: [x]}\n" END,
	 ""},
	{"collection_title_required", NULL, NULL, NULL, 0, COLLECTION "spec:\n  title:\n" END, "7|spec.title|required\n"},
	{"selector_values_required", NULL, NULL, NULL, 0,
	 COLLECTION "spec:\n  title: T\n  selector:\n    matchExpressions:\n    - key: a\n      operator: In\n"
	 "    - key: b\n      operator: Exists\n    - key: c\n      operator: NotIn\n      values: []\n" END,
	 "11|spec.selector.matchExpressions[0].values|selector_values_required\n"
	 "16|spec.selector.matchExpressions[2].values|selector_values_required\n"},
	{"selector_operator_rules", NULL, NULL, NULL, 0,
	 COLLECTION "spec:\n  title: T\n  selector:\n    matchExpressions:\n    - {key: a, operator: in, values: [x]}\n"
	 "    - {key: b}\n    - {operator: Exists}\n" END,
	 "10|spec.selector.matchExpressions[0].operator|invalid_enum\n11|spec.selector.matchExpressions[1].operator|required\n"
	 "12|spec.selector.matchExpressions[2].key|required\n"},
	{"match_labels_value_not_string", NULL, NULL, NULL, 0,
	 COLLECTION "spec:\n  title: T\n  selector:\n    matchLabels:\n      a: [b]\n" END,
	 "10|spec.selector.matchLabels[a]|invalid_type\n"},
	{"invalid_target_kind", NULL, NULL, NULL, 0,
	 COLLECTION "spec:\n  title: T\n  targetRef:\n    kind: ProductVariant\n    name: x\n" END,
	 "9|spec.targetRef.kind|invalid_target_kind\n"},
	{"invalid_target_kind_missing", NULL, NULL, NULL, 0, COLLECTION "spec:\n  title: T\n  targetRef:\n    name: x\n" END,
	 "8|spec.targetRef.kind|invalid_target_kind\n"},
	{"target_ref_name_required", NULL, NULL, NULL, 0, COLLECTION "spec:\n  title: T\n  targetRef: {kind: Product}\n" END,
	 "8|spec.targetRef.name|required\n"},

	/* -- Namespace -- */
	{"namespace_ok", SYS, "namespaces/acme.md", 0,
	 NAMESPACE "spec:\n  title: " E200 "\n  tier: ORGANIZATION\n  repositoryDefaults: {visibility: INTERNAL, "
	 "defaultBranch: main}\n  pushPolicyDefaults:\n    maxPackSizeBytes: 9223372036854775807\n    maxFileSizeBytes: 0\n"
	 "    receivePackHooks: {preReceive: {enabled: true}}\n" END,
	 ""},
	{"namespace_tier_required", SYS, "namespaces/acme.md", 0, NAMESPACE "spec: {}\n" END, "6|spec.tier|required\n"},
	{"invalid_enum_tier", SYS, "namespaces/acme.md", 0, NAMESPACE "spec:\n  tier: ENTERPRISE\n" END,
	 "7|spec.tier|invalid_enum\n"},
	{"invalid_enum_visibility", SYS, "namespaces/acme.md", 0,
	 NAMESPACE "spec:\n  tier: USER\n  repositoryDefaults:\n    visibility: public\n" END,
	 "9|spec.repositoryDefaults.visibility|invalid_enum\n"},
	{"namespace_title_too_long", SYS, "namespaces/acme.md", 0, NAMESPACE "spec:\n  title: " E200 "x\n  tier: USER\n" END,
	 "7|spec.title|too_long\n"},
	{"namespace_int64_rules", SYS, "namespaces/acme.md", 0,
	 NAMESPACE "spec:\n  tier: USER\n  pushPolicyDefaults:\n    maxPackSizeBytes: 10MB\n"
	 "    maxFileSizeBytes: 9223372036854775808\n" END,
	 "9|spec.pushPolicyDefaults.maxPackSizeBytes|invalid_type\n10|spec.pushPolicyDefaults.maxFileSizeBytes|out_of_range\n"},
	{"namespace_forbidden", SYS, "namespaces/acme.md", 0, NAMESPACE "  namespace: x\nspec:\n  tier: USER\n" END,
	 "6|metadata.namespace|namespace_forbidden\n"},
	{"namespace_manifest_location_repo", NULL, NULL, "namespaces/acme.md", 0, NAMESPACE "spec:\n  tier: USER\n" END,
	 "3||namespace_manifest_location\n"},
	{"namespace_manifest_location_repo_name", "gitstore-system", "catalog", "namespaces/acme.md", 0,
	 NAMESPACE "spec:\n  tier: USER\n" END, "3||namespace_manifest_location\n"},
	{"namespace_manifest_location_other_ns", "acme", "gitstore-system", "namespaces/acme.md", 0,
	 NAMESPACE "spec:\n  tier: USER\n" END, "3||namespace_manifest_location\n"},
	{"namespace_manifest_location_path", SYS, "namespaces/sub/acme.md", 0, NAMESPACE "spec:\n  tier: USER\n" END,
	 "5|metadata.name|namespace_manifest_location\n"},
	{"namespace_manifest_location_extension", SYS, "namespaces/acme.yaml", 0, NAMESPACE "spec:\n  tier: USER\n" END,
	 "5|metadata.name|namespace_manifest_location\n"},

	/* -- STRUCTURAL depth (pre-receive default) -- */
	{"structural_ignores_spec_rules", NULL, NULL, NULL, GS_CATALOG_STRUCTURAL,
	 VARIANT "spec:\n  title: 1\n  inventory: {policy: preorder, managed: \"x\"}\n" END, ""},
	{"structural_ignores_name_format", NULL, NULL, NULL, GS_CATALOG_STRUCTURAL,
	 "---\n" API "kind: Product\nmetadata:\n  name: Not_A_Label\n  namespace: other\n  labels: {k: " S64 "}\nspec: {}\n" END,
	 ""},
	{"structural_ignores_namespace_location", NULL, NULL, NULL, GS_CATALOG_STRUCTURAL,
	 NAMESPACE "  namespace: x\nspec: {}\n" END, ""},
	{"structural_envelope_errors", NULL, NULL, NULL, GS_CATALOG_STRUCTURAL,
	 "---\napiVersion: catalog.gitstore.dev/v1\nkind: Product\nmetadata:\n  generation: 1\nspec: [x]\nstatus: {}\n" END,
	 "2|apiVersion|unsupported_api_version\n4|metadata.name|required\n5|metadata.generation|readonly_metadata\n"
	 "6|spec|invalid_type\n7|status|status_forbidden\n"},
	{"structural_unknown_kind", NULL, NULL, NULL, GS_CATALOG_STRUCTURAL,
	 "---\n" API "kind: File\nmetadata:\n  name: p\nspec: {}\n" END, "3|kind|unknown_kind\n"},
	{"structural_yaml_errors", NULL, NULL, NULL, GS_CATALOG_STRUCTURAL,
	 PRODUCT "spec:\n  title: a\n  title: b\n" END, "8|spec.title|yaml_duplicate_key\n"},
	{"structural_legacy", NULL, NULL, NULL, GS_CATALOG_STRUCTURAL, "---\nkind: Product\n" END,
	 "1||legacy_frontmatter\n"},
	{"structural_spec_required", NULL, NULL, NULL, GS_CATALOG_STRUCTURAL, PRODUCT END, "1|spec|required\n"},
};

static void run_case(void **state)
{
	const rcase *c = *state;
	gs_catalog_ctx ctx = ctx_catalog(c->depth ? c->depth : GS_CATALOG_FULL);
	gs_cat_errors errs;
	gs_resource *res = NULL;
	gs_buf got;
	int rc, ok;

	if (c->repo_ns) {
		ctx.repo_ns = c->repo_ns;
		ctx.repo_name = c->repo_name;
	}
	if (c->path)
		ctx.path = c->path;
	gs_cat_errors_init(&errs);
	gs_buf_init(&got, 1 << 20);
	rc = parse_text(&ctx, c->text, &res, &errs);
	format_errors(&errs, &got);
	ok = errors_match(c->expect, got.ptr ? got.ptr : "");
	if (!ok) {
		print_message("case %s\nexpected:\n%sgot:\n%s", c->name, c->expect, got.ptr ? got.ptr : "");
		print_errors(c->name, &errs);
	}
	assert_true(ok);
	if (c->expect[0]) {
		assert_int_equal(rc, GS_EINVALID);
	} else {
		assert_int_equal(rc, 0);
		assert_non_null(res);
	}
	gs_resource_free(res);
	gs_buf_release(&got);
	gs_cat_errors_release(&errs);
}

/* ---- the reference examples --------------------------------------------- */

typedef struct example {
	const char *file;
	const char *expect; /* at FULL, as for rcase */
	int structural_reject; /* rejected at STRUCTURAL depth too */
} example;

static const example EXAMPLES[] = {
	{"01-valid-product-full.md", "", 0},
	{"02-valid-product-minimal.md", "", 0},
	{"03-valid-product-title-200-multibyte.md", "", 0},
	{"04-valid-variant-full.md", "", 0},
	{"05-valid-category-child.md", "", 0},
	{"06-valid-collection.md", "", 0},
	{"09-admitted-variant-incompatible-options.md", "", 0},
	{"10-invalid-legacy-frontmatter.md", "1||legacy_frontmatter\n", 1},
	{"11-invalid-unknown-kind.md", "3|kind|unknown_kind\n", 1},
	{"12-invalid-status-block.md", "11|status|status_forbidden\n", 1},
	{"13-invalid-readonly-metadata.md",
	 "6|metadata.uid|readonly_metadata\n7|metadata.generation|readonly_metadata\n"
	 "8|metadata.finalizers|readonly_metadata\n",
	 1},
	{"14-invalid-media-missing-name.md", "9|spec.media[0].fileRef.name|required\n", 0},
	{"15-invalid-product-title-201.md", "7|spec.title|too_long\n", 0},
	{"16-invalid-product-options-and-label.md",
	 "7|metadata.labels[gitstore.dev/tagline]|label_value_too_long\n15|spec.options[2].name|duplicate_option\n", 0},
	{"17-invalid-variant-missing-required.md", "6|spec.sku|required\n6|spec.productRef|required\n", 0},
	{"18-invalid-variant-pricing.md",
	 "19|spec.pricing.priceSet.prices[0].strategy.type|invalid_enum\n"
	 "26|spec.pricing.priceSet.prices[1].validUntilTime|invalid_time_window\n",
	 0},
	{"19-invalid-category-self-parent.md", "9|spec.parentRef.name|self_parent\n", 0},
	{"20-invalid-collection-selector.md", "13|spec.selector.matchExpressions[1].values|selector_values_required\n", 0},
};

static void check_example(const example *ex, gs_catalog_ctx ctx)
{
	gs_cat_errors errs;
	gs_resource *res = NULL;
	gs_buf got;
	size_t len;
	char *text = read_data(ex->file, &len);
	int rc, ok;

	gs_cat_errors_init(&errs);
	gs_buf_init(&got, 1 << 20);
	rc = gs_catalog_parse(&ctx, text, len, &res, &errs);
	format_errors(&errs, &got);
	if (ctx.depth == GS_CATALOG_FULL)
		ok = errors_match(ex->expect, got.ptr ? got.ptr : "");
	else
		ok = ex->structural_reject ? errors_match(ex->expect, got.ptr ? got.ptr : "") : errs.n == 0;
	if (!ok) {
		print_message("%s (depth %d)\nexpected:\n%sgot:\n%s", ex->file, ctx.depth, ex->expect, got.ptr ? got.ptr : "");
		print_errors(ex->file, &errs);
	}
	assert_true(ok);
	assert_int_equal(rc, errs.n ? GS_EINVALID : 0);
	gs_resource_free(res);
	gs_buf_release(&got);
	gs_cat_errors_release(&errs);
	free(text);
}

/* README "Push" column: accept ones are valid at FULL; reject ones are
 * rejected at FULL with the expected records. */
static void test_resource__examples_full(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(EXAMPLES) / sizeof(EXAMPLES[0]); i++)
		check_example(&EXAMPLES[i], ctx_catalog(GS_CATALOG_FULL));
}

/* Pre-receive default depth: 10-13 (envelope rules) are rejected there;
 * 14-20 (schema rules) pass and are rejected at admission (FULL), unless
 * the repository enforces full validation at pre-receive. */
static void test_resource__examples_structural(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(EXAMPLES) / sizeof(EXAMPLES[0]); i++)
		check_example(&EXAMPLES[i], ctx_catalog(GS_CATALOG_STRUCTURAL));
}

static void test_resource__example_namespace(void **state)
{
	gs_cat_errors errs;
	gs_resource *res = NULL;
	size_t len;
	char *text = read_data("07-valid-namespace.md", &len);
	gs_catalog_ctx ok = ctx_system("namespaces/acme-outfitters.md");
	gs_catalog_ctx elsewhere = ctx_catalog(GS_CATALOG_FULL);
	gs_catalog_ctx wrong_path = ctx_system("namespaces/acme.md");
	(void)state;

	gs_cat_errors_init(&errs);
	assert_int_equal(gs_catalog_parse(&ok, text, len, &res, &errs), 0);
	assert_int_equal(errs.n, 0);
	assert_string_equal(res->kind, "Namespace");
	assert_string_equal(res->ns, "");
	assert_int_equal(res->ns_from_metadata, 0);
	assert_string_equal(json_string_value(json_object_get(res->spec, "tier")), "ORGANIZATION");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(res->spec, "pushPolicyDefaults"),
							    "maxPackSizeBytes")),
			 52428800);
	gs_resource_free(res);
	res = NULL;

	assert_int_equal(gs_catalog_parse(&elsewhere, text, len, &res, &errs), GS_EINVALID);
	assert_int_equal(errs.n, 1);
	assert_string_equal(errs.v[0].code, "namespace_manifest_location");
	assert_string_equal(errs.v[0].message,
			    "namespace manifests are accepted only in repository gitstore-system/gitstore-system");
	gs_resource_free(res);
	res = NULL;
	gs_cat_errors_reset(&errs);

	assert_int_equal(gs_catalog_parse(&wrong_path, text, len, &res, &errs), GS_EINVALID);
	assert_int_equal(errs.n, 1);
	assert_string_equal(errs.v[0].field, "metadata.name");
	assert_string_equal(errs.v[0].message, "namespace \"acme-outfitters\" must be stored at namespaces/acme-outfitters.md");
	gs_resource_free(res);
	gs_cat_errors_release(&errs);
	free(text);
}

static void test_resource__example_skipped(void **state)
{
	gs_cat_errors errs;
	gs_resource *res = (gs_resource *)1;
	size_t len;
	char *text = read_data("08-skipped-plain-readme.md", &len);
	gs_catalog_ctx ctx = ctx_catalog(GS_CATALOG_FULL);
	(void)state;

	gs_cat_errors_init(&errs);
	assert_int_equal(gs_catalog_parse(&ctx, text, len, &res, &errs), GS_ENOTFOUND);
	assert_null(res);
	assert_int_equal(gs_cat_errors_count(&errs), 0);
	/* one detection rule: leading whitespace or a BOM is not tolerated */
	assert_int_equal(parse_text(&ctx, "\n---\n" API "kind: Product\n---\n", &res, &errs), GS_ENOTFOUND);
	assert_int_equal(parse_text(&ctx, "\xef\xbb\xbf---\n" API "---\n", &res, &errs), GS_ENOTFOUND);
	assert_int_equal(gs_catalog_parse(&ctx, "", 0, &res, &errs), GS_ENOTFOUND);
	assert_int_equal(gs_catalog_parse(&ctx, "--", 2, &res, &errs), GS_ENOTFOUND);
	assert_int_equal(gs_cat_errors_count(&errs), 0);
	gs_cat_errors_release(&errs);
	free(text);
}

/* The golden .expected files are exactly what the CLI prints; here the
 * messages of a few records are pinned too. */
static void test_resource__messages(void **state)
{
	static const struct {
		const char *file, *message;
	} pins[] = {
		{"11-invalid-unknown-kind.md", "\"collection\" is not a recognized kind; expected Product, ProductVariant, "
					      "CategoryTaxonomy, Collection or Namespace"},
		{"15-invalid-product-title-201.md", "must be at most 200 characters, got 201"},
		{"17-invalid-variant-missing-required.md", "required field is missing"},
		{"19-invalid-category-self-parent.md", "category \"footwear\" must not be its own parent"},
		{"20-invalid-collection-selector.md", "operator \"In\" requires at least one value"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(pins) / sizeof(pins[0]); i++) {
		gs_catalog_ctx ctx = ctx_catalog(GS_CATALOG_FULL);
		gs_cat_errors errs;
		gs_resource *res = NULL;
		size_t len;
		char *text = read_data(pins[i].file, &len);
		gs_cat_errors_init(&errs);
		assert_int_equal(gs_catalog_parse(&ctx, text, len, &res, &errs), GS_EINVALID);
		assert_true(errs.n >= 1);
		assert_string_equal(errs.v[0].message, pins[i].message);
		gs_resource_free(res);
		gs_cat_errors_release(&errs);
		free(text);
	}
}

/* ---- typed spec JSON, identity, body ------------------------------------ */

static void test_resource__product_json(void **state)
{
	gs_catalog_ctx ctx = ctx_catalog(GS_CATALOG_FULL);
	gs_cat_errors errs;
	gs_resource *res = NULL;
	size_t len;
	char *text = read_data("01-valid-product-full.md", &len);
	json_t *s, *opts, *media;
	(void)state;

	gs_cat_errors_init(&errs);
	assert_int_equal(gs_catalog_parse(&ctx, text, len, &res, &errs), 0);
	assert_string_equal(res->api_version, GS_CATALOG_API_VERSION);
	assert_string_equal(res->kind, "Product");
	assert_string_equal(res->name, "trail-runner-shoe");
	assert_string_equal(res->ns, "acme-outfitters");
	assert_int_equal(res->ns_from_metadata, 1);
	assert_int_equal(res->name_line, 5);
	assert_string_equal(json_string_value(json_object_get(res->labels, "gitstore.dev/terrain")), "trail");
	assert_int_equal(json_object_size(res->labels), 3);
	assert_int_equal(json_object_size(res->annotations), 2);
	s = res->spec;
	assert_string_equal(json_string_value(json_object_get(s, "title")), "Ridgeline Trail Runner");
	assert_string_equal(json_string_value(json_object_get(json_object_get(s, "categoryRef"), "name")),
			    "running-shoes");
	assert_int_equal(json_array_size(json_object_get(s, "tags")), 3);
	opts = json_object_get(s, "options");
	assert_int_equal(json_array_size(opts), 2);
	assert_string_equal(json_string_value(json_array_get(json_object_get(json_array_get(opts, 1), "values"), 0)),
			    "40");
	media = json_object_get(s, "media");
	assert_true(json_is_true(json_object_get(json_object_get(json_array_get(media, 1), "fileRef"), "optional")));
	assert_null(json_object_get(json_object_get(json_array_get(media, 0), "fileRef"), "optional"));
	/* body: every byte after the closing line */
	assert_true(strncmp(res->body, "\n# Ridgeline Trail Runner\n", 26) == 0);
	assert_int_equal(res->body_len, strlen(res->body));
	assert_int_equal(res->body[res->body_len - 1], '\n');
	gs_resource_free(res);
	gs_cat_errors_release(&errs);
	free(text);
}

static void test_resource__variant_json(void **state)
{
	gs_catalog_ctx ctx = ctx_catalog(GS_CATALOG_FULL);
	gs_cat_errors errs;
	gs_resource *res = NULL;
	size_t len;
	char *text = read_data("04-valid-variant-full.md", &len);
	json_t *p1, *inv;
	(void)state;

	gs_cat_errors_init(&errs);
	assert_int_equal(gs_catalog_parse(&ctx, text, len, &res, &errs), 0);
	assert_string_equal(res->ns, "acme-outfitters");
	assert_int_equal(res->ns_from_metadata, 0);
	p1 = json_array_get(json_object_get(json_object_get(json_object_get(res->spec, "pricing"), "priceSet"), "prices"), 1);
	assert_true(json_is_integer(json_object_get(p1, "priority")));
	assert_int_equal(json_integer_value(json_object_get(p1, "priority")), 0);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(p1, "quantity"), "max")), 10);
	assert_string_equal(json_string_value(json_object_get(p1, "validFromTime")), "2026-03-01T00:00:00Z");
	assert_string_equal(json_string_value(json_object_get(p1, "amount")), "119.00");
	assert_string_equal(json_string_value(json_object_get(json_object_get(p1, "eligibility"), "operator")), "All");
	inv = json_object_get(res->spec, "inventory");
	assert_true(json_is_true(json_object_get(inv, "managed")));
	assert_string_equal(json_string_value(json_object_get(inv, "policy")), "backorder");
	assert_string_equal(
		json_string_value(json_object_get(json_array_get(json_object_get(inv, "stockLocationRefs"), 0), "name")),
		"berlin-warehouse");
	gs_resource_free(res);
	gs_cat_errors_release(&errs);
	free(text);
}

static void test_resource__literal_scalars_and_unknown_keys(void **state)
{
	gs_catalog_ctx ctx = ctx_catalog(GS_CATALOG_FULL);
	gs_cat_errors errs;
	gs_resource *res = NULL;
	size_t len;
	char *text = read_data("46-valid-unknown-keys-and-literals.md", &len);
	json_t *price;
	(void)state;

	gs_cat_errors_init(&errs);
	assert_int_equal(gs_catalog_parse(&ctx, text, len, &res, &errs), 0);
	assert_string_equal(json_string_value(json_object_get(res->spec, "sku")), "12345");
	assert_string_equal(json_string_value(json_object_get(res->spec, "title")), "12345");
	assert_null(json_object_get(res->spec, "price"));
	price = json_array_get(json_object_get(json_object_get(json_object_get(res->spec, "pricing"), "priceSet"), "prices"), 0);
	assert_string_equal(json_string_value(json_object_get(price, "amount")), "9.90");
	assert_int_equal(json_integer_value(json_object_get(price, "priority")), -3);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(price, "quantity"), "max")), 16);
	assert_null(json_object_get(json_object_get(price, "quantity"), "min"));
	gs_resource_free(res);
	gs_cat_errors_release(&errs);
	free(text);
}

static void test_resource__null_and_empty_values(void **state)
{
	gs_catalog_ctx ctx = ctx_catalog(GS_CATALOG_FULL);
	gs_cat_errors errs;
	gs_resource *res = NULL;
	(void)state;

	gs_cat_errors_init(&errs);
	assert_int_equal(parse_text(&ctx,
				    PRODUCT "  labels: {a: ~, b: \"\"}\nspec:\n  title: ~\n  tags: [x, ~]\n  categoryRef:\n" END,
				    &res, &errs),
			 0);
	assert_null(json_object_get(res->spec, "title"));
	assert_null(json_object_get(res->spec, "categoryRef"));
	assert_string_equal(json_string_value(json_array_get(json_object_get(res->spec, "tags"), 1)), "");
	assert_string_equal(json_string_value(json_object_get(res->labels, "a")), "");
	assert_string_equal(json_string_value(json_object_get(res->labels, "b")), "");
	gs_resource_free(res);
	res = NULL;
	/* spec: (null) is an empty spec */
	assert_int_equal(parse_text(&ctx, PRODUCT "spec:\n" END, &res, &errs), 0);
	assert_true(json_is_object(res->spec));
	assert_int_equal(json_object_size(res->spec), 0);
	assert_int_equal(res->body_len, 0);
	assert_string_equal(res->body, "");
	gs_resource_free(res);
	gs_cat_errors_release(&errs);
}

static void test_resource__body_byte_exact(void **state)
{
	static const char text[] = "---\r\n" API "kind: Product\nmetadata:\n  name: p\nspec: {}\n---\r\n\r\nA \x00 b\n  ";
	gs_catalog_ctx ctx = ctx_catalog(GS_CATALOG_FULL);
	gs_cat_errors errs;
	gs_resource *res = NULL;
	(void)state;

	gs_cat_errors_init(&errs);
	assert_int_equal(gs_catalog_parse(&ctx, text, sizeof(text) - 1, &res, &errs), 0);
	assert_int_equal(res->body_len, 10);
	assert_memory_equal(res->body, "\r\nA \x00 b\n  ", 10);
	assert_int_equal(res->body[10], 0);
	gs_resource_free(res);
	gs_cat_errors_release(&errs);
}

/* An invalid resource is still handed back so callers can name it. */
static void test_resource__invalid_still_has_identity(void **state)
{
	gs_catalog_ctx ctx = ctx_catalog(GS_CATALOG_FULL);
	gs_cat_errors errs;
	gs_resource *res = NULL;
	(void)state;

	gs_cat_errors_init(&errs);
	assert_int_equal(parse_text(&ctx, VARIANT "spec: {}\nstatus: {}\n" END, &res, &errs), GS_EINVALID);
	assert_non_null(res);
	assert_string_equal(res->kind, "ProductVariant");
	assert_string_equal(res->name, "v");
	assert_string_equal(res->ns, "acme-outfitters");
	gs_resource_free(res);
	res = NULL;
	/* unknown kind: kind is "" */
	assert_int_equal(parse_text(&ctx, "---\n" API "kind: Widget\nmetadata:\n  name: w\nspec: {}\n" END, &res, &errs),
			 GS_EINVALID);
	assert_non_null(res);
	assert_string_equal(res->kind, "");
	assert_string_equal(res->name, "w");
	gs_resource_free(res);
	res = NULL;
	/* invalid name: name is "" */
	assert_int_equal(parse_text(&ctx, "---\n" API "kind: Product\nmetadata:\n  name: A\nspec: {}\n" END, &res, &errs),
			 GS_EINVALID);
	assert_string_equal(res->name, "");
	assert_int_equal(res->name_line, 5);
	gs_resource_free(res);
	res = NULL;
	/* nothing to build from */
	assert_int_equal(parse_text(&ctx, "---\nkind: Product\n" END, &res, &errs), GS_EINVALID);
	assert_null(res);
	assert_int_equal(parse_text(&ctx, "---\nkind: [\n" END, &res, &errs), GS_EINVALID);
	assert_null(res);
	gs_cat_errors_release(&errs);
}

/* Records are appended (never reset) and sorted by line within a parse. */
static void test_resource__errors_appended_and_sorted(void **state)
{
	gs_catalog_ctx ctx = ctx_catalog(GS_CATALOG_FULL);
	gs_cat_errors errs;
	gs_resource *res = NULL;
	(void)state;

	gs_cat_errors_init(&errs);
	gs_cat_errors_add(&errs, 99, "x", "earlier", "from the caller");
	assert_int_equal(parse_text(&ctx,
				    VARIANT "  labels: {k: " S64 "}\nspec:\n  sku: \"\"\n  productRef: {}\n  title: "
					    "T\nstatus: {}\n" END,
				    &res, &errs),
			 GS_EINVALID);
	assert_int_equal(errs.n, 5);
	assert_string_equal(errs.v[0].code, "earlier");
	for (size_t i = 2; i < errs.n; i++)
		assert_true(errs.v[i - 1].line <= errs.v[i].line);
	assert_true(has_code(&errs, "label_value_too_long"));
	assert_true(has_code(&errs, "required"));
	assert_true(has_code(&errs, "status_forbidden"));
	gs_resource_free(res);
	gs_cat_errors_release(&errs);
}

static void test_resource__too_many_errors_counted(void **state)
{
	gs_catalog_ctx ctx = ctx_catalog(GS_CATALOG_FULL);
	gs_cat_errors errs;
	gs_resource *res = NULL;
	gs_buf text;
	(void)state;

	gs_buf_init(&text, 1 << 20);
	gs_buf_adds(&text, PRODUCT "spec:\n  media:\n", NULL);
	for (int i = 0; i < 100; i++)
		gs_buf_adds(&text, "  - {}\n", NULL);
	gs_buf_adds(&text, END, NULL);
	gs_cat_errors_init(&errs);
	assert_int_equal(gs_catalog_parse(&ctx, text.ptr, text.len, &res, &errs), GS_EINVALID);
	assert_int_equal(gs_cat_errors_count(&errs), 100);
	assert_true(errs.dropped > 0);
	gs_resource_free(res);
	gs_cat_errors_release(&errs);
	gs_buf_release(&text);
}

/* Size limits of the YAML layer surface through parse (whole-file limit:
 * see t3000). */
static void test_resource__yaml_limits(void **state)
{
	gs_catalog_ctx ctx = ctx_catalog(GS_CATALOG_STRUCTURAL);
	gs_cat_errors errs;
	gs_resource *res = NULL;
	gs_buf text;
	(void)state;

	gs_cat_errors_init(&errs);
	gs_buf_init(&text, 4 << 20);
	gs_buf_adds(&text, PRODUCT "spec:\n  title: ", NULL);
	for (int i = 0; i < 65 * 1024 / 10 + 1; i++)
		gs_buf_adds(&text, "0123456789", NULL);
	gs_buf_adds(&text, "\n" END, NULL);
	assert_int_equal(gs_catalog_parse(&ctx, text.ptr, text.len, &res, &errs), GS_EINVALID);
	assert_null(res);
	assert_true(has_code(&errs, "yaml_scalar_too_large"));

	gs_cat_errors_reset(&errs);
	gs_buf_reset(&text);
	gs_buf_adds(&text, PRODUCT "spec:\n  tags: [", NULL);
	for (int i = 0; i < 25000; i++)
		gs_buf_adds(&text, "a,", NULL);
	gs_buf_adds(&text, "b]\n" END, NULL);
	assert_int_equal(gs_catalog_parse(&ctx, text.ptr, text.len, &res, &errs), GS_EINVALID);
	assert_null(res);
	assert_true(has_code(&errs, "yaml_too_many_nodes"));

	gs_cat_errors_reset(&errs);
	gs_buf_reset(&text);
	gs_buf_adds(&text, PRODUCT "spec: {}\n" END, NULL);
	while (text.len <= 1024 * 1024)
		gs_buf_adds(&text, "body body body body body body body body body body body body body body\n", NULL);
	assert_int_equal(gs_catalog_parse(&ctx, text.ptr, text.len, &res, &errs), GS_EINVALID);
	assert_null(res);
	assert_true(has_code(&errs, "file_too_large"));

	gs_buf_release(&text);
	gs_cat_errors_release(&errs);
}

static void test_resource__plural(void **state)
{
	(void)state;
	assert_string_equal(gs_catalog_plural("Product"), "products");
	assert_string_equal(gs_catalog_plural("ProductVariant"), "productvariants");
	assert_string_equal(gs_catalog_plural("CategoryTaxonomy"), "categorytaxonomies");
	assert_string_equal(gs_catalog_plural("Collection"), "collections");
	assert_string_equal(gs_catalog_plural("Namespace"), "namespaces");
	assert_null(gs_catalog_plural("product"));
	assert_null(gs_catalog_plural(""));
	assert_null(gs_catalog_plural(NULL));
}

/* ---- whole tree --------------------------------------------------------- */

typedef struct dup_log {
	size_t idx[8], earlier[8];
	size_t n;
} dup_log;

static void record_dup(size_t idx, size_t earlier, void *payload)
{
	dup_log *l = payload;
	assert_true(l->n < 8);
	l->idx[l->n] = idx;
	l->earlier[l->n++] = earlier;
}

static gs_resource *parse_ok(const char *ns, const char *text)
{
	gs_catalog_ctx ctx = ctx_catalog(GS_CATALOG_STRUCTURAL);
	gs_cat_errors errs;
	gs_resource *res = NULL;
	ctx.repo_ns = ns;
	gs_cat_errors_init(&errs);
	assert_int_equal(parse_text(&ctx, text, &res, &errs), 0);
	gs_cat_errors_release(&errs);
	return res;
}

static void test_resource__check_tree(void **state)
{
	gs_resource *r[7];
	gs_catalog_file files[8];
	dup_log log;
	(void)state;

	r[0] = parse_ok("shop", PRODUCT "spec: {}\n" END);
	r[1] = parse_ok("shop", CATEGORY "spec: {title: C}\n" END);                       /* other name */
	r[2] = parse_ok("shop", "---\n" API "kind: Collection\nmetadata:\n  name: p\nspec: {title: T}\n" END); /* other kind */
	r[3] = parse_ok("shop", PRODUCT "  namespace: shop\nspec: {}\n" END);             /* explicit = inferred: dup */
	r[4] = parse_ok("other", PRODUCT "spec: {}\n" END);                               /* other namespace */
	r[5] = parse_ok("shop", PRODUCT "spec: {title: again}\n" END);                    /* dup of 0 */
	r[6] = parse_ok("shop", CATEGORY "spec: {title: C}\n" END);                       /* dup of 1 */
	for (size_t i = 0; i < 7; i++) {
		files[i].path = "x.md";
		files[i].res = r[i];
	}
	files[7].path = "broken.md";
	files[7].res = NULL;

	memset(&log, 0, sizeof(log));
	gs_catalog_check_tree(files, 8, record_dup, &log);
	assert_int_equal(log.n, 3);
	assert_int_equal(log.idx[0], 3);
	assert_int_equal(log.earlier[0], 0);
	assert_int_equal(log.idx[1], 5);
	assert_int_equal(log.earlier[1], 0);
	assert_int_equal(log.idx[2], 6);
	assert_int_equal(log.earlier[2], 1);

	memset(&log, 0, sizeof(log));
	gs_catalog_check_tree(files, 1, record_dup, &log);
	gs_catalog_check_tree(files, 0, record_dup, &log);
	gs_catalog_check_tree(files + 1, 4, record_dup, &log); /* 1..4: no clash */
	assert_int_equal(log.n, 0);
	for (size_t i = 0; i < 7; i++)
		gs_resource_free(r[i]);
	gs_resource_free(NULL);
}

/* Namespaces are cluster-scoped: identity namespace "" whatever the repo. */
static void test_resource__check_tree_namespaces(void **state)
{
	gs_catalog_ctx a = ctx_system("namespaces/acme.md"), b = ctx_system("namespaces/acme.md");
	gs_cat_errors errs;
	gs_resource *r[2] = {NULL, NULL};
	gs_catalog_file files[2];
	dup_log log;
	(void)state;

	b.repo_ns = "elsewhere";
	b.depth = GS_CATALOG_STRUCTURAL;
	gs_cat_errors_init(&errs);
	assert_int_equal(parse_text(&a, NAMESPACE "spec: {tier: USER}\n" END, &r[0], &errs), 0);
	assert_int_equal(parse_text(&b, NAMESPACE "spec: {tier: USER}\n" END, &r[1], &errs), 0);
	assert_string_equal(r[1]->ns, "");
	files[0].path = "a";
	files[0].res = r[0];
	files[1].path = "b";
	files[1].res = r[1];
	memset(&log, 0, sizeof(log));
	gs_catalog_check_tree(files, 2, record_dup, &log);
	assert_int_equal(log.n, 1);
	assert_int_equal(log.idx[0], 1);
	gs_resource_free(r[0]);
	gs_resource_free(r[1]);
	gs_cat_errors_release(&errs);
}

/* ---- runner ------------------------------------------------------------- */

int main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_resource__examples_full),
		cmocka_unit_test(test_resource__examples_structural),
		cmocka_unit_test(test_resource__example_namespace),
		cmocka_unit_test(test_resource__example_skipped),
		cmocka_unit_test(test_resource__messages),
		cmocka_unit_test(test_resource__product_json),
		cmocka_unit_test(test_resource__variant_json),
		cmocka_unit_test(test_resource__literal_scalars_and_unknown_keys),
		cmocka_unit_test(test_resource__null_and_empty_values),
		cmocka_unit_test(test_resource__body_byte_exact),
		cmocka_unit_test(test_resource__invalid_still_has_identity),
		cmocka_unit_test(test_resource__errors_appended_and_sorted),
		cmocka_unit_test(test_resource__too_many_errors_counted),
		cmocka_unit_test(test_resource__yaml_limits),
		cmocka_unit_test(test_resource__plural),
		cmocka_unit_test(test_resource__check_tree),
		cmocka_unit_test(test_resource__check_tree_namespaces),
	};
	enum { NFIXED = sizeof(fixed) / sizeof(fixed[0]), NCASES = sizeof(CASES) / sizeof(CASES[0]) };
	static struct CMUnitTest tests[NFIXED + NCASES];
	static char names[NCASES][96];
	int rc;

	memcpy(tests, fixed, sizeof(fixed));
	for (size_t i = 0; i < NCASES; i++) {
		snprintf(names[i], sizeof(names[i]), "test_resource__%s", CASES[i].name);
		tests[NFIXED + i].name = names[i];
		tests[NFIXED + i].test_func = run_case;
		tests[NFIXED + i].initial_state = (void *)&CASES[i];
	}
	rc = _cmocka_run_group_tests("resource", tests, NFIXED + NCASES, NULL, NULL);
	return rc;
}
