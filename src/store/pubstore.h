/*
 * store/pubstore.h -- the published (storefront) view and the releases
 * behind it.
 *
 *   published          one row per resource identity in the published
 *                      view: uid, generation and the release it came
 *                      from; its content is that release's snapshot row
 *                      (joined on read, never copied);
 *   unpublished        identities that left the view, and since when (the
 *                      draft's Published=False condition);
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
	int64_t since_ms;    /* published: continuously published since */
} gs_pubrow;

void gs_pubrow_release(gs_pubrow *r);
typedef int (*gs_pubstore_cb)(const gs_pubrow *r, void *payload);

/* ---- the published view ---- */
/* With content (from the release snapshot). */
int gs_pubstore_get(gs_db *db, const char *ns, const char *kind, const char *name, gs_pubrow *out, gs_error *err);
/* Writes r's identity: ns, kind, name, uid, repo_uid, api_version,
 * content_hash, generation, release_ref, release_commit, published_ms,
 * since_ms. The content is the snapshot row (repo_uid, release_commit,
 * kind, name), which must exist; r's content fields are not read. */
int gs_pubstore_put(gs_db *db, const gs_pubrow *r, gs_error *err);
int gs_pubstore_delete(gs_db *db, const char *ns, const char *kind, const char *name, gs_error *err);
/* The rows of repo_uid's view that did not come from release (ref,
 * commit) (ref NULL: all of them), by kind and name; identities only:
 * the content fields are empty strings. */
int gs_pubstore_each_other(gs_db *db, const char *repo_uid, const char *ref, const char *commit, gs_pubstore_cb cb,
			   void *payload, gs_error *err);
/* ns and kind, by name after `after`, at most limit rows. */
int gs_pubstore_list(gs_db *db, const char *ns, const char *kind, const char *after, int limit, gs_pubstore_cb cb,
		     void *payload, gs_error *err);

/* The publication state of ns/kind/name, shown in its draft's .status. */
typedef enum gs_pubstate_kind {
	GS_PUB_NEVER = 0,     /* never published (or published before history) */
	GS_PUB_PUBLISHED = 1, /* in the published view */
	GS_PUB_WITHDRAWN = 2  /* was published, left the view */
} gs_pubstate_kind;

typedef struct gs_pubstate {
	gs_pubstate_kind state;
	int64_t generation;    /* published: publishedGeneration */
	char release_ref[1025];
	char release_commit[41];
	int64_t since_ms;      /* when the state began */
} gs_pubstate;

int gs_pubstore_state(gs_db *db, const char *ns, const char *kind, const char *name, gs_pubstate *out, gs_error *err);
/* Records that ns/kind/name left the view at since_ms. */
int gs_pubstore_withdrawn_put(gs_db *db, const char *repo_uid, const char *ns, const char *kind, const char *name,
			      int64_t since_ms, gs_error *err);
/* Forgets the withdrawals of repo_uid's resources that are published again. */
int gs_pubstore_withdrawn_prune(gs_db *db, const char *repo_uid, gs_error *err);

/* ---- release snapshots ---- */
int gs_pubstore_snapshot_put(gs_db *db, const char *commit, const gs_pubrow *r, gs_error *err);
/* One resource of a release snapshot with what a swap to it needs: the
 * snapshot row's identity (ns, kind, name, repo_uid, path, api_version,
 * content_hash; release_commit = the commit; content fields empty), the
 * draft of the same identity and its row in the view as it is. */
typedef struct gs_snapjoin {
	gs_pubrow snap;
	int has_draft;
	char draft_uid[40];
	int64_t draft_generation;
	int draft_admitted;
	const char *draft_hash;
	int has_pub;
	char pub_uid[40];
	int64_t pub_generation;
	const char *pub_hash;
	int64_t pub_since_ms;
} gs_snapjoin;
typedef int (*gs_snapjoin_cb)(const gs_snapjoin *j, void *payload);
/* Every resource of the snapshot of commit, by kind and name, in one
 * query; stops at cb's non-zero. */
int gs_pubstore_snapshot_join(gs_db *db, const char *repo_uid, const char *commit, gs_snapjoin_cb cb, void *payload,
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
/* The release a repository's published view shows (logseq: of its ref
 * event, as in the releases list): GS_ENOTFOUND if none. */
int gs_release_current_get(gs_db *db, const char *repo_uid, gs_release *out, gs_error *err);
/* Sets it (r NULL: none). */
int gs_release_current_set(gs_db *db, const char *repo_uid, const gs_release *r, gs_error *err);

#endif
