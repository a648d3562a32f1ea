/*
 * util/time.c -- clocks and timestamps.
 * SPDX-License-Identifier: MIT
 */
#include "util/time.h"

#include <stdio.h>
#include <time.h>

int64_t gs_time_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t gs_time_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void gs_time_fmt_rfc3339(int64_t unix_ms, char *out, size_t n)
{
	time_t secs = (time_t)(unix_ms / 1000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(unix_ms % 1000));
}

void gs_time_now_rfc3339(char *out, size_t n)
{
	gs_time_fmt_rfc3339(gs_time_now_ms(), out, n);
}
