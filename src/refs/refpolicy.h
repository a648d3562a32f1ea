/*
 * refs/refpolicy.h -- who may move which ref (pure; DESIGN 8).
 *
 * writer: push branches and ordinary tags; publisher: also create, move
 * or delete release refs; admin: also force-push or delete the protected
 * draft branch, and push to the namespace's gitstore-system repository.
 * Only branches (refs/heads/) and tags (refs/tags/) are accepted.
 *
 * Ownership: plain values. Threads: no state. Errors: none (a decision).
 */
#ifndef GS_REFPOLICY_H
#define GS_REFPOLICY_H

#include "auth/principal.h"

#define GS_SYSTEM_REPO "gitstore-system"
#define GS_DEFAULT_DRAFT_BRANCH "refs/heads/main"
#define GS_DEFAULT_RELEASE_REFS "refs/tags/release/*,refs/tags/v*"

typedef struct gs_refpolicy {
	const char *draft_branch;  /* protected branch */
	const char *release_refs;  /* comma-separated globs */
	int system_repo;           /* repository is <ns>/gitstore-system */
	const char *publish_branch; /* a branch whose every update is a release ("" / NULL: none) */
} gs_refpolicy;

typedef struct gs_ref_decision {
	int allowed;
	const char *code;  /* stable snake_case rule name when refused */
	char message[384];
} gs_ref_decision;

/* is_ff: for an update of an existing branch, whether new contains old
 * (ignored otherwise). role: the pusher's role on the namespace. */
void gs_refpolicy_check(const gs_refpolicy *p, gs_role role, const char *ref, const char *old_sha,
			const char *new_sha, int is_ff, gs_ref_decision *out);
/* ref matches a release pattern, or is the publish branch. */
int gs_refpolicy_is_release(const gs_refpolicy *p, const char *ref);
/* True when deciding needs the ancestry check (protected-branch update). */
int gs_refpolicy_needs_ancestry(const gs_refpolicy *p, const char *ref, const char *old_sha, const char *new_sha);

#endif
