/* tests/fuzz/fuzz_frontmatter.c -- libFuzzer target: the front-matter
 * split and the strict YAML tree on arbitrary bytes. Input that is not a
 * resource document is also parsed as bare YAML, so the fuzzer reaches
 * the YAML checks without first finding `---`. Invariants of the result
 * (lines, NUL-terminated scalars, keys are scalars, one-line records) are
 * checked, not only the absence of crashes. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/caterr.h"
#include "catalog/frontmatter.h"
#include "catalog/ydoc.h"
#include "limits.h"
#include "util/error.h"

#define CHECK(c)                                                                                                       \
	do {                                                                                                           \
		if (!(c)) {                                                                                            \
			fprintf(stderr, "fuzz_frontmatter: check failed at line %d: %s\n", __LINE__, #c);             \
			abort();                                                                                       \
		}                                                                                                      \
	} while (0)

/* depth: 1 for the root; collections nest at most GS_MAX_YAML_DEPTH deep */
static void walk(const gs_ynode *n, unsigned first_line, unsigned depth)
{
	size_t i;

	CHECK(n != NULL);
	CHECK(depth <= GS_MAX_YAML_DEPTH || n->kind == GS_YNODE_SCALAR);
	CHECK(n->line >= first_line);
	switch (n->kind) {
	case GS_YNODE_SCALAR:
		CHECK(n->str != NULL && n->str[n->len] == 0 && strlen(n->str) == n->len);
		CHECK(n->len <= GS_MAX_YAML_SCALAR_BYTES);
		CHECK(n->style >= GS_YSTYLE_PLAIN && n->style <= GS_YSTYLE_BLOCK);
		gs_ynode_is_null(n);
		break;
	case GS_YNODE_MAP:
		for (i = 0; i < n->n; i++) {
			CHECK(n->keys[i]->kind == GS_YNODE_SCALAR);
			/* keys are unique: the lookup finds this very key */
			CHECK(gs_ynode_key(n, n->keys[i]->str) == n->keys[i]);
			CHECK(gs_ynode_get(n, n->keys[i]->str) == n->vals[i]);
			walk(n->vals[i], first_line, depth + 1);
		}
		break;
	case GS_YNODE_SEQ:
		CHECK(gs_ynode_get(n, "x") == NULL);
		for (i = 0; i < n->n; i++)
			walk(n->vals[i], first_line, depth + 1);
		break;
	default:
		CHECK(0);
	}
}

static void parse(const char *yaml, size_t len, unsigned first_line, gs_cat_errors *errs)
{
	gs_ydoc *doc = NULL;
	size_t i;
	int rc = gs_ydoc_parse(&doc, yaml, len, first_line, errs);

	if (rc == 0) {
		CHECK(doc != NULL);
		CHECK(gs_ydoc_root(doc)->kind == GS_YNODE_MAP);
		walk(gs_ydoc_root(doc), first_line, 1);
		gs_ydoc_free(doc);
	} else {
		CHECK(rc == GS_EINVALID && doc == NULL && gs_cat_errors_count(errs) > 0);
	}
	for (i = 0; i < errs->n; i++) {
		CHECK(errs->v[i].code[0] != 0);
		CHECK(strchr(errs->v[i].message, '\n') == NULL);
		CHECK(strchr(errs->v[i].field, '\n') == NULL);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* an exact-size copy so ASan sees any over-read */
	char *file = malloc(size ? size : 1);
	gs_cat_errors errs;
	gs_frontmatter fm;
	int rc;

	if (!file)
		return 0;
	memcpy(file, data, size);
	gs_cat_errors_init(&errs);
	rc = gs_frontmatter_split(file, size, &fm, &errs);
	if (rc == 0) {
		CHECK(gs_frontmatter_is_resource(file, size));
		CHECK(fm.yaml == file + 4 || fm.yaml == file + 5);
		CHECK(fm.yaml_line == 2 && fm.body_line > fm.yaml_line);
		CHECK(fm.body + fm.body_len == file + size);
		CHECK(fm.yaml + fm.yaml_len <= fm.body);
		CHECK(gs_cat_errors_count(&errs) == 0);
		parse(fm.yaml, fm.yaml_len, fm.yaml_line, &errs);
	} else if (rc == GS_ENOTFOUND) {
		CHECK(!gs_frontmatter_is_resource(file, size));
		CHECK(gs_cat_errors_count(&errs) == 0);
		parse(file, size, 1, &errs);
	} else {
		CHECK(rc == GS_EINVALID && errs.n == 1);
	}
	gs_cat_errors_release(&errs);
	free(file);
	return 0;
}
