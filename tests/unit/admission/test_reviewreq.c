/* tests/unit/admission/test_reviewreq.c -- the JSON form of the dry-run
 * review: detection, envelope errors, the rendering (escapes, numbers,
 * body), DELETE identities, and the round trip that makes the form
 * faithful: every golden file of tests/data/catalog, turned into its
 * AdmissionReview JSON and rendered back, parses to the same resource
 * and the same error records (apart from line numbers). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admission/reviewreq.h"
#include "catalog/frontmatter.h"
#include "catalog/resource.h"
#include "catalog/ydoc.h"
#include "limits.h"

#define ENV "{\"apiVersion\":\"admission.gitstore.dev/v1\",\"kind\":\"AdmissionReview\","
#define OBJ "{\"apiVersion\":\"catalog.gitstore.dev/v1beta1\",\"kind\":\"Product\",\"metadata\":{\"name\":\"shoe\"}"

static int parse(const char *text, gs_reviewreq *rr, gs_error *err)
{
	gs_error_clear(err);
	return gs_reviewreq_parse(rr, "shop", text, strlen(text), err);
}

static void test_reviewreq__is_json(void **state)
{
	(void)state;
	assert_true(gs_reviewreq_is_json("application/json", "", 0));
	assert_true(gs_reviewreq_is_json("Application/JSON; charset=utf-8", "---\n", 4));
	assert_true(gs_reviewreq_is_json(" application/json", "", 0));
	assert_false(gs_reviewreq_is_json("application/jsonl", "---\n", 4));
	assert_false(gs_reviewreq_is_json("text/markdown", "---\n", 4));
	assert_true(gs_reviewreq_is_json("text/markdown", " \r\n\t{", 5));
	assert_true(gs_reviewreq_is_json(NULL, "{}", 2));
	assert_false(gs_reviewreq_is_json(NULL, "", 0));
	assert_false(gs_reviewreq_is_json(NULL, "  x{", 4));
	assert_false(gs_reviewreq_is_json("application/x-www-form-urlencoded", "---\n{", 5));
}

static void test_reviewreq__envelope_errors(void **state)
{
	static const struct {
		const char *text, *rule;
	} cases[] = {
		{"", "invalid_json"},
		{"{", "invalid_json"},
		{"[1]", "invalid_review"},
		{"{\"a\":1,\"a\":2}", "invalid_json"},
		{"{\"apiVersion\":\"x\\u0000\"}", "invalid_json"},
		{"{\"apiVersion\":99999999999999999999}", "invalid_json"}, /* over 64 bits */
		{"{\"a\":\"x\n\n\\uff\n", "invalid_json"},                /* raw breaks near the error */
		{"{\"a\":\"\xff\xfe\xc3\"}", "invalid_json"},                /* not UTF-8 */
		{"{\"kind\":\"AdmissionReview\"}", "invalid_review"},
		{"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{}}", "invalid_review"},
		{ENV "\"request\":{}}", "invalid_object"},
		{"{\"apiVersion\":\"admission.gitstore.dev/v1\",\"kind\":\"Review\",\"request\":{}}", "invalid_review"},
		{ENV "\"request\":[]}", "invalid_review"},
		{ENV "\"request\":null}", "invalid_review"},
		{ENV "\"request\":{\"uid\":7,\"object\":" OBJ "}}}", "invalid_review"},
		{ENV "\"request\":{\"uid\":\"\",\"object\":" OBJ "}}}", "invalid_review"},
		{ENV "\"request\":{\"operation\":\"create\",\"object\":" OBJ "}}}", "invalid_operation"},
		{ENV "\"request\":{\"operation\":\"CONNECT\",\"object\":" OBJ "}}}", "invalid_operation"},
		{ENV "\"request\":{\"operation\":1,\"object\":" OBJ "}}}", "invalid_operation"},
		{ENV "\"request\":{\"dryRun\":\"true\",\"object\":" OBJ "}}}", "invalid_review"},
		{ENV "\"request\":{\"object\":null}}", "invalid_object"},
		{ENV "\"request\":{\"object\":\"---\\n\"}}", "invalid_object"},
		{ENV "\"request\":{\"object\":" OBJ ",\"spec\":[]}}}", "invalid_object"},
		{ENV "\"request\":{\"object\":" OBJ ",\"spec\":null}}}", "invalid_object"},
		{ENV "\"request\":{\"object\":" OBJ ",\"spec\":\"x\"}}}", "invalid_object"},
		{ENV "\"request\":{\"object\":" OBJ ",\"body\":1}}}", "invalid_object"},
		{ENV "\"request\":{\"object\":{\"kind\":\"Product\",\"metadata\":[]}}}", "invalid_object"},
		{ENV "\"request\":{\"object\":" OBJ "},\"oldObject\":[]}}", "invalid_object"},
		{ENV "\"request\":{\"object\":" OBJ "},\"oldObject\":{\"kind\":\"Product\",\"metadata\":{\"name\":\"boot\"}}}}",
		 "invalid_object"},
		{ENV "\"request\":{\"operation\":\"DELETE\"}}", "invalid_object"},
		{ENV "\"request\":{\"operation\":\"DELETE\",\"oldObject\":{\"kind\":\"Widget\",\"metadata\":{\"name\":\"w\"}}}}",
		 "invalid_object"},
		{ENV "\"request\":{\"operation\":\"DELETE\",\"oldObject\":{\"kind\":\"Product\",\"metadata\":{\"name\":\"No_Label\"}}}}",
		 "invalid_object"},
		{ENV "\"request\":{\"operation\":\"DELETE\",\"oldObject\":{\"kind\":\"Product\"}}}", "invalid_object"},
		{ENV "\"request\":{\"operation\":\"DELETE\",\"oldObject\":{\"kind\":\"Product\",\"metadata\":{\"name\":\"p\","
		     "\"namespace\":\"other\"}}}}",
		 "invalid_object"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		gs_reviewreq rr;
		gs_error err;
		int rc = parse(cases[i].text, &rr, &err);
		if (rc != GS_EINVALID || strcmp(err.rule, cases[i].rule) != 0)
			fail_msg("case %zu (%s): rc %d rule %s (%s), want %s", i, cases[i].text, rc, err.rule, err.msg,
				 cases[i].rule);
		for (const char *p = err.msg; *p; p++) /* one line of ASCII: sent back as JSON */
			if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7F)
				fail_msg("case %zu: message %s", i, err.msg);
		gs_reviewreq_release(&rr);
	}
}

static void test_reviewreq__fields(void **state)
{
	gs_reviewreq rr;
	gs_error err;
	(void)state;
	/* defaults: no uid, no operation, dry run */
	assert_int_equal(parse(ENV "\"request\":{\"object\":" OBJ ",\"spec\":{\"title\":\"Shoe\"}}}}", &rr, &err), 0);
	assert_string_equal(rr.uid, "");
	assert_int_equal(rr.operation, 0);
	assert_int_equal(rr.dry_run, 1);
	assert_string_equal(rr.kind, "Product");
	assert_string_equal(rr.name, "shoe");
	assert_string_equal(rr.file.ptr, "---\n{\n  \"apiVersion\": \"catalog.gitstore.dev/v1beta1\",\n  \"kind\": \"Product\",\n"
					 "  \"metadata\": {\n    \"name\": \"shoe\"\n  },\n  \"spec\": {\n    \"title\": \"Shoe\"\n  }\n}\n---\n");
	gs_reviewreq_release(&rr);
	/* null members are absent; other request members are ignored */
	assert_int_equal(parse(ENV "\"request\":{\"uid\":\"u-1\",\"operation\":\"UPDATE\",\"dryRun\":false,\"kind\":{},"
				   "\"oldObject\":null,\"object\":" OBJ ",\"body\":null}}}",
			       &rr, &err),
			 0);
	assert_string_equal(rr.uid, "u-1");
	assert_int_equal(rr.operation, GS_ADM_UPDATE);
	assert_int_equal(rr.dry_run, 0);
	assert_string_equal(rr.file.ptr + rr.file.len - 5, "\n---\n");
	gs_reviewreq_release(&rr);
	/* DELETE: oldObject's identity wins over object's */
	assert_int_equal(parse(ENV "\"request\":{\"operation\":\"DELETE\",\"object\":{\"kind\":\"Collection\"},"
				   "\"oldObject\":{\"kind\":\"ProductVariant\",\"metadata\":{\"name\":\"v-1\","
				   "\"namespace\":\"shop\"},\"status\":{}}}}",
			       &rr, &err),
			 0);
	assert_int_equal(rr.operation, GS_ADM_DELETE);
	assert_string_equal(rr.kind, "ProductVariant");
	assert_string_equal(rr.name, "v-1");
	assert_int_equal(rr.file.len, 0);
	gs_reviewreq_release(&rr);
	assert_int_equal(parse(ENV "\"request\":{\"operation\":\"DELETE\",\"object\":{\"kind\":\"Product\","
				   "\"metadata\":{\"name\":\"p\"}}}}",
			       &rr, &err),
			 0);
	assert_string_equal(rr.kind, "Product");
	gs_reviewreq_release(&rr);
}

static void render_expect(const char *json, const char *expect)
{
	json_error_t jerr;
	json_t *j = json_loads(json, 0, &jerr);
	gs_error err = GS_ERROR_INIT;
	gs_buf b;
	if (!j)
		fail_msg("%s: %s", json, jerr.text);
	gs_buf_init(&b, GS_MAX_RESOURCE_FILE_BYTES);
	assert_int_equal(gs_reviewreq_render(&b, j, &err), 0);
	if (strcmp(b.ptr, expect) != 0)
		fail_msg("render %s\n got: %s\nwant: %s", json, b.ptr, expect);
	gs_buf_release(&b);
	json_decref(j);
}

static void test_reviewreq__render(void **state)
{
	(void)state;
	render_expect("{}", "---\n{}\n---\n");
	render_expect("{\"body\":\"# T\\n\\n---\\nrest\"}", "---\n{}\n---\n# T\n\n---\nrest");
	/* body is special only at the top; jq's layout */
	render_expect("{\"spec\":{\"body\":\"x\",\"a\":[],\"o\":{},\"l\":[1,[2]]},\"body\":\"\"}",
		      "---\n{\n  \"spec\": {\n    \"body\": \"x\",\n    \"a\": [],\n    \"o\": {},\n    \"l\": [\n      1,\n"
		      "      [\n        2\n      ]\n    ]\n  }\n}\n---\n");
	/* numbers: integers exact, reals shortest and still reals */
	render_expect("{\"a\":[0,-7,9223372036854775807,0.1,1.5,1e2,-0.0,1e300,2.5e-8,123456789012345680000.0,"
		      "1234567.125,-9.90,true,false,null]}",
		      "---\n{\n  \"a\": [\n    0,\n    -7,\n    9223372036854775807,\n    0.1,\n    1.5,\n    100.0,\n"
		      "    -0.0,\n    1e+300,\n    2.5e-08,\n    1.2345678901234568e+20,\n    1234567.125,\n    -9.9,\n"
		      "    true,\n    false,\n    null\n  ]\n}\n---\n");
	/* strings: JSON escapes YAML reads back; raw UTF-8 otherwise */
	render_expect("{\"s\":\"q\\\" b\\\\ n\\n t\\t r\\r c\\u0001 d\\u007f nel\\u0085 ls\\u2028 ps\\u2029 bom\\ufeff "
		      "nc\\uffff é 😀 \\u00a0\"}",
		      "---\n{\n  \"s\": \"q\\\" b\\\\ n\\n t\\t r\\r c\\u0001 d\\u007F nel\\u0085 ls\\u2028 ps\\u2029 "
		      "bom\\uFEFF nc\\uFFFF é 😀 \xc2\xa0\"\n}\n---\n");
	render_expect("{\"key \\\"x\\\"\\n\":{}}", "---\n{\n  \"key \\\"x\\\"\\n\": {}\n}\n---\n");
}

static void test_reviewreq__limits(void **state)
{
	gs_error err = GS_ERROR_INIT;
	json_t *deep = json_object(), *cur = deep;
	gs_buf b;
	(void)state;
	for (int i = 0; i < GS_REVIEWREQ_MAX_DEPTH + 2; i++) {
		json_object_set_new(cur, "x", json_object());
		cur = json_object_get(cur, "x");
	}
	gs_buf_init(&b, GS_MAX_RESOURCE_FILE_BYTES);
	assert_int_equal(gs_reviewreq_render(&b, deep, &err), GS_EINVALID);
	assert_string_equal(err.rule, "invalid_object");
	gs_buf_release(&b);
	gs_error_clear(&err);
	gs_buf_init(&b, 16);
	assert_int_equal(gs_reviewreq_render(&b, json_object_get(deep, "x"), &err), GS_ELIMIT);
	assert_string_equal(err.rule, "file_too_large");
	gs_buf_release(&b);
	json_decref(deep);
}

/* ---- the round trip over the golden files ------------------------------- */

/* A front-matter node as JSON, as an author would write it: plain true,
 * false, null and integers (also 0x/0o) typed; every other scalar a
 * string. An integer JSON cannot carry (over 64 bits: invalid_json, see
 * envelope_errors) sets *skip. */
static json_t *yaml_json(const gs_ynode *n, int *skip)
{
	json_t *j;
	const char *s;
	switch (n->kind) {
	case GS_YNODE_MAP:
		j = json_object();
		for (size_t i = 0; i < n->n; i++)
			json_object_setn_new(j, n->keys[i]->str, n->keys[i]->len, yaml_json(n->vals[i], skip));
		return j;
	case GS_YNODE_SEQ:
		j = json_array();
		for (size_t i = 0; i < n->n; i++)
			json_array_append_new(j, yaml_json(n->vals[i], skip));
		return j;
	default:
		break;
	}
	if (n->style == GS_YSTYLE_PLAIN) {
		if (gs_ynode_is_null(n))
			return json_null();
		if (strcmp(n->str, "true") == 0)
			return json_true();
		if (strcmp(n->str, "false") == 0)
			return json_false();
		if (n->len > 2 && n->str[0] == '0' && (n->str[1] == 'x' || n->str[1] == 'o'))
			return json_integer(strtoll(n->str + 2, NULL, n->str[1] == 'x' ? 16 : 8));
		s = n->str + (n->str[0] == '-');
		if (s[0] && strspn(s, "0123456789") == strlen(s) && (s[0] != '0' || !s[1])) {
			*skip |= strlen(s) > 18;
			return json_integer(strtoll(n->str, NULL, 10));
		}
	}
	return json_stringn(n->str, n->len);
}

static char *read_path(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;
	assert_non_null(f);
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

/* A message with the one difference JSON cannot avoid removed: it has
 * no untyped scalars, so `yes` becomes the string "yes" and messages say
 * "the quoted string" / "a string" where the file says "" / "a scalar". */
static void plain_message(char *out, size_t cap, const char *msg)
{
	static const char quoted[] = "the quoted string ";
	size_t o = 0;
	while (*msg && o + 1 < cap) {
		if (strncmp(msg, quoted, sizeof(quoted) - 1) == 0) {
			msg += sizeof(quoted) - 1;
		} else if (strncmp(msg, "a scalar", 8) == 0) {
			snprintf(out + o, cap - o, "a string");
			o = strlen(out);
			msg += 8;
		} else {
			out[o++] = *msg++;
		}
	}
	out[o] = 0;
}

/* 1 when compared, 0 when the file is not a parseable front-matter. */
static int round_trip(const char *path)
{
	gs_catalog_ctx ctx = {"acme-outfitters", "catalog", "review.md", GS_CATALOG_FULL};
	size_t len;
	char *file = read_path(path, &len), *text;
	gs_cat_errors e1, e2, ey;
	gs_frontmatter fm;
	gs_ydoc *doc = NULL;
	gs_resource *r1 = NULL, *r2 = NULL;
	gs_reviewreq rr;
	gs_error err = GS_ERROR_INIT;
	json_t *obj, *env;
	int done = 0, skip = 0, rc;

	gs_cat_errors_init(&e1);
	gs_cat_errors_init(&e2);
	gs_cat_errors_init(&ey);
	if (gs_frontmatter_split(file, len, &fm, &ey) < 0 ||
	    gs_ydoc_parse(&doc, fm.yaml, fm.yaml_len, fm.yaml_line, &ey) < 0)
		goto out;
	obj = yaml_json(gs_ydoc_root(doc), &skip);
	if (skip) {
		json_decref(obj);
		goto out;
	}
	json_object_set_new(obj, "body", json_stringn(fm.body, fm.body_len));
	env = json_pack("{s:s, s:s, s:{s:s, s:o}}", "apiVersion", "admission.gitstore.dev/v1", "kind", "AdmissionReview",
			"request", "uid", "u", "object", obj);
	text = json_dumps(env, JSON_COMPACT);
	json_decref(env);
	rc = gs_reviewreq_parse(&rr, "acme-outfitters", text, strlen(text), &err);
	free(text);
	gs_catalog_parse(&ctx, file, len, &r1, &e1);
	if (rc < 0) {
		/* a spec or metadata that is not a mapping is a 400 by design;
		 * the file form reports it as invalid_type */
		int found = 0;
		for (size_t i = 0; i < e1.n; i++)
			found |= strcmp(e1.v[i].code, "invalid_type") == 0 &&
				 (strcmp(e1.v[i].field, "spec") == 0 || strcmp(e1.v[i].field, "metadata") == 0);
		if (strcmp(err.rule, "invalid_object") != 0 || !found)
			fail_msg("%s: %s [%s]", path, err.msg, err.rule);
		gs_reviewreq_release(&rr);
		gs_resource_free(r1);
		goto out;
	}
	gs_catalog_parse(&ctx, rr.file.ptr, rr.file.len, &r2, &e2);
	if (e1.n != e2.n) {
		for (size_t i = 0; i < e2.n; i++)
			print_message("json: %s: %s [%s]\n", e2.v[i].field, e2.v[i].message, e2.v[i].code);
		fail_msg("%s: %zu records from the file, %zu from its JSON form", path, e1.n, e2.n);
	}
	for (size_t i = 0; i < e1.n; i++) {
		const gs_cat_error *a = &e1.v[i], *b = &e2.v[i];
		char ma[256], mb[256];
		plain_message(ma, sizeof(ma), a->message);
		plain_message(mb, sizeof(mb), b->message);
		if (strcmp(a->field, b->field) != 0 || strcmp(a->code, b->code) != 0 || strcmp(ma, mb) != 0)
			fail_msg("%s: record %zu: file %s: %s [%s]; json %s: %s [%s]", path, i, a->field, a->message, a->code,
				 b->field, b->message, b->code);
	}
	assert_true((r1 == NULL) == (r2 == NULL));
	if (r1) {
		assert_string_equal(r1->kind, r2->kind);
		assert_string_equal(r1->name, r2->name);
		assert_string_equal(r1->ns, r2->ns);
		assert_true(json_equal(r1->spec, r2->spec));
		assert_true(json_equal(r1->labels, r2->labels));
		assert_true(json_equal(r1->annotations, r2->annotations));
		assert_int_equal(r1->body_len, r2->body_len);
		assert_memory_equal(r1->body, r2->body, r1->body_len);
	}
	gs_resource_free(r1);
	gs_resource_free(r2);
	gs_reviewreq_release(&rr);
	done = 1;
out:
	gs_ydoc_free(doc);
	gs_cat_errors_release(&e1);
	gs_cat_errors_release(&e2);
	gs_cat_errors_release(&ey);
	free(file);
	return done;
}

static void test_reviewreq__golden_round_trip(void **state)
{
	static const char *const dirs[] = {"tests/data/catalog", "../tests/data/catalog", "../../tests/data/catalog"};
	int compared = 0;
	(void)state;
	for (size_t d = 0; d < sizeof(dirs) / sizeof(dirs[0]) && !compared; d++) {
		DIR *dir = opendir(dirs[d]);
		struct dirent *de;
		if (!dir)
			continue;
		while ((de = readdir(dir)) != NULL) {
			char path[512];
			size_t n = strlen(de->d_name);
			if (n < 4 || strcmp(de->d_name + n - 3, ".md") != 0)
				continue;
			snprintf(path, sizeof(path), "%s/%s", dirs[d], de->d_name);
			compared += round_trip(path);
		}
		closedir(dir);
	}
	if (compared < 45) /* 49 of the 64 today; the rest have no JSON form */
		fail_msg("only %d golden files compared (run from the repository root)", compared);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reviewreq__is_json),
		cmocka_unit_test(test_reviewreq__envelope_errors),
		cmocka_unit_test(test_reviewreq__fields),
		cmocka_unit_test(test_reviewreq__render),
		cmocka_unit_test(test_reviewreq__limits),
		cmocka_unit_test(test_reviewreq__golden_round_trip),
	};
	return cmocka_run_group_tests_name("reviewreq", tests, NULL, NULL);
}
