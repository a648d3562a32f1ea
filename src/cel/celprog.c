/*
 * cel/celprog.c -- the public API of cel/cel.h: compiling a program and
 * the evaluation entry points (bindings in, result out, errors with
 * positions).
 *
 * Owns the program object. Each evaluation runs in a context on the
 * caller's stack (its arena's first 2 KiB inline), so concurrent
 * evaluations of one program share nothing writable.
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cel/internal.h"
#include "util/alloc.h"
#include "util/error.h"

int gs_cel_compile_opts(const char *expr, size_t len, const gs_cel_options *opts, gs_cel_program **out,
			gs_cel_error *err)
{
	gs_cel_program *p;
	int rc;
	*out = NULL;
	if (err)
		memset(err, 0, sizeof(*err));
	p = gs_xcalloc(1, sizeof(*p));
	p->src = gs_xmalloc(len + 1);
	memcpy(p->src, expr, len);
	p->src[len] = 0;
	p->src_len = len;
	rc = gs_cel__parse(p, opts, err);
	if (rc < 0) {
		gs_cel_program_free(p);
		return GS_EINVALID;
	}
	*out = p;
	return 0;
}

int gs_cel_compile(const char *expr, size_t len, gs_cel_program **out, gs_cel_error *err)
{
	return gs_cel_compile_opts(expr, len, NULL, out, err);
}

static int report(gs_cel_ctx *c, gs_cel_error *err)
{
	if (!err)
		return GS_EINVALID;
	err->line = err->column = 0;
	if (c->pos != UINT32_MAX)
		gs_cel__position(c->prog->src, c->prog->src_len, c->pos, &err->line, &err->column);
	snprintf(err->message, sizeof(err->message), "%s", c->msg ? c->msg : "evaluation failed");
	return GS_EINVALID;
}

static int bind(gs_cel_ctx *c, const char *const *names, json_t *const *values, size_t n, unsigned flags,
		gs_cel_error *err)
{
	const gs_cel_program *p = c->prog;
	size_t i, j;
	if (!c->slots || !c->locals)
		return gs_cel__fail_fatal(c, "memory limit exceeded"), report(c, err);
	for (i = 0; i < p->nslots; i++) {
		for (j = 0; j < n; j++) {
			if (strcmp(p->slots[i], names[j]) != 0)
				continue;
			if (!(flags & GS_CEL_IN_TYPED)) {
				gs_cel__from_json(values[j], &c->slots[i]);
			} else if (gs_cel__from_typed(c, values[j], &c->slots[i], 0) < 0) {
				c->pos = UINT32_MAX;
				report(c, err);
				snprintf(err->message, sizeof(err->message), "binding '%s': %s", names[j], c->msg);
				return GS_EINVALID;
			}
			break;
		}
	}
	return 0;
}

/* Binds and evaluates into *res; the caller releases c in any case. */
static int run(gs_cel_ctx *c, const gs_cel_program *p, const char *const *names, json_t *const *values, size_t n,
	       unsigned flags, gs_cel_value *res, gs_cel_error *err)
{
	int rc;
	if (err)
		memset(err, 0, sizeof(*err));
	gs_cel__ctx_init(c, p);
	if ((rc = bind(c, names, values, n, flags, err)) < 0)
		return rc;
	if (gs_cel__eval(c, p->root, res) < 0)
		return report(c, err);
	return 0;
}

int gs_cel_eval_bool(const gs_cel_program *p, const char *const *names, json_t *const *values, size_t n,
		     bool *out, gs_cel_error *err)
{
	gs_cel_ctx c;
	gs_cel_value res;
	int rc = run(&c, p, names, values, n, 0, &res, err);
	if (rc == 0 && res.kind != GS_CEL_BOOL) {
		if (err)
			snprintf(err->message, sizeof(err->message), "result is %s, not bool", gs_cel__type_name(res.kind));
		rc = GS_EINVALID;
	}
	if (rc == 0)
		*out = res.v.b;
	gs_cel__ctx_release(&c);
	return rc;
}

int gs_cel_eval_ex(const gs_cel_program *p, const char *const *names, json_t *const *values, size_t n,
		   unsigned flags, json_t **out, gs_cel_error *err)
{
	gs_cel_ctx c;
	gs_cel_value res;
	int rc = run(&c, p, names, values, n, flags, &res, err);
	*out = NULL;
	if (rc == 0) {
		*out = flags & GS_CEL_OUT_TYPED ? gs_cel__to_typed(&c, &res, 0) : gs_cel__to_json(&c, &res, 0);
		if (!*out) {
			c.pos = UINT32_MAX;
			if (!c.msg)
				c.msg = "result cannot be converted to JSON";
			rc = report(&c, err);
		}
	}
	gs_cel__ctx_release(&c);
	return rc;
}

int gs_cel_eval_json(const gs_cel_program *p, const char *const *names, json_t *const *values, size_t n,
		     json_t **out, gs_cel_error *err)
{
	return gs_cel_eval_ex(p, names, values, n, 0, out, err);
}
