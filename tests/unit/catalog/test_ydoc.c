/* tests/unit/catalog/test_ydoc.c -- the strict YAML node tree: shapes,
 * styles, lookups, file line numbers, and every rejection with its code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog/caterr.h"
#include "catalog/frontmatter.h"
#include "catalog/ydoc.h"
#include "limits.h"
#include "util/error.h"

/* Front-matter YAML starts on file line 2 in every test below. */
static int parse_n(gs_ydoc **doc, const char *s, size_t len, gs_cat_errors *errs)
{
	gs_cat_errors_reset(errs);
	return gs_ydoc_parse(doc, s, len, 2, errs);
}

static int parse(gs_ydoc **doc, const char *s, gs_cat_errors *errs)
{
	return parse_n(doc, s, strlen(s), errs);
}

/* The first record with this code, or NULL. */
static const gs_cat_error *find_code(const gs_cat_errors *errs, const char *code)
{
	size_t i;
	for (i = 0; i < errs->n; i++)
		if (strcmp(errs->v[i].code, code) == 0)
			return &errs->v[i];
	return NULL;
}

/* Parsing s fails with a first record of `code` at file line `line`. */
static const gs_cat_error *expect_fail(const char *s, size_t len, const char *code, unsigned line, gs_cat_errors *errs)
{
	gs_ydoc *doc = (gs_ydoc *)1;
	const gs_cat_error *e;
	size_t i;

	assert_int_equal(parse_n(&doc, s, len, errs), GS_EINVALID);
	assert_null(doc);
	assert_true(errs->n >= 1);
	e = find_code(errs, code);
	if (!e)
		fail_msg("no %s record; first is %s: %s", code, errs->v[0].code, errs->v[0].message);
	assert_int_equal(e->line, line);
	for (i = 0; i < errs->n; i++) {
		assert_null(strchr(errs->v[i].message, '\n'));
		assert_null(strstr(errs->v[i].message, "failed to"));
	}
	return e;
}

#define EXPECT_FAIL(lit, code, line, errs) expect_fail(lit, sizeof(lit) - 1, code, line, errs)

static void test_ydoc__shapes_and_lookup(void **state)
{
	gs_cat_errors errs;
	gs_ydoc *doc;
	const gs_ynode *root, *md, *labels, *tags, *opts, *n;
	(void)state;
	gs_cat_errors_init(&errs);
	assert_int_equal(parse(&doc,
	                       "apiVersion: catalog.gitstore.dev/v1beta1\n"
	                       "kind: Product\n"
	                       "metadata:\n"
	                       "  name: trail-runner-shoe\n"
	                       "  labels:\n"
	                       "    gitstore.dev/brand: ridgeline\n"
	                       "spec:\n"
	                       "  tags: [running, trail]\n"
	                       "  options:\n"
	                       "  - name: color\n"
	                       "    values: [\"40\", '41']\n"
	                       "  FileRef: upper\n"
	                       "  fileRef: lower\n",
	                       &errs),
	                 0);
	assert_int_equal(gs_cat_errors_count(&errs), 0);
	root = gs_ydoc_root(doc);
	assert_non_null(root);
	assert_int_equal(root->kind, GS_YNODE_MAP);
	assert_int_equal(root->n, 4);
	assert_int_equal(root->line, 2);
	n = gs_ynode_get(root, "kind");
	assert_int_equal(n->kind, GS_YNODE_SCALAR);
	assert_string_equal(n->str, "Product");
	assert_int_equal(n->len, 7);
	assert_int_equal(n->line, 3);
	assert_int_equal(gs_ynode_key(root, "kind")->line, 3);
	md = gs_ynode_get(root, "metadata");
	assert_int_equal(md->kind, GS_YNODE_MAP);
	assert_int_equal(gs_ynode_key(root, "metadata")->line, 4);
	assert_int_equal(gs_ynode_get(md, "name")->line, 5);
	labels = gs_ynode_get(md, "labels");
	assert_string_equal(gs_ynode_get(labels, "gitstore.dev/brand")->str, "ridgeline");
	assert_int_equal(gs_ynode_get(labels, "gitstore.dev/brand")->line, 7);
	tags = gs_ynode_get(gs_ynode_get(root, "spec"), "tags");
	assert_int_equal(tags->kind, GS_YNODE_SEQ);
	assert_int_equal(tags->n, 2);
	assert_null(tags->keys);
	assert_string_equal(tags->vals[1]->str, "trail");
	opts = gs_ynode_get(gs_ynode_get(root, "spec"), "options");
	assert_int_equal(opts->n, 1);
	assert_int_equal(opts->vals[0]->line, 11);
	n = gs_ynode_get(opts->vals[0], "values");
	assert_int_equal(n->vals[0]->style, GS_YSTYLE_QUOTED);
	assert_string_equal(n->vals[1]->str, "41");
	assert_int_equal(n->vals[1]->line, 12);
	/* keys are case-sensitive and exact */
	assert_string_equal(gs_ynode_get(gs_ynode_get(root, "spec"), "fileRef")->str, "lower");
	assert_string_equal(gs_ynode_get(gs_ynode_get(root, "spec"), "FileRef")->str, "upper");
	assert_null(gs_ynode_get(gs_ynode_get(root, "spec"), "fileref"));
	assert_null(gs_ynode_get(root, "Kind"));
	assert_null(gs_ynode_get(root, "kin"));
	/* lookups on non-maps and NULL */
	assert_null(gs_ynode_get(tags, "0"));
	assert_null(gs_ynode_get(n->vals[0], "x"));
	assert_null(gs_ynode_get(NULL, "x"));
	assert_null(gs_ynode_key(NULL, "x"));
	gs_ydoc_free(doc);
	gs_ydoc_free(NULL);
	gs_cat_errors_release(&errs);
}

static void test_ydoc__styles(void **state)
{
	gs_cat_errors errs;
	gs_ydoc *doc;
	const gs_ynode *r;
	(void)state;
	gs_cat_errors_init(&errs);
	assert_int_equal(parse(&doc,
	                       "plain: 12345\n"
	                       "amount: 9.90\n"
	                       "single: 'it''s'\n"
	                       "double: \"a\\tb\\u00e9\"\n"
	                       "literal: |\n"
	                       "  line one\n"
	                       "  line two\n"
	                       "folded: >-\n"
	                       "  one\n"
	                       "  two\n"
	                       "multi: plain\n"
	                       "  continued\n"
	                       "bool: true\n"
	                       "empty: ''\n"
	                       "\"quoted key\": 1\n",
	                       &errs),
	                 0);
	r = gs_ydoc_root(doc);
	assert_int_equal(gs_ynode_get(r, "plain")->style, GS_YSTYLE_PLAIN);
	assert_string_equal(gs_ynode_get(r, "plain")->str, "12345");
	assert_string_equal(gs_ynode_get(r, "amount")->str, "9.90"); /* literal source text */
	assert_int_equal(gs_ynode_get(r, "single")->style, GS_YSTYLE_QUOTED);
	assert_string_equal(gs_ynode_get(r, "single")->str, "it's");
	assert_int_equal(gs_ynode_get(r, "double")->style, GS_YSTYLE_QUOTED);
	assert_string_equal(gs_ynode_get(r, "double")->str, "a\tb\xc3\xa9");
	assert_int_equal(gs_ynode_get(r, "literal")->style, GS_YSTYLE_BLOCK);
	assert_string_equal(gs_ynode_get(r, "literal")->str, "line one\nline two\n");
	assert_int_equal(gs_ynode_get(r, "literal")->line, 6);
	assert_int_equal(gs_ynode_get(r, "folded")->style, GS_YSTYLE_BLOCK);
	assert_string_equal(gs_ynode_get(r, "folded")->str, "one two");
	assert_string_equal(gs_ynode_get(r, "multi")->str, "plain continued");
	assert_int_equal(gs_ynode_get(r, "bool")->style, GS_YSTYLE_PLAIN);
	assert_int_equal(gs_ynode_get(r, "empty")->style, GS_YSTYLE_QUOTED);
	assert_int_equal(gs_ynode_get(r, "empty")->len, 0);
	assert_int_equal(gs_ynode_get(r, "quoted key")->line, 16);
	gs_ydoc_free(doc);
	gs_cat_errors_release(&errs);
}

static void test_ydoc__is_null(void **state)
{
	gs_cat_errors errs;
	gs_ydoc *doc;
	const gs_ynode *r;
	(void)state;
	gs_cat_errors_init(&errs);
	assert_int_equal(parse(&doc,
	                       "a:\nb: ~\nc: null\nd: Null\ne: NULL\nf: \"null\"\ng: ''\nh: nul\ni: nULL\n"
	                       "j: {}\nk: []\nl: |\n\nm: !!null ''\nn: !!str null\n",
	                       &errs),
	                 0);
	r = gs_ydoc_root(doc);
	assert_true(gs_ynode_is_null(gs_ynode_get(r, "a")));
	assert_true(gs_ynode_is_null(gs_ynode_get(r, "b")));
	assert_true(gs_ynode_is_null(gs_ynode_get(r, "c")));
	assert_true(gs_ynode_is_null(gs_ynode_get(r, "d")));
	assert_true(gs_ynode_is_null(gs_ynode_get(r, "e")));
	assert_false(gs_ynode_is_null(gs_ynode_get(r, "f")));
	assert_false(gs_ynode_is_null(gs_ynode_get(r, "g")));
	assert_false(gs_ynode_is_null(gs_ynode_get(r, "h")));
	assert_false(gs_ynode_is_null(gs_ynode_get(r, "i")));
	assert_false(gs_ynode_is_null(gs_ynode_get(r, "j")));
	assert_int_equal(gs_ynode_get(r, "j")->kind, GS_YNODE_MAP);
	assert_int_equal(gs_ynode_get(r, "j")->n, 0);
	assert_false(gs_ynode_is_null(gs_ynode_get(r, "k")));
	assert_false(gs_ynode_is_null(gs_ynode_get(r, "l")));
	assert_true(gs_ynode_is_null(gs_ynode_get(r, "m")));
	assert_false(gs_ynode_is_null(gs_ynode_get(r, "n")));
	assert_false(gs_ynode_is_null(NULL));
	/* a key present with a null value is present */
	assert_non_null(gs_ynode_key(r, "a"));
	gs_ydoc_free(doc);
	gs_cat_errors_release(&errs);
}

static void test_ydoc__syntax_lines(void **state)
{
	gs_cat_errors errs;
	gs_frontmatter fm;
	gs_ydoc *doc;
	const gs_cat_error *e;
	static const char file[] = "---\n"
	                           "apiVersion: v1\n"
	                           "kind: Product\n"
	                           "spec:\n"
	                           "  title: [unclosed\n"
	                           "  other: x\n"
	                           "---\n"
	                           "body\n";
	(void)state;
	gs_cat_errors_init(&errs);
	e = EXPECT_FAIL("a: 1\nb: c: d\n", "yaml_syntax", 3, &errs);
	assert_string_equal(e->field, "");
	assert_non_null(strstr(e->message, "mapping values are not allowed"));
	EXPECT_FAIL("a: 1\n\tb: 2\n", "yaml_syntax", 3, &errs);
	EXPECT_FAIL("a: 'unterminated\n", "yaml_syntax", 3, &errs);
	EXPECT_FAIL("a: \"x\x01y\"\n", "yaml_syntax", 2, &errs); /* control character */
	EXPECT_FAIL("a: 1\nb: !<foo\n", "yaml_syntax", 3, &errs);
	/* through the splitter: lines are file lines */
	gs_cat_errors_reset(&errs);
	assert_int_equal(gs_frontmatter_split(file, sizeof(file) - 1, &fm, &errs), 0);
	assert_int_equal(gs_ydoc_parse(&doc, fm.yaml, fm.yaml_len, fm.yaml_line, &errs), GS_EINVALID);
	assert_null(doc);
	assert_int_equal(errs.n, 1);
	assert_string_equal(errs.v[0].code, "yaml_syntax");
	assert_int_equal(errs.v[0].line, 6); /* found at `other:`, file line 6 */
	assert_non_null(strstr(errs.v[0].message, "flow sequence at line 5"));
	/* CRLF files number lines the same way */
	EXPECT_FAIL("a: 1\r\nb: 2\r\nc: d: e\r\n", "yaml_syntax", 4, &errs);
	gs_cat_errors_release(&errs);
}

static void test_ydoc__duplicate_keys(void **state)
{
	gs_cat_errors errs;
	gs_ydoc *doc;
	const gs_cat_error *e;
	(void)state;
	gs_cat_errors_init(&errs);
	e = EXPECT_FAIL("a: 1\nb: 2\na: 3\n", "yaml_duplicate_key", 4, &errs);
	assert_string_equal(e->message, "mapping key \"a\" already defined at line 2");
	assert_string_equal(e->field, "a");
	e = EXPECT_FAIL("metadata:\n  name: x\n  labels: {}\n  name: y\n", "yaml_duplicate_key", 5, &errs);
	assert_string_equal(e->message, "mapping key \"name\" already defined at line 3");
	assert_string_equal(e->field, "metadata.name");
	e = EXPECT_FAIL("spec:\n  media:\n  - fileRef: {name: a, kind: File, name: b}\n", "yaml_duplicate_key", 4,
	                &errs);
	assert_string_equal(e->field, "spec.media[0].fileRef.name");
	/* quoted and plain spellings are the same key */
	EXPECT_FAIL("kind: a\n\"kind\": b\n", "yaml_duplicate_key", 3, &errs);
	/* every duplicate is reported */
	EXPECT_FAIL("a: 1\na: 2\na: 3\nb: 1\nb: 2\n", "yaml_duplicate_key", 3, &errs);
	assert_int_equal(errs.n, 3);
	assert_int_equal(errs.v[1].line, 4);
	assert_string_equal(errs.v[1].message, "mapping key \"a\" already defined at line 2");
	assert_int_equal(errs.v[2].line, 6);
	/* a key with a newline gives a one-line message */
	e = EXPECT_FAIL("\"a\\nb\": 1\n\"a\\nb\": 2\n", "yaml_duplicate_key", 3, &errs);
	assert_string_equal(e->message, "mapping key \"a?b\" already defined at line 2");
	/* the same key in different mappings, or differing in case, is fine */
	assert_int_equal(parse(&doc, "a:\n  x: 1\nb:\n  x: 2\nc: [{x: 1}, {x: 2}]\nX: 1\nx: 2\n", &errs), 0);
	gs_ydoc_free(doc);
	gs_cat_errors_release(&errs);
}

static void test_ydoc__anchors_aliases_merge(void **state)
{
	gs_cat_errors errs;
	const gs_cat_error *e;
	(void)state;
	gs_cat_errors_init(&errs);
	e = EXPECT_FAIL("a: &x 1\nb: 2\n", "yaml_anchor", 2, &errs);
	assert_string_equal(e->field, "a");
	assert_non_null(strstr(e->message, "&x"));
	e = EXPECT_FAIL("a: &x {k: v}\nb: *x\n", "yaml_alias", 3, &errs);
	assert_string_equal(e->field, "b");
	assert_non_null(strstr(e->message, "*x"));
	EXPECT_FAIL("base: &b {x: 1}\nd:\n  <<: *b\n", "yaml_alias", 4, &errs);
	/* a merge key without an alias is still a merge */
	e = EXPECT_FAIL("d:\n  <<: {x: 1}\n  y: 2\n", "yaml_alias", 3, &errs);
	assert_non_null(strstr(e->message, "merge"));
	assert_string_equal(e->field, "d.<<");
	gs_cat_errors_release(&errs);
}

static void test_ydoc__alias_bomb(void **state)
{
	gs_cat_errors errs;
	struct timespec t0, t1;
	double secs;
	char *s = malloc(64 * 1024), *p;
	int i, j;
	(void)state;
	gs_cat_errors_init(&errs);
	assert_non_null(s);
	/* billion laughs: 9 levels of 9 aliases each */
	p = s;
	p += snprintf(p, 100, "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
	for (i = 1; i < 9; i++) {
		p += snprintf(p, 32, "%c: &%c [", 'a' + i, 'a' + i);
		for (j = 0; j < 9; j++)
			p += snprintf(p, 32, "*%c%s", 'a' + i - 1, j < 8 ? "," : "]\n");
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	expect_fail(s, (size_t)(p - s), "yaml_anchor", 2, &errs);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_non_null(find_code(&errs, "yaml_alias"));
	assert_true(gs_cat_errors_count(&errs) <= GS_MAX_CATALOG_ERRORS + 1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	assert_true(secs < 0.5);
	/* a long flat run of aliases stops at the record cap */
	p = s;
	p += snprintf(p, 32, "a: &a x\nb: [");
	for (i = 0; i < 5000; i++)
		p += snprintf(p, 8, "*a,");
	p += snprintf(p, 8, "*a]\n");
	expect_fail(s, (size_t)(p - s), "yaml_alias", 3, &errs);
	assert_int_equal(errs.n, GS_MAX_CATALOG_ERRORS);
	free(s);
	gs_cat_errors_release(&errs);
}

static void test_ydoc__depth(void **state)
{
	gs_cat_errors errs;
	gs_ydoc *doc;
	char *s = malloc(1024 * 1024), *p;
	const gs_cat_error *e;
	int i, j;
	(void)state;
	gs_cat_errors_init(&errs);
	assert_non_null(s);
	/* 1000 levels of flow sequences */
	p = s;
	p += snprintf(p, 8, "a: ");
	for (i = 0; i < 1000; i++)
		*p++ = '[';
	for (i = 0; i < 1000; i++)
		*p++ = ']';
	*p++ = '\n';
	e = expect_fail(s, (size_t)(p - s), "yaml_too_deep", 2, &errs);
	assert_string_equal(e->field, "");
	assert_int_equal(errs.n, 1);
	/* 1000 levels of block mappings */
	p = s;
	for (i = 0; i < 1000; i++) {
		for (j = 0; j < i; j++)
			*p++ = ' ';
		p += snprintf(p, 16, "k%d:\n", i);
	}
	/* k0 is in the root (level 1); the mapping at level N starts on line N + 1 */
	expect_fail(s, (size_t)(p - s), "yaml_too_deep", 2 + GS_MAX_YAML_DEPTH, &errs);
	/* exactly the limit: the root mapping plus GS_MAX_YAML_DEPTH - 1 nested */
	p = s;
	p += snprintf(p, 8, "a: ");
	for (i = 0; i < GS_MAX_YAML_DEPTH - 1; i++)
		*p++ = '[';
	for (i = 0; i < GS_MAX_YAML_DEPTH - 1; i++)
		*p++ = ']';
	*p++ = '\n';
	assert_int_equal(parse_n(&doc, s, (size_t)(p - s), &errs), 0);
	gs_ydoc_free(doc);
	/* one more is too deep */
	p = s;
	p += snprintf(p, 8, "a: ");
	for (i = 0; i < GS_MAX_YAML_DEPTH; i++)
		*p++ = '{';
	for (i = 0; i < GS_MAX_YAML_DEPTH; i++)
		*p++ = '}';
	*p++ = '\n';
	expect_fail(s, (size_t)(p - s), "yaml_too_deep", 2, &errs);
	free(s);
	gs_cat_errors_release(&errs);
}

static void test_ydoc__too_many_nodes(void **state)
{
	gs_cat_errors errs;
	gs_ydoc *doc;
	char *s = malloc(256 * 1024), *p;
	int i;
	(void)state;
	gs_cat_errors_init(&errs);
	assert_non_null(s);
	/* root mapping + key + sequence + items */
	p = s;
	p += snprintf(p, 8, "a: [");
	for (i = 0; i < GS_MAX_YAML_NODES - 3; i++)
		p += snprintf(p, 8, "%s1", i ? "," : "");
	p += snprintf(p, 8, "]\n");
	assert_int_equal(parse_n(&doc, s, (size_t)(p - s), &errs), 0);
	assert_int_equal(gs_ynode_get(gs_ydoc_root(doc), "a")->n, GS_MAX_YAML_NODES - 3);
	gs_ydoc_free(doc);
	p -= 2;
	p += snprintf(p, 8, ",1]\n");
	expect_fail(s, (size_t)(p - s), "yaml_too_many_nodes", 2, &errs);
	assert_int_equal(errs.n, 1);
	free(s);
	gs_cat_errors_release(&errs);
}

static void test_ydoc__scalar_size(void **state)
{
	gs_cat_errors errs;
	gs_ydoc *doc;
	size_t big = 10 * 1024 * 1024;
	char *s = malloc(big + 16);
	const gs_cat_error *e;
	(void)state;
	gs_cat_errors_init(&errs);
	assert_non_null(s);
	/* exactly the limit */
	memcpy(s, "a: ", 3);
	memset(s + 3, 'x', GS_MAX_YAML_SCALAR_BYTES);
	memcpy(s + 3 + GS_MAX_YAML_SCALAR_BYTES, "\nb: 1\n", 6);
	assert_int_equal(parse_n(&doc, s, 3 + GS_MAX_YAML_SCALAR_BYTES + 6, &errs), 0);
	assert_int_equal(gs_ynode_get(gs_ydoc_root(doc), "a")->len, GS_MAX_YAML_SCALAR_BYTES);
	gs_ydoc_free(doc);
	/* one byte over, as a block scalar */
	memcpy(s, "b: 1\na: |\n  ", 12);
	memset(s + 12, 'y', GS_MAX_YAML_SCALAR_BYTES);
	memcpy(s + 12 + GS_MAX_YAML_SCALAR_BYTES, "\n", 1);
	e = expect_fail(s, 12 + GS_MAX_YAML_SCALAR_BYTES + 1, "yaml_scalar_too_large", 3, &errs);
	assert_string_equal(e->field, "a");
	/* 10 MB handed to the parser directly: the file limit applies first */
	memcpy(s, "a: ", 3);
	memset(s + 3, 'z', big);
	s[3 + big] = '\n';
	e = expect_fail(s, big + 4, "file_too_large", 2, &errs);
	assert_int_equal(errs.n, 1);
	free(s);
	gs_cat_errors_release(&errs);
}

static void test_ydoc__invalid_utf8(void **state)
{
	gs_cat_errors errs;
	const gs_cat_error *e;
	(void)state;
	gs_cat_errors_init(&errs);
	e = EXPECT_FAIL("a: 1\nb: caf\xe9\n", "invalid_utf8", 3, &errs);
	assert_string_equal(e->field, "");
	assert_int_equal(errs.n, 1);
	EXPECT_FAIL("a: 1\nb: 2\nk\xff\xfey: v\n", "invalid_utf8", 4, &errs);
	EXPECT_FAIL("a: 1\n\"\xed\xa0\x80\": v\n", "invalid_utf8", 3, &errs); /* surrogate key */
	EXPECT_FAIL("\xff\xfe"
	            "a\0:\0 \0"
	            "1\0",
	            "invalid_utf8", 2, &errs); /* UTF-16 is not read */
	/* escapes cannot produce ill-formed text: surrogates are refused */
	EXPECT_FAIL("a: \"\\ud800\"\n", "yaml_syntax", 2, &errs);
	/* a NUL escape would cut C strings short */
	EXPECT_FAIL("a: \"x\\0y\"\n", "yaml_syntax", 2, &errs);
	gs_cat_errors_release(&errs);
}

static void test_ydoc__not_mapping(void **state)
{
	gs_cat_errors errs;
	const gs_cat_error *e;
	(void)state;
	gs_cat_errors_init(&errs);
	e = EXPECT_FAIL("- a\n- b\n", "yaml_not_mapping", 2, &errs);
	assert_non_null(strstr(e->message, "sequence"));
	assert_int_equal(errs.n, 1);
	EXPECT_FAIL("\n\njust text\n", "yaml_not_mapping", 4, &errs);
	EXPECT_FAIL("\"quoted\"\n", "yaml_not_mapping", 2, &errs);
	e = EXPECT_FAIL("", "yaml_not_mapping", 2, &errs);
	assert_non_null(strstr(e->message, "empty"));
	EXPECT_FAIL("# only a comment\n\n", "yaml_not_mapping", 2, &errs);
	EXPECT_FAIL("~\n", "yaml_not_mapping", 2, &errs);
	EXPECT_FAIL("---\n", "yaml_not_mapping", 3, &errs); /* the empty scalar after the marker */
	gs_cat_errors_release(&errs);
}

static void test_ydoc__multiple_documents(void **state)
{
	gs_cat_errors errs;
	gs_ydoc *doc;
	const gs_cat_error *e;
	(void)state;
	gs_cat_errors_init(&errs);
	e = EXPECT_FAIL("a: 1\n--- \nb: 2\n", "yaml_multiple_documents", 3, &errs);
	assert_int_equal(errs.n, 1);
	assert_string_equal(e->field, "");
	/* YAML 1.1: after `...` another document needs `---` */
	EXPECT_FAIL("a: 1\n...\nb: 2\n", "yaml_syntax", 4, &errs);
	EXPECT_FAIL("a: 1\n...\n---\nb: 2\n", "yaml_multiple_documents", 4, &errs);
	EXPECT_FAIL("a: 1\n--- # c\n- x\n", "yaml_multiple_documents", 3, &errs);
	/* one explicit document, with an end marker, is fine */
	assert_int_equal(parse(&doc, "--- \na: 1\n...\n", &errs), 0);
	assert_int_equal(gs_ydoc_root(doc)->line, 3);
	gs_ydoc_free(doc);
	gs_cat_errors_release(&errs);
}

static void test_ydoc__tags(void **state)
{
	gs_cat_errors errs;
	gs_ydoc *doc;
	const gs_ynode *r;
	const gs_cat_error *e;
	(void)state;
	gs_cat_errors_init(&errs);
	assert_int_equal(parse(&doc,
	                       "s: !!str 12\n"
	                       "i: !!int \"12\"\n"
	                       "h: !!int 0x1F\n"
	                       "f: !!float 1.5e3\n"
	                       "g: !!float 7\n"
	                       "b: !!bool true\n"
	                       "n: !!null\n"
	                       "m: !!map {x: 1}\n"
	                       "q: !!seq [1]\n"
	                       "v: !<tag:yaml.org,2002:str> verbatim\n"
	                       "!!str k: 1\n"
	                       "blk: !!str |\n  text\n",
	                       &errs),
	                 0);
	r = gs_ydoc_root(doc);
	assert_int_equal(gs_ynode_get(r, "s")->style, GS_YSTYLE_QUOTED);
	assert_string_equal(gs_ynode_get(r, "s")->str, "12");
	assert_int_equal(gs_ynode_get(r, "i")->style, GS_YSTYLE_PLAIN);
	assert_int_equal(gs_ynode_get(r, "h")->style, GS_YSTYLE_PLAIN);
	assert_true(gs_ynode_is_null(gs_ynode_get(r, "n")));
	assert_int_equal(gs_ynode_get(r, "m")->kind, GS_YNODE_MAP);
	assert_int_equal(gs_ynode_get(r, "v")->style, GS_YSTYLE_QUOTED);
	assert_non_null(gs_ynode_get(r, "k"));
	assert_int_equal(gs_ynode_get(r, "blk")->style, GS_YSTYLE_BLOCK);
	gs_ydoc_free(doc);

	e = EXPECT_FAIL("a: 1\nb: !foo x\n", "yaml_tag", 3, &errs);
	assert_string_equal(e->field, "b");
	assert_non_null(strstr(e->message, "!foo"));
	e = EXPECT_FAIL("a: !!binary aGk=\n", "yaml_tag", 2, &errs);
	assert_non_null(strstr(e->message, "!!binary"));
	EXPECT_FAIL("a: !!timestamp 2026-03-01\n", "yaml_tag", 2, &errs);
	EXPECT_FAIL("a: ! x\n", "yaml_tag", 2, &errs);
	EXPECT_FAIL("a: !!int abc\n", "yaml_tag", 2, &errs);
	EXPECT_FAIL("a: !!bool yes\n", "yaml_tag", 2, &errs);
	EXPECT_FAIL("a: !!null x\n", "yaml_tag", 2, &errs);
	EXPECT_FAIL("a: !!float 1.2.3\n", "yaml_tag", 2, &errs);
	EXPECT_FAIL("a: !!seq {x: 1}\n", "yaml_tag", 2, &errs);
	EXPECT_FAIL("a: !!map x\n", "yaml_tag", 2, &errs);
	EXPECT_FAIL("a: !!str [x]\n", "yaml_tag", 2, &errs);
	EXPECT_FAIL("!!set\n? a\n", "yaml_tag", 2, &errs);
	EXPECT_FAIL("%TAG !e! tag:example.com,2000:\n---\na: !e!x 1\n", "yaml_tag", 4, &errs);
	gs_cat_errors_release(&errs);
}

static void test_ydoc__keys_must_be_scalars(void **state)
{
	gs_cat_errors errs;
	const gs_cat_error *e;
	(void)state;
	gs_cat_errors_init(&errs);
	e = EXPECT_FAIL("a: 1\n? [x, y]\n: 2\n", "yaml_syntax", 3, &errs);
	assert_non_null(strstr(e->message, "scalar"));
	EXPECT_FAIL("a: 1\n? {x: 1}\n: 2\n", "yaml_syntax", 3, &errs);
	EXPECT_FAIL("a: {[x]: 1}\n", "yaml_syntax", 2, &errs);
	gs_cat_errors_release(&errs);
}

static void test_ydoc__odd_line_breaks(void **state)
{
	gs_cat_errors errs;
	const gs_cat_error *e;
	(void)state;
	gs_cat_errors_init(&errs);
	/* libyaml counts a lone CR as a line break; files count '\n' only */
	e = EXPECT_FAIL("a: 1\rb: 2\nc: 3\nc: 4\n", "yaml_duplicate_key", 4, &errs);
	assert_string_equal(e->message, "mapping key \"c\" already defined at line 3");
	/* LS (U+2028) and NEL (U+0085) inside quoted text */
	e = EXPECT_FAIL("a: \"x\xe2\x80\xa8y\xc2\x85z\"\nb: 1\nb: 2\n", "yaml_duplicate_key", 4, &errs);
	assert_string_equal(e->message, "mapping key \"b\" already defined at line 3");
	gs_cat_errors_release(&errs);
}

static void test_ydoc__appends_errors(void **state)
{
	gs_cat_errors errs;
	gs_ydoc *doc;
	(void)state;
	gs_cat_errors_init(&errs);
	gs_cat_errors_add(&errs, 1, "", "earlier", "from another check");
	/* a good parse leaves earlier records alone and still succeeds */
	assert_int_equal(gs_ydoc_parse(&doc, "a: 1\n", 5, 2, &errs), 0);
	assert_non_null(doc);
	assert_int_equal(errs.n, 1);
	gs_ydoc_free(doc);
	assert_int_equal(gs_ydoc_parse(&doc, "a: 1\na: 2\n", 10, 2, &errs), GS_EINVALID);
	assert_int_equal(errs.n, 2);
	assert_string_equal(errs.v[0].code, "earlier");
	assert_string_equal(errs.v[1].code, "yaml_duplicate_key");
	gs_cat_errors_release(&errs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ydoc__shapes_and_lookup),
	    cmocka_unit_test(test_ydoc__styles),
	    cmocka_unit_test(test_ydoc__is_null),
	    cmocka_unit_test(test_ydoc__syntax_lines),
	    cmocka_unit_test(test_ydoc__duplicate_keys),
	    cmocka_unit_test(test_ydoc__anchors_aliases_merge),
	    cmocka_unit_test(test_ydoc__alias_bomb),
	    cmocka_unit_test(test_ydoc__depth),
	    cmocka_unit_test(test_ydoc__too_many_nodes),
	    cmocka_unit_test(test_ydoc__scalar_size),
	    cmocka_unit_test(test_ydoc__invalid_utf8),
	    cmocka_unit_test(test_ydoc__not_mapping),
	    cmocka_unit_test(test_ydoc__multiple_documents),
	    cmocka_unit_test(test_ydoc__tags),
	    cmocka_unit_test(test_ydoc__keys_must_be_scalars),
	    cmocka_unit_test(test_ydoc__odd_line_breaks),
	    cmocka_unit_test(test_ydoc__appends_errors),
	};
	return cmocka_run_group_tests_name("ydoc", tests, NULL, NULL);
}
