/*
 * lifecycle/lifecycle.h -- the lifecycle controller: keeps each
 * repository's published view equal to its current release.
 *
 * A durable, acknowledged consumer of the event log ("gitstore-lifecycle",
 * events/consumer.h): it reads release-created, release-rejected,
 * tag-deleted and branch-deleted events in log order; for the event's
 * repository it computes the current release -- the newest passed release
 * (by the log position of its ref event) whose ref still has the value it
 * had then -- and, when that differs from the release the view shows,
 * applies it in one transaction: published rows swapped, draft rows'
 * .status (phase, publishedGeneration, publishedRelease, Published)
 * updated, release-withdrawn when the shown release's ref was deleted or
 * moved off, draft-published / resource-unpublished per resource whose
 * published content changed. Only then is the event acknowledged (its
 * durable consumer "gitstore-lifecycle", events/consumer.h, in its own
 * transaction). A redelivery after a crash
 * between apply and ack finds the view already current: nothing changes
 * and nothing is emitted (ids are deterministic besides).
 *
 * Ownership: gs_lifecycle_start gives a running controller; stop joins
 *   and frees it.
 * Threads: one controller thread; gs_lifecycle_run_once may run before
 *   start (start-up catch-up).
 * Errors: GS_EUNAVAILABLE (database busy; retried), GS_ERROR.
 */
#ifndef GS_LIFECYCLE_H
#define GS_LIFECYCLE_H

#include "ingest/ingest.h"

typedef struct gs_lifecycle gs_lifecycle;

int gs_lifecycle_start(gs_lifecycle **out, const gs_ingest_ctx *ctx, gs_error *err);
void gs_lifecycle_stop(gs_lifecycle *l);
/* Processes every pending event now. */
int gs_lifecycle_run_once(const gs_ingest_ctx *ctx, gs_error *err);

#endif
