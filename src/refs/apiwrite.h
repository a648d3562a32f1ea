/*
 * refs/apiwrite.h -- API writes: PUT/DELETE of one resource file, made a
 * commit on the repository's draft branch and sent down the push path.
 *
 * Sequence (under the repository's API write lock):
 *   read the draft branch tip and the resource's stored row; if the
 *   catalog worker has not yet seen the file at the tip, wait (bounded)
 *   for it, so If-Match is checked against the version at the tip;
 *   If-Match -> 412; build the commit (libgit2, caller as author and
 *   committer); a push session (via "api") with its one command;
 *   gs_refs_api_apply: pre-receive checks, intent, ref CAS, ref events,
 *   push-completed.
 * Then (lock released) wait, bounded, for the catalog worker to admit
 * the commit and collect its verdict from the log.
 *
 * Ownership: gs_apiwrite_result holds JSON the caller releases with
 *   gs_apiwrite_result_release.
 * Threads: any thread (MHD connection threads); one libgit2 handle and
 *   pooled database connections per call.
 * Errors: the outcome says what happened to the write; a negative return
 *   is an internal failure (GS_EUNAVAILABLE: database or ref busy,
 *   GS_ERROR) after which nothing was committed unless out->push_id is
 *   set.
 */
#ifndef GS_APIWRITE_H
#define GS_APIWRITE_H

#include <jansson.h>
#include <stdint.h>

#include "refs/push.h"

typedef struct gs_apiwrite_req {
	const gs_repo_info *repo;
	const gs_principal *who;
	const char *kind;      /* "Product", ... */
	const char *plural;    /* "products", ... */
	const char *name;
	const char *content;   /* the resource file; NULL: delete */
	size_t len;
	int has_if_match;
	int64_t if_match;      /* resourceVersion; -1 for "*" (must exist) */
	int wait_ms;           /* bound on waiting for admission */
} gs_apiwrite_req;

typedef enum {
	GS_APIW_DONE = 0,     /* committed (admission in result, or pending) */
	GS_APIW_UNCHANGED,    /* the file already has this content: no commit */
	GS_APIW_NOT_FOUND,    /* DELETE of a resource that is not there */
	GS_APIW_PRECONDITION, /* If-Match does not hold: nothing committed */
	GS_APIW_REFUSED,      /* pre-receive refused: nothing committed */
	GS_APIW_CONFLICT,     /* branch moved, or the identity lives elsewhere */
	GS_APIW_BUSY          /* the catalog worker is too far behind to check */
} gs_apiwrite_outcome;

typedef struct gs_apiwrite_result {
	gs_apiwrite_outcome outcome;
	int created;           /* the identity had no stored row before */
	int pending;           /* DONE, but not admitted within wait_ms */
	char push_id[65];      /* set once a push session existed */
	char commit[41];
	char path[1024];
	char message[320];     /* why, for the non-DONE outcomes */
	json_t *refusal;       /* REFUSED/CONFLICT: {code, message, forbidden, errors?} */
	json_t *admission;     /* DONE: {uid, allowed, status, errors, warnings, policies, conditions} */
	int deleted;           /* DONE of a DELETE: the deletion was recorded */
} gs_apiwrite_result;

int gs_refs_api_write(gs_refs *r, const gs_apiwrite_req *q, gs_apiwrite_result *out, gs_error *err);
void gs_apiwrite_result_release(gs_apiwrite_result *res);

#endif
