/*
 * util/alloc.h -- allocation that aborts on out-of-memory (the redis way).
 *
 * Ownership: results are released with free().
 * Threads: safe.
 * Errors: none returned; OOM aborts the process. Never use these for sizes
 *   taken from untrusted input: bound those first (limits.h).
 */
#ifndef GS_ALLOC_H
#define GS_ALLOC_H

#include <stddef.h>

void *gs_xmalloc(size_t n);
void *gs_xcalloc(size_t n, size_t size);
void *gs_xrealloc(void *p, size_t n);
char *gs_xstrdup(const char *s);
char *gs_xstrndup(const char *s, size_t n);
char *gs_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
