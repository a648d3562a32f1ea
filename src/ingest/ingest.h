/*
 * ingest/ingest.h -- the post-receive catalog worker: turns draft-branch
 * ref events into stored draft resources and catalog events.
 *
 * A durable consumer of the event log ("gitstore-catalog",
 * events/consumer.h): each ref event is acknowledged in the same SQLite
 * transaction as its results, so a crash re-processes at most that event
 * and its deterministic ids make the retry add nothing.
 *
 * Per draft-branch ref event (old -> new, any of created, updated,
 * force-pushed, deleted): diff old..new, parse the changed resource files
 * (full validation), derive create/update/move/delete by identity, store,
 * and append catalog-namespace-target, catalog-resource-parsed,
 * catalog-resource-validation-failed, catalog-admission-evaluated and
 * catalog-resource-deleted, each with causationid = the ref event's id.
 * Feature branches and tags get no catalog events.
 *
 * Ownership: gs_ingest_start gives a running worker; gs_ingest_stop joins
 *   and frees it.
 * Threads: one worker thread; gs_ingest_run_once may be called before
 *   start (start-up catch-up) from the starting thread.
 * Errors: GS_EUNAVAILABLE (database busy; retried), GS_ERROR.
 */
#ifndef GS_INGEST_H
#define GS_INGEST_H

#include "events/evnotify.h"
#include "store/db.h"
#include "util/metrics.h"

typedef struct gs_ingest gs_ingest;

typedef struct gs_ingest_ctx {
	const char *data_dir;
	gs_dbpool *pool;
	gs_evnotify *notify;
	gs_metrics *metrics; /* may be NULL */
} gs_ingest_ctx;

int gs_ingest_start(gs_ingest **out, const gs_ingest_ctx *ctx, gs_error *err);
void gs_ingest_stop(gs_ingest *w);
/* Processes every pending ref event now (returns when caught up). */
int gs_ingest_run_once(const gs_ingest_ctx *ctx, gs_error *err);

#endif
