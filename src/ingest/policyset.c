/*
 * ingest/policyset.c -- load and compile a namespace's policies (see
 * policyset.h).
 * SPDX-License-Identifier: MIT
 */
#include "ingest/policyset.h"

#include <stdlib.h>
#include <string.h>

#include "limits.h"
#include "log/log.h"
#include "store/resstore.h"
#include "util/alloc.h"

static int policyset_row(const gs_resrow *row, void *payload)
{
	gs_policyset *s = payload;
	gs_error err = GS_ERROR_INIT;
	json_t *spec = json_loads(row->spec, 0, NULL);
	gs_adm_policy *p = NULL;
	if (!spec || gs_adm_policy_compile(row->name, spec, &p, &err) < 0)
		GS_LOG(GS_LOG_WARN, "policy", "policy %s/%s skipped: %s", row->ns, row->name,
		       spec ? err.msg : "stored spec unreadable");
	else
		s->v[s->n++] = p;
	json_decref(spec);
	return 0;
}

int gs_policyset_load(gs_db *db, const char *ns, gs_policyset *out, gs_error *err)
{
	int error;
	memset(out, 0, sizeof(*out));
	out->v = gs_xcalloc(GS_MAX_POLICIES + 1, sizeof(*out->v));
	error = gs_resstore_list(db, ns, "ValidatingAdmissionPolicy", 1, "", GS_MAX_POLICIES, policyset_row, out, err);
	if (error < 0)
		gs_policyset_release(out);
	return error < 0 ? error : 0;
}

void gs_policyset_release(gs_policyset *s)
{
	for (size_t i = 0; i < s->n; i++)
		gs_adm_policy_free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}
