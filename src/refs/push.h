/*
 * refs/push.h -- push sessions and the ref-transaction journal: the one
 * path every ref change goes through (Git pushes now, API writes later).
 *
 * Sequence for a push (docs/architecture.md):
 *   gs_refs_push_begin  (HTTP, before spawning receive-pack; writes the
 *                        push row)
 *   pre-receive         authorisation per ref; refusal -> push-rejected
 *   prepared            durable intent per ref (fail closed)
 *   committed           ref events appended in one SQLite transaction
 *                        with refs_state, intents dropped
 *   aborted             intents dropped
 *   post-receive / gs_refs_push_end
 *                        push-completed; refs that did not move ->
 *                        push-rejected (stage reference-transaction)
 * Start-up: gs_refs_recover settles open intents against the real refs,
 * completes open pushes, then reconciles every repository.
 *
 * Ownership: gs_refs_new gives the engine; gs_refs_free releases it.
 *   Hook replies are new json objects owned by the caller.
 * Threads: all entry points are thread-safe (sessions under a mutex;
 *   database connections from the pool; a libgit2 handle per call).
 * Errors: GS_ENOTFOUND (unknown push), GS_EUNAVAILABLE (database busy),
 *   GS_ERROR.
 */
#ifndef GS_PUSH_H
#define GS_PUSH_H

#include <jansson.h>

#include "auth/principal.h"
#include "events/evnotify.h"
#include "git/pktline.h"
#include "store/db.h"
#include "store/journal.h"
#include "store/registry.h"
#include "util/metrics.h"

typedef struct gs_refs gs_refs;

typedef struct gs_refs_ctx {
	const char *data_dir;
	gs_dbpool *pool;
	gs_evnotify *notify;  /* may be NULL (CLI) */
	gs_metrics *metrics;  /* may be NULL */
} gs_refs_ctx;

int gs_refs_new(gs_refs **out, const gs_refs_ctx *ctx, gs_error *err);
void gs_refs_free(gs_refs *r);
/* The context the engine was made with (paths, pool, notifier). */
const gs_refs_ctx *gs_refs_context(const gs_refs *r);

/* Registers a push by who on repo; cmds (may be NULL) are the ref
 * commands the client sent. Fills push_id. */
int gs_refs_push_begin(gs_refs *r, const gs_repo_info *repo, const gs_principal *who, const char *via,
		       const gs_push_cmds *cmds, char push_id[65], gs_error *err);
/* Called when receive-pack has exited: completes the push's events. */
void gs_refs_push_end(gs_refs *r, const char *push_id);

/* Records a refusal that happened before git ran (HTTP 403): a
 * push-rejected event with stage "transport" and no refs. */
int gs_refs_reject_transport(gs_refs *r, const gs_repo_info *repo, const gs_principal *who, const char *code,
			     const char *message, gs_error *err);
/* The same for a refusal at another stage ("api": an API write refused
 * for its role), with via the caller's channel. */
int gs_refs_reject_early(gs_refs *r, const gs_repo_info *repo, const gs_principal *who, const char *via,
			 const char *stage, const char *code, const char *message, gs_error *err);

/* Handles one hook request (see git/hooksock.h); returns the reply. */
json_t *gs_refs_hook(gs_refs *r, json_t *req);

/* Parses a hook message's "updates" array ([["old","new","ref"], ...]).
 * GS_UPD_EVENTS_ONLY drops refs outside refs/heads/ and refs/tags/;
 * all-zero records are dropped unless GS_UPD_KEEP_ZERO. *out is
 * malloc'd (free()). */
#define GS_UPD_EVENTS_ONLY 1
#define GS_UPD_KEEP_ZERO 2
int gs_refs_parse_updates(json_t *arr, int flags, gs_ref_update **out, size_t *n, gs_error *err);

/* API writes (refs/apiwrite.c drives these). A write is a push session
 * (gs_refs_push_begin with via "api" and its one command, then
 * gs_refs_push_end) whose ref change the daemon makes itself:
 * gs_refs_api_apply runs the pre-receive checks (stage "api"), writes
 * the intent, moves the ref by compare-and-swap and appends the ref
 * events with push-completed -- the push path minus receive-pack.
 * Returns 0 when the ref moved; GS_EINVALID when refused (*refusal =
 * {code, message, forbidden, errors?, errorCount?}, caller-owned, and
 * the push-rejected is recorded); GS_ECONFLICT when the ref moved
 * meanwhile (also recorded, *refusal set). */
int gs_refs_api_apply(gs_refs *r, const char *push_id, const gs_ref_update *u, json_t **refusal, gs_error *err);
/* Records a refusal of an API write decided outside the shared checks
 * (push-rejected, stage "api"); extra fields are merged into its data. */
int gs_refs_api_refuse(gs_refs *r, const char *push_id, const gs_ref_update *u, const char *code, const char *message,
		       json_t *extra, gs_error *err);
/* Serialises API writes per repository (held from reading the branch
 * to the ref move). */
void gs_refs_api_lock(gs_refs *r, const char *repo_uid);
void gs_refs_api_unlock(gs_refs *r, const char *repo_uid);

/* Start-up recovery and full reconcile (idempotent). */
int gs_refs_recover(gs_refs *r, gs_error *err);

#endif
