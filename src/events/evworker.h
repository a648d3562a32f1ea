/*
 * events/evworker.h -- a background consumer of the event log: one thread
 * that runs a pass (the consumer's run_once) whenever the log grows (or
 * every second), until the notifier closes. Shared by the catalog worker
 * and the lifecycle controller.
 *
 * Ownership: gs_evworker_start gives a running worker; gs_evworker_stop
 *   joins and frees it (the caller closes the notifier first).
 * Threads: the pass runs on the worker's thread only.
 * Errors: a failing pass is logged and retried after 200 ms (busy
 *   database, unreadable objects); start fails with GS_ERROR.
 */
#ifndef GS_EVWORKER_H
#define GS_EVWORKER_H

#include "events/evnotify.h"
#include "util/error.h"

typedef struct gs_evworker gs_evworker;
typedef int (*gs_evworker_pass)(const void *ctx, gs_error *err);

/* name: for log lines ("catalog", "lifecycle"); ctx is borrowed and must
 * outlive the worker. */
int gs_evworker_start(gs_evworker **out, const char *name, gs_evnotify *notify, gs_evworker_pass pass, const void *ctx,
		      gs_error *err);
void gs_evworker_stop(gs_evworker *w);

#endif
