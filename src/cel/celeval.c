/*
 * cel/celeval.c -- the tree-walking evaluator: variables, field selection,
 * indexing, literals, the commutative error-absorbing && and ||, the
 * conditional, and comprehensions (all, exists, exists_one, map, filter,
 * transformList, transformMap).
 *
 * Owns nothing beyond the caller's gs_cel_ctx. Runs on the caller's
 * thread; recursion depth is bounded by GS_CEL_MAX_AST_DEPTH (checked at
 * compile time). Every node evaluated and every allocation is charged to
 * the context's cost; past GS_CEL_COST_LIMIT the evaluation fails with a
 * fatal error that nothing absorbs.
 * SPDX-License-Identifier: MIT
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cel/internal.h"

#define NO_POS UINT32_MAX

typedef struct saved_error {
	const char *msg;
	uint32_t pos;
} saved_error;

/* ---- errors, cost, memory ---- */

int gs_cel__fail(gs_cel_ctx *c, const char *fmt, ...)
{
	va_list ap;
	char *buf;
	if (c->msg)
		return -1;
	if (!strchr(fmt, '%')) {
		c->msg = fmt;
		return -1;
	}
	buf = gs_cel__arena_alloc(&c->arena, 256);
	if (!buf)
		return gs_cel__fail_fatal(c, "memory limit exceeded");
	va_start(ap, fmt);
	vsnprintf(buf, 256, fmt, ap);
	va_end(ap);
	c->msg = buf;
	return -1;
}

int gs_cel__fail_fatal(gs_cel_ctx *c, const char *msg)
{
	/* a limit overrides whatever softer error came first */
	if (!c->fatal) {
		c->msg = msg;
		c->pos = NO_POS;
	}
	c->fatal = true;
	return -1;
}

int gs_cel__charge(gs_cel_ctx *c, int64_t units)
{
	c->cost += units;
	if (c->cost > GS_CEL_COST_LIMIT)
		return gs_cel__fail_fatal(c, "cost limit exceeded");
	return 0;
}

void *gs_cel__alloc(gs_cel_ctx *c, size_t n)
{
	void *p;
	/* 8 bytes a unit: the cost limit trips before the memory limit */
	if (gs_cel__charge(c, (int64_t)(n / 8)) < 0)
		return NULL;
	p = gs_cel__arena_alloc(&c->arena, n);
	if (!p)
		gs_cel__fail_fatal(c, "memory limit exceeded");
	return p;
}

int gs_cel__no_overload(gs_cel_ctx *c, const char *fn, const gs_cel_value *a, const gs_cel_value *b)
{
	if (b)
		return gs_cel__fail(c, "no matching overload for '%s' applied to (%s, %s)", fn,
				    gs_cel__type_name(a->kind), gs_cel__type_name(b->kind));
	return gs_cel__fail(c, "no matching overload for '%s' applied to (%s)", fn, gs_cel__type_name(a->kind));
}

static void save_error(gs_cel_ctx *c, saved_error *s)
{
	s->msg = c->msg;
	s->pos = c->pos;
	c->msg = NULL;
	c->pos = NO_POS;
}

static int restore_error(gs_cel_ctx *c, const saved_error *s)
{
	c->msg = s->msg;
	c->pos = s->pos;
	return -1;
}

void gs_cel__ctx_init(gs_cel_ctx *c, const gs_cel_program *p)
{
	c->prog = p;
	gs_cel__arena_init(&c->arena);
	c->cost = 0;
	c->msg = NULL;
	c->pos = NO_POS;
	c->fatal = false;
	c->match_data = NULL;
	/* both fit the inline arena for any ordinary program */
	c->slots = gs_cel__arena_alloc(&c->arena, (p->nslots + 1) * sizeof(gs_cel_value));
	c->locals = gs_cel__arena_alloc(&c->arena, (p->nlocals + 1) * sizeof(gs_cel_value));
	if (c->slots)
		memset(c->slots, 0, p->nslots * sizeof(gs_cel_value));
}

void gs_cel__ctx_release(gs_cel_ctx *c)
{
	gs_cel__re_match_data_free(c->match_data);
	c->match_data = NULL;
	gs_cel__arena_release(&c->arena);
}

/* ---- names, fields, indexes ---- */

static int select_field(gs_cel_ctx *c, const gs_cel_value *v, const char *name, gs_cel_value *out)
{
	if (v->kind != GS_CEL_MAP)
		return gs_cel__fail(c, "type '%s' does not support field selection", gs_cel__type_name(v->kind));
	gs_cel__charge(c, 1);
	if (!gs_cel__map_find_str(v, name, strlen(name), out))
		return gs_cel__fail(c, "no such key: %s", name);
	return 0;
}

static int eval_qident(gs_cel_ctx *c, const gs_cel_node *n, gs_cel_value *out)
{
	uint32_t k, j;
	const int32_t *cand;
	for (k = n->nparts; k-- > 0;) {
		for (cand = n->cands[k]; *cand >= 0; cand++) {
			if (c->slots[*cand].kind == GS_CEL_UNSET)
				continue;
			*out = c->slots[*cand];
			for (j = k + 1; j < n->nparts; j++)
				if (select_field(c, out, n->parts[j], out) < 0)
					return -1;
			return 0;
		}
	}
	if (n->lit.kind == GS_CEL_TYPE) {
		*out = n->lit;
		return 0;
	}
	return gs_cel__fail(c, "undeclared reference to '%s'", n->parts[0]);
}

static void key_text(const gs_cel_value *k, char *buf, size_t n)
{
	switch (k->kind) {
	case GS_CEL_STRING:
		snprintf(buf, n, "%.*s", (int)(k->v.s.n > 100 ? 100 : k->v.s.n), k->v.s.p);
		break;
	case GS_CEL_INT:
		snprintf(buf, n, "%lld", (long long)k->v.i);
		break;
	case GS_CEL_UINT:
		snprintf(buf, n, "%llu", (unsigned long long)k->v.u);
		break;
	case GS_CEL_DOUBLE:
		gs_cel__fmt_double(k->v.d, buf, n);
		break;
	case GS_CEL_BOOL:
		snprintf(buf, n, "%s", k->v.b ? "true" : "false");
		break;
	default:
		snprintf(buf, n, "(%s)", gs_cel__type_name(k->kind));
	}
}

static int eval_index(gs_cel_ctx *c, const gs_cel_value *a, const gs_cel_value *k, gs_cel_value *out)
{
	char buf[128];
	int64_t i;
	size_t len;
	if (a->kind == GS_CEL_MAP) {
		if (gs_cel__map_find(c, a, k, out))
			return 0;
		key_text(k, buf, sizeof(buf));
		return gs_cel__fail(c, "no such key: %s", buf);
	}
	if (a->kind != GS_CEL_LIST)
		return gs_cel__no_overload(c, "_[_]", a, k);
	if (k->kind == GS_CEL_INT)
		i = k->v.i;
	else if (k->kind == GS_CEL_UINT)
		i = k->v.u > INT64_MAX ? INT64_MAX : (int64_t)k->v.u;
	else if (k->kind == GS_CEL_DOUBLE && k->v.d == floor(k->v.d) && fabs(k->v.d) < 9e18)
		i = (int64_t)k->v.d;
	else if (k->kind == GS_CEL_DOUBLE)
		return gs_cel__fail(c, "invalid_argument: list index %g is not an integer", k->v.d);
	else
		return gs_cel__no_overload(c, "_[_]", a, k);
	len = gs_cel__list_len(a);
	if (i < 0 || (uint64_t)i >= len)
		return gs_cel__fail(c, "invalid_argument: index out of range: %lld (size %zu)", (long long)i, len);
	gs_cel__list_at(a, (size_t)i, out);
	return 0;
}

/* ---- logic ---- */

static int eval_logic(gs_cel_ctx *c, const gs_cel_node *n, gs_cel_value *out)
{
	bool is_and = n->kind == GS_CEL_N_AND;
	gs_cel_value l, r;
	saved_error se = {0};
	int rl, rr;
	rl = gs_cel__eval(c, n->kids[0], &l);
	if (rl == 0 && l.kind == GS_CEL_BOOL && l.v.b != is_and) {
		*out = l; /* false && _, true || _ */
		return 0;
	}
	if (rl < 0) {
		if (c->fatal)
			return -1;
		save_error(c, &se);
	}
	rr = gs_cel__eval(c, n->kids[1], &r);
	if (rr == 0 && r.kind == GS_CEL_BOOL && r.v.b != is_and) {
		*out = r;
		return 0;
	}
	if (rr < 0 && c->fatal)
		return -1;
	if (rl < 0)
		return restore_error(c, &se);
	if (rr < 0)
		return -1;
	if (l.kind != GS_CEL_BOOL || r.kind != GS_CEL_BOOL)
		return gs_cel__no_overload(c, is_and ? "_&&_" : "_||_", &l, &r);
	*out = l;
	return 0;
}

static int eval_cond(gs_cel_ctx *c, const gs_cel_node *n, gs_cel_value *out)
{
	gs_cel_value t;
	if (gs_cel__eval(c, n->kids[0], &t) < 0)
		return -1;
	if (t.kind != GS_CEL_BOOL)
		return gs_cel__no_overload(c, "_?_:_", &t, NULL);
	return gs_cel__eval(c, n->kids[t.v.b ? 1 : 2], out);
}

/* ---- literals ---- */

static int eval_list(gs_cel_ctx *c, const gs_cel_node *n, gs_cel_value *out)
{
	gs_cel_list *l = gs_cel__alloc(c, sizeof(*l) + n->n * sizeof(gs_cel_value));
	uint32_t i;
	if (!l)
		return -1;
	l->n = n->n;
	l->items = (gs_cel_value *)(l + 1);
	for (i = 0; i < n->n; i++)
		if (gs_cel__eval(c, n->kids[i], &l->items[i]) < 0)
			return -1;
	memset(out, 0, sizeof(*out));
	out->kind = GS_CEL_LIST;
	out->v.l = l;
	return 0;
}

static int eval_map(gs_cel_ctx *c, const gs_cel_node *n, gs_cel_value *out)
{
	size_t count = n->n / 2, i, j;
	gs_cel_map *m = gs_cel__alloc(c, sizeof(*m) + 2 * count * sizeof(gs_cel_value));
	gs_cel_value *k;
	if (!m)
		return -1;
	m->keys = (gs_cel_value *)(m + 1);
	m->vals = m->keys + count;
	m->n = 0;
	for (i = 0; i < count; i++) {
		k = &m->keys[i];
		if (gs_cel__eval(c, n->kids[2 * i], k) < 0 || gs_cel__eval(c, n->kids[2 * i + 1], &m->vals[i]) < 0)
			return -1;
		if (k->kind != GS_CEL_INT && k->kind != GS_CEL_UINT && k->kind != GS_CEL_BOOL && k->kind != GS_CEL_STRING) {
			c->pos = n->kids[2 * i]->pos;
			return gs_cel__fail(c, "unsupported key type: %s", gs_cel__type_name(k->kind));
		}
		if (gs_cel__charge(c, (int64_t)i / 8) < 0)
			return -1;
		for (j = 0; j < i; j++) {
			if (gs_cel__equal(c, &m->keys[j], k)) {
				c->pos = n->kids[2 * i]->pos;
				return gs_cel__fail(c, "repeated key in map literal");
			}
		}
		m->n++;
	}
	memset(out, 0, sizeof(*out));
	out->kind = GS_CEL_MAP;
	out->v.m = m;
	return 0;
}

/* ---- comprehensions ---- */

typedef struct comp {
	const gs_cel_node *n;
	gs_cel_value range;
	size_t len;
	gs_cel_map_iter it;
	size_t i;
} comp;

/* Binds the variables to the next element; 0 when done. */
static int comp_next(gs_cel_ctx *c, comp *k)
{
	gs_cel_value *v1 = &c->locals[k->n->var1], *v2 = k->n->var2 >= 0 ? &c->locals[k->n->var2] : NULL;
	if (k->range.kind == GS_CEL_LIST) {
		if (k->i >= k->len)
			return 0;
		if (v2) {
			memset(v1, 0, sizeof(*v1));
			v1->kind = GS_CEL_INT;
			v1->v.i = (int64_t)k->i;
			gs_cel__list_at(&k->range, k->i, v2);
		} else {
			gs_cel__list_at(&k->range, k->i, v1);
		}
	} else if (!gs_cel__map_next(&k->range, &k->it, v1, v2)) {
		return 0;
	}
	k->i++;
	return 1;
}

static int comp_start(gs_cel_ctx *c, const gs_cel_node *n, comp *k)
{
	k->n = n;
	k->i = 0;
	if (gs_cel__eval(c, n->kids[0], &k->range) < 0)
		return -1;
	if (k->range.kind == GS_CEL_LIST) {
		k->len = gs_cel__list_len(&k->range);
	} else if (k->range.kind == GS_CEL_MAP) {
		k->len = gs_cel__map_len(&k->range);
		gs_cel__map_iter_init(&k->range, &k->it);
	} else {
		c->pos = n->pos;
		return gs_cel__fail(c, "%s() cannot range over %s", n->name, gs_cel__type_name(k->range.kind));
	}
	return 0;
}

static int pred_bool(gs_cel_ctx *c, const gs_cel_node *p, bool *out)
{
	gs_cel_value v;
	if (gs_cel__eval(c, p, &v) < 0)
		return -1;
	if (v.kind != GS_CEL_BOOL) {
		c->pos = p->pos;
		return gs_cel__fail(c, "no matching overload: predicate is %s, not bool", gs_cel__type_name(v.kind));
	}
	*out = v.v.b;
	return 0;
}

/* all / exists: errors are absorbed when another element decides */
static int comp_quant(gs_cel_ctx *c, const gs_cel_node *n, gs_cel_value *out)
{
	bool want = n->fn == GS_CEL_C_EXISTS, b, failed = false;
	saved_error se = {0};
	comp k;
	if (comp_start(c, n, &k) < 0)
		return -1;
	while (comp_next(c, &k)) {
		if (gs_cel__charge(c, 1) < 0)
			return -1;
		if (pred_bool(c, n->kids[1], &b) < 0) {
			if (c->fatal)
				return -1;
			if (!failed)
				save_error(c, &se);
			else
				c->msg = NULL, c->pos = NO_POS;
			failed = true;
			continue;
		}
		if (b == want) {
			c->msg = NULL;
			c->pos = NO_POS;
			memset(out, 0, sizeof(*out));
			out->kind = GS_CEL_BOOL;
			out->v.b = want;
			return 0;
		}
	}
	if (failed)
		return restore_error(c, &se);
	memset(out, 0, sizeof(*out));
	out->kind = GS_CEL_BOOL;
	out->v.b = !want;
	return 0;
}

static int comp_exists_one(gs_cel_ctx *c, const gs_cel_node *n, gs_cel_value *out)
{
	size_t hits = 0;
	bool b;
	comp k;
	if (comp_start(c, n, &k) < 0)
		return -1;
	while (comp_next(c, &k)) {
		if (gs_cel__charge(c, 1) < 0 || pred_bool(c, n->kids[1], &b) < 0)
			return -1;
		hits += b;
	}
	memset(out, 0, sizeof(*out));
	out->kind = GS_CEL_BOOL;
	out->v.b = hits == 1;
	return 0;
}

/* map, filter, transformList, transformMap */
static int comp_build(gs_cel_ctx *c, const gs_cel_node *n, gs_cel_value *out)
{
	const gs_cel_node *filter = NULL, *xform = n->kids[n->n - 1];
	gs_cel_value *vals, *keys = NULL, key;
	gs_cel_list *l;
	gs_cel_map *m;
	size_t count = 0;
	bool keep, is_map = n->fn == GS_CEL_C_TMAP;
	comp k;
	if (n->fn == GS_CEL_C_FILTER)
		filter = n->kids[1], xform = NULL;
	else if (n->n == 3)
		filter = n->kids[1];
	if (comp_start(c, n, &k) < 0)
		return -1;
	vals = gs_cel__alloc(c, (k.len + 1) * sizeof(gs_cel_value) * (is_map ? 2 : 1));
	if (!vals)
		return -1;
	keys = is_map ? vals + k.len + 1 : NULL;
	while (comp_next(c, &k)) {
		if (gs_cel__charge(c, 1) < 0)
			return -1;
		keep = true;
		if (filter && pred_bool(c, filter, &keep) < 0)
			return -1;
		if (!keep)
			continue;
		key = c->locals[n->var1];
		if (!xform)
			vals[count] = c->locals[n->var1];
		else if (gs_cel__eval(c, xform, &vals[count]) < 0)
			return -1;
		if (keys)
			keys[count] = key;
		count++;
	}
	memset(out, 0, sizeof(*out));
	if (is_map) {
		if (!(m = gs_cel__alloc(c, sizeof(*m))))
			return -1;
		m->n = count;
		m->keys = keys;
		m->vals = vals;
		out->kind = GS_CEL_MAP;
		out->v.m = m;
		return 0;
	}
	if (!(l = gs_cel__alloc(c, sizeof(*l))))
		return -1;
	l->n = count;
	l->items = vals;
	out->kind = GS_CEL_LIST;
	out->v.l = l;
	return 0;
}

static int eval_comp(gs_cel_ctx *c, const gs_cel_node *n, gs_cel_value *out)
{
	switch (n->fn) {
	case GS_CEL_C_ALL:
	case GS_CEL_C_EXISTS:
		return comp_quant(c, n, out);
	case GS_CEL_C_EXISTS_ONE:
		return comp_exists_one(c, n, out);
	default:
		return comp_build(c, n, out);
	}
}

/* ---- calls ---- */

static int eval_call(gs_cel_ctx *c, const gs_cel_node *n, gs_cel_value *out)
{
	gs_cel_value small[4], *args = small;
	uint32_t i;
	if (n->fn == GS_CEL_FN_UNKNOWN)
		return gs_cel__fail(c, "unbound function: %s", n->name);
	if (n->n > 4 && !(args = gs_cel__alloc(c, n->n * sizeof(*args))))
		return -1;
	for (i = 0; i < n->n; i++)
		if (gs_cel__eval(c, n->kids[i], &args[i]) < 0)
			return -1;
	return gs_cel__call(c, n, args, out);
}

static int eval_node(gs_cel_ctx *c, const gs_cel_node *n, gs_cel_value *out)
{
	gs_cel_value a, b;
	switch (n->kind) {
	case GS_CEL_N_LIT:
		*out = n->lit;
		return 0;
	case GS_CEL_N_LOCAL:
		*out = c->locals[n->var1];
		return 0;
	case GS_CEL_N_QIDENT:
		return eval_qident(c, n, out);
	case GS_CEL_N_SELECT:
		if (gs_cel__eval(c, n->kids[0], &a) < 0)
			return -1;
		return select_field(c, &a, n->name, out);
	case GS_CEL_N_HAS:
		if (gs_cel__eval(c, n->kids[0], &a) < 0)
			return -1;
		if (a.kind != GS_CEL_MAP)
			return gs_cel__fail(c, "invalid type for has(): %s", gs_cel__type_name(a.kind));
		memset(out, 0, sizeof(*out));
		out->kind = GS_CEL_BOOL;
		out->v.b = gs_cel__map_find_str(&a, n->name, n->name_len, &b) == 1;
		return 0;
	case GS_CEL_N_INDEX:
		if (gs_cel__eval(c, n->kids[0], &a) < 0 || gs_cel__eval(c, n->kids[1], &b) < 0)
			return -1;
		return eval_index(c, &a, &b, out);
	case GS_CEL_N_CALL:
		return eval_call(c, n, out);
	case GS_CEL_N_AND:
	case GS_CEL_N_OR:
		return eval_logic(c, n, out);
	case GS_CEL_N_COND:
		return eval_cond(c, n, out);
	case GS_CEL_N_LIST:
		return eval_list(c, n, out);
	case GS_CEL_N_MAP:
		return eval_map(c, n, out);
	case GS_CEL_N_COMP:
		return eval_comp(c, n, out);
	case GS_CEL_N_MSG:
		return gs_cel__fail(c, "message construction is not supported: %s", n->name);
	default:
		return gs_cel__fail(c, "unsupported expression");
	}
}

int gs_cel__eval(gs_cel_ctx *c, const gs_cel_node *n, gs_cel_value *out)
{
	if (++c->cost > GS_CEL_COST_LIMIT) {
		gs_cel__fail_fatal(c, "cost limit exceeded");
		c->pos = n->pos;
		return -1;
	}
	if (eval_node(c, n, out) < 0) {
		if (c->pos == NO_POS)
			c->pos = n->pos;
		return -1;
	}
	return 0;
}
