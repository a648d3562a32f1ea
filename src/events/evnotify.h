/*
 * events/evnotify.h -- wakes event-stream readers when the log grows.
 *
 * Ownership: embedded in gs_server; init/release.
 * Threads: safe; writers call gs_evnotify_bump after their commit,
 *   readers block in gs_evnotify_wait.
 */
#ifndef GS_EVNOTIFY_H
#define GS_EVNOTIFY_H

#include <pthread.h>
#include <stdint.h>

typedef struct gs_evnotify {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int64_t head;
	int closing;
} gs_evnotify;

void gs_evnotify_init(gs_evnotify *n, int64_t head);
void gs_evnotify_release(gs_evnotify *n);
void gs_evnotify_bump(gs_evnotify *n, int64_t head);
/* The head as last bumped. */
int64_t gs_evnotify_head(gs_evnotify *n);
/* Waits until head > after, closing, or timeout_ms passes; returns head. */
int64_t gs_evnotify_wait(gs_evnotify *n, int64_t after, int timeout_ms, int *closing);
void gs_evnotify_close(gs_evnotify *n);

#endif
