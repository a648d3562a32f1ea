/*
 * ingest/internal.h -- shared between the files of ingest/ only.
 */
#ifndef GS_INGEST_INTERNAL_H
#define GS_INGEST_INTERNAL_H

#include <jansson.h>

#include "catalog/resource.h"
#include "ingest/ingest.h"
#include "store/registry.h"

/* Hash of an admitted version's spec and body (what generation counts). */
char *gs_ingest__content_hash(const gs_resource *res);

/* A release ref event, as the release admission needs it. */
typedef struct gs_ingest_relev {
	const char *id;          /* the ref event's id (causation) */
	const char *correlation;
	const char *ref;
	const char *commit;      /* the peeled commit to admit */
	const char *ref_sha;     /* the ref's new value (tag object or commit) */
	const char *push_id;     /* may be NULL */
	json_t *actor;           /* may be NULL */
	const char *role;        /* the pusher's role ("" unknown) */
	const gs_repo_info *repo;
} gs_ingest_relev;

/* Admits every resource of a release commit, all-or-nothing, and commits
 * release-created (with the snapshot) or release-rejected together with
 * the worker's cursor at logseq. */
int gs_ingest__release(const gs_ingest_ctx *ctx, gs_db *db, int64_t logseq, const gs_ingest_relev *rev,
		       gs_error *err);

#endif
