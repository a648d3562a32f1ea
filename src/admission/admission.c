/*
 * admission/admission.c -- schema verdict + built-in cross-object checks.
 * Pure: every other resource comes from the caller's gs_adm_view.
 * SPDX-License-Identifier: MIT
 */
#include "admission/admission.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "catalog/resource.h"

/* parent chain walked for cycle detection */
#define ADM_MAX_DEPTH 64

void gs_adm_response_init(gs_adm_response *r)
{
	memset(r, 0, sizeof(*r));
	gs_cat_errors_init(&r->errors);
	r->allowed = 1;
	r->code = 200;
	r->warnings = json_array();
	r->policies = json_array();
}

void gs_adm_response_release(gs_adm_response *r)
{
	gs_cat_errors_release(&r->errors);
	json_decref(r->warnings);
	json_decref(r->policies);
	r->warnings = r->policies = NULL;
}

static void adm_cond(gs_adm_response *r, const char *type, int status, const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void adm_cond(gs_adm_response *r, const char *type, int status, const char *reason, const char *fmt, ...)
{
	gs_adm_condition *c;
	va_list ap;
	if (r->nconds >= GS_ADM_MAX_CONDITIONS)
		return;
	c = &r->conds[r->nconds++];
	snprintf(c->type, sizeof(c->type), "%s", type);
	c->status = status;
	snprintf(c->reason, sizeof(c->reason), "%s", reason);
	va_start(ap, fmt);
	vsnprintf(c->message, sizeof(c->message), fmt, ap);
	va_end(ap);
}

static void adm_deny(gs_adm_response *r, int code, const char *reason, const char *msg)
{
	if (!r->allowed)
		return; /* the first denial explains the decision */
	r->allowed = 0;
	r->code = code;
	snprintf(r->reason, sizeof(r->reason), "%s", reason);
	snprintf(r->message, sizeof(r->message), "%s", msg);
}

static const char *ref_name(const json_t *spec, const char *field)
{
	return json_string_value(json_object_get(json_object_get(spec, field), "name"));
}

/* A lookup error: the check cannot decide, so the write is denied. */
static void adm_check_failed(gs_adm_response *r, const char *type, const char *what)
{
	char msg[200];
	snprintf(msg, sizeof(msg), "%s: lookup of %s failed", type, what);
	adm_cond(r, type, 0, "CheckFailed", "%s", msg);
	adm_deny(r, 500, "CheckFailed", msg);
}

/* Resolves spec.<field>.name to a kind; sets condition type. Returns 1
 * when found (*obj filled), 0 when unresolved or unset, -1 on error. */
static int adm_resolve(const gs_adm_view *v, gs_adm_response *r, const json_t *spec, const char *field,
		       const char *kind, const char *type, const char *missing_reason, gs_adm_object *obj)
{
	const char *name = ref_name(spec, field);
	int found;
	if (!name) {
		adm_cond(r, type, 1, "NoReference", "spec.%s is not set", field);
		return 0;
	}
	found = v->lookup(v->payload, kind, name, obj);
	if (found < 0) {
		adm_check_failed(r, type, name);
		return -1;
	}
	if (found)
		adm_cond(r, type, 1, "Resolved", "%s %s found", kind, name);
	else
		adm_cond(r, type, 0, missing_reason, "%s %s does not exist in the namespace", kind, name);
	return found;
}

static const json_t *product_option(const json_t *pspec, const char *name)
{
	size_t i;
	json_t *o;
	json_array_foreach(json_object_get(pspec, "options"), i, o) {
		const char *n = json_string_value(json_object_get(o, "name"));
		if (n && strcmp(n, name) == 0)
			return o;
	}
	return NULL;
}

static int option_has_value(const json_t *opt, const char *value)
{
	const json_t *values = json_object_get(opt, "values");
	size_t i;
	json_t *v;
	if (json_array_size(values) == 0)
		return 1; /* no values listed: any value is acceptable */
	json_array_foreach(values, i, v) {
		if (json_string_value(v) && strcmp(json_string_value(v), value) == 0)
			return 1;
	}
	return 0;
}

static void adm_variant(const gs_adm_request *q, const gs_adm_view *v, gs_adm_response *r)
{
	const json_t *spec = q->object.spec;
	const char *sku = json_string_value(json_object_get(spec, "sku"));
	gs_adm_object product;
	int found;
	size_t i;
	json_t *sel;

	if (sku) {
		char owner[64] = "";
		int taken = v->sku_owner(v->payload, sku, q->object.name, owner);
		if (taken < 0) {
			adm_check_failed(r, "SkuUnique", sku);
		} else if (taken) {
			char msg[256];
			snprintf(msg, sizeof(msg), "sku \"%.64s\" is already used by ProductVariant %s/%s", sku, q->object.ns, owner);
			gs_cat_errors_add(&r->errors, 0, "spec.sku", "duplicate_sku", "%s", msg);
			adm_deny(r, 409, "DuplicateSku", msg);
		}
	}
	found = adm_resolve(v, r, spec, "productRef", "Product", "ProductResolved", "ProductNotFound", &product);
	if (found < 0)
		return;
	if (!found) {
		adm_cond(r, "OptionsAccepted", 1, "NotChecked", "the parent product is not resolved");
		return;
	}
	json_array_foreach(json_object_get(spec, "selectedOptions"), i, sel) {
		const char *n = json_string_value(json_object_get(sel, "name"));
		const char *val = json_string_value(json_object_get(sel, "value"));
		const json_t *opt;
		if (!n || !val)
			continue;
		opt = product_option(product.spec, n);
		if (!opt) {
			adm_cond(r, "OptionsAccepted", 0, "IncompatibleOptions",
				 "selectedOptions: name \"%.64s\" not found in parent product options", n);
			return;
		}
		if (!option_has_value(opt, val)) {
			adm_cond(r, "OptionsAccepted", 0, "IncompatibleOptions",
				 "selectedOptions: value \"%.64s\" for option \"%.64s\" not found in parent product option values",
				 val, n);
			return;
		}
	}
	adm_cond(r, "OptionsAccepted", 1, "Compatible", "selected options match the parent product");
}

static void adm_category(const gs_adm_request *q, const gs_adm_view *v, gs_adm_response *r)
{
	gs_adm_object parent;
	const char *next;
	char seen[ADM_MAX_DEPTH][64];
	int depth = 0, found;

	found = adm_resolve(v, r, q->object.spec, "parentRef", "CategoryTaxonomy", "ParentResolved", "ParentNotFound",
			    &parent);
	if (found < 0)
		return;
	/* walk up the (proposed) chain: returning to ourselves is a cycle */
	next = found ? ref_name(parent.spec, "parentRef") : NULL;
	snprintf(seen[depth++], 64, "%s", found ? parent.name : "");
	while (next && depth < ADM_MAX_DEPTH) {
		gs_adm_object up;
		int k;
		if (strcmp(next, q->object.name) == 0) {
			adm_cond(r, "Acyclic", 0, "CycleDetected", "the parent chain of %s returns to itself", q->object.name);
			return;
		}
		for (k = 0; k < depth; k++)
			if (strcmp(seen[k], next) == 0)
				break;
		if (k < depth)
			break; /* a cycle above us, not through us */
		found = v->lookup(v->payload, "CategoryTaxonomy", next, &up);
		if (found < 0) {
			adm_check_failed(r, "Acyclic", next);
			return;
		}
		if (!found)
			break;
		snprintf(seen[depth++], 64, "%s", next);
		next = ref_name(up.spec, "parentRef");
	}
	if (depth >= ADM_MAX_DEPTH)
		adm_cond(r, "Acyclic", 0, "TooDeep", "the parent chain is deeper than %d", ADM_MAX_DEPTH);
	else
		adm_cond(r, "Acyclic", 1, "NoCycle", "the parent chain ends at a root");
}

/* The resource as policies see it (Kubernetes-shaped). */
static json_t *adm_object_json(const gs_adm_object *o)
{
	if (!o->kind)
		return json_null();
	return json_pack("{s:s, s:s, s:{s:s, s:s, s:o}, s:o}", "apiVersion", GS_CATALOG_API_VERSION, "kind", o->kind,
			 "metadata", "name", o->name ? o->name : "", "namespace", o->ns ? o->ns : "", "labels",
			 o->labels ? json_incref((json_t *)o->labels) : json_object(), "spec",
			 o->spec ? json_incref((json_t *)o->spec) : json_object());
}

static const char *const ADM_OPS[] = {"", "CREATE", "UPDATE", "DELETE"};

static json_t *adm_request_json(const gs_adm_request *q)
{
	json_t *roles = json_array();
	for (size_t i = 0; i < q->nroles; i++)
		json_array_append_new(roles, json_string(q->roles[i]));
	return json_pack("{s:s, s:{s:s, s:o}, s:s, s:b}", "operation", ADM_OPS[q->operation], "user", "name",
			 q->user ? q->user : "", "roles", roles, "origin", q->origin ? q->origin : "git", "dryRun",
			 q->dry_run);
}

static void adm_policy_record(gs_adm_response *r, const gs_adm_policy *p, const gs_adm_policy_result *pr)
{
	const char *result = pr->failed ? "fail" : pr->errored ? "error" : "pass";
	json_array_append_new(r->policies, json_pack("{s:s, s:s, s:s, s:s}", "name", gs_adm_policy_name(p), "action",
						     pr->actions, "result", result, "message", pr->message));
	if (pr->warn)
		json_array_append_new(r->warnings, json_pack("s++", gs_adm_policy_name(p), ": ", pr->message));
	if (pr->deny) {
		size_t before = r->errors.n;
		gs_cat_errors_add(&r->errors, 0, "", "policy_denied", "%s", pr->message);
		if (r->errors.n > before)
			snprintf(r->errors.v[before].policy, sizeof(r->errors.v[before].policy), "%s",
				 gs_adm_policy_name(p));
		if (r->allowed)
			snprintf(r->policy, sizeof(r->policy), "%s", gs_adm_policy_name(p));
		adm_deny(r, pr->code, pr->reason, pr->message);
	}
}

/* 3. every policy of the namespace, in the order given */
static void adm_policies(const gs_adm_request *q, const gs_adm_view *v, gs_adm_response *r)
{
	const gs_adm_object *cur = q->operation == GS_ADM_DELETE ? &q->old_object : &q->object;
	json_t *object, *old, *request;
	if (!v->npolicies || !cur->kind)
		return;
	object = q->operation == GS_ADM_DELETE ? json_null() : adm_object_json(&q->object);
	old = q->operation == GS_ADM_CREATE ? json_null() : adm_object_json(&q->old_object);
	request = adm_request_json(q);
	for (size_t i = 0; i < v->npolicies; i++) {
		gs_adm_policy_result pr;
		gs_adm_policy_eval(v->policies[i], cur->kind, ADM_OPS[q->operation], object, old, request, &pr);
		if (pr.matched)
			adm_policy_record(r, v->policies[i], &pr);
	}
	json_decref(object);
	json_decref(old);
	json_decref(request);
}

void gs_admission_review(const gs_adm_request *q, const gs_adm_view *v, gs_adm_response *r)
{
	gs_adm_object ignore;
	/* 1. schema verdict */
	if (q->schema_errors && gs_cat_errors_count(q->schema_errors)) {
		for (size_t i = 0; i < q->schema_errors->n; i++) {
			const gs_cat_error *e = &q->schema_errors->v[i];
			gs_cat_errors_add(&r->errors, e->line, e->field, e->code, "%s", e->message);
		}
		adm_deny(r, 422, "SchemaValidationFailed",
			 q->schema_errors->n ? q->schema_errors->v[0].message : "schema validation failed");
	}
	if (q->operation == GS_ADM_DELETE) {
		adm_policies(q, v, r);
		return;
	}
	if (!q->object.kind)
		return;
	/* 2. built-in cross-object checks */
	if (strcmp(q->object.kind, "ProductVariant") == 0)
		adm_variant(q, v, r);
	else if (strcmp(q->object.kind, "CategoryTaxonomy") == 0)
		adm_category(q, v, r);
	else if (strcmp(q->object.kind, "Product") == 0)
		adm_resolve(v, r, q->object.spec, "categoryRef", "CategoryTaxonomy", "CategoryResolved", "CategoryNotFound",
			    &ignore);
	else if (strcmp(q->object.kind, "Collection") == 0 && json_object_get(q->object.spec, "targetRef"))
		adm_resolve(v, r, q->object.spec, "targetRef", "Product", "TargetResolved", "TargetNotFound", &ignore);
	/* 3. policies see only versions that passed the schema */
	if (!(q->schema_errors && gs_cat_errors_count(q->schema_errors)))
		adm_policies(q, v, r);
}

json_t *gs_adm_response_json(const gs_adm_response *r, const char *uid)
{
	json_t *errors = json_array(), *conds = json_array(), *out;
	for (size_t i = 0; i < r->errors.n; i++) {
		json_t *e = json_pack("{s:s, s:s, s:s, s:i}", "field", r->errors.v[i].field, "code", r->errors.v[i].code,
				      "message", r->errors.v[i].message, "line", (int)r->errors.v[i].line);
		if (r->errors.v[i].policy[0])
			json_object_set_new(e, "policy", json_string(r->errors.v[i].policy));
		json_array_append_new(errors, e);
	}
	for (int i = 0; i < r->nconds; i++)
		json_array_append_new(conds, json_pack("{s:s, s:s, s:s, s:s}", "type", r->conds[i].type, "status",
						       r->conds[i].status ? "True" : "False", "reason", r->conds[i].reason,
						       "message", r->conds[i].message));
	out = json_pack("{s:s, s:b, s:{s:i, s:s, s:s}, s:o, s:o, s:o, s:o}", "uid", uid ? uid : "", "allowed",
			r->allowed, "status", "code", r->code, "reason", r->reason, "message", r->message, "errors", errors,
			"warnings", r->warnings ? json_incref(r->warnings) : json_array(), "policies",
			r->policies ? json_incref(r->policies) : json_array(), "conditions", conds);
	return out;
}
