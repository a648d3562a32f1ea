/*
 * events/retention.c -- the retention pruner (see retention.h).
 * SPDX-License-Identifier: MIT
 */
#include "events/retention.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "events/consumer.h"
#include "events/evlog.h"
#include "log/log.h"
#include "store/resstore.h"
#include "util/alloc.h"
#include "util/time.h"

struct gs_retention {
	gs_retention_cfg cfg;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop;
};

/* The least position a built-in reader still needs: nothing after it may
 * go. */
static int retention_keep_after(gs_db *db, const gs_retention_cfg *cfg, int64_t *out, gs_error *err)
{
	static const char *const builtins[] = {GS_CONSUMER_CATALOG, GS_CONSUMER_LIFECYCLE, NULL};
	int64_t keep = INT64_MAX, v;
	int error;
	for (int i = 0; builtins[i]; i++) {
		error = gs_consumer_cursor(db, builtins[i], &v, err);
		if (error == GS_ENOTFOUND) {
			gs_error_clear(err);
			continue;
		}
		if (error < 0)
			return error;
		if (v < keep)
			keep = v;
	}
	for (int i = 0; cfg->cursors && cfg->cursors[i]; i++) {
		if ((error = gs_cursor_get(db, cfg->cursors[i], &v, err)) < 0)
			return error;
		if (v < keep)
			keep = v;
	}
	*out = keep;
	return 0;
}

int gs_retention_run_once(const gs_retention_cfg *cfg, int64_t *removed, gs_error *err)
{
	gs_db *db = gs_dbpool_get(cfg->pool);
	int64_t keep = 0;
	int error;
	*removed = 0;
	if ((error = retention_keep_after(db, cfg, &keep, err)) == 0)
		error = gs_evlog_prune(db, gs_time_now_ms() - cfg->keep_ms, keep, removed, err);
	gs_dbpool_put(cfg->pool, db);
	if (error == 0 && *removed)
		GS_LOG(GS_LOG_INFO, "retention", "removed %lld events older than the retention period",
		       (long long)*removed);
	return error;
}

static void *retention_main(void *arg)
{
	gs_retention *r = arg;
	pthread_mutex_lock(&r->mu);
	while (!r->stop) {
		struct timespec ts;
		int64_t removed = 0;
		gs_error err = GS_ERROR_INIT;
		pthread_mutex_unlock(&r->mu);
		if (gs_retention_run_once(&r->cfg, &removed, &err) < 0)
			GS_LOG(GS_LOG_WARN, "retention", "pass failed (next pass retries): %s", err.msg);
		pthread_mutex_lock(&r->mu);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += r->cfg.interval_ms / 1000;
		ts.tv_nsec += (long)(r->cfg.interval_ms % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		while (!r->stop && pthread_cond_timedwait(&r->cv, &r->mu, &ts) == 0)
			;
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

int gs_retention_start(gs_retention **out, const gs_retention_cfg *cfg, gs_error *err)
{
	gs_retention *r = gs_xcalloc(1, sizeof(*r));
	r->cfg = *cfg;
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	if (pthread_create(&r->thread, NULL, retention_main, r) != 0) {
		pthread_mutex_destroy(&r->mu);
		pthread_cond_destroy(&r->cv);
		free(r);
		return gs_error_set(err, GS_ERROR, "retention", "cannot start the retention thread");
	}
	*out = r;
	return 0;
}

void gs_retention_stop(gs_retention *r)
{
	if (!r)
		return;
	pthread_mutex_lock(&r->mu);
	r->stop = 1;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
	pthread_join(r->thread, NULL);
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->cv);
	free(r);
}
