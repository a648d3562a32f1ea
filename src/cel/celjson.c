/*
 * cel/celjson.c -- CEL values to and from JSON: the plain form
 * gs_cel_eval_json returns, and the typed form (cel.expr.Value in proto3
 * JSON) the CLI and the conformance runner use for bindings and results.
 * Base64 for bytes comes from OpenSSL (EVP_EncodeBlock/EVP_DecodeBlock).
 *
 * Owns nothing: returned json_t belong to the caller; typed bindings are
 * decoded into the evaluation arena (strings are borrowed from the json_t,
 * which outlives the evaluation). Recursion is bounded by
 * GS_CEL_MAX_VALUE_DEPTH.
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cel/internal.h"
#include "util/utf8.h"

#define TS_URL "type.googleapis.com/google.protobuf.Timestamp"
#define DUR_URL "type.googleapis.com/google.protobuf.Duration"

static json_t *base64(const char *p, size_t n)
{
	unsigned char *buf = malloc(4 * ((n + 2) / 3) + 1);
	json_t *j;
	int len;
	if (!buf)
		return NULL;
	len = EVP_EncodeBlock(buf, (const unsigned char *)p, (int)n);
	j = json_stringn((const char *)buf, (size_t)len);
	free(buf);
	return j;
}

static json_t *double_json(double d, int typed)
{
	if (isnan(d))
		return json_string("NaN");
	if (isinf(d))
		return json_string(d > 0 ? "Infinity" : "-Infinity");
	(void)typed;
	return json_real(d);
}

static json_t *time_string(const gs_cel_value *v)
{
	char buf[64];
	if (v->kind == GS_CEL_TIMESTAMP)
		gs_cel__ts_format(v->v.i, v->nanos, buf, sizeof(buf));
	else
		gs_cel__dur_format(v->v.i, v->nanos, buf, sizeof(buf));
	return json_string(buf);
}

/* Converting a result is charged to the evaluation's cost as well: lists
 * share sublists, so a small arena can hold a value whose JSON form is
 * exponentially large. */
static int too_deep(gs_cel_ctx *c, const gs_cel_value *v, int depth)
{
	if (depth > GS_CEL_MAX_VALUE_DEPTH) {
		gs_cel__fail_fatal(c, "value nested too deeply");
		return 1;
	}
	if (gs_cel__charge(c, 4 + ((v->kind == GS_CEL_STRING || v->kind == GS_CEL_BYTES) ? (int64_t)v->v.s.n / 16 : 0)) < 0)
		return 1;
	return 0;
}

/* A map key as a JSON object member name. */
static char *key_string(const gs_cel_value *k)
{
	char buf[64];
	switch (k->kind) {
	case GS_CEL_STRING: return strndup(k->v.s.p, k->v.s.n);
	case GS_CEL_INT: snprintf(buf, sizeof(buf), "%lld", (long long)k->v.i); break;
	case GS_CEL_UINT: snprintf(buf, sizeof(buf), "%llu", (unsigned long long)k->v.u); break;
	case GS_CEL_BOOL: snprintf(buf, sizeof(buf), "%s", k->v.b ? "true" : "false"); break;
	default: return NULL;
	}
	return strdup(buf);
}

json_t *gs_cel__to_json(gs_cel_ctx *c, const gs_cel_value *v, int depth)
{
	json_t *j = NULL, *e;
	gs_cel_value x, y;
	gs_cel_map_iter it;
	size_t i, n;
	char *k;
	if (too_deep(c, v, depth))
		return NULL;
	switch (v->kind) {
	case GS_CEL_NULL: return json_null();
	case GS_CEL_BOOL: return json_boolean(v->v.b);
	case GS_CEL_INT: return json_integer(v->v.i);
	case GS_CEL_UINT: return v->v.u > INT64_MAX ? json_real((double)v->v.u) : json_integer((json_int_t)v->v.u);
	case GS_CEL_DOUBLE: return double_json(v->v.d, 0);
	case GS_CEL_STRING: return json_stringn(v->v.s.p, v->v.s.n);
	case GS_CEL_BYTES: return base64(v->v.s.p, v->v.s.n);
	case GS_CEL_TIMESTAMP:
	case GS_CEL_DURATION: return time_string(v);
	case GS_CEL_TYPE: return json_string(gs_cel__type_name((int)v->v.i));
	case GS_CEL_LIST:
		if (v->json)
			return json_deep_copy(v->v.j);
		j = json_array();
		n = gs_cel__list_len(v);
		for (i = 0; j && i < n; i++) {
			gs_cel__list_at(v, i, &x);
			if (!(e = gs_cel__to_json(c, &x, depth + 1)) || json_array_append_new(j, e) < 0)
				return json_decref(j), NULL;
		}
		return j;
	case GS_CEL_MAP:
		if (v->json)
			return json_deep_copy(v->v.j);
		j = json_object();
		gs_cel__map_iter_init(v, &it);
		while (j && gs_cel__map_next(v, &it, &x, &y)) {
			k = key_string(&x);
			e = k ? gs_cel__to_json(c, &y, depth + 1) : NULL;
			if (!e || json_object_set_new(j, k, e) < 0) {
				free(k);
				return json_decref(j), NULL;
			}
			free(k);
		}
		return j;
	default:
		return NULL;
	}
}

static json_t *typed1(const char *field, json_t *v)
{
	return v ? json_pack("{s:o}", field, v) : NULL;
}

json_t *gs_cel__to_typed(gs_cel_ctx *c, const gs_cel_value *v, int depth)
{
	char buf[32];
	json_t *arr, *e, *k;
	gs_cel_value x, y;
	gs_cel_map_iter it;
	size_t i, n;
	if (too_deep(c, v, depth))
		return NULL;
	switch (v->kind) {
	case GS_CEL_NULL: return json_pack("{s:n}", "nullValue");
	case GS_CEL_BOOL: return typed1("boolValue", json_boolean(v->v.b));
	case GS_CEL_INT:
		snprintf(buf, sizeof(buf), "%lld", (long long)v->v.i);
		return typed1("int64Value", json_string(buf));
	case GS_CEL_UINT:
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long)v->v.u);
		return typed1("uint64Value", json_string(buf));
	case GS_CEL_DOUBLE: return typed1("doubleValue", double_json(v->v.d, 1));
	case GS_CEL_STRING: return typed1("stringValue", json_stringn(v->v.s.p, v->v.s.n));
	case GS_CEL_BYTES: return typed1("bytesValue", base64(v->v.s.p, v->v.s.n));
	case GS_CEL_TYPE: return typed1("typeValue", json_string(gs_cel__type_name((int)v->v.i)));
	case GS_CEL_TIMESTAMP:
	case GS_CEL_DURATION:
		return json_pack("{s:{s:s,s:o}}", "objectValue", "@type",
				 v->kind == GS_CEL_TIMESTAMP ? TS_URL : DUR_URL, "value", time_string(v));
	case GS_CEL_LIST:
		arr = json_array();
		n = gs_cel__list_len(v);
		for (i = 0; arr && i < n; i++) {
			gs_cel__list_at(v, i, &x);
			if (!(e = gs_cel__to_typed(c, &x, depth + 1)) || json_array_append_new(arr, e) < 0)
				return json_decref(arr), NULL;
		}
		return arr ? json_pack("{s:{s:o}}", "listValue", "values", arr) : NULL;
	case GS_CEL_MAP:
		arr = json_array();
		gs_cel__map_iter_init(v, &it);
		while (arr && gs_cel__map_next(v, &it, &x, &y)) {
			k = gs_cel__to_typed(c, &x, depth + 1);
			e = k ? gs_cel__to_typed(c, &y, depth + 1) : NULL;
			if (!e || json_array_append_new(arr, json_pack("{s:o,s:o}", "key", k, "value", e)) < 0) {
				json_decref(k);
				return json_decref(arr), NULL;
			}
		}
		return arr ? json_pack("{s:{s:o}}", "mapValue", "entries", arr) : NULL;
	default:
		return NULL;
	}
}

/* ---- typed JSON in ---- */

static int bad(gs_cel_ctx *c, const char *what)
{
	return gs_cel__fail(c, "invalid typed value: %s", what);
}

static int typed_number(gs_cel_ctx *c, json_t *j, int kind, gs_cel_value *out)
{
	const char *s = json_string_value(j);
	char *end;
	if (json_is_integer(j)) {
		if (kind == GS_CEL_UINT && json_integer_value(j) < 0)
			return bad(c, "negative uint64Value");
		out->v.i = json_integer_value(j);
		return 0;
	}
	if (!s || !*s || *s == ' ')
		return bad(c, kind == GS_CEL_INT ? "int64Value" : "uint64Value");
	errno = 0;
	if (kind == GS_CEL_INT)
		out->v.i = strtoll(s, &end, 10);
	else
		out->v.u = *s == '-' ? (end = (char *)s, 0) : strtoull(s, &end, 10);
	if (*end || errno)
		return bad(c, kind == GS_CEL_INT ? "int64Value" : "uint64Value");
	return 0;
}

static int typed_double(gs_cel_ctx *c, json_t *j, gs_cel_value *out)
{
	const char *s = json_string_value(j);
	if (json_is_number(j))
		out->v.d = json_number_value(j);
	else if (s && !strcmp(s, "NaN"))
		out->v.d = NAN;
	else if (s && !strcmp(s, "Infinity"))
		out->v.d = INFINITY;
	else if (s && !strcmp(s, "-Infinity"))
		out->v.d = -INFINITY;
	else
		return bad(c, "doubleValue");
	return 0;
}

static int typed_bytes(gs_cel_ctx *c, json_t *j, gs_cel_value *out)
{
	const char *s = json_string_value(j);
	size_t n = json_string_length(j);
	unsigned char *p;
	int len;
	if (!s || n % 4 || n / 4 * 3 > GS_CEL_MAX_STRING_BYTES)
		return bad(c, "bytesValue");
	if (!(p = gs_cel__alloc(c, n / 4 * 3 + 1)))
		return -1;
	len = EVP_DecodeBlock(p, (const unsigned char *)s, (int)n);
	if (len < 0)
		return bad(c, "bytesValue");
	/* EVP_DecodeBlock counts the padding as zero bytes */
	if (n && s[n - 1] == '=')
		len--;
	if (n > 1 && s[n - 2] == '=')
		len--;
	out->v.s.p = (const char *)p;
	out->v.s.n = (size_t)len;
	return 0;
}

static int typed_list(gs_cel_ctx *c, json_t *j, gs_cel_value *out, int depth)
{
	json_t *vals = json_object_get(j, "values");
	size_t n = json_array_size(vals), i;
	gs_cel_list *l;
	if (!json_is_object(j) || (vals && !json_is_array(vals)) || n > GS_CEL_MAX_LIST_LEN)
		return bad(c, "listValue");
	if (!(l = gs_cel__alloc(c, sizeof(*l) + (n + 1) * sizeof(gs_cel_value))))
		return -1;
	l->n = n;
	l->items = (gs_cel_value *)(l + 1);
	for (i = 0; i < n; i++)
		if (gs_cel__from_typed(c, json_array_get(vals, i), &l->items[i], depth + 1) < 0)
			return -1;
	out->v.l = l;
	return 0;
}

static int typed_map(gs_cel_ctx *c, json_t *j, gs_cel_value *out, int depth)
{
	json_t *ents = json_object_get(j, "entries"), *e;
	size_t n = json_array_size(ents), i;
	gs_cel_map *m;
	if (!json_is_object(j) || (ents && !json_is_array(ents)) || n > GS_CEL_MAX_LIST_LEN)
		return bad(c, "mapValue");
	if (!(m = gs_cel__alloc(c, sizeof(*m) + (2 * n + 1) * sizeof(gs_cel_value))))
		return -1;
	m->n = n;
	m->keys = (gs_cel_value *)(m + 1);
	m->vals = m->keys + n;
	for (i = 0; i < n; i++) {
		e = json_array_get(ents, i);
		if (gs_cel__from_typed(c, json_object_get(e, "key"), &m->keys[i], depth + 1) < 0 ||
		    gs_cel__from_typed(c, json_object_get(e, "value"), &m->vals[i], depth + 1) < 0)
			return -1;
	}
	out->v.m = m;
	return 0;
}

static int typed_object(gs_cel_ctx *c, json_t *j, gs_cel_value *out)
{
	const char *t = json_string_value(json_object_get(j, "@type"));
	const char *s = json_string_value(json_object_get(j, "value"));
	size_t n = json_string_length(json_object_get(j, "value"));
	int64_t sec;
	int32_t nanos;
	if (t && s && !strcmp(t, TS_URL) && gs_cel__ts_parse(s, n, &sec, &nanos) == 0)
		return gs_cel__ts_make(c, sec, nanos, out);
	if (t && s && !strcmp(t, DUR_URL) && gs_cel__dur_parse(s, n, &sec, &nanos) == 0)
		return gs_cel__dur_make(c, sec, nanos, out);
	return gs_cel__fail(c, "unsupported objectValue type '%s' (only Timestamp and Duration)", t ? t : "?");
}

int gs_cel__from_typed(gs_cel_ctx *c, json_t *j, gs_cel_value *out, int depth)
{
	const char *key;
	json_t *v;
	int k;
	memset(out, 0, sizeof(*out));
	if (depth > GS_CEL_MAX_VALUE_DEPTH)
		return gs_cel__fail_fatal(c, "value nested too deeply");
	if (!json_is_object(j) || json_object_size(j) != 1)
		return bad(c, "expected an object with one member");
	key = json_object_iter_key(json_object_iter(j));
	v = json_object_iter_value(json_object_iter(j));
	if (!strcmp(key, "nullValue")) {
		out->kind = GS_CEL_NULL;
	} else if (!strcmp(key, "boolValue")) {
		if (!json_is_boolean(v))
			return bad(c, "boolValue");
		out->kind = GS_CEL_BOOL;
		out->v.b = json_is_true(v);
	} else if (!strcmp(key, "int64Value") || !strcmp(key, "uint64Value")) {
		out->kind = key[0] == 'i' ? GS_CEL_INT : GS_CEL_UINT;
		return typed_number(c, v, out->kind, out);
	} else if (!strcmp(key, "doubleValue")) {
		out->kind = GS_CEL_DOUBLE;
		return typed_double(c, v, out);
	} else if (!strcmp(key, "stringValue")) {
		if (!json_is_string(v))
			return bad(c, "stringValue");
		out->kind = GS_CEL_STRING;
		out->v.s.p = json_string_value(v);
		out->v.s.n = json_string_length(v);
	} else if (!strcmp(key, "bytesValue")) {
		out->kind = GS_CEL_BYTES;
		return typed_bytes(c, v, out);
	} else if (!strcmp(key, "listValue")) {
		out->kind = GS_CEL_LIST;
		return typed_list(c, v, out, depth);
	} else if (!strcmp(key, "mapValue")) {
		out->kind = GS_CEL_MAP;
		return typed_map(c, v, out, depth);
	} else if (!strcmp(key, "typeValue")) {
		k = json_is_string(v) ? gs_cel__type_from_name(json_string_value(v), json_string_length(v)) : 0;
		if (!k)
			return bad(c, "typeValue");
		out->kind = GS_CEL_TYPE;
		out->v.i = k;
	} else if (!strcmp(key, "objectValue")) {
		return typed_object(c, v, out);
	} else {
		return gs_cel__fail(c, "invalid typed value: unknown member '%s'", key);
	}
	return 0;
}
