/*
 * cel/celparse.c -- recursive-descent parser for the CEL grammar
 * (langdef "Syntax"), macro expansion (has, all, exists, exists_one,
 * map, filter, transformList, transformMap) and name resolution:
 * comprehension variables become local slots, other (dotted) names become
 * global slots looked up longest-prefix-first at evaluation.
 *
 * Owns nothing: every node goes to the program's storage. Bounds: source
 * bytes, node count and nesting depth (limits.h GS_CEL_*), checked as
 * the tree is built so a hostile expression cannot exhaust the stack.
 * SPDX-License-Identifier: MIT
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cel/internal.h"
#include "util/alloc.h"
#include "util/error.h"
#include "util/utf8.h"

typedef struct parser {
	gs_cel_program *prog;
	gs_cel_lexer lx;
	gs_cel_token tok;
	gs_cel_error *err;
	size_t nodes;
	unsigned nest;
	const char *container;
} parser;

/* name resolution scope: comprehension variables, innermost last */
typedef struct scope {
	const char *names[2 * GS_CEL_MAX_AST_DEPTH];
	int32_t idx[2 * GS_CEL_MAX_AST_DEPTH];
	int n;
} scope;

static gs_cel_node *parse_expr(parser *ps);

static int perr(parser *ps, size_t pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int perr(parser *ps, size_t pos, const char *fmt, ...)
{
	char msg[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return gs_cel__syntax_error(ps->err, ps->prog->src, ps->prog->src_len, pos, "%s", msg);
}

static int next(parser *ps)
{
	return gs_cel__lex(&ps->lx, &ps->tok, ps->err);
}

static const char *tok_text(parser *ps, char *buf, size_t n)
{
	if (ps->tok.type == GS_CEL_T_EOF)
		return "end of expression";
	snprintf(buf, n, "'%.*s'", (int)(ps->tok.len > 40 ? 40 : ps->tok.len), ps->prog->src + ps->tok.pos);
	return buf;
}

static gs_cel_node *unexpected(parser *ps)
{
	char buf[64];
	perr(ps, ps->tok.pos, "syntax error: unexpected %s", tok_text(ps, buf, sizeof(buf)));
	return NULL;
}

static int expect(parser *ps, int type, const char *what)
{
	char buf[64];
	if (ps->tok.type != type)
		return perr(ps, ps->tok.pos, "syntax error: expected %s, found %s", what, tok_text(ps, buf, sizeof(buf)));
	return next(ps);
}

static gs_cel_node *new_node(parser *ps, int kind, uint32_t pos)
{
	gs_cel_node *n;
	if (++ps->nodes > GS_CEL_MAX_AST_NODES) {
		perr(ps, pos, "expression too large (more than %d nodes)", GS_CEL_MAX_AST_NODES);
		return NULL;
	}
	n = gs_cel__palloc(ps->prog, sizeof(*n));
	n->kind = (uint8_t)kind;
	n->pos = pos;
	n->depth = 1;
	n->var1 = n->var2 = -1;
	return n;
}

/* Gives n its children and checks the depth bound. */
static gs_cel_node *set_kids(parser *ps, gs_cel_node *n, gs_cel_node **kids, size_t count)
{
	size_t i;
	unsigned d = 0;
	n->kids = gs_cel__palloc(ps->prog, (count ? count : 1) * sizeof(*kids));
	for (i = 0; i < count; i++) {
		n->kids[i] = kids[i];
		if (kids[i]->depth > d)
			d = kids[i]->depth;
	}
	n->n = (uint32_t)count;
	if (d + 1 > GS_CEL_MAX_AST_DEPTH) {
		perr(ps, n->pos, "expression nested too deeply (more than %d levels)", GS_CEL_MAX_AST_DEPTH);
		return NULL;
	}
	n->depth = (uint16_t)(d + 1);
	return n;
}

static gs_cel_node *node2(parser *ps, int kind, int fn, uint32_t pos, gs_cel_node *a, gs_cel_node *b)
{
	gs_cel_node *kids[2] = {a, b}, *n = new_node(ps, kind, pos);
	if (!n)
		return NULL;
	n->fn = (uint8_t)fn;
	return set_kids(ps, n, kids, b ? 2 : 1);
}

static gs_cel_node *call_node(parser *ps, const char *name, int fn, uint32_t pos, gs_cel_node *a, gs_cel_node *b)
{
	gs_cel_node *n = node2(ps, GS_CEL_N_CALL, fn, pos, a, b);
	if (n) {
		n->name = name;
		n->name_len = strlen(name);
	}
	return n;
}

/* ---- argument lists ---- */

/* Parses "expr, expr, ... close" (the opener already consumed); a
 * trailing comma is accepted. kids grows as needed. */
static int parse_list(parser *ps, int close, const char *what, gs_cel_node ***kids, size_t *count, int pairs)
{
	size_t cap = 0;
	gs_cel_node *e;
	*kids = NULL;
	*count = 0;
	while (ps->tok.type != close) {
		if (*count + 2 > cap) {
			cap = cap ? cap * 2 : 8;
			*kids = gs_xrealloc(*kids, cap * sizeof(**kids));
		}
		if (!(e = parse_expr(ps)))
			return GS_EINVALID;
		(*kids)[(*count)++] = e;
		if (pairs) {
			if (expect(ps, GS_CEL_T_COLON, "':'") < 0 || !(e = parse_expr(ps)))
				return GS_EINVALID;
			(*kids)[(*count)++] = e;
		}
		if (ps->tok.type != GS_CEL_T_COMMA)
			break;
		if (next(ps) < 0)
			return GS_EINVALID;
	}
	return expect(ps, close, what);
}

static gs_cel_node *finish_list(parser *ps, gs_cel_node *n, gs_cel_node **kids, size_t count, int rc)
{
	gs_cel_node *r = NULL;
	if (rc == 0 && n)
		r = set_kids(ps, n, kids, count);
	free(kids);
	return r;
}

/* ---- macros ---- */

static int simple_name(parser *ps, gs_cel_node *n)
{
	if (n->kind != GS_CEL_N_IDENT || (n->flags & GS_CEL_F_ROOTED))
		return perr(ps, n->pos, "argument must be a simple name");
	return 0;
}

static int macro_kind(const char *name, size_t nargs, int *nvars)
{
	static const struct {
		const char *name;
		size_t nargs;
		int kind, nvars;
	} M[] = {{"all", 2, GS_CEL_C_ALL, 1},
		 {"all", 3, GS_CEL_C_ALL, 2},
		 {"exists", 2, GS_CEL_C_EXISTS, 1},
		 {"exists", 3, GS_CEL_C_EXISTS, 2},
		 {"exists_one", 2, GS_CEL_C_EXISTS_ONE, 1},
		 {"exists_one", 3, GS_CEL_C_EXISTS_ONE, 2},
		 {"existsOne", 2, GS_CEL_C_EXISTS_ONE, 1},
		 {"existsOne", 3, GS_CEL_C_EXISTS_ONE, 2},
		 {"map", 2, GS_CEL_C_MAP, 1},
		 {"map", 3, GS_CEL_C_MAP_FILTER, 1},
		 {"filter", 2, GS_CEL_C_FILTER, 1},
		 {"transformList", 3, GS_CEL_C_TLIST, 2},
		 {"transformList", 4, GS_CEL_C_TLIST, 2},
		 {"transformMap", 3, GS_CEL_C_TMAP, 2},
		 {"transformMap", 4, GS_CEL_C_TMAP, 2}};
	size_t i;
	for (i = 0; i < sizeof(M) / sizeof(M[0]); i++) {
		if (M[i].nargs == nargs && !strcmp(M[i].name, name)) {
			*nvars = M[i].nvars;
			return M[i].kind;
		}
	}
	return 0;
}

/* target.name(args) as a comprehension, or NULL with no error when it is
 * not a macro (ps->err->message stays empty). */
static gs_cel_node *expand_macro(parser *ps, gs_cel_node *target, const char *name, uint32_t pos, gs_cel_node **args,
				 size_t nargs, int *is_macro)
{
	int nvars = 0, kind = macro_kind(name, nargs, &nvars), i;
	gs_cel_node *n, *kids[4];
	*is_macro = kind != 0;
	if (!kind)
		return NULL;
	for (i = 0; i < nvars; i++)
		if (simple_name(ps, args[i]) < 0)
			return NULL;
	if (nvars == 2 && !strcmp(args[0]->name, args[1]->name)) {
		perr(ps, args[1]->pos, "iteration variables must differ");
		return NULL;
	}
	if (!(n = new_node(ps, GS_CEL_N_COMP, pos)))
		return NULL;
	n->fn = (uint8_t)kind;
	n->parts = gs_cel__palloc(ps->prog, 2 * sizeof(char *));
	n->parts[0] = args[0]->name;
	n->parts[1] = nvars == 2 ? args[1]->name : NULL;
	n->name = name;
	kids[0] = target;
	for (i = nvars; (size_t)i < nargs; i++)
		kids[1 + i - nvars] = args[i];
	return set_kids(ps, n, kids, 1 + nargs - (size_t)nvars);
}

/* ---- primary, member, unary ---- */

static gs_cel_node *ident_node(parser *ps, uint32_t pos, uint32_t len, int rooted)
{
	gs_cel_node *n = new_node(ps, GS_CEL_N_IDENT, pos);
	if (!n)
		return NULL;
	n->name = gs_cel__pstrndup(ps->prog, ps->prog->src + pos, len);
	n->name_len = len;
	n->flags = rooted ? GS_CEL_F_ROOTED : 0;
	return n;
}

static int is_name_chain(const gs_cel_node *n)
{
	while (n->kind == GS_CEL_N_SELECT)
		n = n->kids[0];
	return n->kind == GS_CEL_N_IDENT;
}

/* The dotted type name of a message literal's operand, or NULL. */
static char *msg_type_name(parser *ps, gs_cel_node *n)
{
	char *left;
	if (n->kind == GS_CEL_N_IDENT)
		return gs_xstrdup(n->name);
	if (n->kind != GS_CEL_N_SELECT || !(left = msg_type_name(ps, n->kids[0])))
		return NULL;
	char *r = gs_xasprintf("%s.%s", left, n->name);
	free(left);
	return r;
}

static gs_cel_node *parse_message(parser *ps, gs_cel_node *type)
{
	gs_cel_node **kids = NULL, *n, *e;
	size_t count = 0, cap = 0;
	uint32_t pos = ps->tok.pos;
	char *tn = msg_type_name(ps, type);
	if (!tn) {
		unexpected(ps);
		return NULL;
	}
	n = new_node(ps, GS_CEL_N_MSG, type->pos);
	if (n) {
		n->name = gs_cel__pstrndup(ps->prog, tn, strlen(tn));
		n->name_len = strlen(tn);
	}
	free(tn);
	if (!n || next(ps) < 0)
		return NULL;
	(void)pos;
	while (ps->tok.type != GS_CEL_T_RBRACE) {
		if (ps->tok.type != GS_CEL_T_IDENT && ps->tok.type != GS_CEL_T_RESERVED && ps->tok.type != GS_CEL_T_QIDENT)
			return free(kids), unexpected(ps);
		if (next(ps) < 0 || expect(ps, GS_CEL_T_COLON, "':'") < 0 || !(e = parse_expr(ps)))
			return free(kids), NULL;
		if (count == cap) {
			cap = cap ? cap * 2 : 8;
			kids = gs_xrealloc(kids, cap * sizeof(*kids));
		}
		kids[count++] = e;
		if (ps->tok.type != GS_CEL_T_COMMA)
			break;
		if (next(ps) < 0)
			return free(kids), NULL;
	}
	return finish_list(ps, n, kids, count, expect(ps, GS_CEL_T_RBRACE, "'}'"));
}

static gs_cel_node *parse_call(parser *ps, gs_cel_node *target, const char *name, uint32_t pos)
{
	gs_cel_node **args = NULL, *n;
	size_t nargs = 0, i;
	int is_macro = 0, rc;
	if (next(ps) < 0)
		return NULL;
	rc = parse_list(ps, GS_CEL_T_RPAREN, "')'", &args, &nargs, 0);
	if (rc < 0) {
		free(args);
		return NULL;
	}
	if (target) {
		n = expand_macro(ps, target, name, pos, args, nargs, &is_macro);
		if (is_macro) {
			free(args);
			return n;
		}
	} else if (!strcmp(name, "has") && nargs == 1) {
		n = args[0];
		free(args);
		if (n->kind != GS_CEL_N_SELECT) {
			perr(ps, n->pos, "invalid argument to has() macro");
			return NULL;
		}
		n->kind = GS_CEL_N_HAS;
		return n;
	}
	if (!(n = new_node(ps, GS_CEL_N_CALL, pos)))
		return free(args), NULL;
	n->name = name;
	n->name_len = strlen(name);
	n->fn = (uint8_t)gs_cel__fn_lookup(name, n->name_len);
	if (target) {
		n->flags |= GS_CEL_F_RECEIVER;
		args = gs_xrealloc(args, (nargs + 1) * sizeof(*args));
		for (i = nargs; i > 0; i--)
			args[i] = args[i - 1];
		args[0] = target;
		nargs++;
	}
	return finish_list(ps, n, args, nargs, 0);
}

static gs_cel_node *literal(parser *ps, int kind)
{
	gs_cel_node *n = new_node(ps, GS_CEL_N_LIT, ps->tok.pos);
	if (!n)
		return NULL;
	n->lit.kind = (uint8_t)kind;
	return n;
}

static gs_cel_node *parse_primary(parser *ps)
{
	gs_cel_node *n = NULL, **kids = NULL;
	gs_cel_token t = ps->tok;
	size_t count = 0;
	int rooted = 0, rc;
	switch (t.type) {
	case GS_CEL_T_DOT:
		if (next(ps) < 0)
			return NULL;
		if (ps->tok.type != GS_CEL_T_IDENT)
			return unexpected(ps);
		t = ps->tok;
		rooted = 1;
		/* fall through */
	case GS_CEL_T_IDENT:
		if (!(n = ident_node(ps, t.pos, t.len, rooted)) || next(ps) < 0)
			return NULL;
		if (ps->tok.type == GS_CEL_T_LPAREN)
			return parse_call(ps, NULL, n->name, t.pos);
		return n;
	case GS_CEL_T_LPAREN:
		if (next(ps) < 0 || !(n = parse_expr(ps)) || expect(ps, GS_CEL_T_RPAREN, "')'") < 0)
			return NULL;
		n->flags |= GS_CEL_F_PAREN;
		return n;
	case GS_CEL_T_LBRACKET:
	case GS_CEL_T_LBRACE:
		n = new_node(ps, t.type == GS_CEL_T_LBRACKET ? GS_CEL_N_LIST : GS_CEL_N_MAP, t.pos);
		if (!n || next(ps) < 0)
			return NULL;
		if (t.type == GS_CEL_T_LBRACKET)
			rc = parse_list(ps, GS_CEL_T_RBRACKET, "']'", &kids, &count, 0);
		else
			rc = parse_list(ps, GS_CEL_T_RBRACE, "'}'", &kids, &count, 1);
		return finish_list(ps, n, kids, count, rc);
	case GS_CEL_T_INT:
		if (t.u > INT64_MAX) {
			perr(ps, t.pos, "integer literal out of range");
			return NULL;
		}
		if ((n = literal(ps, GS_CEL_INT)))
			n->lit.v.i = (int64_t)t.u;
		break;
	case GS_CEL_T_UINT:
		if ((n = literal(ps, GS_CEL_UINT)))
			n->lit.v.u = t.u;
		break;
	case GS_CEL_T_DOUBLE:
		if ((n = literal(ps, GS_CEL_DOUBLE)))
			n->lit.v.d = t.d;
		break;
	case GS_CEL_T_STRING:
	case GS_CEL_T_BYTES:
		if ((n = literal(ps, t.type == GS_CEL_T_STRING ? GS_CEL_STRING : GS_CEL_BYTES))) {
			n->lit.v.s.p = t.str;
			n->lit.v.s.n = t.str_len;
		}
		break;
	case GS_CEL_T_TRUE:
	case GS_CEL_T_FALSE:
		if ((n = literal(ps, GS_CEL_BOOL)))
			n->lit.v.b = t.type == GS_CEL_T_TRUE;
		break;
	case GS_CEL_T_NULL:
		n = literal(ps, GS_CEL_NULL);
		break;
	case GS_CEL_T_RESERVED:
		perr(ps, t.pos, "reserved identifier '%.*s'", (int)t.len, ps->prog->src + t.pos);
		return NULL;
	default:
		return unexpected(ps);
	}
	if (!n || next(ps) < 0)
		return NULL;
	return n;
}

/* Member postfix operators on n: .f, .f(args), [i], {fields}. */
static gs_cel_node *parse_member(parser *ps, gs_cel_node *n)
{
	gs_cel_node *idx, *sel;
	gs_cel_token t;
	while (n) {
		t = ps->tok;
		if (t.type == GS_CEL_T_DOT) {
			if (next(ps) < 0)
				return NULL;
			t = ps->tok;
			if (t.type != GS_CEL_T_IDENT && t.type != GS_CEL_T_RESERVED && t.type != GS_CEL_T_QIDENT)
				return unexpected(ps);
			if (next(ps) < 0)
				return NULL;
			if (ps->tok.type == GS_CEL_T_LPAREN && t.type != GS_CEL_T_QIDENT) {
				n = parse_call(ps, n, gs_cel__pstrndup(ps->prog, ps->prog->src + t.pos, t.len), t.pos);
				continue;
			}
			if (!(sel = node2(ps, GS_CEL_N_SELECT, 0, t.pos, n, NULL)))
				return NULL;
			if (t.type == GS_CEL_T_QIDENT) {
				sel->name = t.str;
				sel->name_len = t.str_len;
			} else {
				sel->name = gs_cel__pstrndup(ps->prog, ps->prog->src + t.pos, t.len);
				sel->name_len = t.len;
			}
			n = sel;
		} else if (t.type == GS_CEL_T_LBRACKET) {
			if (next(ps) < 0 || !(idx = parse_expr(ps)) || expect(ps, GS_CEL_T_RBRACKET, "']'") < 0)
				return NULL;
			n = node2(ps, GS_CEL_N_INDEX, 0, t.pos, n, idx);
		} else if (t.type == GS_CEL_T_LBRACE && is_name_chain(n)) {
			n = parse_message(ps, n);
		} else {
			return n;
		}
	}
	return NULL;
}

static gs_cel_node *parse_unary(parser *ps)
{
	int op = ps->tok.type, count = 0, fold = 0;
	uint32_t pos = ps->tok.pos;
	gs_cel_node *n;
	gs_cel_lexer save;
	gs_cel_token peek;
	if (op != GS_CEL_T_NOT && op != GS_CEL_T_MINUS)
		return parse_member(ps, parse_primary(ps));
	while (ps->tok.type == op) {
		count++;
		if (op == GS_CEL_T_MINUS) {
			/* -<number> is a literal, so -9223372036854775808 is an int */
			save = ps->lx;
			if (gs_cel__lex(&save, &peek, NULL) == 0 && (peek.type == GS_CEL_T_INT || peek.type == GS_CEL_T_DOUBLE)) {
				if (next(ps) < 0)
					return NULL;
				fold = 1;
				break;
			}
		}
		if (next(ps) < 0)
			return NULL;
	}
	if (fold) {
		count--;
		if (ps->tok.type == GS_CEL_T_INT && ps->tok.u > (uint64_t)INT64_MAX + 1) {
			perr(ps, ps->tok.pos, "integer literal out of range");
			return NULL;
		}
		if (!(n = literal(ps, ps->tok.type == GS_CEL_T_INT ? GS_CEL_INT : GS_CEL_DOUBLE)))
			return NULL;
		n->pos = ps->tok.pos - 1;
		if (ps->tok.type == GS_CEL_T_INT)
			n->lit.v.i = (int64_t)(0 - ps->tok.u);
		else
			n->lit.v.d = -ps->tok.d;
		if (next(ps) < 0)
			return NULL;
		n = parse_member(ps, n);
	} else {
		n = parse_member(ps, parse_primary(ps));
	}
	while (n && count-- > 0)
		n = op == GS_CEL_T_NOT ? call_node(ps, "!_", GS_CEL_FN_NOT, pos, n, NULL)
				       : call_node(ps, "-_", GS_CEL_FN_NEG, pos, n, NULL);
	return n;
}

/* ---- binary operators ---- */

static gs_cel_node *parse_mul(parser *ps)
{
	gs_cel_node *l = parse_unary(ps), *r;
	int t, fn;
	uint32_t pos;
	while (l && ((t = ps->tok.type) == GS_CEL_T_STAR || t == GS_CEL_T_SLASH || t == GS_CEL_T_PERCENT)) {
		pos = ps->tok.pos;
		fn = t == GS_CEL_T_STAR ? GS_CEL_FN_MUL : t == GS_CEL_T_SLASH ? GS_CEL_FN_DIV : GS_CEL_FN_MOD;
		if (next(ps) < 0 || !(r = parse_unary(ps)))
			return NULL;
		l = call_node(ps, gs_cel__fn_name(fn), fn, pos, l, r);
	}
	return l;
}

static gs_cel_node *parse_add(parser *ps)
{
	gs_cel_node *l = parse_mul(ps), *r;
	int t, fn;
	uint32_t pos;
	while (l && ((t = ps->tok.type) == GS_CEL_T_PLUS || t == GS_CEL_T_MINUS)) {
		pos = ps->tok.pos;
		fn = t == GS_CEL_T_PLUS ? GS_CEL_FN_ADD : GS_CEL_FN_SUB;
		if (next(ps) < 0 || !(r = parse_mul(ps)))
			return NULL;
		l = call_node(ps, gs_cel__fn_name(fn), fn, pos, l, r);
	}
	return l;
}

static int relop(int t)
{
	switch (t) {
	case GS_CEL_T_EQ: return GS_CEL_FN_EQ;
	case GS_CEL_T_NE: return GS_CEL_FN_NE;
	case GS_CEL_T_LT: return GS_CEL_FN_LT;
	case GS_CEL_T_LE: return GS_CEL_FN_LE;
	case GS_CEL_T_GT: return GS_CEL_FN_GT;
	case GS_CEL_T_GE: return GS_CEL_FN_GE;
	case GS_CEL_T_IN: return GS_CEL_FN_IN;
	default: return 0;
	}
}

static gs_cel_node *parse_rel(parser *ps)
{
	gs_cel_node *l = parse_add(ps), *r;
	int fn;
	uint32_t pos;
	while (l && (fn = relop(ps->tok.type)) != 0) {
		pos = ps->tok.pos;
		if (next(ps) < 0 || !(r = parse_add(ps)))
			return NULL;
		l = call_node(ps, gs_cel__fn_name(fn), fn, pos, l, r);
	}
	return l;
}

static gs_cel_node *parse_and(parser *ps)
{
	gs_cel_node *l = parse_rel(ps), *r;
	uint32_t pos;
	while (l && ps->tok.type == GS_CEL_T_AND) {
		pos = ps->tok.pos;
		if (next(ps) < 0 || !(r = parse_rel(ps)))
			return NULL;
		l = node2(ps, GS_CEL_N_AND, 0, pos, l, r);
	}
	return l;
}

static gs_cel_node *parse_or(parser *ps)
{
	gs_cel_node *l = parse_and(ps), *r;
	uint32_t pos;
	while (l && ps->tok.type == GS_CEL_T_OR) {
		pos = ps->tok.pos;
		if (next(ps) < 0 || !(r = parse_and(ps)))
			return NULL;
		l = node2(ps, GS_CEL_N_OR, 0, pos, l, r);
	}
	return l;
}

static gs_cel_node *parse_expr(parser *ps)
{
	gs_cel_node *c, *t, *f, *n, *kids[3];
	uint32_t pos;
	if (++ps->nest > GS_CEL_MAX_AST_DEPTH) {
		perr(ps, ps->tok.pos, "expression nested too deeply (more than %d levels)", GS_CEL_MAX_AST_DEPTH);
		return NULL;
	}
	c = parse_or(ps);
	if (c && ps->tok.type == GS_CEL_T_QUESTION) {
		pos = ps->tok.pos;
		if (next(ps) < 0 || !(t = parse_or(ps)) || expect(ps, GS_CEL_T_COLON, "':'") < 0 ||
		    !(f = parse_expr(ps)) || !(n = new_node(ps, GS_CEL_N_COND, pos)))
			return NULL;
		kids[0] = c;
		kids[1] = t;
		kids[2] = f;
		c = set_kids(ps, n, kids, 3);
	}
	ps->nest--;
	return c;
}

/* ---- name resolution ---- */

static int32_t slot_for(gs_cel_program *p, const char *name)
{
	size_t i;
	for (i = 0; i < p->nslots; i++)
		if (!strcmp(p->slots[i], name))
			return (int32_t)i;
	p->slots = gs_xrealloc(p->slots, (p->nslots + 1) * sizeof(*p->slots));
	p->slots[p->nslots] = gs_cel__pstrndup(p, name, strlen(name));
	return (int32_t)p->nslots++;
}

/* Slots that may bind `name` in the container, most qualified first. */
static const int32_t *candidates(parser *ps, const char *name, int rooted)
{
	const char *c = rooted || !ps->container ? "" : ps->container;
	size_t clen = strlen(c), n = 0, k;
	int32_t *out = gs_cel__palloc(ps->prog, (clen + 3) * sizeof(*out));
	char *buf;
	for (k = clen; k > 0; k--) {
		if (k != clen && c[k] != '.')
			continue;
		buf = gs_xasprintf("%.*s.%s", (int)k, c, name);
		out[n++] = slot_for(ps->prog, buf);
		free(buf);
	}
	out[n++] = slot_for(ps->prog, name);
	out[n] = -1;
	return out;
}

static int scope_find(const scope *sc, const char *name)
{
	int i;
	for (i = sc->n - 1; i >= 0; i--)
		if (!strcmp(sc->names[i], name))
			return sc->idx[i];
	return -1;
}

/* Turns a select chain rooted at a global identifier into N_QIDENT. */
static void make_qident(parser *ps, gs_cel_node *n)
{
	gs_cel_node *r = n;
	uint32_t count = 1, k;
	size_t len = 0;
	char *name;
	while (r->kind == GS_CEL_N_SELECT) {
		count++;
		r = r->kids[0];
	}
	n->parts = gs_cel__palloc(ps->prog, count * sizeof(char *));
	n->cands = gs_cel__palloc(ps->prog, count * sizeof(int32_t *));
	n->flags |= r->flags & GS_CEL_F_ROOTED;
	for (r = n, k = count; k > 0;) {
		n->parts[--k] = r->name;
		len += r->name_len + 1;
		if (r->kind == GS_CEL_N_SELECT)
			r = r->kids[0];
	}
	name = gs_xmalloc(len + 1);
	name[0] = 0;
	len = 0;
	for (k = 0; k < count; k++) {
		len += (size_t)snprintf(name + len, strlen(n->parts[k]) + 2, "%s%s", k ? "." : "", n->parts[k]);
		n->cands[k] = candidates(ps, name, n->flags & GS_CEL_F_ROOTED);
	}
	/* an unbound type name (int, google.protobuf.Timestamp) is a value */
	n->lit.kind = gs_cel__type_from_name(name, len) ? GS_CEL_TYPE : GS_CEL_UNSET;
	n->lit.v.i = gs_cel__type_from_name(name, len);
	free(name);
	n->nparts = count;
	n->kind = GS_CEL_N_QIDENT;
	n->n = 0;
	n->name = n->parts[count - 1];
}

static int is_global_chain(const scope *sc, const gs_cel_node *n)
{
	while (n->kind == GS_CEL_N_SELECT) {
		n = n->kids[0];
		if (n->flags & GS_CEL_F_PAREN)
			return 0;
	}
	return n->kind == GS_CEL_N_IDENT && scope_find(sc, n->name) < 0;
}

static int compile_regex(parser *ps, gs_cel_node *n)
{
	gs_cel_node *pat;
	char msg[160];
	gs_cel_program *p = ps->prog;
	if (n->n != 2)
		return 0; /* a wrong arity fails at evaluation */
	pat = n->kids[1];
	if (pat->kind != GS_CEL_N_LIT || pat->lit.kind != GS_CEL_STRING)
		return 0;
	n->re = gs_cel__re_compile(pat->lit.v.s.p, pat->lit.v.s.n, msg, sizeof(msg));
	if (!n->re)
		return perr(ps, pat->pos, "%s", msg);
	p->regexes = gs_xrealloc(p->regexes, (p->nregexes + 1) * sizeof(void *));
	p->regexes[p->nregexes++] = n->re;
	return 0;
}

static int resolve(parser *ps, gs_cel_node *n, scope *sc)
{
	uint32_t i;
	int idx, pushed = 0, rc;
	if (n->kind == GS_CEL_N_IDENT || (n->kind == GS_CEL_N_SELECT && is_global_chain(sc, n))) {
		if (n->kind == GS_CEL_N_IDENT && !(n->flags & GS_CEL_F_ROOTED) && (idx = scope_find(sc, n->name)) >= 0) {
			n->kind = GS_CEL_N_LOCAL;
			n->var1 = idx;
			return 0;
		}
		make_qident(ps, n);
		return 0;
	}
	if (n->kind == GS_CEL_N_CALL && n->fn == GS_CEL_FN_MATCHES && (rc = compile_regex(ps, n)) < 0)
		return rc;
	for (i = 0; i < n->n; i++) {
		if (n->kind == GS_CEL_N_COMP && i == 1) {
			/* the range is outside the variables' scope; the rest inside */
			n->var1 = (int32_t)ps->prog->nlocals++;
			sc->names[sc->n] = n->parts[0];
			sc->idx[sc->n++] = n->var1;
			pushed = 1;
			if (n->parts[1]) {
				n->var2 = (int32_t)ps->prog->nlocals++;
				sc->names[sc->n] = n->parts[1];
				sc->idx[sc->n++] = n->var2;
				pushed = 2;
			}
		}
		if ((rc = resolve(ps, n->kids[i], sc)) < 0)
			return rc;
	}
	sc->n -= pushed;
	return 0;
}

int gs_cel__parse(gs_cel_program *p, const gs_cel_options *opts, gs_cel_error *err)
{
	parser ps = {0};
	scope *sc = NULL;
	size_t bad;
	int rc = GS_EINVALID;
	ps.prog = p;
	ps.err = err;
	ps.lx.src = p->src;
	ps.lx.len = p->src_len;
	ps.lx.prog = p;
	ps.container = opts && opts->container && opts->container[0] ? opts->container : NULL;
	if (p->src_len > GS_CEL_MAX_EXPR_BYTES)
		return gs_cel__syntax_error(err, p->src, p->src_len, 0, "expression too long (%zu bytes, limit %d)",
					    p->src_len, GS_CEL_MAX_EXPR_BYTES);
	bad = gs_utf8_first_bad(p->src, p->src_len);
	if (bad != (size_t)-1)
		return gs_cel__syntax_error(err, p->src, p->src_len, bad, "invalid UTF-8");
	if (next(&ps) < 0 || !(p->root = parse_expr(&ps)))
		goto out;
	if (ps.tok.type != GS_CEL_T_EOF) {
		unexpected(&ps);
		goto out;
	}
	sc = gs_xcalloc(1, sizeof(*sc));
	rc = resolve(&ps, p->root, sc);
out:
	free(sc);
	return rc;
}
