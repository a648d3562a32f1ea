/*
 * util/error.h -- return codes and the caller-owned error record.
 *
 * Ownership: a gs_error lives in the caller's storage (usually the stack);
 *   setting it never allocates.
 * Threads: no shared state.
 * Errors: functions return 0 or a negative gs_code and fill *err; the
 *   first (deepest) error is kept: gs_error_set on an already-set error
 *   does nothing, so callers never overwrite the cause.
 */
#ifndef GS_ERROR_H
#define GS_ERROR_H

#include <stddef.h>

typedef enum {
	GS_OK = 0,
	GS_ERROR = -1,
	GS_ENOTFOUND = -2,
	GS_EEXISTS = -3,
	GS_EINVALID = -4,
	GS_ECONFLICT = -5,
	GS_ELIMIT = -6,
	GS_EAUTH = -7,
	GS_EFORBIDDEN = -8,
	GS_EUNAVAILABLE = -9,
	GS_ITEROVER = -10
} gs_code;

typedef struct gs_error {
	gs_code code;
	const char *domain; /* "git", "sqlite", "http", "os", ... (static) */
	char rule[48];      /* stable snake_case code shown to users */
	char msg[256];
} gs_error;

#define GS_ERROR_INIT {GS_OK, NULL, {0}, {0}}

/* Sets err (if not already set) and returns c. */
int gs_error_set(gs_error *err, gs_code c, const char *domain, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Like gs_error_set, also recording a stable rule code. */
int gs_error_setr(gs_error *err, gs_code c, const char *rule, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Sets from errno; "what" names the datum (a path, a socket). */
int gs_error_os(gs_error *err, const char *what);
void gs_error_clear(gs_error *err);
const char *gs_code_name(gs_code c);

#define GS_ASSERT(cond)                                                         \
	do {                                                                    \
		if (!(cond))                                                    \
			gs_assert_fail(#cond, __FILE__, __LINE__);              \
	} while (0)
void gs_assert_fail(const char *what, const char *file, int line) __attribute__((noreturn));

#endif
