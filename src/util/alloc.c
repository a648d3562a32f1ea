/*
 * util/alloc.c -- aborting allocators.
 * SPDX-License-Identifier: MIT
 */
#include "util/alloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/error.h"

static void *alloc_check(void *p)
{
	GS_ASSERT(p != NULL);
	return p;
}

void *gs_xmalloc(size_t n) { return alloc_check(malloc(n ? n : 1)); }
void *gs_xcalloc(size_t n, size_t size) { return alloc_check(calloc(n ? n : 1, size ? size : 1)); }
void *gs_xrealloc(void *p, size_t n) { return alloc_check(realloc(p, n ? n : 1)); }
char *gs_xstrdup(const char *s) { return alloc_check(strdup(s)); }
char *gs_xstrndup(const char *s, size_t n) { return alloc_check(strndup(s, n)); }

char *gs_xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *out = NULL;
	int n;
	va_start(ap, fmt);
	n = vasprintf(&out, fmt, ap);
	va_end(ap);
	GS_ASSERT(n >= 0);
	return out;
}
