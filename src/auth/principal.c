/*
 * auth/principal.c -- role checks.
 * SPDX-License-Identifier: MIT
 */
#include "auth/principal.h"

#include <string.h>

#include "util/str.h"

static const char *const ROLE_NAMES[] = {"none", "reader", "writer", "publisher", "admin"};

const char *gs_role_name(gs_role r)
{
	return (r >= GS_ROLE_NONE && r <= GS_ROLE_ADMIN) ? ROLE_NAMES[r] : "none";
}

int gs_grant_parse(gs_grant *out, const char *s, gs_error *err)
{
	const char *colon = strchr(s, ':');
	size_t rl;
	if (!colon)
		return gs_error_set(err, GS_EINVALID, "auth", "role must be ROLE:NAMESPACE, got '%.64s'", s);
	rl = (size_t)(colon - s);
	out->role = GS_ROLE_NONE;
	for (int r = GS_ROLE_READER; r <= GS_ROLE_ADMIN; r++)
		if (strlen(ROLE_NAMES[r]) == rl && strncmp(s, ROLE_NAMES[r], rl) == 0)
			out->role = (gs_role)r;
	if (out->role == GS_ROLE_NONE)
		return gs_error_set(err, GS_EINVALID, "auth",
				    "unknown role '%.*s' (reader, writer, publisher, admin)", (int)(rl > 32 ? 32 : rl), s);
	if (strcmp(colon + 1, "*") != 0 && !gs_str_is_dns_label(colon + 1))
		return gs_error_set(err, GS_EINVALID, "auth", "invalid namespace '%.64s' in role", colon + 1);
	memcpy(out->ns, colon + 1, strlen(colon + 1) + 1);
	return 0;
}

gs_role gs_principal_role(const gs_principal *p, const char *ns)
{
	gs_role best = GS_ROLE_NONE;
	if (!p)
		return best;
	for (int i = 0; i < p->ngrants; i++) {
		const gs_grant *g = &p->grants[i];
		if ((strcmp(g->ns, "*") == 0 || strcmp(g->ns, ns) == 0) && g->role > best)
			best = g->role;
	}
	return best;
}

int gs_principal_can(const gs_principal *p, const char *ns, gs_role need)
{
	return gs_principal_role(p, ns) >= need;
}

int gs_principal_is_global(const gs_principal *p, gs_role need)
{
	for (int i = 0; p && i < p->ngrants; i++)
		if (strcmp(p->grants[i].ns, "*") == 0 && p->grants[i].role >= need)
			return 1;
	return 0;
}
