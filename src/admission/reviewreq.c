/*
 * admission/reviewreq.c -- AdmissionReview JSON request -> resource file
 * (pure: no I/O, no global state).
 *
 * Owns: the rendered file in gs_reviewreq.file (a bounded gs_buf).
 * Invariants: no line of the front-matter is `---` (each starts with
 * `{`, `}`, `]` or indentation; strings are escaped, so no line break
 * comes from data); every JSON string reads back from the YAML
 * byte-exact and every number to the same value (tests/fuzz/
 * fuzz_reviewreq.c checks both); the rendering never exceeds the
 * buffer's maximum (GS_MAX_RESOURCE_FILE_BYTES, like a pushed file).
 * Threads: any.
 * SPDX-License-Identifier: MIT
 */
#include "admission/reviewreq.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "catalog/resource.h"
#include "limits.h"
#include "util/str.h"
#include "util/utf8.h"

/* ---- rendering ---------------------------------------------------------- */

static int reviewreq_add(gs_buf *b, const char *p, size_t n, gs_error *err)
{
	if (gs_buf_add(b, p, n, NULL) < 0)
		return gs_error_setr(err, GS_ELIMIT, "file_too_large",
				     "the resource file rendered from request.object exceeds %zu bytes", b->max);
	return 0;
}

/* YAML reads these back differently (or not at all) when written raw:
 * C0/C1 controls and DEL are refused by the reader, NEL/LS/PS are line
 * breaks folded inside quotes, U+FFFE/FFFF are not printable, and
 * U+FEFF could be taken for a byte-order mark. */
static int reviewreq_must_escape(unsigned cp)
{
	return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 ||
	       cp == 0xFEFF || cp == 0xFFFE || cp == 0xFFFF;
}

/* A YAML double-quoted scalar (also a JSON string) with the same bytes. */
static int reviewreq_string(gs_buf *b, const char *s, size_t n, gs_error *err)
{
	size_t i = 0, run = 0;
	int error;

	if ((error = reviewreq_add(b, "\"", 1, err)) < 0)
		return error;
	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		unsigned cp = c;
		size_t k = 1;
		char esc[12];

		if (c >= 0x80 && (k = gs_utf8_seq_len((const unsigned char *)s + i, n - i, &cp)) == 0)
			return gs_error_setr(err, GS_EINVALID, "invalid_object", "a string in request.object is not UTF-8");
		esc[0] = 0;
		if (c == '"' || c == '\\')
			snprintf(esc, sizeof(esc), "\\%c", c);
		else if (c == '\n')
			snprintf(esc, sizeof(esc), "\\n");
		else if (c == '\t')
			snprintf(esc, sizeof(esc), "\\t");
		else if (c == '\r')
			snprintf(esc, sizeof(esc), "\\r");
		else if (reviewreq_must_escape(cp))
			snprintf(esc, sizeof(esc), "\\u%04X", cp);
		if (esc[0]) {
			if ((error = reviewreq_add(b, s + run, i - run, err)) < 0 ||
			    (error = reviewreq_add(b, esc, strlen(esc), err)) < 0)
				return error;
			run = i + k;
		}
		i += k;
	}
	if ((error = reviewreq_add(b, s + run, n - run, err)) < 0)
		return error;
	return reviewreq_add(b, "\"", 1, err);
}

/* The shortest %g form that reads back as d, without an exponent for
 * integral magnitudes below 1e17 (100.0, not 1e+02), and always with a
 * '.' or an exponent so YAML and JSON both keep it a real. */
static int reviewreq_real(gs_buf *b, double d, gs_error *err)
{
	char num[400];
	double mag = d < 0 ? -d : d;
	int p, ipart = 0;

	if (!isfinite(d))
		return gs_error_setr(err, GS_EINVALID, "invalid_object", "a number in request.object is not finite");
	if (mag >= 1 && mag < 1e17)
		ipart = snprintf(num, sizeof(num), "%.0f", mag); /* digits before the point */
	for (p = 1; p <= 17; p++) { /* 17 digits always read back */
		snprintf(num, sizeof(num), "%.*g", p, d);
		if (strtod(num, NULL) == d)
			break;
	}
	if (p < ipart)
		snprintf(num, sizeof(num), "%.*g", ipart, d);
	if (!strpbrk(num, ".e"))
		snprintf(num + strlen(num), sizeof(num) - strlen(num), ".0");
	return reviewreq_add(b, num, strlen(num), err);
}

/* Before a member or element: ",\n" (or "\n" for the first) and the
 * indentation of depth (two spaces a level, as jq prints). */
static int reviewreq_newline(gs_buf *b, int first, unsigned depth, gs_error *err)
{
	static const char spaces[] = "                                ";
	int error;
	if ((error = reviewreq_add(b, first ? "\n" : ",\n", first ? 1 : 2, err)) < 0)
		return error;
	for (size_t n = 2 * (size_t)depth; n > 0;) {
		size_t k = n < sizeof(spaces) - 1 ? n : sizeof(spaces) - 1;
		if ((error = reviewreq_add(b, spaces, k, err)) < 0)
			return error;
		n -= k;
	}
	return 0;
}

/* jq's layout: one member or element per line, empty containers as {}
 * and [], so line N of the front-matter is line N-1 of `jq .`. */
static int reviewreq_value(gs_buf *b, const json_t *v, unsigned depth, gs_error *err)
{
	const char *key;
	json_t *m;
	size_t i;
	int error = 0, first = 1;
	char num[32];

	if (depth > GS_REVIEWREQ_MAX_DEPTH)
		return gs_error_setr(err, GS_EINVALID, "invalid_object", "request.object nests deeper than %d levels",
				     GS_REVIEWREQ_MAX_DEPTH);
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		if ((error = reviewreq_add(b, "{", 1, err)) < 0)
			return error;
		json_object_foreach((json_t *)v, key, m) {
			if (depth == 0 && strcmp(key, "body") == 0)
				continue;
			if ((error = reviewreq_newline(b, first, depth + 1, err)) < 0 ||
			    (error = reviewreq_string(b, key, strlen(key), err)) < 0 ||
			    (error = reviewreq_add(b, ": ", 2, err)) < 0 ||
			    (error = reviewreq_value(b, m, depth + 1, err)) < 0)
				return error;
			first = 0;
		}
		if (!first && (error = reviewreq_newline(b, 1, depth, err)) < 0)
			return error;
		return reviewreq_add(b, "}", 1, err);
	case JSON_ARRAY:
		if ((error = reviewreq_add(b, "[", 1, err)) < 0)
			return error;
		json_array_foreach(v, i, m) {
			if ((error = reviewreq_newline(b, i == 0, depth + 1, err)) < 0 ||
			    (error = reviewreq_value(b, m, depth + 1, err)) < 0)
				return error;
		}
		if (json_array_size(v) && (error = reviewreq_newline(b, 1, depth, err)) < 0)
			return error;
		return reviewreq_add(b, "]", 1, err);
	case JSON_STRING:
		return reviewreq_string(b, json_string_value(v), json_string_length(v), err);
	case JSON_INTEGER:
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return reviewreq_add(b, num, strlen(num), err);
	case JSON_REAL:
		return reviewreq_real(b, json_real_value(v), err);
	case JSON_TRUE:
		return reviewreq_add(b, "true", 4, err);
	case JSON_FALSE:
		return reviewreq_add(b, "false", 5, err);
	case JSON_NULL:
		return reviewreq_add(b, "null", 4, err);
	}
	return reviewreq_add(b, "null", 4, err);
}

int gs_reviewreq_render(gs_buf *out, const json_t *object, gs_error *err)
{
	const json_t *body = json_object_get(object, "body");
	int error;

	if (!json_is_object(object))
		return gs_error_setr(err, GS_EINVALID, "invalid_object", "request.object must be an object");
	if ((error = reviewreq_add(out, "---\n", 4, err)) < 0 || (error = reviewreq_value(out, object, 0, err)) < 0 ||
	    (error = reviewreq_add(out, "\n---\n", 5, err)) < 0)
		return error;
	if (json_is_string(body))
		error = reviewreq_add(out, json_string_value(body), json_string_length(body), err);
	return error;
}

/* ---- the envelope ------------------------------------------------------- */

int gs_reviewreq_is_json(const char *content_type, const char *body, size_t len)
{
	if (content_type) {
		while (*content_type == ' ' || *content_type == '\t')
			content_type++;
		if (strncasecmp(content_type, "application/json", 16) == 0 &&
		    strchr("; \t", content_type[16]) != NULL) /* also matches the NUL */
			return 1;
	}
	for (size_t i = 0; i < len; i++) {
		if (body[i] == ' ' || body[i] == '\t' || body[i] == '\n' || body[i] == '\r')
			continue;
		return body[i] == '{';
	}
	return 0;
}

/* A member that is absent or null counts as absent. */
static const json_t *reviewreq_get(const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);
	return json_is_null(v) ? NULL : v;
}

static void reviewreq_copy(char *dst, size_t cap, const json_t *s)
{
	dst[0] = 0;
	if (json_is_string(s) && json_string_length(s) < cap)
		memcpy(dst, json_string_value(s), json_string_length(s) + 1);
}

/* Identity as given, copied when the strings fit (for the answer). */
static void reviewreq_identity(gs_reviewreq *out, const json_t *obj)
{
	const json_t *meta = json_object_get(obj, "metadata");
	reviewreq_copy(out->kind, sizeof(out->kind), json_object_get(obj, "kind"));
	reviewreq_copy(out->name, sizeof(out->name), json_object_get(meta, "name"));
	reviewreq_copy(out->ns, sizeof(out->ns), json_object_get(meta, "namespace"));
}

/* DELETE: the identity must name a resource of this namespace. */
static int reviewreq_delete_identity(gs_reviewreq *out, const char *what, const json_t *obj, const char *repo_ns,
				     gs_error *err)
{
	const json_t *meta = reviewreq_get(obj, "metadata"), *ns;
	reviewreq_identity(out, obj);
	if (!out->kind[0] || !gs_catalog_plural(out->kind))
		return gs_error_setr(err, GS_EINVALID, "invalid_object",
				     "%s.kind must be Product, ProductVariant, CategoryTaxonomy, Collection or Namespace",
				     what);
	if (!json_is_object(meta) || !out->name[0] || !gs_str_is_dns_label(out->name))
		return gs_error_setr(err, GS_EINVALID, "invalid_object", "%s.metadata.name must be a DNS label", what);
	ns = reviewreq_get(meta, "namespace");
	if (ns && (!json_is_string(ns) || strcmp(json_string_value(ns), repo_ns ? repo_ns : "") != 0))
		return gs_error_setr(err, GS_EINVALID, "invalid_object",
				     "%s.metadata.namespace must be the repository's namespace %s", what,
				     repo_ns ? repo_ns : "");
	return 0;
}

/* Two strings that are both given and differ. */
static int reviewreq_differ(const json_t *a, const json_t *b)
{
	return json_is_string(a) && json_is_string(b) && !json_equal((json_t *)a, (json_t *)b);
}

/* CREATE/UPDATE: what the schema check cannot be asked about. */
static int reviewreq_object(gs_reviewreq *out, const json_t *object, const json_t *old, gs_error *err)
{
	const json_t *spec = json_object_get(object, "spec"), *meta = json_object_get(object, "metadata");
	const json_t *body = reviewreq_get(object, "body");

	if (spec && !json_is_object(spec))
		return gs_error_setr(err, GS_EINVALID, "invalid_object", "request.object.spec must be an object");
	if (meta && !json_is_object(meta))
		return gs_error_setr(err, GS_EINVALID, "invalid_object", "request.object.metadata must be an object");
	if (body && !json_is_string(body))
		return gs_error_setr(err, GS_EINVALID, "invalid_object", "request.object.body must be a string");
	reviewreq_identity(out, object);
	if (old && (reviewreq_differ(json_object_get(old, "kind"), json_object_get(object, "kind")) ||
		    reviewreq_differ(json_object_get(json_object_get(old, "metadata"), "name"), json_object_get(meta, "name"))))
		return gs_error_setr(err, GS_EINVALID, "invalid_object",
				     "request.oldObject and request.object name different resources");
	return gs_reviewreq_render(&out->file, object, err);
}

int gs_reviewreq_parse(gs_reviewreq *out, const char *repo_ns, const char *body, size_t len, gs_error *err)
{
	json_error_t jerr;
	json_t *root = NULL;
	const json_t *req, *v, *object, *old;
	const char *s;
	int error = 0;

	memset(out, 0, sizeof(*out));
	out->dry_run = 1;
	gs_buf_init(&out->file, GS_MAX_RESOURCE_FILE_BYTES);

	root = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		/* jansson quotes the input near the error: keep the message one
		 * line of ASCII (it is sent back as a JSON string) */
		for (char *p = jerr.text; *p; p++)
			if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7F)
				*p = '?';
		error = gs_error_setr(err, GS_EINVALID, "invalid_json", "the body is not JSON: %s (line %d, column %d)",
				      jerr.text, jerr.line, jerr.column);
		goto out;
	}
	if (!json_is_object(root) || !json_is_string(json_object_get(root, "apiVersion")) ||
	    strcmp(json_string_value(json_object_get(root, "apiVersion")), GS_REVIEWREQ_API_VERSION) != 0) {
		error = gs_error_setr(err, GS_EINVALID, "invalid_review", "apiVersion must be \"%s\"",
				      GS_REVIEWREQ_API_VERSION);
		goto out;
	}
	if (!json_is_string(json_object_get(root, "kind")) ||
	    strcmp(json_string_value(json_object_get(root, "kind")), GS_REVIEWREQ_KIND) != 0) {
		error = gs_error_setr(err, GS_EINVALID, "invalid_review", "kind must be \"%s\"", GS_REVIEWREQ_KIND);
		goto out;
	}
	req = json_object_get(root, "request");
	if (!json_is_object(req)) {
		error = gs_error_setr(err, GS_EINVALID, "invalid_review", "request is required and must be an object");
		goto out;
	}

	v = reviewreq_get(req, "uid");
	if (v && (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > GS_REVIEWREQ_MAX_UID)) {
		error = gs_error_setr(err, GS_EINVALID, "invalid_review", "request.uid must be a string of 1 to %d bytes",
				      GS_REVIEWREQ_MAX_UID);
		goto out;
	}
	reviewreq_copy(out->uid, sizeof(out->uid), v);

	v = reviewreq_get(req, "operation");
	s = json_string_value(v);
	if (v) {
		if (s && strcmp(s, "CREATE") == 0)
			out->operation = GS_ADM_CREATE;
		else if (s && strcmp(s, "UPDATE") == 0)
			out->operation = GS_ADM_UPDATE;
		else if (s && strcmp(s, "DELETE") == 0)
			out->operation = GS_ADM_DELETE;
		else {
			error = gs_error_setr(err, GS_EINVALID, "invalid_operation",
					      "request.operation must be CREATE, UPDATE or DELETE");
			goto out;
		}
	}

	v = reviewreq_get(req, "dryRun");
	if (v && !json_is_boolean(v)) {
		error = gs_error_setr(err, GS_EINVALID, "invalid_review", "request.dryRun must be true or false");
		goto out;
	}
	if (v)
		out->dry_run = json_is_true(v);

	object = reviewreq_get(req, "object");
	old = reviewreq_get(req, "oldObject");
	if (object && !json_is_object(object)) {
		error = gs_error_setr(err, GS_EINVALID, "invalid_object", "request.object must be an object");
		goto out;
	}
	if (old && !json_is_object(old)) {
		error = gs_error_setr(err, GS_EINVALID, "invalid_object", "request.oldObject must be an object");
		goto out;
	}
	if (out->operation == GS_ADM_DELETE) {
		if (!old && !object)
			error = gs_error_setr(err, GS_EINVALID, "invalid_object",
					      "request.oldObject (or request.object) is required for DELETE");
		else
			error = reviewreq_delete_identity(out, old ? "request.oldObject" : "request.object",
							  old ? old : object, repo_ns, err);
		goto out;
	}
	if (!object) {
		error = gs_error_setr(err, GS_EINVALID, "invalid_object", "request.object is required");
		goto out;
	}
	error = reviewreq_object(out, object, old, err);
out:
	json_decref(root);
	return error;
}

void gs_reviewreq_release(gs_reviewreq *r)
{
	gs_buf_release(&r->file);
}
