/*
 * refs/refpolicy.c -- ref authorisation rules.
 * SPDX-License-Identifier: MIT
 */
#include "refs/refpolicy.h"

#include <stdio.h>
#include <string.h>

#include "limits.h"
#include "util/str.h"

int gs_refpolicy_is_release(const gs_refpolicy *p, const char *ref)
{
	const char *list = p->release_refs ? p->release_refs : GS_DEFAULT_RELEASE_REFS;
	char pat[GS_MAX_REF_NAME + 1];
	if (p->publish_branch && p->publish_branch[0] && strcmp(ref, p->publish_branch) == 0)
		return 1;
	while (*list) {
		const char *comma = strchr(list, ',');
		size_t n = comma ? (size_t)(comma - list) : strlen(list);
		if (n > 0 && n <= GS_MAX_REF_NAME) {
			memcpy(pat, list, n);
			pat[n] = 0;
			if (gs_str_glob_match(pat, ref))
				return 1;
		}
		list += n;
		if (*list == ',')
			list++;
	}
	return 0;
}

static const char *draft_of(const gs_refpolicy *p)
{
	return p->draft_branch ? p->draft_branch : GS_DEFAULT_DRAFT_BRANCH;
}

int gs_refpolicy_needs_ancestry(const gs_refpolicy *p, const char *ref, const char *old_sha, const char *new_sha)
{
	return strcmp(ref, draft_of(p)) == 0 && !gs_str_is_zero_oid(old_sha) && !gs_str_is_zero_oid(new_sha);
}

static int refuse(gs_ref_decision *out, const char *code, const char *fmt, const char *ref, gs_role role)
{
	out->allowed = 0;
	out->code = code;
	snprintf(out->message, sizeof(out->message), fmt, ref, gs_role_name(role));
	return 0;
}

static int refpolicy_check(const gs_refpolicy *p, gs_role role, const char *ref, const char *old_sha,
			   const char *new_sha, int is_ff, gs_ref_decision *out)
{
	int is_branch = gs_str_has_prefix(ref, "refs/heads/"), is_tag = gs_str_has_prefix(ref, "refs/tags/");
	int deleting = gs_str_is_zero_oid(new_sha), creating = gs_str_is_zero_oid(old_sha);

	memset(out, 0, sizeof(*out));
	out->allowed = 1;
	if (!is_branch && !is_tag)
		return refuse(out, "ref_namespace_forbidden",
			      "%s: only branches (refs/heads/) and tags (refs/tags/) may be pushed (role %s)", ref, role);
	if (role < GS_ROLE_WRITER)
		return refuse(out, "writer_role_required", "%s: pushing needs the writer role (you have %s)", ref, role);
	if (p->system_repo && role < GS_ROLE_ADMIN)
		return refuse(out, "system_repository_admin_only",
			      "%s: only admins may push to the gitstore-system repository (you have %s)", ref, role);
	if ((is_tag || is_branch) && gs_refpolicy_is_release(p, ref) && role < GS_ROLE_PUBLISHER)
		return refuse(out, "release_ref_requires_publisher",
			      "%s: creating, moving or deleting a release ref needs the publisher role (you have %s)",
			      ref, role);
	if (is_branch && strcmp(ref, draft_of(p)) == 0 && role < GS_ROLE_ADMIN) {
		if (deleting)
			return refuse(out, "protected_branch_delete",
				      "%s: deleting the protected draft branch needs the admin role (you have %s)", ref, role);
		if (!creating && !is_ff)
			return refuse(out, "protected_branch_force_push",
				      "%s: force-pushing the protected draft branch needs the admin role (you have %s)",
				      ref, role);
	}
	return 0;
}

void gs_refpolicy_check(const gs_refpolicy *p, gs_role role, const char *ref, const char *old_sha,
			const char *new_sha, int is_ff, gs_ref_decision *out)
{
	refpolicy_check(p, role, ref, old_sha, new_sha, is_ff, out);
}
