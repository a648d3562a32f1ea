/*
 * util/buf.h -- bounded growable byte buffer (curl's dynbuf).
 *
 * Ownership: a gs_buf is embedded by the caller; gs_buf_init sets its
 *   maximum size, gs_buf_release frees the storage. The content is always
 *   NUL-terminated (the NUL is not counted in len).
 * Threads: none shared.
 * Errors: appending past the maximum returns GS_ELIMIT and leaves the
 *   buffer unchanged.
 */
#ifndef GS_BUF_H
#define GS_BUF_H

#include <stddef.h>

#include "util/error.h"

typedef struct gs_buf {
	char *ptr;
	size_t len;
	size_t cap;
	size_t max;
} gs_buf;

void gs_buf_init(gs_buf *b, size_t max);
void gs_buf_release(gs_buf *b);
void gs_buf_reset(gs_buf *b);
int gs_buf_add(gs_buf *b, const void *data, size_t len, gs_error *err);
int gs_buf_adds(gs_buf *b, const char *s, gs_error *err);
int gs_buf_printf(gs_buf *b, gs_error *err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Removes the first n bytes. */
void gs_buf_consume(gs_buf *b, size_t n);
/* Hands the storage to the caller (free()); the buffer becomes empty. */
char *gs_buf_detach(gs_buf *b);

#endif
