/*
 * util/labelsel.c -- label selector parser and matcher.
 * SPDX-License-Identifier: MIT
 */
#include "util/labelsel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"

enum { SEL_EQ = 1, SEL_NE, SEL_EXISTS, SEL_NOT_EXISTS, SEL_IN, SEL_NOTIN };

typedef struct sel_req {
	int op;
	char *key;
	char *values[GS_LABELSEL_MAX_VALUES];
	int nvalues;
} sel_req;

struct gs_labelsel {
	sel_req reqs[GS_LABELSEL_MAX];
	int n;
};

static int is_tok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
	       c == '-' || c == '/';
}

static void skip_ws(const char **p)
{
	while (**p == ' ' || **p == '\t')
		(*p)++;
}

static char *read_tok(const char **p)
{
	const char *s = *p;
	while (is_tok(**p))
		(*p)++;
	if (*p == s || *p - s > 253)
		return NULL;
	return gs_xstrndup(s, (size_t)(*p - s));
}

static int sel_error(gs_error *err, const char *text, const char *p, const char *what)
{
	return gs_error_set(err, GS_EINVALID, "labelSelector", "invalid labelSelector at offset %ld: %s",
			    (long)(p - text), what);
}

static int parse_set(sel_req *r, const char **p, const char *text, gs_error *err)
{
	skip_ws(p);
	if (**p != '(')
		return sel_error(err, text, *p, "expected '(' after in/notin");
	(*p)++;
	for (;;) {
		char *v;
		skip_ws(p);
		if (r->nvalues >= GS_LABELSEL_MAX_VALUES)
			return sel_error(err, text, *p, "too many values");
		if (!(v = read_tok(p)))
			return sel_error(err, text, *p, "expected a value");
		r->values[r->nvalues++] = v;
		skip_ws(p);
		if (**p == ',') {
			(*p)++;
			continue;
		}
		if (**p == ')') {
			(*p)++;
			return 0;
		}
		return sel_error(err, text, *p, "expected ',' or ')'");
	}
}

static int parse_req(sel_req *r, const char **p, const char *text, gs_error *err)
{
	skip_ws(p);
	if (**p == '!') {
		(*p)++;
		skip_ws(p);
		r->op = SEL_NOT_EXISTS;
		if (!(r->key = read_tok(p)))
			return sel_error(err, text, *p, "expected a key after '!'");
		return 0;
	}
	if (!(r->key = read_tok(p)))
		return sel_error(err, text, *p, "expected a key");
	skip_ws(p);
	if (**p == '=' || (**p == '!' && (*p)[1] == '=')) {
		r->op = **p == '!' ? SEL_NE : SEL_EQ;
		*p += (**p == '!' || (*p)[1] == '=') ? 2 : 1;
		skip_ws(p);
		if (!(r->values[0] = read_tok(p)))
			return sel_error(err, text, *p, "expected a value");
		r->nvalues = 1;
		return 0;
	}
	if (strncmp(*p, "in", 2) == 0 && !is_tok((*p)[2])) {
		r->op = SEL_IN;
		*p += 2;
		return parse_set(r, p, text, err);
	}
	if (strncmp(*p, "notin", 5) == 0 && !is_tok((*p)[5])) {
		r->op = SEL_NOTIN;
		*p += 5;
		return parse_set(r, p, text, err);
	}
	r->op = SEL_EXISTS;
	return 0;
}

int gs_labelsel_parse(gs_labelsel **out, const char *text, gs_error *err)
{
	gs_labelsel *sel = gs_xcalloc(1, sizeof(*sel));
	const char *p = text;
	int error = 0;
	*out = NULL;
	while (!error) {
		if (sel->n >= GS_LABELSEL_MAX) {
			error = sel_error(err, text, p, "too many requirements");
			break;
		}
		if ((error = parse_req(&sel->reqs[sel->n++], &p, text, err)) < 0)
			break;
		skip_ws(&p);
		if (*p == 0)
			break;
		if (*p != ',') {
			error = sel_error(err, text, p, "expected ','");
			break;
		}
		p++;
	}
	if (error) {
		gs_labelsel_free(sel);
		return error;
	}
	*out = sel;
	return 0;
}

void gs_labelsel_free(gs_labelsel *sel)
{
	if (!sel)
		return;
	for (int i = 0; i < sel->n; i++) {
		free(sel->reqs[i].key);
		for (int k = 0; k < sel->reqs[i].nvalues; k++)
			free(sel->reqs[i].values[k]);
	}
	free(sel);
}

static int in_values(const sel_req *r, const char *v)
{
	for (int k = 0; k < r->nvalues; k++)
		if (strcmp(r->values[k], v) == 0)
			return 1;
	return 0;
}

int gs_labelsel_match(const gs_labelsel *sel, const json_t *labels)
{
	for (int i = 0; sel && i < sel->n; i++) {
		const sel_req *r = &sel->reqs[i];
		const char *v = json_string_value(json_object_get(labels, r->key));
		switch (r->op) {
		case SEL_EQ:
			if (!v || strcmp(v, r->values[0]) != 0)
				return 0;
			break;
		case SEL_NE:
			if (v && strcmp(v, r->values[0]) == 0)
				return 0;
			break;
		case SEL_EXISTS:
			if (!v)
				return 0;
			break;
		case SEL_NOT_EXISTS:
			if (v)
				return 0;
			break;
		case SEL_IN:
			if (!v || !in_values(r, v))
				return 0;
			break;
		case SEL_NOTIN:
			if (v && in_values(r, v))
				return 0;
			break;
		}
	}
	return 1;
}
