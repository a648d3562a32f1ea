/*
 * util/error.c -- gs_error helpers.
 * SPDX-License-Identifier: MIT
 */
#include "util/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int error_vset(gs_error *err, gs_code c, const char *domain, const char *rule,
		      const char *fmt, va_list ap)
{
	if (!err || err->code != GS_OK)
		return c;
	err->code = c;
	err->domain = domain;
	err->rule[0] = 0;
	if (rule)
		snprintf(err->rule, sizeof(err->rule), "%s", rule);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	return c;
}

int gs_error_set(gs_error *err, gs_code c, const char *domain, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	error_vset(err, c, domain, NULL, fmt, ap);
	va_end(ap);
	return c;
}

int gs_error_setr(gs_error *err, gs_code c, const char *rule, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	error_vset(err, c, "gitstore", rule, fmt, ap);
	va_end(ap);
	return c;
}

int gs_error_os(gs_error *err, const char *what)
{
	char buf[128];
	int e = errno;
	/* strerror is banned (not thread-safe); the GNU strerror_r returns char* */
	const char *s = strerror_r(e, buf, sizeof(buf));
	return gs_error_set(err, e == ENOENT ? GS_ENOTFOUND : GS_ERROR, "os", "%s: %s", what, s);
}

void gs_error_clear(gs_error *err)
{
	memset(err, 0, sizeof(*err));
}

const char *gs_code_name(gs_code c)
{
	switch (c) {
	case GS_OK: return "ok";
	case GS_ERROR: return "error";
	case GS_ENOTFOUND: return "not_found";
	case GS_EEXISTS: return "exists";
	case GS_EINVALID: return "invalid";
	case GS_ECONFLICT: return "conflict";
	case GS_ELIMIT: return "limit";
	case GS_EAUTH: return "unauthenticated";
	case GS_EFORBIDDEN: return "forbidden";
	case GS_EUNAVAILABLE: return "unavailable";
	case GS_ITEROVER: return "iterover";
	}
	return "error";
}

void gs_assert_fail(const char *what, const char *file, int line)
{
	char line_buf[512];
	int n = snprintf(line_buf, sizeof(line_buf), "gitstore: assertion failed: %s (%s:%d)\n", what, file, line);
	if (n > 0 && write(2, line_buf, (size_t)n) < 0)
		abort();
	abort();
}
