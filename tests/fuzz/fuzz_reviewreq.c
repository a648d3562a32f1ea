/* tests/fuzz/fuzz_reviewreq.c -- libFuzzer target: the JSON form of the
 * dry-run review (admission/reviewreq.c) on arbitrary bytes. Beyond the
 * absence of crashes it checks the property the form rests on: the
 * rendered resource file splits into front-matter and the exact body,
 * no front-matter line is `---`, and the YAML reads back as the same
 * JSON -- every string byte-exact (quoted), every number to the same
 * value (plain), keys and elements in order. Any JSON object in the
 * input is also rendered directly, so the renderer is reached without
 * first finding a valid envelope. The rendering then goes through the
 * full catalog parse, as the server does. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "admission/reviewreq.h"
#include "catalog/caterr.h"
#include "catalog/frontmatter.h"
#include "catalog/resource.h"
#include "catalog/ydoc.h"
#include "limits.h"
#include "util/error.h"
#include "util/utf8.h"

#define CHECK(c)                                                                                                       \
	do {                                                                                                           \
		if (!(c))                                                                                              \
			abort();                                                                                       \
	} while (0)

static void same(const gs_ynode *n, const json_t *j, int top)
{
	const char *key;
	json_t *v;
	size_t i = 0, idx;
	char *end;

	switch (json_typeof(j)) {
	case JSON_OBJECT:
		CHECK(n->kind == GS_YNODE_MAP);
		json_object_foreach((json_t *)j, key, v) {
			if (top && strcmp(key, "body") == 0)
				continue;
			CHECK(i < n->n);
			CHECK(n->keys[i]->style == GS_YSTYLE_QUOTED);
			CHECK(n->keys[i]->len == strlen(key) && memcmp(n->keys[i]->str, key, n->keys[i]->len) == 0);
			same(n->vals[i], v, 0);
			i++;
		}
		CHECK(i == n->n);
		break;
	case JSON_ARRAY:
		CHECK(n->kind == GS_YNODE_SEQ && n->n == json_array_size(j));
		json_array_foreach(j, idx, v)
			same(n->vals[idx], v, 0);
		break;
	case JSON_STRING:
		CHECK(n->kind == GS_YNODE_SCALAR && n->style == GS_YSTYLE_QUOTED);
		CHECK(n->len == json_string_length(j) && memcmp(n->str, json_string_value(j), n->len) == 0);
		break;
	case JSON_INTEGER:
		CHECK(n->kind == GS_YNODE_SCALAR && n->style == GS_YSTYLE_PLAIN);
		CHECK(strtoll(n->str, &end, 10) == json_integer_value(j) && *end == 0);
		break;
	case JSON_REAL:
		CHECK(n->kind == GS_YNODE_SCALAR && n->style == GS_YSTYLE_PLAIN);
		CHECK(strtod(n->str, &end) == json_real_value(j) && *end == 0);
		CHECK(strpbrk(n->str, ".e") != NULL); /* still a real */
		break;
	case JSON_TRUE:
		CHECK(n->kind == GS_YNODE_SCALAR && n->style == GS_YSTYLE_PLAIN && strcmp(n->str, "true") == 0);
		break;
	case JSON_FALSE:
		CHECK(n->kind == GS_YNODE_SCALAR && n->style == GS_YSTYLE_PLAIN && strcmp(n->str, "false") == 0);
		break;
	case JSON_NULL:
		CHECK(n->kind == GS_YNODE_SCALAR && gs_ynode_is_null(n));
		break;
	}
}

/* Characters a key takes in the rendering (escapes included). */
static size_t rendered_chars(const char *k)
{
	size_t n = 2;
	for (const unsigned char *p = (const unsigned char *)k; *p;) {
		unsigned cp = *p;
		size_t len = *p < 0x80 ? 1 : gs_utf8_seq_len(p, strlen((const char *)p), &cp);
		if (!len)
			len = 1;
		if (cp == '"' || cp == '\\' || cp == '\n' || cp == '\t' || cp == '\r')
			n += 2;
		else if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 ||
			 cp == 0xFEFF || cp == 0xFFFE || cp == 0xFFFF)
			n += 6;
		else
			n += 1;
		p += len;
	}
	return n;
}

/* The longest key anywhere, as rendered: libyaml reads a key of at most
 * 1024 characters (a longer one is a syntax error, in a file too). */
static size_t longest_key(const json_t *j)
{
	const char *key;
	json_t *v;
	size_t i, m = 0, k;
	if (json_is_object(j))
		json_object_foreach((json_t *)j, key, v) {
			k = rendered_chars(key) > longest_key(v) ? rendered_chars(key) : longest_key(v);
			m = k > m ? k : m;
		}
	else if (json_is_array(j))
		json_array_foreach(j, i, v) {
			k = longest_key(v);
			m = k > m ? k : m;
		}
	return m;
}

static void check_rendering(const char *file, size_t len, const json_t *obj)
{
	const json_t *body = json_object_get(obj, "body");
	gs_catalog_ctx ctx = {"shop", "catalog", "review.md", GS_CATALOG_FULL};
	gs_cat_errors errs;
	gs_frontmatter fm;
	gs_ydoc *doc = NULL;
	gs_resource *res = NULL;
	const char *p;
	int rc;

	CHECK(len <= GS_MAX_RESOURCE_FILE_BYTES && file[len] == 0);
	gs_cat_errors_init(&errs);
	CHECK(gs_frontmatter_split(file, len, &fm, &errs) == 0);
	if (json_is_string(body))
		CHECK(fm.body_len == json_string_length(body) && memcmp(fm.body, json_string_value(body), fm.body_len) == 0);
	else
		CHECK(fm.body_len == 0);
	for (p = fm.yaml; p < fm.yaml + fm.yaml_len;) {
		const char *nl = memchr(p, '\n', (size_t)(fm.yaml + fm.yaml_len - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(fm.yaml + fm.yaml_len - p);
		CHECK(n > 0 && (p[0] == '{' || p[0] == '}' || p[0] == ']' || p[0] == ' '));
		p += n + 1;
	}
	rc = gs_ydoc_parse(&doc, fm.yaml, fm.yaml_len, fm.yaml_line, &errs);
	if (rc == 0) {
		same(gs_ydoc_root(doc), obj, 1);
		gs_ydoc_free(doc);
	} else {
		/* only the bounds a file has too; never a syntax error, unless a
		 * key is longer than libyaml reads as a key (1024) */
		CHECK(rc == GS_EINVALID && errs.n > 0);
		for (size_t i = 0; i < errs.n; i++)
			CHECK(strcmp(errs.v[i].code, "yaml_too_deep") == 0 ||
			      strcmp(errs.v[i].code, "yaml_too_many_nodes") == 0 ||
			      strcmp(errs.v[i].code, "yaml_scalar_too_large") == 0 ||
			      (strcmp(errs.v[i].code, "yaml_syntax") == 0 && longest_key(obj) > 1000));
	}
	gs_cat_errors_reset(&errs);
	gs_catalog_parse(&ctx, file, len, &res, &errs);
	gs_resource_free(res);
	gs_cat_errors_release(&errs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* an exact-size copy so ASan sees any over-read */
	char *text = malloc(size ? size : 1);
	gs_error err = GS_ERROR_INIT;
	gs_reviewreq rr;
	json_t *j;
	int rc;

	if (!text)
		return 0;
	memcpy(text, data, size);
	gs_reviewreq_is_json(NULL, text, size);
	rc = gs_reviewreq_parse(&rr, "shop", text, size, &err);
	if (rc == 0) {
		CHECK(err.code == GS_OK);
		CHECK(strlen(rr.uid) <= GS_REVIEWREQ_MAX_UID);
		if (rr.operation == GS_ADM_DELETE) {
			CHECK(rr.file.len == 0 && rr.kind[0] && gs_catalog_plural(rr.kind) && rr.name[0]);
		} else {
			json_t *root = json_loadb(text, size, JSON_REJECT_DUPLICATES, NULL);
			CHECK(root && rr.file.ptr);
			check_rendering(rr.file.ptr, rr.file.len, json_object_get(json_object_get(root, "request"), "object"));
			json_decref(root);
		}
	} else {
		CHECK(rc == GS_EINVALID || rc == GS_ELIMIT);
		/* one line of valid UTF-8: the server sends it as a JSON string */
		CHECK(err.rule[0] != 0 && strchr(err.msg, '\n') == NULL);
		CHECK(gs_utf8_first_bad(err.msg, strlen(err.msg)) == (size_t)-1);
	}
	gs_reviewreq_release(&rr);

	j = json_loadb(text, size, JSON_REJECT_DUPLICATES, NULL);
	if (json_is_object(j)) {
		gs_buf b;
		gs_error_clear(&err);
		gs_buf_init(&b, GS_MAX_RESOURCE_FILE_BYTES);
		rc = gs_reviewreq_render(&b, j, &err);
		if (rc == 0)
			check_rendering(b.ptr, b.len, j);
		else if (rc < 0)
			CHECK((rc == GS_EINVALID || rc == GS_ELIMIT) && err.rule[0] != 0);
		gs_buf_release(&b);
	}
	json_decref(j);
	free(text);
	return 0;
}
