/*
 * log/log.c -- structured stderr logging.
 * SPDX-License-Identifier: MIT
 */
#include "log/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/time.h"

int gs_log_level = GS_LOG_INFO;

static const char *level_names[] = {"error", "warn", "info", "debug"};

void gs_log_write(int level, const char *comp, const char *fmt, ...)
{
	char line[2048], ts[40], msg[1600];
	va_list ap;
	size_t i, j = 0;
	int n;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	gs_time_now_rfc3339(ts, sizeof(ts));
	n = snprintf(line, sizeof(line), "ts=%s level=%s comp=%s msg=\"", ts, level_names[level & 3], comp);
	if (n < 0)
		return;
	j = (size_t)n;
	for (i = 0; msg[i] && j < sizeof(line) - 4; i++) {
		char c = msg[i];
		if (c == '"' || c == '\\')
			line[j++] = '\\';
		line[j++] = (c == '\n' || c == '\r') ? ' ' : c;
	}
	line[j++] = '"';
	line[j++] = '\n';
	if (write(2, line, j) < 0)
		return;
}

int gs_log_parse_level(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(s, level_names[i]) == 0)
			return i;
	return -1;
}
