/*
 * cel/celval.c -- CEL values: type names, lazy wrapping of json_t, list
 * and map access over both representations (arena arrays and borrowed
 * JSON), heterogeneous equality and ordering (1 == 1u == 1.0), and the
 * shortest double formatting string() uses.
 *
 * Owns nothing; pure functions of their arguments (plus cost charging).
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cel/internal.h"

static const char *const TYPE_NAMES[GS_CEL_KIND_COUNT] = {
	[GS_CEL_NULL] = "null_type",
	[GS_CEL_BOOL] = "bool",
	[GS_CEL_INT] = "int",
	[GS_CEL_UINT] = "uint",
	[GS_CEL_DOUBLE] = "double",
	[GS_CEL_STRING] = "string",
	[GS_CEL_BYTES] = "bytes",
	[GS_CEL_LIST] = "list",
	[GS_CEL_MAP] = "map",
	[GS_CEL_TIMESTAMP] = "google.protobuf.Timestamp",
	[GS_CEL_DURATION] = "google.protobuf.Duration",
	[GS_CEL_TYPE] = "type",
};

const char *gs_cel__type_name(int kind)
{
	if (kind <= GS_CEL_UNSET || kind >= GS_CEL_KIND_COUNT)
		return "unknown";
	return TYPE_NAMES[kind];
}

int gs_cel__type_from_name(const char *name, size_t n)
{
	int k;
	for (k = GS_CEL_NULL; k < GS_CEL_KIND_COUNT; k++)
		if (strlen(TYPE_NAMES[k]) == n && !memcmp(TYPE_NAMES[k], name, n))
			return k;
	return 0;
}

size_t gs_cel__utf8_len(const char *s, size_t n)
{
	size_t i, count = 0;
	for (i = 0; i < n; i++)
		count += ((unsigned char)s[i] & 0xC0) != 0x80;
	return count;
}

void gs_cel__from_json(json_t *j, gs_cel_value *out)
{
	memset(out, 0, sizeof(*out));
	switch (j ? json_typeof(j) : JSON_NULL) {
	case JSON_TRUE:
	case JSON_FALSE:
		out->kind = GS_CEL_BOOL;
		out->v.b = json_is_true(j);
		break;
	case JSON_INTEGER:
		out->kind = GS_CEL_INT;
		out->v.i = json_integer_value(j);
		break;
	case JSON_REAL:
		out->kind = GS_CEL_DOUBLE;
		out->v.d = json_real_value(j);
		break;
	case JSON_STRING:
		out->kind = GS_CEL_STRING;
		out->v.s.p = json_string_value(j);
		out->v.s.n = json_string_length(j);
		break;
	case JSON_ARRAY:
	case JSON_OBJECT:
		out->kind = json_is_array(j) ? GS_CEL_LIST : GS_CEL_MAP;
		out->json = 1;
		out->v.j = j;
		break;
	default:
		out->kind = GS_CEL_NULL;
	}
}

/* ---- lists and maps ---- */

size_t gs_cel__list_len(const gs_cel_value *v)
{
	return v->json ? json_array_size(v->v.j) : v->v.l->n;
}

void gs_cel__list_at(const gs_cel_value *v, size_t i, gs_cel_value *out)
{
	if (v->json)
		gs_cel__from_json(json_array_get(v->v.j, i), out);
	else
		*out = v->v.l->items[i];
}

size_t gs_cel__map_len(const gs_cel_value *v)
{
	return v->json ? json_object_size(v->v.j) : v->v.m->n;
}

int gs_cel__map_find_str(const gs_cel_value *m, const char *key, size_t n, gs_cel_value *out)
{
	json_t *j;
	size_t i;
	const gs_cel_value *k;
	if (m->json) {
		j = json_object_getn(m->v.j, key, n);
		if (!j)
			return 0;
		gs_cel__from_json(j, out);
		return 1;
	}
	for (i = 0; i < m->v.m->n; i++) {
		k = &m->v.m->keys[i];
		if (k->kind == GS_CEL_STRING && k->v.s.n == n && !memcmp(k->v.s.p, key, n)) {
			*out = m->v.m->vals[i];
			return 1;
		}
	}
	return 0;
}

static int is_num(int kind)
{
	return kind == GS_CEL_INT || kind == GS_CEL_UINT || kind == GS_CEL_DOUBLE;
}

int gs_cel__map_find(gs_cel_ctx *c, const gs_cel_value *m, const gs_cel_value *key, gs_cel_value *out)
{
	size_t i, n;
	if (key->kind == GS_CEL_STRING)
		return gs_cel__map_find_str(m, key->v.s.p, key->v.s.n, out);
	if (m->json || (!is_num(key->kind) && key->kind != GS_CEL_BOOL))
		return 0;
	n = m->v.m->n;
	gs_cel__charge(c, (int64_t)(n / 8));
	for (i = 0; i < n; i++) {
		if (gs_cel__equal(c, &m->v.m->keys[i], key)) {
			*out = m->v.m->vals[i];
			return 1;
		}
	}
	return 0;
}

void gs_cel__map_iter_init(const gs_cel_value *m, gs_cel_map_iter *it)
{
	it->i = 0;
	it->it = m->json ? json_object_iter(m->v.j) : NULL;
}

int gs_cel__map_next(const gs_cel_value *m, gs_cel_map_iter *it, gs_cel_value *key, gs_cel_value *val)
{
	if (m->json) {
		if (!it->it)
			return 0;
		if (key) {
			memset(key, 0, sizeof(*key));
			key->kind = GS_CEL_STRING;
			key->v.s.p = json_object_iter_key(it->it);
			key->v.s.n = json_object_iter_key_len(it->it);
		}
		if (val)
			gs_cel__from_json(json_object_iter_value(it->it), val);
		it->it = json_object_iter_next(m->v.j, it->it);
		return 1;
	}
	if (it->i >= m->v.m->n)
		return 0;
	if (key)
		*key = m->v.m->keys[it->i];
	if (val)
		*val = m->v.m->vals[it->i];
	it->i++;
	return 1;
}

/* ---- equality and ordering ---- */

static int cmp_double(double a, double b)
{
	if (isnan(a) || isnan(b))
		return 2;
	return a < b ? -1 : a > b ? 1 : 0;
}

static int cmp_num(const gs_cel_value *a, const gs_cel_value *b)
{
	int ka = a->kind, kb = b->kind;
	if (ka == kb) {
		if (ka == GS_CEL_INT)
			return a->v.i < b->v.i ? -1 : a->v.i > b->v.i;
		if (ka == GS_CEL_UINT)
			return a->v.u < b->v.u ? -1 : a->v.u > b->v.u;
		return cmp_double(a->v.d, b->v.d);
	}
	if (ka == GS_CEL_INT && kb == GS_CEL_UINT)
		return a->v.i < 0 ? -1 : (uint64_t)a->v.i < b->v.u ? -1 : (uint64_t)a->v.i > b->v.u;
	if (ka == GS_CEL_UINT && kb == GS_CEL_INT)
		return -cmp_num(b, a);
	/* against a double the integer converts (as cel-go does) */
	if (ka == GS_CEL_DOUBLE)
		return cmp_double(a->v.d, kb == GS_CEL_INT ? (double)b->v.i : (double)b->v.u);
	return cmp_double(ka == GS_CEL_INT ? (double)a->v.i : (double)a->v.u, b->v.d);
}

static bool equal_list(gs_cel_ctx *c, const gs_cel_value *a, const gs_cel_value *b)
{
	size_t i, n = gs_cel__list_len(a);
	gs_cel_value x, y;
	if (n != gs_cel__list_len(b))
		return false;
	for (i = 0; i < n; i++) {
		gs_cel__list_at(a, i, &x);
		gs_cel__list_at(b, i, &y);
		if (!gs_cel__equal(c, &x, &y))
			return false;
	}
	return true;
}

static bool equal_map(gs_cel_ctx *c, const gs_cel_value *a, const gs_cel_value *b)
{
	gs_cel_map_iter it;
	gs_cel_value k, v, w;
	if (gs_cel__map_len(a) != gs_cel__map_len(b))
		return false;
	gs_cel__map_iter_init(a, &it);
	while (gs_cel__map_next(a, &it, &k, &v)) {
		if (!gs_cel__map_find(c, b, &k, &w) || !gs_cel__equal(c, &v, &w))
			return false;
	}
	return true;
}

bool gs_cel__equal(gs_cel_ctx *c, const gs_cel_value *a, const gs_cel_value *b)
{
	if (is_num(a->kind) && is_num(b->kind))
		return cmp_num(a, b) == 0;
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case GS_CEL_NULL:
		return true;
	case GS_CEL_BOOL:
		return a->v.b == b->v.b;
	case GS_CEL_STRING:
	case GS_CEL_BYTES:
		gs_cel__charge(c, (int64_t)(a->v.s.n / 64));
		return a->v.s.n == b->v.s.n && !memcmp(a->v.s.p, b->v.s.p, a->v.s.n);
	case GS_CEL_TIMESTAMP:
	case GS_CEL_DURATION:
		return a->v.i == b->v.i && a->nanos == b->nanos;
	case GS_CEL_TYPE:
		return a->v.i == b->v.i;
	case GS_CEL_LIST:
		gs_cel__charge(c, 1);
		return equal_list(c, a, b);
	case GS_CEL_MAP:
		gs_cel__charge(c, 1);
		return equal_map(c, a, b);
	default:
		return false;
	}
}

static int cmp_bytes(const gs_cel_value *a, const gs_cel_value *b)
{
	size_t n = a->v.s.n < b->v.s.n ? a->v.s.n : b->v.s.n;
	int r = memcmp(a->v.s.p, b->v.s.p, n);
	if (r)
		return r < 0 ? -1 : 1;
	return a->v.s.n < b->v.s.n ? -1 : a->v.s.n > b->v.s.n;
}

int gs_cel__compare(gs_cel_ctx *c, const gs_cel_value *a, const gs_cel_value *b, int *cmp)
{
	if (is_num(a->kind) && is_num(b->kind)) {
		*cmp = cmp_num(a, b);
		return 0;
	}
	if (a->kind != b->kind)
		return -1;
	switch (a->kind) {
	case GS_CEL_BOOL:
		*cmp = (int)a->v.b - (int)b->v.b;
		return 0;
	case GS_CEL_STRING:
	case GS_CEL_BYTES:
		/* UTF-8 byte order is code point order */
		gs_cel__charge(c, (int64_t)(a->v.s.n / 64));
		*cmp = cmp_bytes(a, b);
		return 0;
	case GS_CEL_TIMESTAMP:
	case GS_CEL_DURATION:
		*cmp = a->v.i != b->v.i ? (a->v.i < b->v.i ? -1 : 1) : (a->nanos > b->nanos) - (a->nanos < b->nanos);
		return 0;
	default:
		return -1;
	}
}

/* ---- double formatting ---- */

void gs_cel__fmt_double(double d, char *buf, size_t n)
{
	char tmp[40], digits[24];
	int prec, exp, nd = 0, i, pos = 0;
	const char *p;
	if (isnan(d)) {
		snprintf(buf, n, "NaN");
		return;
	}
	if (isinf(d)) {
		snprintf(buf, n, d > 0 ? "+Inf" : "-Inf");
		return;
	}
	for (prec = 1; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	/* tmp is [-]D[.DDD]e[+-]XX: collect the digits and the exponent */
	for (p = tmp; *p && *p != 'e'; p++)
		if (*p >= '0' && *p <= '9')
			digits[nd++] = *p;
	exp = (int)strtol(p + 1, NULL, 10);
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	digits[nd] = 0;
	if (d < 0 || (d == 0 && signbit(d)))
		tmp[pos++] = '-';
	if (exp < -4 || exp >= 6) {
		/* Go's %g with shortest digits switches to %e at exponent 6 */
		tmp[pos++] = digits[0];
		if (nd > 1) {
			tmp[pos++] = '.';
			for (i = 1; i < nd; i++)
				tmp[pos++] = digits[i];
		}
		snprintf(tmp + pos, sizeof(tmp) - (size_t)pos, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
	} else if (exp < 0) {
		tmp[pos++] = '0';
		tmp[pos++] = '.';
		for (i = -1; i > exp; i--)
			tmp[pos++] = '0';
		for (i = 0; i < nd; i++)
			tmp[pos++] = digits[i];
		tmp[pos] = 0;
	} else {
		for (i = 0; i <= exp || i < nd; i++) {
			if (i == exp + 1)
				tmp[pos++] = '.';
			tmp[pos++] = i < nd ? digits[i] : '0';
		}
		tmp[pos] = 0;
	}
	snprintf(buf, n, "%s", tmp);
}
