/*
 * util/buf.c -- bounded growable byte buffer.
 * SPDX-License-Identifier: MIT
 */
#include "util/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"

void gs_buf_init(gs_buf *b, size_t max)
{
	b->ptr = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void gs_buf_release(gs_buf *b)
{
	free(b->ptr);
	b->ptr = NULL;
	b->len = b->cap = 0;
}

void gs_buf_reset(gs_buf *b)
{
	b->len = 0;
	if (b->ptr)
		b->ptr[0] = 0;
}

static int buf_grow(gs_buf *b, size_t extra, gs_error *err)
{
	size_t need, cap;
	if (extra > b->max || b->len > b->max - extra)
		return gs_error_set(err, GS_ELIMIT, "buf", "buffer limit of %zu bytes exceeded", b->max);
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	b->ptr = gs_xrealloc(b->ptr, cap);
	b->cap = cap;
	return 0;
}

int gs_buf_add(gs_buf *b, const void *data, size_t len, gs_error *err)
{
	int error;
	if ((error = buf_grow(b, len, err)) < 0)
		return error;
	if (len)
		memcpy(b->ptr + b->len, data, len);
	b->len += len;
	b->ptr[b->len] = 0;
	return 0;
}

int gs_buf_adds(gs_buf *b, const char *s, gs_error *err)
{
	return gs_buf_add(b, s, strlen(s), err);
}

int gs_buf_printf(gs_buf *b, gs_error *err, const char *fmt, ...)
{
	va_list ap;
	int n, error;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return gs_error_set(err, GS_ERROR, "buf", "format error");
	if ((error = buf_grow(b, (size_t)n, err)) < 0)
		return error;
	va_start(ap, fmt);
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void gs_buf_consume(gs_buf *b, size_t n)
{
	if (n >= b->len) {
		gs_buf_reset(b);
		return;
	}
	memmove(b->ptr, b->ptr + n, b->len - n);
	b->len -= n;
	b->ptr[b->len] = 0;
}

char *gs_buf_detach(gs_buf *b)
{
	char *p = b->ptr;
	if (!p)
		p = gs_xstrdup("");
	b->ptr = NULL;
	b->len = b->cap = 0;
	return p;
}
