/*
 * admission/policy.c -- ValidatingAdmissionPolicy compile and evaluate
 * (see policy.h). Pure: CEL programs only.
 * SPDX-License-Identifier: MIT
 */
#include "admission/policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cel/cel.h"
#include "limits.h"
#include "util/alloc.h"

typedef struct pol_validation {
	gs_cel_program *expr;
	gs_cel_program *message_expr; /* may be NULL */
	char *expr_text;
	char *message;                /* may be NULL */
	char reason[32];
} pol_validation;

struct gs_adm_policy {
	char name[64];
	int ignore_failures;  /* failurePolicy: Ignore */
	unsigned kinds;       /* bit per kind (POL_KINDS) */
	unsigned ops;         /* bit per operation; all when unset */
	int deny, warn, audit;
	char actions[32];     /* "Deny", "Warn,Audit", ... (formatted once) */
	gs_cel_program **conds;
	size_t nconds;
	pol_validation *vals;
	size_t nvals;
};

static const char *const POL_KINDS[] = {"Product", "ProductVariant", "CategoryTaxonomy", "Collection"};
static const char *const POL_OPS[] = {"CREATE", "UPDATE", "DELETE"};
static const char *const POL_VARS[] = {"object", "oldObject", "request"};

static unsigned pol_bit(const char *const *list, size_t n, const char *s)
{
	for (size_t i = 0; s && i < n; i++)
		if (strcmp(list[i], s) == 0)
			return 1u << i;
	return 0;
}

void gs_adm_policy_free(gs_adm_policy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nconds; i++)
		gs_cel_program_free(p->conds[i]);
	for (size_t i = 0; i < p->nvals; i++) {
		gs_cel_program_free(p->vals[i].expr);
		gs_cel_program_free(p->vals[i].message_expr);
		free(p->vals[i].expr_text);
		free(p->vals[i].message);
	}
	free(p->conds);
	free(p->vals);
	free(p);
}

const char *gs_adm_policy_name(const gs_adm_policy *p) { return p->name; }

static int pol_compile_one(const char *name, const char *what, const char *text, gs_cel_program **out, gs_error *err)
{
	gs_cel_error cerr;
	memset(&cerr, 0, sizeof(cerr));
	if (!text)
		return gs_error_set(err, GS_EINVALID, "admission", "policy %s: %s is missing", name, what);
	if (gs_cel_compile(text, strlen(text), out, &cerr) < 0)
		return gs_error_set(err, GS_EINVALID, "admission", "policy %s: %s: %d:%d: %s", name, what, cerr.line,
				    cerr.column, cerr.message);
	return 0;
}

static int pol_match(gs_adm_policy *p, const json_t *spec, gs_error *err)
{
	const json_t *mc = json_object_get(spec, "matchConstraints"), *v;
	size_t i;
	json_array_foreach(json_object_get(mc, "kinds"), i, v) p->kinds |=
		pol_bit(POL_KINDS, sizeof(POL_KINDS) / sizeof(POL_KINDS[0]), json_string_value(v));
	json_array_foreach(json_object_get(mc, "operations"), i, v) p->ops |=
		pol_bit(POL_OPS, sizeof(POL_OPS) / sizeof(POL_OPS[0]), json_string_value(v));
	if (!p->ops)
		p->ops = 7u;
	if (!p->kinds)
		return gs_error_set(err, GS_EINVALID, "admission", "policy %s: matchConstraints.kinds is empty", p->name);
	json_array_foreach(json_object_get(spec, "validationActions"), i, v) {
		const char *a = json_string_value(v);
		p->deny |= a && strcmp(a, "Deny") == 0;
		p->warn |= a && strcmp(a, "Warn") == 0;
		p->audit |= a && strcmp(a, "Audit") == 0;
	}
	if (!p->deny && !p->warn && !p->audit)
		return gs_error_set(err, GS_EINVALID, "admission", "policy %s: validationActions is empty", p->name);
	snprintf(p->actions, sizeof(p->actions), "%s%s%s%s%s", p->deny ? "Deny" : "",
		 p->deny && (p->warn || p->audit) ? "," : "", p->warn ? "Warn" : "", p->warn && p->audit ? "," : "",
		 p->audit ? "Audit" : "");
	return 0;
}

int gs_adm_policy_compile(const char *name, const json_t *spec, gs_adm_policy **out, gs_error *err)
{
	gs_adm_policy *p = gs_xcalloc(1, sizeof(*p));
	const json_t *conds = json_object_get(spec, "matchConditions"), *vals = json_object_get(spec, "validations");
	const char *fp = json_string_value(json_object_get(spec, "failurePolicy"));
	int error;

	*out = NULL;
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->ignore_failures = fp && strcmp(fp, "Ignore") == 0;
	if ((error = pol_match(p, spec, err)) < 0)
		goto fail;
	if (json_array_size(conds) + json_array_size(vals) > GS_MAX_POLICY_EXPRESSIONS) {
		error = gs_error_set(err, GS_ELIMIT, "admission", "policy %s: more than %d expressions", name,
				     GS_MAX_POLICY_EXPRESSIONS);
		goto fail;
	}
	if (json_array_size(vals) == 0) {
		error = gs_error_set(err, GS_EINVALID, "admission", "policy %s: no validations", name);
		goto fail;
	}
	p->conds = gs_xcalloc(json_array_size(conds) + 1, sizeof(*p->conds));
	for (; p->nconds < json_array_size(conds); p->nconds++) {
		const char *t = json_string_value(json_object_get(json_array_get(conds, p->nconds), "expression"));
		if ((error = pol_compile_one(name, "matchConditions", t, &p->conds[p->nconds], err)) < 0)
			goto fail;
	}
	p->vals = gs_xcalloc(json_array_size(vals) + 1, sizeof(*p->vals));
	for (; p->nvals < json_array_size(vals); p->nvals++) {
		const json_t *v = json_array_get(vals, p->nvals);
		pol_validation *pv = &p->vals[p->nvals];
		const char *t = json_string_value(json_object_get(v, "expression"));
		const char *m = json_string_value(json_object_get(v, "message"));
		const char *me = json_string_value(json_object_get(v, "messageExpression"));
		const char *reason = json_string_value(json_object_get(v, "reason"));
		if ((error = pol_compile_one(name, "validations", t, &pv->expr, err)) < 0 ||
		    (me && *me && (error = pol_compile_one(name, "messageExpression", me, &pv->message_expr, err)) < 0))
			goto fail;
		pv->expr_text = gs_xstrdup(t);
		pv->message = m && *m ? gs_xstrdup(m) : NULL;
		snprintf(pv->reason, sizeof(pv->reason), "%s", reason && *reason ? reason : "Invalid");
	}
	*out = p;
	return 0;
fail:
	gs_adm_policy_free(p);
	return error;
}

static int pol_code(const char *reason)
{
	if (strcmp(reason, "Forbidden") == 0)
		return 403;
	if (strcmp(reason, "Unauthorized") == 0)
		return 401;
	if (strcmp(reason, "RequestEntityTooLarge") == 0)
		return 413;
	return 422;
}

/* The failure message of validation v: messageExpression (when it gives
 * a string), else message, else the expression. */
static void pol_message(const pol_validation *v, json_t *const *vars, char *out, size_t n)
{
	if (v->message_expr) {
		json_t *res = NULL;
		gs_cel_error cerr;
		memset(&cerr, 0, sizeof(cerr));
		if (gs_cel_eval_json(v->message_expr, POL_VARS, vars, 3, &res, &cerr) == 0 && json_is_string(res) &&
		    json_string_length(res) > 0) {
			snprintf(out, n, "%s", json_string_value(res));
			json_decref(res);
			return;
		}
		json_decref(res);
	}
	if (v->message)
		snprintf(out, n, "%s", v->message);
	else
		snprintf(out, n, "failed expression: %s", v->expr_text);
}

/* An evaluation error: with Ignore it is only recorded. 1 when it fails
 * the policy. */
static int pol_error(const gs_adm_policy *p, const char *what, const gs_cel_error *cerr, gs_adm_policy_result *r)
{
	r->errored = 1;
	if (!r->message[0])
		snprintf(r->message, sizeof(r->message), "%.80s: evaluation error: %.140s", what, cerr->message);
	return !p->ignore_failures;
}

void gs_adm_policy_eval(const gs_adm_policy *p, const char *kind, const char *operation, json_t *object,
			json_t *old_object, json_t *request, gs_adm_policy_result *r)
{
	json_t *vars[3] = {object, old_object ? old_object : json_null(), request};
	memset(r, 0, sizeof(*r));
	if (!(p->kinds & pol_bit(POL_KINDS, sizeof(POL_KINDS) / sizeof(POL_KINDS[0]), kind)) ||
	    !(p->ops & pol_bit(POL_OPS, sizeof(POL_OPS) / sizeof(POL_OPS[0]), operation)))
		return;
	for (size_t i = 0; i < p->nconds; i++) {
		gs_cel_error cerr;
		bool ok = false;
		memset(&cerr, 0, sizeof(cerr));
		if (gs_cel_eval_bool(p->conds[i], POL_VARS, vars, 3, &ok, &cerr) < 0) {
			/* a condition that cannot be decided: failurePolicy decides */
			if (!pol_error(p, "matchConditions", &cerr, r))
				return (void)(r->matched = 1);
			r->failed = 1;
			break;
		}
		if (!ok)
			return; /* does not apply */
	}
	r->matched = 1;
	memcpy(r->actions, p->actions, sizeof(r->actions));
	for (size_t i = 0; i < p->nvals && !r->failed; i++) {
		const pol_validation *v = &p->vals[i];
		gs_cel_error cerr;
		bool ok = false;
		memset(&cerr, 0, sizeof(cerr));
		if (gs_cel_eval_bool(v->expr, POL_VARS, vars, 3, &ok, &cerr) < 0) {
			if (pol_error(p, v->expr_text, &cerr, r)) {
				r->failed = 1;
				snprintf(r->reason, sizeof(r->reason), "%s", v->reason);
			}
			continue;
		}
		if (!ok) {
			r->failed = 1;
			snprintf(r->reason, sizeof(r->reason), "%s", v->reason);
			pol_message(v, vars, r->message, sizeof(r->message));
		}
	}
	if (r->failed) {
		r->deny = p->deny;
		r->warn = p->warn;
		r->code = pol_code(r->reason[0] ? r->reason : "Invalid");
		if (!r->reason[0])
			snprintf(r->reason, sizeof(r->reason), "Invalid");
	}
}
