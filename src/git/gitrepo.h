/*
 * git/gitrepo.h -- the libgit2 side: create, open and inspect repositories.
 *
 * The only module (with the rest of git/) that includes git2.h.
 * Ownership: gs_gitrepo_open gives a handle released by gs_gitrepo_close.
 * Threads: libgit2 objects are not shared between threads; open a handle
 *   per thread. gs_gitrepo_global_init must run once before any thread.
 * Errors: GS_ENOTFOUND (ref or object missing), GS_EEXISTS, GS_ERROR with
 *   libgit2's message copied at the point of failure.
 */
#ifndef GS_GITREPO_H
#define GS_GITREPO_H

#include <stdint.h>

#include "util/error.h"

typedef struct gs_gitrepo gs_gitrepo;

void gs_gitrepo_global_init(void);
void gs_gitrepo_global_shutdown(void);

/* DIR/repos/<uid>.git, malloc'd. */
char *gs_gitrepo_path(const char *data_dir, const char *uid);
/* Creates a bare repository with HEAD -> refs/heads/main. */
int gs_gitrepo_create(const char *path, gs_error *err);
/* Removes the lock files a git or libgit2 process that was killed in the
 * middle of a ref update leaves behind (HEAD.lock, packed-refs.lock and
 * every *.lock under refs/): as long as one exists, git refuses every
 * update of that ref (of every deletion, for packed-refs.lock). Only for
 * start-up, when no git process of the daemon can still be running.
 * Calls cb (may be NULL) with each removed file's path. */
typedef void (*gs_gitrepo_removed_cb)(const char *path, void *payload);
int gs_gitrepo_remove_stale_locks(const char *path, gs_gitrepo_removed_cb cb, void *payload, gs_error *err);
/* Removes the quarantine directories (objects/tmp_objdir-incoming-*) of
 * pushes a crash interrupted: the objects of a push that never finished,
 * which git deletes itself when receive-pack exits. Same rule: start-up
 * only. Calls cb with each removed directory's path. */
int gs_gitrepo_remove_stale_quarantines(const char *path, gs_gitrepo_removed_cb cb, void *payload, gs_error *err);
/* Opens path; if quarantine is not NULL its objects are visible too (the
 * push being checked in pre-receive). */
int gs_gitrepo_open(gs_gitrepo **out, const char *path, const char *quarantine, gs_error *err);
void gs_gitrepo_close(gs_gitrepo *r);

/* Direct (non-symbolic) value of a ref; GS_ENOTFOUND if absent. */
int gs_gitrepo_ref_read(gs_gitrepo *r, const char *ref, char sha[41], gs_error *err);

typedef int (*gs_gitrepo_ref_cb)(const char *ref, const char *sha, void *payload);
/* Every direct ref under refs/heads/ and refs/tags/ whose name is valid
 * UTF-8, sorted by name. */
int gs_gitrepo_refs_each(gs_gitrepo *r, gs_gitrepo_ref_cb cb, void *payload, gs_error *err);

typedef struct gs_update_info {
	int forced;            /* branch: new does not contain old */
	int64_t commits;       /* commits new to the ref */
	int commits_truncated; /* counting stopped at GS_MAX_COMMIT_COUNT */
	int annotated;         /* tag: new object is an annotated tag */
	char target_sha[41];   /* tag: peeled commit (zeros if none) */
} gs_update_info;

/* Describes old -> new for a branch (is_tag = 0) or tag. Missing objects
 * are tolerated: the update then counts as forced with 0 commits. The
 * other branches a new branch is counted against are read once per
 * handle (on its first new branch): open a new handle to see later ref
 * changes. */
int gs_gitrepo_describe(gs_gitrepo *r, const char *ref, const char *old_sha, const char *new_sha, int is_tag,
			gs_update_info *out, gs_error *err);
/* 1 if ancestor is reachable from descendant (or equal), 0 if not. */
int gs_gitrepo_contains(gs_gitrepo *r, const char *descendant, const char *ancestor, gs_error *err);

/* One changed regular file between two trees (symlinks, submodules and
 * other non-blob entries are never reported). */
typedef struct gs_tree_change {
	const char *path;     /* borrowed for the callback; any bytes git allows */
	int path_utf8;        /* path is valid UTF-8 (catalog files need it) */
	char old_blob[41];    /* zeros when added */
	char new_blob[41];    /* zeros when deleted */
} gs_tree_change;

typedef int (*gs_tree_change_cb)(const gs_tree_change *c, void *payload);

/* Changed files between the trees of two commits (old_commit zero: the
 * empty tree), in path order. A non-zero return from cb stops the walk. */
int gs_gitrepo_diff(gs_gitrepo *r, const char *old_commit, const char *new_commit, gs_tree_change_cb cb,
		    void *payload, gs_error *err);
/* Reads a blob. GS_ELIMIT when it is larger than max (*len is then its
 * size and *out NULL); *out is malloc'd (free()) and NUL-terminated. */
int gs_gitrepo_blob_read(gs_gitrepo *r, const char *blob_sha, size_t max, char **out, size_t *len, gs_error *err);
/* The first n bytes of a blob without loading it (for blobs too large to
 * read whole: libgit2 cannot stream packed objects, so this runs
 * `git cat-file`). *got < n when the blob is shorter. */
int gs_gitrepo_blob_prefix(gs_gitrepo *r, const char *blob_sha, char *buf, size_t n, size_t *got, gs_error *err);

/* Builds a commit on top of parent_sha (zeros: a root commit) in which
 * path holds content (content NULL: path removed), without moving any
 * ref (the caller moves it through the ref journal). Author and committer
 * are name <email> at the current time. GS_ENOTFOUND when removing a
 * path the parent does not have. */
int gs_gitrepo_commit_file(gs_gitrepo *r, const char *parent_sha, const char *path, const char *content, size_t len,
			   const char *name, const char *email, const char *message, char out_sha[41], gs_error *err);
/* The blob at path in commit_sha's tree (regular files only):
 * GS_ENOTFOUND when absent (or not a file). */
int gs_gitrepo_path_blob(gs_gitrepo *r, const char *commit_sha, const char *path, char out[41], gs_error *err);
/* The blob id content would get (git hash-object), without writing. */
int gs_gitrepo_blob_hash(const char *content, size_t len, char out[41], gs_error *err);
/* Moves ref from expect_sha (zeros: must not exist) to new_sha (zeros:
 * delete) only if it still has expect_sha. GS_ECONFLICT when it moved. */
int gs_gitrepo_ref_cas(gs_gitrepo *r, const char *ref, const char *expect_sha, const char *new_sha, const char *log_message,
		       gs_error *err);

/* For a new ref: the merge base of new_sha with the first branch (other
 * than ref; prefer_ref first if it exists) that shares history, so only
 * what the push brings is diffed. Zeros when nothing is shared. */
int gs_gitrepo_base_for_new_ref(gs_gitrepo *r, const char *new_sha, const char *ref, const char *prefer_ref,
				char out[41], gs_error *err);

#endif
