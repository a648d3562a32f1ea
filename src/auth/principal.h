/*
 * auth/principal.h -- who is calling and what they may do (pure).
 *
 * Roles per namespace, ordered reader < writer < publisher < admin; a
 * role on namespace "*" applies to every namespace (DESIGN 8).
 * Ownership: gs_principal is a plain value; copy freely.
 * Threads: no shared state. Errors: gs_role_parse returns GS_EINVALID.
 */
#ifndef GS_PRINCIPAL_H
#define GS_PRINCIPAL_H

#include "limits.h"
#include "util/error.h"

typedef enum { GS_ROLE_NONE = 0, GS_ROLE_READER, GS_ROLE_WRITER, GS_ROLE_PUBLISHER, GS_ROLE_ADMIN } gs_role;

typedef struct gs_grant {
	gs_role role;
	char ns[GS_MAX_NAME + 1]; /* a DNS label or "*" */
} gs_grant;

typedef struct gs_principal {
	char user[GS_MAX_NAME + 1];
	int ngrants;
	gs_grant grants[GS_MAX_TOKEN_ROLES];
} gs_principal;

const char *gs_role_name(gs_role r);
/* Parses "ROLE:NS" (NS a DNS label or "*"). */
int gs_grant_parse(gs_grant *out, const char *s, gs_error *err);
/* Highest role the principal holds on ns. */
gs_role gs_principal_role(const gs_principal *p, const char *ns);
int gs_principal_can(const gs_principal *p, const char *ns, gs_role need);
/* True if the principal has any role on "*" at or above need. */
int gs_principal_is_global(const gs_principal *p, gs_role need);

#endif
