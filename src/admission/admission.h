/*
 * admission/admission.h -- the one admission function every write goes
 * through (pure: other resources are seen only through a gs_adm_view).
 *
 * Chain: schema verdict (from catalog/resource.h) -> built-in
 * cross-object checks -> ValidatingAdmissionPolicies (policy.h; only
 * for a version without schema errors) -> decision.
 * Built-in checks, reported as conditions on the resource:
 *   ProductVariant: SKU unique per namespace (a clash DENIES, 409),
 *       ProductResolved (spec.productRef), OptionsAccepted
 *       (spec.selectedOptions against the product's spec.options);
 *   CategoryTaxonomy: ParentResolved (spec.parentRef), Acyclic;
 *   Product: CategoryResolved (spec.categoryRef);
 *   Collection: TargetResolved (spec.targetRef, when set).
 * Unresolved references and incompatible options are False conditions,
 * not denials (the upstream model); a failing lookup denies (fail
 * closed, 500 CheckFailed), never allows.
 *
 * Ownership: requests borrow their JSON; gs_adm_response is embedded by
 *   the caller (init/release).
 * Threads: no state; the view's callbacks run on the caller's thread.
 * Errors: the decision is the result; the function itself cannot fail.
 */
#ifndef GS_ADMISSION_H
#define GS_ADMISSION_H

#include <jansson.h>

#include "admission/policy.h"
#include "catalog/caterr.h"

typedef enum { GS_ADM_CREATE = 1, GS_ADM_UPDATE, GS_ADM_DELETE } gs_adm_op;

typedef struct gs_adm_object {
	const char *kind;
	const char *ns;
	const char *name;
	const json_t *spec;   /* object; may be NULL */
	const json_t *labels; /* object; may be NULL */
} gs_adm_object;

typedef struct gs_adm_view {
	/* kind/name in the namespace as it will be after this write:
	 * 1 found (*out valid until the next call), 0 not found, <0 error. */
	int (*lookup)(void *payload, const char *kind, const char *name, gs_adm_object *out);
	/* The ProductVariant other than `name` that holds sku and wins it
	 * (deterministic: the existing holder, else the name sorting first):
	 * 1 with owner filled, 0 none, <0 error. */
	int (*sku_owner)(void *payload, const char *sku, const char *name, char owner[64]);
	void *payload;
	/* The namespace's admitted ValidatingAdmissionPolicies, run after
	 * the built-in checks (may be empty). */
	gs_adm_policy *const *policies;
	size_t npolicies;
} gs_adm_view;

typedef struct gs_adm_request {
	char uid[40];
	gs_adm_op operation;
	gs_adm_object object;     /* CREATE/UPDATE: the new version */
	gs_adm_object old_object; /* UPDATE/DELETE: the stored version (fields may be NULL) */
	const char *user;         /* userInfo.name */
	const char *const *roles; /* userInfo.roles: the caller's role on the namespace */
	size_t nroles;
	const char *origin;       /* "git" or "api" */
	int dry_run;
	const gs_cat_errors *schema_errors; /* non-empty: denied (422) */
} gs_adm_request;

#define GS_ADM_MAX_CONDITIONS 8

typedef struct gs_adm_condition {
	char type[32];
	int status; /* 1 True, 0 False */
	char reason[48];
	char message[256];
} gs_adm_condition;

typedef struct gs_adm_response {
	int allowed;
	int code;           /* 200, 409, 422 or 500 */
	char reason[48];    /* "" when allowed */
	char message[256];
	gs_cat_errors errors;
	gs_adm_condition conds[GS_ADM_MAX_CONDITIONS];
	int nconds;
	json_t *warnings;  /* ["policy: message", ...] (Warn actions) */
	json_t *policies;  /* [{name, action, result, message}] of the policies that applied */
	char policy[64];   /* the policy that denied ("" none) */
} gs_adm_response;

void gs_adm_response_init(gs_adm_response *r);
void gs_adm_response_release(gs_adm_response *r);
void gs_admission_review(const gs_adm_request *req, const gs_adm_view *view, gs_adm_response *out);
/* AdmissionReview-shaped JSON: {uid, allowed, status{code, reason,
 * message}, errors, warnings, policies, conditions}. */
json_t *gs_adm_response_json(const gs_adm_response *r, const char *uid);

#endif
