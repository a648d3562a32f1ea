/*
 * log/log.h -- one-line structured records on stderr.
 *
 * GS_LOG checks the level before evaluating its arguments. Records look
 * like: ts=2026-11-26T18:10:41.123Z level=warn comp=refs msg="..."
 * Threads: safe (one write(2) per record). Never log tokens.
 */
#ifndef GS_LOG_H
#define GS_LOG_H

enum { GS_LOG_ERROR = 0, GS_LOG_WARN = 1, GS_LOG_INFO = 2, GS_LOG_DEBUG = 3 };

extern int gs_log_level;

#define GS_LOG(level, comp, ...)                                             \
	do {                                                                 \
		if ((level) <= gs_log_level)                                 \
			gs_log_write((level), (comp), __VA_ARGS__);          \
	} while (0)

void gs_log_write(int level, const char *comp, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Parses "error|warn|info|debug"; returns -1 if unknown. */
int gs_log_parse_level(const char *s);

#endif
