/*
 * store/pubstore.h -- the published (storefront) view and the releases
 * behind it.
 *
 *   published          one row per resource identity in the published
 *                      view: the content of the current release of the
 *                      repository that holds it;
 *   release_resources  the admitted resources of a release commit (a
 *                      snapshot taken at release admission, so applying or
 *                      rolling back never re-reads Git);
 *   releases           every release ref event's outcome (passed/rejected);
 *   release_current    per repository, the release the view shows.
 *
 * Ownership: gs_pubrow strings are malloc'd; gs_pubrow_release frees them.
 * Threads: one gs_db per thread; callers hold the write transaction.
 * Errors: GS_ENOTFOUND, GS_EUNAVAILABLE, GS_ERROR.
 */
#ifndef GS_PUBSTORE_H
#define GS_PUBSTORE_H

#include <stdint.h>

#include "store/db.h"

typedef struct gs_pubrow {
	char ns[64];
	char kind[32];
	char name[64];
	char uid[40];        /* published: the resource's uid */
	char repo_uid[37];
	char *path;
	char *api_version;
	char *labels;        /* JSON object text */
	char *annotations;   /* JSON object text */
	char *spec;          /* JSON object text */
	char *body;          /* byte-exact */
	size_t body_len;
	char *content_hash;
	int64_t generation;  /* published: publishedGeneration */
	char *release_ref;   /* published: the release it came from */
	char release_commit[41];
	int64_t published_ms;
} gs_pubrow;

void gs_pubrow_release(gs_pubrow *r);
typedef int (*gs_pubstore_cb)(const gs_pubrow *r, void *payload);

/* ---- the published view ---- */
int gs_pubstore_get(gs_db *db, const char *ns, const char *kind, const char *name, gs_pubrow *out, gs_error *err);
int gs_pubstore_put(gs_db *db, const gs_pubrow *r, gs_error *err);
int gs_pubstore_delete(gs_db *db, const char *ns, const char *kind, const char *name, gs_error *err);
int gs_pubstore_each_in_repo(gs_db *db, const char *repo_uid, gs_pubstore_cb cb, void *payload, gs_error *err);
/* ns and kind, by name after `after`, at most limit rows. */
int gs_pubstore_list(gs_db *db, const char *ns, const char *kind, const char *after, int limit, gs_pubstore_cb cb,
		     void *payload, gs_error *err);

/* ---- release snapshots ---- */
int gs_pubstore_snapshot_put(gs_db *db, const char *commit, const gs_pubrow *r, gs_error *err);
int gs_pubstore_snapshot_each(gs_db *db, const char *repo_uid, const char *commit, gs_pubstore_cb cb, void *payload,
			      gs_error *err);

/* ---- releases ---- */
typedef struct gs_release {
	char repo_uid[37];
	char ref[1025];
	char commit[41];
	char ref_sha[41];   /* the ref's value (tag object or commit) */
	char state[16];     /* "passed" or "rejected" */
	char event_id[33];  /* release-created / release-rejected */
	int64_t logseq;     /* of the ref event that caused it */
	int64_t resources;
} gs_release;

int gs_release_put(gs_db *db, const gs_release *r, gs_error *err);
/* The passed releases of a repository, newest (by logseq) first. */
typedef int (*gs_release_cb)(const gs_release *r, void *payload);
int gs_release_each_passed(gs_db *db, const char *repo_uid, gs_release_cb cb, void *payload, gs_error *err);
/* The release a repository's published view shows: GS_ENOTFOUND if none. */
int gs_release_current_get(gs_db *db, const char *repo_uid, gs_release *out, gs_error *err);
/* Sets it (r NULL: none). */
int gs_release_current_set(gs_db *db, const char *repo_uid, const gs_release *r, gs_error *err);

#endif
