/*
 * refs/reposettings.h -- per-repository settings: the one table of keys,
 * their defaults and validation, and loading them from the registry.
 *
 *   draft-branch       protected branch holding draft state (refs/heads/main)
 *   schema-validation  where full schema validation runs: post-receive
 *                      (default, as the seed asks) or pre-receive
 *
 * Ownership: gs_repo_settings is a plain value.
 * Threads: no state.
 * Errors: GS_EINVALID (unknown key or bad value, with the allowed values).
 */
#ifndef GS_REPOSETTINGS_H
#define GS_REPOSETTINGS_H

#include "limits.h"
#include "store/db.h"

typedef struct gs_repo_settings {
	char draft_branch[GS_MAX_REF_NAME + 1];
	int schema_pre_receive; /* schema-validation=pre-receive */
	char release_refs[512];  /* comma-separated globs */
	char publish_branch[GS_MAX_REF_NAME + 1]; /* "" when none */
} gs_repo_settings;

void gs_reposettings_defaults(gs_repo_settings *s);
/* Checks key=value and applies it to s. */
int gs_reposettings_apply(gs_repo_settings *s, const char *key, const char *value, gs_error *err);
int gs_reposettings_load(gs_db *db, const char *repo_uid, gs_repo_settings *out, gs_error *err);

#endif
