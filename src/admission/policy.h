/*
 * admission/policy.h -- ValidatingAdmissionPolicy: compiled from a stored
 * policy spec, evaluated by the admission function after the built-in
 * checks (pure: CEL only, no I/O).
 *
 * A policy applies to a request when its matchConstraints (kinds, and
 * operations, default all) match and every matchCondition is true. Each
 * validation that is false (or errors, with failurePolicy Fail) fails the
 * policy; its validationActions say what a failure does: Deny denies the
 * write (status code from the validation's reason: Invalid 422, Forbidden
 * 403, Unauthorized 401, RequestEntityTooLarge 413), Warn adds a warning,
 * Audit only records. An evaluation error with failurePolicy Ignore is
 * recorded (result "error") and has no effect.
 * CEL variables: object, oldObject (null on CREATE), request {operation,
 * user {name, roles}, origin, dryRun}.
 *
 * Ownership: gs_adm_policy_compile gives a policy freed by
 *   gs_adm_policy_free; it is immutable afterwards.
 * Threads: a compiled policy may be evaluated from any number of threads.
 * Errors: GS_EINVALID (spec malformed or an expression does not compile;
 *   err says which), GS_ELIMIT (too many expressions).
 */
#ifndef GS_POLICY_H
#define GS_POLICY_H

#include <jansson.h>

#include "util/error.h"

typedef struct gs_adm_policy gs_adm_policy;

int gs_adm_policy_compile(const char *name, const json_t *spec, gs_adm_policy **out, gs_error *err);
void gs_adm_policy_free(gs_adm_policy *p);
const char *gs_adm_policy_name(const gs_adm_policy *p);

/* What one policy decided for one request. */
typedef struct gs_adm_policy_result {
	int matched;       /* 0: the policy does not apply (nothing else set) */
	int failed;        /* a validation failed (or errored under Fail) */
	int errored;       /* an evaluation error occurred */
	int deny, warn;    /* its actions, when failed */
	int code;          /* HTTP-style code for a denial */
	char reason[32];   /* validation reason ("Invalid", ...) */
	char message[256]; /* the first failure's message ("" when passed) */
	char actions[32];  /* "Deny", "Warn,Audit", ... */
} gs_adm_policy_result;

/* Evaluates p; kind and operation ("CREATE"...) select it, vars are the
 * CEL variables object, oldObject, request (borrowed). */
void gs_adm_policy_eval(const gs_adm_policy *p, const char *kind, const char *operation, json_t *object,
			json_t *old_object, json_t *request, gs_adm_policy_result *out);

#endif
