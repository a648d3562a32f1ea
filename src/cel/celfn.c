/*
 * cel/celfn.c -- the standard functions and operators: arithmetic with
 * overflow checks (no implicit conversions: 1 + 1u is an error),
 * comparisons, `in`, size, the string predicates, matches, and the type
 * conversions int/uint/double/string/bytes/bool/dyn/type/timestamp/
 * duration with range checks.
 *
 * Owns nothing; results are allocated in the evaluation arena and every
 * byte scanned or allocated is charged to the cost.
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cel/internal.h"
#include "util/utf8.h"

static const struct {
	const char *name;
	int fn;
} FUNCS[] = {
	{"size", GS_CEL_FN_SIZE},
	{"contains", GS_CEL_FN_CONTAINS},
	{"startsWith", GS_CEL_FN_STARTS_WITH},
	{"endsWith", GS_CEL_FN_ENDS_WITH},
	{"matches", GS_CEL_FN_MATCHES},
	{"int", GS_CEL_FN_INT},
	{"uint", GS_CEL_FN_UINT},
	{"double", GS_CEL_FN_DOUBLE},
	{"string", GS_CEL_FN_STRING},
	{"bytes", GS_CEL_FN_BYTES},
	{"bool", GS_CEL_FN_BOOL},
	{"dyn", GS_CEL_FN_DYN},
	{"type", GS_CEL_FN_TYPE},
	{"timestamp", GS_CEL_FN_TIMESTAMP},
	{"duration", GS_CEL_FN_DURATION},
	{"getFullYear", GS_CEL_FN_GET_FULL_YEAR},
	{"getMonth", GS_CEL_FN_GET_MONTH},
	{"getDate", GS_CEL_FN_GET_DATE},
	{"getDayOfMonth", GS_CEL_FN_GET_DAY_OF_MONTH},
	{"getDayOfYear", GS_CEL_FN_GET_DAY_OF_YEAR},
	{"getDayOfWeek", GS_CEL_FN_GET_DAY_OF_WEEK},
	{"getHours", GS_CEL_FN_GET_HOURS},
	{"getMinutes", GS_CEL_FN_GET_MINUTES},
	{"getSeconds", GS_CEL_FN_GET_SECONDS},
	{"getMilliseconds", GS_CEL_FN_GET_MILLISECONDS},
	{"lowerAscii", GS_CEL_FN_LOWER_ASCII},
	{"upperAscii", GS_CEL_FN_UPPER_ASCII},
	{"trim", GS_CEL_FN_TRIM},
};

static const char *const OP_NAMES[] = {
	[GS_CEL_FN_ADD] = "_+_", [GS_CEL_FN_SUB] = "_-_",   [GS_CEL_FN_MUL] = "_*_", [GS_CEL_FN_DIV] = "_/_",
	[GS_CEL_FN_MOD] = "_%_", [GS_CEL_FN_NEG] = "-_",    [GS_CEL_FN_NOT] = "!_",  [GS_CEL_FN_EQ] = "_==_",
	[GS_CEL_FN_NE] = "_!=_", [GS_CEL_FN_LT] = "_<_",    [GS_CEL_FN_LE] = "_<=_", [GS_CEL_FN_GT] = "_>_",
	[GS_CEL_FN_GE] = "_>=_", [GS_CEL_FN_IN] = "@in",
};

int gs_cel__fn_lookup(const char *name, size_t n)
{
	size_t i;
	for (i = 0; i < sizeof(FUNCS) / sizeof(FUNCS[0]); i++)
		if (strlen(FUNCS[i].name) == n && !memcmp(FUNCS[i].name, name, n))
			return FUNCS[i].fn;
	return GS_CEL_FN_UNKNOWN;
}

const char *gs_cel__fn_name(int fn)
{
	size_t i;
	if (fn > 0 && fn <= GS_CEL_FN_IN)
		return OP_NAMES[fn];
	for (i = 0; i < sizeof(FUNCS) / sizeof(FUNCS[0]); i++)
		if (FUNCS[i].fn == fn)
			return FUNCS[i].name;
	return "?";
}

static void set_bool(gs_cel_value *out, bool b)
{
	memset(out, 0, sizeof(*out));
	out->kind = GS_CEL_BOOL;
	out->v.b = b;
}

static void set_int(gs_cel_value *out, int64_t i)
{
	memset(out, 0, sizeof(*out));
	out->kind = GS_CEL_INT;
	out->v.i = i;
}

static void set_uint(gs_cel_value *out, uint64_t u)
{
	memset(out, 0, sizeof(*out));
	out->kind = GS_CEL_UINT;
	out->v.u = u;
}

static void set_double(gs_cel_value *out, double d)
{
	memset(out, 0, sizeof(*out));
	out->kind = GS_CEL_DOUBLE;
	out->v.d = d;
}

static int overflow(gs_cel_ctx *c)
{
	return gs_cel__fail(c, "integer overflow");
}

int gs_cel__make_string(gs_cel_ctx *c, int kind, const char *a, size_t an, const char *b, size_t bn,
			gs_cel_value *out)
{
	char *p;
	if (an + bn > GS_CEL_MAX_STRING_BYTES)
		return gs_cel__fail_fatal(c, "string size limit exceeded");
	if (!(p = gs_cel__alloc(c, an + bn + 1)))
		return -1;
	if (an)
		memcpy(p, a, an);
	if (bn)
		memcpy(p + an, b, bn);
	memset(out, 0, sizeof(*out));
	out->kind = (uint8_t)kind;
	out->v.s.p = p;
	out->v.s.n = an + bn;
	return 0;
}

static int concat_lists(gs_cel_ctx *c, const gs_cel_value *a, const gs_cel_value *b, gs_cel_value *out)
{
	size_t na = gs_cel__list_len(a), nb = gs_cel__list_len(b), i;
	gs_cel_list *l;
	if (na + nb > GS_CEL_MAX_LIST_LEN)
		return gs_cel__fail_fatal(c, "list size limit exceeded");
	if (!(l = gs_cel__alloc(c, sizeof(*l) + (na + nb) * sizeof(gs_cel_value))))
		return -1;
	l->n = na + nb;
	l->items = (gs_cel_value *)(l + 1);
	for (i = 0; i < na; i++)
		gs_cel__list_at(a, i, &l->items[i]);
	for (i = 0; i < nb; i++)
		gs_cel__list_at(b, i, &l->items[na + i]);
	memset(out, 0, sizeof(*out));
	out->kind = GS_CEL_LIST;
	out->v.l = l;
	return 0;
}

int gs_cel__add(gs_cel_ctx *c, const gs_cel_value *a, const gs_cel_value *b, gs_cel_value *out)
{
	int64_t i;
	uint64_t u;
	int ka = a->kind, kb = b->kind;
	if (ka == GS_CEL_INT && kb == GS_CEL_INT) {
		if (__builtin_add_overflow(a->v.i, b->v.i, &i))
			return overflow(c);
		set_int(out, i);
	} else if (ka == GS_CEL_UINT && kb == GS_CEL_UINT) {
		if (__builtin_add_overflow(a->v.u, b->v.u, &u))
			return overflow(c);
		set_uint(out, u);
	} else if (ka == GS_CEL_DOUBLE && kb == GS_CEL_DOUBLE) {
		set_double(out, a->v.d + b->v.d);
	} else if ((ka == GS_CEL_STRING || ka == GS_CEL_BYTES) && kb == ka) {
		return gs_cel__make_string(c, ka, a->v.s.p, a->v.s.n, b->v.s.p, b->v.s.n, out);
	} else if (ka == GS_CEL_LIST && kb == GS_CEL_LIST) {
		return concat_lists(c, a, b, out);
	} else if (ka == GS_CEL_TIMESTAMP && kb == GS_CEL_DURATION) {
		return gs_cel__ts_make(c, a->v.i + b->v.i, (int64_t)a->nanos + b->nanos, out);
	} else if (ka == GS_CEL_DURATION && kb == GS_CEL_TIMESTAMP) {
		return gs_cel__ts_make(c, a->v.i + b->v.i, (int64_t)a->nanos + b->nanos, out);
	} else if (ka == GS_CEL_DURATION && kb == GS_CEL_DURATION) {
		return gs_cel__dur_make(c, a->v.i + b->v.i, (int64_t)a->nanos + b->nanos, out);
	} else {
		return gs_cel__no_overload(c, "_+_", a, b);
	}
	return 0;
}

static int sub(gs_cel_ctx *c, const gs_cel_value *a, const gs_cel_value *b, gs_cel_value *out)
{
	int64_t i;
	uint64_t u;
	int ka = a->kind, kb = b->kind;
	if (ka == GS_CEL_INT && kb == GS_CEL_INT) {
		if (__builtin_sub_overflow(a->v.i, b->v.i, &i))
			return overflow(c);
		set_int(out, i);
	} else if (ka == GS_CEL_UINT && kb == GS_CEL_UINT) {
		if (__builtin_sub_overflow(a->v.u, b->v.u, &u))
			return overflow(c);
		set_uint(out, u);
	} else if (ka == GS_CEL_DOUBLE && kb == GS_CEL_DOUBLE) {
		set_double(out, a->v.d - b->v.d);
	} else if (ka == GS_CEL_TIMESTAMP && kb == GS_CEL_TIMESTAMP) {
		return gs_cel__dur_make(c, a->v.i - b->v.i, (int64_t)a->nanos - b->nanos, out);
	} else if (ka == GS_CEL_TIMESTAMP && kb == GS_CEL_DURATION) {
		return gs_cel__ts_make(c, a->v.i - b->v.i, (int64_t)a->nanos - b->nanos, out);
	} else if (ka == GS_CEL_DURATION && kb == GS_CEL_DURATION) {
		return gs_cel__dur_make(c, a->v.i - b->v.i, (int64_t)a->nanos - b->nanos, out);
	} else {
		return gs_cel__no_overload(c, "_-_", a, b);
	}
	return 0;
}

static int mul_div_mod(gs_cel_ctx *c, int fn, const gs_cel_value *a, const gs_cel_value *b, gs_cel_value *out)
{
	int64_t i;
	uint64_t u;
	int ka = a->kind, kb = b->kind;
	if (ka == GS_CEL_INT && kb == GS_CEL_INT) {
		if (fn == GS_CEL_FN_MUL) {
			if (__builtin_mul_overflow(a->v.i, b->v.i, &i))
				return overflow(c);
		} else if (b->v.i == 0) {
			return gs_cel__fail(c, fn == GS_CEL_FN_DIV ? "division by zero" : "modulus by zero");
		} else if (a->v.i == INT64_MIN && b->v.i == -1) {
			return overflow(c);
		} else {
			i = fn == GS_CEL_FN_DIV ? a->v.i / b->v.i : a->v.i % b->v.i;
		}
		set_int(out, i);
	} else if (ka == GS_CEL_UINT && kb == GS_CEL_UINT) {
		if (fn == GS_CEL_FN_MUL) {
			if (__builtin_mul_overflow(a->v.u, b->v.u, &u))
				return overflow(c);
		} else if (b->v.u == 0) {
			return gs_cel__fail(c, fn == GS_CEL_FN_DIV ? "division by zero" : "modulus by zero");
		} else {
			u = fn == GS_CEL_FN_DIV ? a->v.u / b->v.u : a->v.u % b->v.u;
		}
		set_uint(out, u);
	} else if (ka == GS_CEL_DOUBLE && kb == GS_CEL_DOUBLE && fn != GS_CEL_FN_MOD) {
		set_double(out, fn == GS_CEL_FN_MUL ? a->v.d * b->v.d : a->v.d / b->v.d);
	} else {
		return gs_cel__no_overload(c, gs_cel__fn_name(fn), a, b);
	}
	return 0;
}

static int in_op(gs_cel_ctx *c, const gs_cel_value *x, const gs_cel_value *coll, gs_cel_value *out)
{
	size_t i, n;
	gs_cel_value e;
	if (coll->kind == GS_CEL_MAP) {
		set_bool(out, gs_cel__map_find(c, coll, x, &e) == 1);
		return 0;
	}
	if (coll->kind != GS_CEL_LIST)
		return gs_cel__no_overload(c, "@in", x, coll);
	n = gs_cel__list_len(coll);
	for (i = 0; i < n; i++) {
		if (gs_cel__charge(c, 1) < 0)
			return -1;
		gs_cel__list_at(coll, i, &e);
		if (gs_cel__equal(c, x, &e)) {
			set_bool(out, true);
			return 0;
		}
	}
	set_bool(out, false);
	return 0;
}

static int relation(gs_cel_ctx *c, int fn, const gs_cel_value *a, const gs_cel_value *b, gs_cel_value *out)
{
	int cmp = 0;
	if (fn == GS_CEL_FN_EQ || fn == GS_CEL_FN_NE) {
		set_bool(out, gs_cel__equal(c, a, b) == (fn == GS_CEL_FN_EQ));
		return 0;
	}
	if (gs_cel__compare(c, a, b, &cmp) < 0)
		return gs_cel__no_overload(c, gs_cel__fn_name(fn), a, b);
	if (cmp == 2) {
		set_bool(out, false); /* NaN is unordered */
		return 0;
	}
	switch (fn) {
	case GS_CEL_FN_LT: set_bool(out, cmp < 0); break;
	case GS_CEL_FN_LE: set_bool(out, cmp <= 0); break;
	case GS_CEL_FN_GT: set_bool(out, cmp > 0); break;
	default: set_bool(out, cmp >= 0); break;
	}
	return 0;
}

/* ---- strings ---- */

static int size_of(gs_cel_ctx *c, const gs_cel_value *a, gs_cel_value *out)
{
	switch (a->kind) {
	case GS_CEL_STRING:
		if (gs_cel__charge(c, (int64_t)(a->v.s.n / 64)) < 0)
			return -1;
		set_int(out, (int64_t)gs_cel__utf8_len(a->v.s.p, a->v.s.n));
		return 0;
	case GS_CEL_BYTES:
		set_int(out, (int64_t)a->v.s.n);
		return 0;
	case GS_CEL_LIST:
		set_int(out, (int64_t)gs_cel__list_len(a));
		return 0;
	case GS_CEL_MAP:
		set_int(out, (int64_t)gs_cel__map_len(a));
		return 0;
	default:
		return gs_cel__no_overload(c, "size", a, NULL);
	}
}

static int str_pred(gs_cel_ctx *c, int fn, const gs_cel_value *s, const gs_cel_value *t, gs_cel_value *out)
{
	size_t n = s->v.s.n, m = t->v.s.n;
	if (s->kind != GS_CEL_STRING || t->kind != GS_CEL_STRING)
		return gs_cel__no_overload(c, gs_cel__fn_name(fn), s, t);
	if (gs_cel__charge(c, (int64_t)(n / 64)) < 0)
		return -1;
	if (fn == GS_CEL_FN_STARTS_WITH)
		set_bool(out, m <= n && !memcmp(s->v.s.p, t->v.s.p, m));
	else if (fn == GS_CEL_FN_ENDS_WITH)
		set_bool(out, m <= n && !memcmp(s->v.s.p + n - m, t->v.s.p, m));
	else
		set_bool(out, m == 0 || (m <= n && memmem(s->v.s.p, n, t->v.s.p, m) != NULL));
	return 0;
}

static int matches(gs_cel_ctx *c, const gs_cel_node *n, const gs_cel_value *s, const gs_cel_value *re,
		   gs_cel_value *out)
{
	char msg[160];
	void *code = n->re;
	int r;
	if (s->kind != GS_CEL_STRING || re->kind != GS_CEL_STRING)
		return gs_cel__no_overload(c, "matches", s, re);
	if (!code) {
		/* a computed pattern is compiled for this call only */
		if (gs_cel__charge(c, 100 + (int64_t)re->v.s.n) < 0)
			return -1;
		if (!(code = gs_cel__re_compile(re->v.s.p, re->v.s.n, msg, sizeof(msg))))
			return gs_cel__fail(c, "%s", msg);
	}
	r = gs_cel__re_match(c, code, s->v.s.p, s->v.s.n);
	if (code != n->re)
		gs_cel__re_free(code);
	if (r < 0)
		return -1;
	set_bool(out, r == 1);
	return 0;
}

static int ascii_map(gs_cel_ctx *c, int fn, const gs_cel_value *s, gs_cel_value *out)
{
	size_t i, b = 0, e;
	char *p;
	if (s->kind != GS_CEL_STRING)
		return gs_cel__no_overload(c, gs_cel__fn_name(fn), s, NULL);
	e = s->v.s.n;
	if (fn == GS_CEL_FN_TRIM) {
		while (b < e && strchr(" \t\n\v\f\r", s->v.s.p[b]))
			b++;
		while (e > b && strchr(" \t\n\v\f\r", s->v.s.p[e - 1]))
			e--;
	}
	if (gs_cel__make_string(c, GS_CEL_STRING, s->v.s.p + b, e - b, NULL, 0, out) < 0)
		return -1;
	p = (char *)out->v.s.p;
	for (i = 0; fn != GS_CEL_FN_TRIM && i < out->v.s.n; i++) {
		if (fn == GS_CEL_FN_LOWER_ASCII && p[i] >= 'A' && p[i] <= 'Z')
			p[i] = (char)(p[i] + 32);
		else if (fn == GS_CEL_FN_UPPER_ASCII && p[i] >= 'a' && p[i] <= 'z')
			p[i] = (char)(p[i] - 32);
	}
	return 0;
}

/* ---- conversions ---- */

/* Copies a short string into buf for the C parsers; 0 if it does not
 * fit or starts with a space (which they would skip). */
static int cstr(const gs_cel_value *s, char *buf, size_t n)
{
	if (s->v.s.n == 0 || s->v.s.n >= n || s->v.s.p[0] == ' ' || (s->v.s.p[0] >= '\t' && s->v.s.p[0] <= '\r'))
		return 0;
	memcpy(buf, s->v.s.p, s->v.s.n);
	buf[s->v.s.n] = 0;
	return 1;
}

static int to_int(gs_cel_ctx *c, const gs_cel_value *a, gs_cel_value *out)
{
	char buf[64], *end;
	long long v;
	switch (a->kind) {
	case GS_CEL_INT:
		*out = *a;
		return 0;
	case GS_CEL_UINT:
		if (a->v.u > INT64_MAX)
			return gs_cel__fail(c, "int range error: %llu", (unsigned long long)a->v.u);
		set_int(out, (int64_t)a->v.u);
		return 0;
	case GS_CEL_DOUBLE:
		/* both bounds exclusive, as cel-go: -2^63 itself is rejected */
		if (!(a->v.d > -9223372036854775808.0 && a->v.d < 9223372036854775808.0))
			return gs_cel__fail(c, "int range error: %g", a->v.d);
		set_int(out, (int64_t)a->v.d);
		return 0;
	case GS_CEL_TIMESTAMP:
		set_int(out, a->v.i);
		return 0;
	case GS_CEL_STRING:
		errno = 0;
		if (!cstr(a, buf, sizeof(buf)) || ((v = strtoll(buf, &end, 10)), *end) || errno)
			return gs_cel__fail(c, "int conversion error: '%.*s'", (int)(a->v.s.n > 60 ? 60 : a->v.s.n),
					    a->v.s.p);
		set_int(out, v);
		return 0;
	default:
		return gs_cel__no_overload(c, "int", a, NULL);
	}
}

static int to_uint(gs_cel_ctx *c, const gs_cel_value *a, gs_cel_value *out)
{
	char buf[64], *end;
	unsigned long long v;
	switch (a->kind) {
	case GS_CEL_UINT:
		*out = *a;
		return 0;
	case GS_CEL_INT:
		if (a->v.i < 0)
			return gs_cel__fail(c, "uint range error: %lld", (long long)a->v.i);
		set_uint(out, (uint64_t)a->v.i);
		return 0;
	case GS_CEL_DOUBLE:
		if (!(a->v.d > -1.0 && a->v.d < 18446744073709551616.0))
			return gs_cel__fail(c, "uint range error: %g", a->v.d);
		set_uint(out, (uint64_t)a->v.d);
		return 0;
	case GS_CEL_STRING:
		errno = 0;
		if (!cstr(a, buf, sizeof(buf)) || buf[0] == '-' || buf[0] == '+' ||
		    ((v = strtoull(buf, &end, 10)), *end) || errno)
			return gs_cel__fail(c, "uint conversion error: '%.*s'", (int)(a->v.s.n > 60 ? 60 : a->v.s.n),
					    a->v.s.p);
		set_uint(out, v);
		return 0;
	default:
		return gs_cel__no_overload(c, "uint", a, NULL);
	}
}

static int to_double(gs_cel_ctx *c, const gs_cel_value *a, gs_cel_value *out)
{
	char buf[512], *end;
	double d;
	switch (a->kind) {
	case GS_CEL_DOUBLE:
		*out = *a;
		return 0;
	case GS_CEL_INT:
		set_double(out, (double)a->v.i);
		return 0;
	case GS_CEL_UINT:
		set_double(out, (double)a->v.u);
		return 0;
	case GS_CEL_STRING:
		errno = 0;
		if (!cstr(a, buf, sizeof(buf)) || ((d = strtod(buf, &end)), *end) || (errno && isinf(d)))
			return gs_cel__fail(c, "double conversion error: '%.*s'", (int)(a->v.s.n > 60 ? 60 : a->v.s.n),
					    a->v.s.p);
		set_double(out, d);
		return 0;
	default:
		return gs_cel__no_overload(c, "double", a, NULL);
	}
}

static int to_string(gs_cel_ctx *c, const gs_cel_value *a, gs_cel_value *out)
{
	char buf[64];
	switch (a->kind) {
	case GS_CEL_STRING:
		*out = *a;
		return 0;
	case GS_CEL_BYTES:
		if (gs_utf8_first_bad(a->v.s.p, a->v.s.n) != (size_t)-1)
			return gs_cel__fail(c, "invalid UTF-8 in bytes, cannot convert to string");
		*out = *a;
		out->kind = GS_CEL_STRING;
		return 0;
	case GS_CEL_INT:
		snprintf(buf, sizeof(buf), "%lld", (long long)a->v.i);
		break;
	case GS_CEL_UINT:
		snprintf(buf, sizeof(buf), "%llu", (unsigned long long)a->v.u);
		break;
	case GS_CEL_DOUBLE:
		gs_cel__fmt_double(a->v.d, buf, sizeof(buf));
		break;
	case GS_CEL_BOOL:
		snprintf(buf, sizeof(buf), "%s", a->v.b ? "true" : "false");
		break;
	case GS_CEL_TIMESTAMP:
		gs_cel__ts_format(a->v.i, a->nanos, buf, sizeof(buf));
		break;
	case GS_CEL_DURATION:
		gs_cel__dur_format(a->v.i, a->nanos, buf, sizeof(buf));
		break;
	default:
		return gs_cel__no_overload(c, "string", a, NULL);
	}
	return gs_cel__make_string(c, GS_CEL_STRING, buf, strlen(buf), NULL, 0, out);
}

static int to_bool(gs_cel_ctx *c, const gs_cel_value *a, gs_cel_value *out)
{
	static const char *const T[] = {"1", "t", "true", "TRUE", "True"}, *const F[] = {"0", "f", "false", "FALSE", "False"};
	size_t i;
	if (a->kind == GS_CEL_BOOL) {
		*out = *a;
		return 0;
	}
	if (a->kind != GS_CEL_STRING)
		return gs_cel__no_overload(c, "bool", a, NULL);
	for (i = 0; i < 5; i++) {
		if (a->v.s.n == strlen(T[i]) && !memcmp(a->v.s.p, T[i], a->v.s.n)) {
			set_bool(out, true);
			return 0;
		}
		if (a->v.s.n == strlen(F[i]) && !memcmp(a->v.s.p, F[i], a->v.s.n)) {
			set_bool(out, false);
			return 0;
		}
	}
	return gs_cel__fail(c, "type conversion error: '%.*s' is not a bool", (int)(a->v.s.n > 60 ? 60 : a->v.s.n),
			    a->v.s.p);
}

static int to_time(gs_cel_ctx *c, int fn, const gs_cel_value *a, gs_cel_value *out)
{
	int64_t sec;
	int32_t nanos;
	int want = fn == GS_CEL_FN_TIMESTAMP ? GS_CEL_TIMESTAMP : GS_CEL_DURATION;
	if (a->kind == want) {
		*out = *a;
		return 0;
	}
	if (want == GS_CEL_TIMESTAMP && a->kind == GS_CEL_INT)
		return gs_cel__ts_make(c, a->v.i, 0, out);
	if (a->kind != GS_CEL_STRING)
		return gs_cel__no_overload(c, gs_cel__fn_name(fn), a, NULL);
	if ((want == GS_CEL_TIMESTAMP ? gs_cel__ts_parse(a->v.s.p, a->v.s.n, &sec, &nanos)
				      : gs_cel__dur_parse(a->v.s.p, a->v.s.n, &sec, &nanos)) < 0)
		return gs_cel__fail(c, "invalid %s: '%.*s'", gs_cel__fn_name(fn), (int)(a->v.s.n > 60 ? 60 : a->v.s.n),
				    a->v.s.p);
	return want == GS_CEL_TIMESTAMP ? gs_cel__ts_make(c, sec, nanos, out) : gs_cel__dur_make(c, sec, nanos, out);
}

/* ---- dispatch ---- */

static int arity(gs_cel_ctx *c, const gs_cel_node *n, uint32_t lo, uint32_t hi, int receiver)
{
	bool is_recv = (n->flags & GS_CEL_F_RECEIVER) != 0;
	if (n->n < lo || n->n > hi || (receiver == 1 && !is_recv) || (receiver == 0 && is_recv))
		return gs_cel__fail(c, "no matching overload for '%s' with %u argument%s", n->name, n->n,
				    n->n == 1 ? "" : "s");
	return 0;
}

/* receiver: 1 only x.f(), 0 only f(x), 2 either */
static int call_fn(gs_cel_ctx *c, const gs_cel_node *n, gs_cel_value *a, gs_cel_value *out)
{
	switch (n->fn) {
	case GS_CEL_FN_SIZE:
		return arity(c, n, 1, 1, 2) < 0 ? -1 : size_of(c, &a[0], out);
	case GS_CEL_FN_CONTAINS:
	case GS_CEL_FN_STARTS_WITH:
	case GS_CEL_FN_ENDS_WITH:
		return arity(c, n, 2, 2, 1) < 0 ? -1 : str_pred(c, n->fn, &a[0], &a[1], out);
	case GS_CEL_FN_MATCHES:
		return arity(c, n, 2, 2, 2) < 0 ? -1 : matches(c, n, &a[0], &a[1], out);
	case GS_CEL_FN_LOWER_ASCII:
	case GS_CEL_FN_UPPER_ASCII:
	case GS_CEL_FN_TRIM:
		return arity(c, n, 1, 1, 1) < 0 ? -1 : ascii_map(c, n->fn, &a[0], out);
	case GS_CEL_FN_INT:
		return arity(c, n, 1, 1, 0) < 0 ? -1 : to_int(c, &a[0], out);
	case GS_CEL_FN_UINT:
		return arity(c, n, 1, 1, 0) < 0 ? -1 : to_uint(c, &a[0], out);
	case GS_CEL_FN_DOUBLE:
		return arity(c, n, 1, 1, 0) < 0 ? -1 : to_double(c, &a[0], out);
	case GS_CEL_FN_STRING:
		return arity(c, n, 1, 1, 0) < 0 ? -1 : to_string(c, &a[0], out);
	case GS_CEL_FN_BYTES:
		if (arity(c, n, 1, 1, 0) < 0)
			return -1;
		if (a[0].kind != GS_CEL_STRING && a[0].kind != GS_CEL_BYTES)
			return gs_cel__no_overload(c, "bytes", &a[0], NULL);
		*out = a[0];
		out->kind = GS_CEL_BYTES;
		return 0;
	case GS_CEL_FN_BOOL:
		return arity(c, n, 1, 1, 0) < 0 ? -1 : to_bool(c, &a[0], out);
	case GS_CEL_FN_DYN:
		if (arity(c, n, 1, 1, 0) < 0)
			return -1;
		*out = a[0];
		return 0;
	case GS_CEL_FN_TYPE:
		if (arity(c, n, 1, 1, 0) < 0)
			return -1;
		memset(out, 0, sizeof(*out));
		out->kind = GS_CEL_TYPE;
		out->v.i = a[0].kind;
		return 0;
	case GS_CEL_FN_TIMESTAMP:
	case GS_CEL_FN_DURATION:
		return arity(c, n, 1, 1, 0) < 0 ? -1 : to_time(c, n->fn, &a[0], out);
	default:
		if (arity(c, n, 1, 2, 1) < 0)
			return -1;
		return gs_cel__time_field(c, n->fn, &a[0], n->n == 2 ? &a[1] : NULL, out);
	}
}

int gs_cel__call(gs_cel_ctx *c, const gs_cel_node *n, gs_cel_value *a, gs_cel_value *out)
{
	switch (n->fn) {
	case GS_CEL_FN_ADD:
		return gs_cel__add(c, &a[0], &a[1], out);
	case GS_CEL_FN_SUB:
		return sub(c, &a[0], &a[1], out);
	case GS_CEL_FN_MUL:
	case GS_CEL_FN_DIV:
	case GS_CEL_FN_MOD:
		return mul_div_mod(c, n->fn, &a[0], &a[1], out);
	case GS_CEL_FN_NEG:
		if (a[0].kind == GS_CEL_INT) {
			if (a[0].v.i == INT64_MIN)
				return overflow(c);
			set_int(out, -a[0].v.i);
		} else if (a[0].kind == GS_CEL_DOUBLE) {
			set_double(out, -a[0].v.d);
		} else {
			return gs_cel__no_overload(c, "-_", &a[0], NULL);
		}
		return 0;
	case GS_CEL_FN_NOT:
		if (a[0].kind != GS_CEL_BOOL)
			return gs_cel__no_overload(c, "!_", &a[0], NULL);
		set_bool(out, !a[0].v.b);
		return 0;
	case GS_CEL_FN_EQ:
	case GS_CEL_FN_NE:
	case GS_CEL_FN_LT:
	case GS_CEL_FN_LE:
	case GS_CEL_FN_GT:
	case GS_CEL_FN_GE:
		return relation(c, n->fn, &a[0], &a[1], out);
	case GS_CEL_FN_IN:
		return in_op(c, &a[0], &a[1], out);
	default:
		return call_fn(c, n, a, out);
	}
}
