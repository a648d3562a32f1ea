/*
 * refs/reposettings.c -- repository settings table.
 * SPDX-License-Identifier: MIT
 */
#include "refs/reposettings.h"

#include <stdio.h>
#include <string.h>

#include "refs/refpolicy.h"
#include "store/registry.h"
#include "util/str.h"

void gs_reposettings_defaults(gs_repo_settings *s)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->draft_branch, sizeof(s->draft_branch), "%s", GS_DEFAULT_DRAFT_BRANCH);
	snprintf(s->release_refs, sizeof(s->release_refs), "%s", GS_DEFAULT_RELEASE_REFS);
}

/* refs/tags/... or refs/heads/... globs, comma-separated, no blanks. */
static int valid_release_refs(const char *v)
{
	const char *p = v;
	if (!*v || strlen(v) >= 512)
		return 0;
	while (*p) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		if (n <= 10 || (strncmp(p, "refs/tags/", 10) != 0 && strncmp(p, "refs/heads/", 11) != 0))
			return 0;
		for (size_t i = 0; i < n; i++)
			if (p[i] <= ' ' || p[i] == '~' || p[i] == '^' || p[i] == ':' || p[i] == '\\')
				return 0;
		p += n;
		if (*p == ',' && !*++p)
			return 0;
	}
	return 1;
}

static int valid_branch(const char *v)
{
	size_t n = strlen(v);
	if (!gs_str_has_prefix(v, "refs/heads/") || n <= 11 || n > GS_MAX_REF_NAME)
		return 0;
	for (const char *p = v; *p; p++)
		if (*p <= ' ' || *p == '~' || *p == '^' || *p == ':' || *p == '?' || *p == '*' || *p == '[' || *p == '\\')
			return 0;
	return strstr(v, "..") == NULL && v[n - 1] != '/' && v[n - 1] != '.';
}

int gs_reposettings_apply(gs_repo_settings *s, const char *key, const char *value, gs_error *err)
{
	if (strcmp(key, "draft-branch") == 0) {
		if (!valid_branch(value))
			return gs_error_set(err, GS_EINVALID, "settings",
					    "draft-branch must be a branch ref such as refs/heads/main, got '%.80s'", value);
		snprintf(s->draft_branch, sizeof(s->draft_branch), "%s", value);
		return 0;
	}
	if (strcmp(key, "schema-validation") == 0) {
		if (strcmp(value, "pre-receive") != 0 && strcmp(value, "post-receive") != 0)
			return gs_error_set(err, GS_EINVALID, "settings",
					    "schema-validation must be pre-receive or post-receive, got '%.80s'", value);
		s->schema_pre_receive = strcmp(value, "pre-receive") == 0;
		return 0;
	}
	if (strcmp(key, "release-refs") == 0) {
		if (!valid_release_refs(value))
			return gs_error_set(err, GS_EINVALID, "settings",
					    "release-refs must be comma-separated refs/tags/... or refs/heads/... globs, got '%.80s'",
					    value);
		snprintf(s->release_refs, sizeof(s->release_refs), "%s", value);
		return 0;
	}
	if (strcmp(key, "publish-branch") == 0) {
		if (*value && !valid_branch(value))
			return gs_error_set(err, GS_EINVALID, "settings",
					    "publish-branch must be a branch ref such as refs/heads/live (or empty), got '%.80s'",
					    value);
		snprintf(s->publish_branch, sizeof(s->publish_branch), "%s", value);
		return 0;
	}
	return gs_error_set(err, GS_EINVALID, "settings",
			    "unknown setting '%.64s' (draft-branch, schema-validation, release-refs, publish-branch)", key);
}

static int settings_cb(const char *key, const char *value, void *payload)
{
	gs_error ignore = GS_ERROR_INIT;
	/* stored values were validated on the way in; a key from a newer
	 * version is ignored rather than failing every push */
	gs_reposettings_apply(payload, key, value, &ignore);
	return 0;
}

int gs_reposettings_load(gs_db *db, const char *repo_uid, gs_repo_settings *out, gs_error *err)
{
	gs_reposettings_defaults(out);
	return gs_registry_setting_each(db, repo_uid, settings_cb, out, err);
}
