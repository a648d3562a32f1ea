/*
 * ingest/policyset.h -- the ValidatingAdmissionPolicies in effect for a
 * namespace: its admitted policy resources (stored by the catalog worker
 * from policies/ on the main branch of <ns>/gitstore-system), compiled.
 *
 * Read from the resource store at each use, so a policy takes effect for
 * every admission after the ref event that stored it, without a restart.
 * Ownership: gs_policyset_load fills a set the caller releases with
 *   gs_policyset_release.
 * Threads: one set per caller; the compiled policies are immutable.
 * Errors: GS_EUNAVAILABLE / GS_ERROR from the store. A stored policy
 *   that does not compile (it could not have been admitted) is skipped
 *   with a log line; past GS_MAX_POLICIES the rest are skipped too.
 */
#ifndef GS_POLICYSET_H
#define GS_POLICYSET_H

#include "admission/policy.h"
#include "store/db.h"

typedef struct gs_policyset {
	gs_adm_policy **v;
	size_t n;
} gs_policyset;

int gs_policyset_load(gs_db *db, const char *ns, gs_policyset *out, gs_error *err);
void gs_policyset_release(gs_policyset *s);

#endif
