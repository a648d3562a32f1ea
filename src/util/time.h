/*
 * util/time.h -- clocks and RFC 3339 timestamps.
 * Threads: safe. Errors: none.
 */
#ifndef GS_TIME_H
#define GS_TIME_H

#include <stddef.h>
#include <stdint.h>

/* Writes "2026-11-26T18:10:41.123Z" (UTC, milliseconds) into out. */
void gs_time_now_rfc3339(char *out, size_t n);
void gs_time_fmt_rfc3339(int64_t unix_ms, char *out, size_t n);
int64_t gs_time_now_ms(void);
/* Monotonic clock in nanoseconds, for durations. */
int64_t gs_time_mono_ns(void);

#endif
