/*
 * events/evnotify.c -- condition variable over the log head.
 * SPDX-License-Identifier: MIT
 */
#include "events/evnotify.h"

#include <time.h>

void gs_evnotify_init(gs_evnotify *n, int64_t head)
{
	pthread_condattr_t a;
	pthread_mutex_init(&n->mu, NULL);
	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&n->cv, &a);
	pthread_condattr_destroy(&a);
	n->head = head;
	n->closing = 0;
}

void gs_evnotify_release(gs_evnotify *n)
{
	pthread_mutex_destroy(&n->mu);
	pthread_cond_destroy(&n->cv);
}

void gs_evnotify_bump(gs_evnotify *n, int64_t head)
{
	pthread_mutex_lock(&n->mu);
	if (head > n->head)
		n->head = head;
	pthread_cond_broadcast(&n->cv);
	pthread_mutex_unlock(&n->mu);
}

void gs_evnotify_close(gs_evnotify *n)
{
	pthread_mutex_lock(&n->mu);
	n->closing = 1;
	pthread_cond_broadcast(&n->cv);
	pthread_mutex_unlock(&n->mu);
}

int64_t gs_evnotify_wait(gs_evnotify *n, int64_t after, int timeout_ms, int *closing)
{
	struct timespec ts;
	int64_t head;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&n->mu);
	while (n->head <= after && !n->closing)
		if (pthread_cond_timedwait(&n->cv, &n->mu, &ts) != 0)
			break;
	head = n->head;
	if (closing)
		*closing = n->closing;
	pthread_mutex_unlock(&n->mu);
	return head;
}

int64_t gs_evnotify_head(gs_evnotify *n)
{
	int64_t head;
	pthread_mutex_lock(&n->mu);
	head = n->head;
	pthread_mutex_unlock(&n->mu);
	return head;
}
