/*
 * store/resstore.h -- the draft resource store and worker cursors.
 *
 * One row per resource identity (kind, namespace, name). The row keeps
 * the last ADMITTED version (spec, body, labels, annotations, revision)
 * and the latest status; a version that failed validation only updates
 * .status (admissionFailure) and the path/blob it came from, so the last
 * admitted version stays in effect. admitted = 0 marks a resource that
 * has never been admitted: it is not listed to controllers.
 *
 * Ownership: gs_resrow strings are malloc'd; gs_resrow_release frees them.
 * Threads: one gs_db per thread; callers hold the write transaction.
 * Errors: GS_ENOTFOUND, GS_EUNAVAILABLE, GS_ERROR.
 */
#ifndef GS_RESSTORE_H
#define GS_RESSTORE_H

#include <jansson.h>
#include <stdint.h>

#include "store/db.h"

typedef struct gs_resrow {
	char uid[40];
	char repo_uid[37];
	char ns[64];
	char kind[32];
	char name[64];
	char *path;
	int64_t generation;
	int64_t resource_version;
	int admitted;
	char *api_version;
	char *labels;      /* JSON object text */
	char *annotations; /* JSON object text */
	char *spec;        /* JSON object text */
	char *body;        /* byte-exact, may contain NUL bytes */
	size_t body_len;
	char *content_hash; /* hash of the admitted spec+body (generation bumps) */
	char *revision;     /* <branch>@sha1:<commit> of the admitted version */
	char *blob_sha;     /* blob of the latest version seen */
	char *status;       /* JSON object text */
	int64_t created_ms;
	int64_t updated_ms;
} gs_resrow;

void gs_resrow_release(gs_resrow *r);

int gs_resstore_get(gs_db *db, const char *ns, const char *kind, const char *name, gs_resrow *out, gs_error *err);
/* The resource whose current source is repo_uid:path, if any. */
int gs_resstore_get_by_path(gs_db *db, const char *repo_uid, const char *path, gs_resrow *out, gs_error *err);
/* Insert or replace by uid. */
int gs_resstore_put(gs_db *db, const gs_resrow *r, gs_error *err);
int gs_resstore_delete(gs_db *db, const char *uid, gs_error *err);
/* Every resource of a repository (for a branch deletion). */
typedef int (*gs_resstore_cb)(const gs_resrow *r, void *payload);
int gs_resstore_each_in_repo(gs_db *db, const char *repo_uid, gs_resstore_cb cb, void *payload, gs_error *err);
/* List for the read API: ns and kind, optional admitted-only, after the
 * name `after` (pagination by name), at most limit rows. */
int gs_resstore_list(gs_db *db, const char *ns, const char *kind, int admitted_only, const char *after, int limit,
		     gs_resstore_cb cb, void *payload, gs_error *err);

/* Admitted resources of ns and kind whose spec.<ref_field>.name is name
 * (ref_field: a fixed field name such as "productRef"), by name, at most
 * limit. */
int gs_resstore_each_referring(gs_db *db, const char *ns, const char *kind, const char *ref_field, const char *name,
			       int limit, gs_resstore_cb cb, void *payload, gs_error *err);

/* The spec of the ADMITTED resource ns/kind/name as a new JSON object
 * (*out, caller-owned): 1 found, 0 not found or never admitted, <0 error. */
int gs_resstore_admitted_spec(gs_db *db, const char *ns, const char *kind, const char *name, json_t **out,
			      gs_error *err);

/* The admitted ProductVariant of ns other than `except` whose spec.sku is
 * sku (the oldest if several): 1 with owner filled, 0 none. */
int gs_resstore_sku_owner(gs_db *db, const char *ns, const char *sku, const char *except, char owner[64],
			  gs_error *err);

/* Named cursors (last processed logseq), 0 when never set (the relay's;
 * the built-in workers are durable consumers, events/consumer.h). */
int gs_cursor_get(gs_db *db, const char *name, int64_t *out, gs_error *err);
int gs_cursor_set(gs_db *db, const char *name, int64_t logseq, gs_error *err);

#endif
