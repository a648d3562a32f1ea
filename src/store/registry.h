/*
 * store/registry.h -- namespaces, repositories, tokens and settings.
 *
 * Ownership: output structs are caller storage; lists are malloc'd arrays
 *   the caller frees with free().
 * Threads: one gs_db per thread.
 * Errors: GS_EEXISTS (name taken), GS_ENOTFOUND, GS_EINVALID (bad name),
 *   GS_EUNAVAILABLE (database busy).
 */
#ifndef GS_REGISTRY_H
#define GS_REGISTRY_H

#include <stdint.h>

#include "auth/principal.h"
#include "store/db.h"

typedef struct gs_repo_info {
	char uid[37];
	char ns[GS_MAX_NAME + 1];
	char name[GS_MAX_NAME + 1];
} gs_repo_info;

int gs_registry_ns_insert(gs_db *db, const char *name, gs_error *err);
int gs_registry_ns_exists(gs_db *db, const char *name, gs_error *err); /* 1, 0 or <0 */
/* Inserts the row only; the caller creates the git repository. */
int gs_registry_repo_insert(gs_db *db, const gs_repo_info *repo, gs_error *err);
int gs_registry_repo_lookup(gs_db *db, const char *ns, const char *name, gs_repo_info *out, gs_error *err);
int gs_registry_repo_by_uid(gs_db *db, const char *uid, gs_repo_info *out, gs_error *err);
int gs_registry_repo_list(gs_db *db, gs_repo_info **out, size_t *n, gs_error *err);

/* Per-repository settings (key/value text; validated by the caller). */
int gs_registry_setting_set(gs_db *db, const char *repo_uid, const char *key, const char *value, gs_error *err);
typedef int (*gs_registry_setting_cb)(const char *key, const char *value, void *payload);
int gs_registry_setting_each(gs_db *db, const char *repo_uid, gs_registry_setting_cb cb, void *payload, gs_error *err);

/* Stores sha256(token) with the grants. */
int gs_registry_token_insert(gs_db *db, const char *user, const char *token_hash, const gs_grant *grants,
			     int ngrants, gs_error *err);
/* GS_EAUTH if no token has this hash. */
int gs_registry_token_lookup(gs_db *db, const char *token_hash, gs_principal *out, gs_error *err);

#endif
