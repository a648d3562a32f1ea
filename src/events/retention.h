/*
 * events/retention.h -- removes events older than the retention period
 * (gitstore serve --retention-days), never one a built-in reader (the
 * catalog worker, the lifecycle controller, the relay when it runs) has
 * not settled yet.
 *
 * Readers whose position falls in the removed prefix get HTTP 410 (the
 * events API and stream) and are told to re-list; numbering continues
 * after the head (evlog's floor).
 *
 * Ownership: gs_retention_start gives a running pruner thread;
 *   gs_retention_stop joins and frees it.
 * Threads: its own thread, its own pool connection per pass.
 * Errors: start fails only if the thread cannot be created; pass errors
 *   (a busy database) are logged and retried at the next pass.
 */
#ifndef GS_RETENTION_H
#define GS_RETENTION_H

#include <stdint.h>

#include "store/db.h"
#include "util/error.h"

typedef struct gs_retention gs_retention;

typedef struct gs_retention_cfg {
	gs_dbpool *pool;
	int64_t keep_ms;          /* events older than this go; > 0 */
	int interval_ms;          /* between passes */
	const char *const *cursors; /* named cursors (store/resstore.h) that also hold events back; NULL-terminated, may be NULL */
} gs_retention_cfg;

int gs_retention_start(gs_retention **out, const gs_retention_cfg *cfg, gs_error *err);
void gs_retention_stop(gs_retention *r);
/* One pass now: *removed events removed. */
int gs_retention_run_once(const gs_retention_cfg *cfg, int64_t *removed, gs_error *err);

#endif
