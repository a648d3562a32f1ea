/*
 * events/evworker.c -- the event-log consumer thread (see evworker.h).
 * SPDX-License-Identifier: MIT
 */
#include "events/evworker.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "log/log.h"
#include "util/alloc.h"

struct gs_evworker {
	const char *name;
	gs_evnotify *notify;
	gs_evworker_pass pass;
	const void *ctx;
	pthread_t thread;
};

static void *evworker_main(void *arg)
{
	gs_evworker *w = arg;
	int64_t seen = 0;
	for (;;) {
		gs_error err = GS_ERROR_INIT;
		int closing = 0;
		if (w->pass(w->ctx, &err) < 0) {
			GS_LOG(GS_LOG_WARN, w->name, "%s (will retry)", err.msg);
			usleep(200 * 1000);
		}
		seen = gs_evnotify_wait(w->notify, seen, 1000, &closing);
		if (closing)
			break;
	}
	return NULL;
}

int gs_evworker_start(gs_evworker **out, const char *name, gs_evnotify *notify, gs_evworker_pass pass, const void *ctx,
		      gs_error *err)
{
	gs_evworker *w = gs_xcalloc(1, sizeof(*w));
	w->name = name;
	w->notify = notify;
	w->pass = pass;
	w->ctx = ctx;
	if (pthread_create(&w->thread, NULL, evworker_main, w) != 0) {
		free(w);
		return gs_error_set(err, GS_ERROR, "os", "cannot start the %s worker", name);
	}
	*out = w;
	return 0;
}

void gs_evworker_stop(gs_evworker *w)
{
	if (!w)
		return;
	pthread_join(w->thread, NULL);
	free(w);
}
