/*
 * refs/precheck.h -- the blocking catalog check of pre-receive: the
 * resource files a push changes on its branches, checked structurally
 * (or fully, per repository setting) before any ref moves.
 *
 * Only what the push brings is read: an update diffs old..new; a new
 * branch diffs from its merge base with the draft branch (or another
 * branch sharing history), so a branch cut from main costs what it adds.
 *
 * Ownership: the caller's gs_precheck_result is filled; release it with
 *   gs_precheck_result_release.
 * Threads: one gs_gitrepo per call (libgit2 objects are per thread).
 * Errors: GS_ERROR when the objects cannot be read (the caller refuses:
 *   fail closed).
 */
#ifndef GS_PRECHECK_H
#define GS_PRECHECK_H

#include <jansson.h>

#include "catalog/resource.h"
#include "ingest/policyset.h"
#include "git/gitrepo.h"
#include "store/journal.h"
#include "store/registry.h"
#include "util/buf.h"

typedef struct gs_precheck_result {
	size_t files;     /* resource files checked */
	size_t nerrors;   /* error records in total */
	json_t *errors;   /* [{path, line, field, code, message}] (bounded) */
	int truncated;    /* errors beyond the inline budget were counted only */
	gs_buf lines;     /* `path:line: field: message [code]` lines for remote: */
	gs_buf notes;     /* policy previews for remote: (never refuse) */
} gs_precheck_result;

void gs_precheck_result_init(gs_precheck_result *res);
void gs_precheck_result_release(gs_precheck_result *res);

/* pols (may be NULL): the namespace's policies, evaluated as user with
 * role (request.user) on the valid files the push
 * brings to the draft branch are previewed against them (Warn results
 * and would-be denials go to res->notes: admission proper happens
 * after the push, in the catalog worker). */
int gs_precheck_run(gs_gitrepo *git, const gs_repo_info *repo, const char *draft_branch, gs_catalog_depth depth,
		    const gs_policyset *pols, const char *user, const char *role, const gs_ref_update *u, size_t n,
		    gs_precheck_result *res, gs_error *err);

/* Formats one record as `path:line: field: message [code]`. */
void gs_precheck_format(gs_buf *out, const char *path, const gs_cat_error *e);

#endif
