/*
 * catalog/caterr.c -- validation error records (pure).
 *
 * Owns the record vector of a gs_cat_errors (at most
 * GS_MAX_CATALOG_ERRORS records; later ones are only counted).
 * Invariant: every stored field and message is valid UTF-8 on one line:
 * control characters and ill-formed bytes (author data quoted in a
 * message, truncation in the middle of a character) become '?'.
 * SPDX-License-Identifier: MIT
 */
#include "catalog/caterr.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "limits.h"
#include "util/alloc.h"
#include "util/utf8.h"

void gs_cat_errors_init(gs_cat_errors *e)
{
	memset(e, 0, sizeof(*e));
}

void gs_cat_errors_release(gs_cat_errors *e)
{
	free(e->v);
	memset(e, 0, sizeof(*e));
}

void gs_cat_errors_reset(gs_cat_errors *e)
{
	e->n = 0;
	e->dropped = 0;
}

size_t gs_cat_errors_count(const gs_cat_errors *e)
{
	return e->n + e->dropped;
}


/* 1 when s[0..n) is the start of a character cut off by the end (as
 * vsnprintf truncation leaves it). */
static int caterr_is_cut(const unsigned char *s, size_t n)
{
	size_t need = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : 2, i;

	if (s[0] < 0xc2 || s[0] > 0xf4 || n >= need)
		return 0;
	for (i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return 1;
}

/* Copies src into dst[cap] as one line of valid UTF-8 (see the top). */
static void caterr_copy_clean(char *dst, size_t cap, const char *src)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t n = strlen(src), i = 0, o = 0, len;
	unsigned cp;

	while (i < n && o + 1 < cap) {
		len = gs_utf8_seq_len(s + i, n - i, &cp);
		if (len == 0 && caterr_is_cut(s + i, n - i))
			break;
		if (len == 0 || cp < 0x20 || cp == 0x7f || cp == 0x85 || cp == 0x2028 || cp == 0x2029) {
			dst[o++] = '?';
			i += len ? len : 1;
			continue;
		}
		if (o + len >= cap)
			break;
		memcpy(dst + o, s + i, len);
		o += len;
		i += len;
	}
	dst[o] = 0;
}

void gs_cat_errors_add(gs_cat_errors *e, unsigned line, const char *field, const char *code, const char *fmt, ...)
{
	gs_cat_error *r;
	char msg[sizeof(r->message)];
	va_list ap;

	if (e->n >= GS_MAX_CATALOG_ERRORS) {
		e->dropped++;
		return;
	}
	if (e->n == e->cap) {
		e->cap = e->cap ? e->cap * 2 : 8;
		if (e->cap > GS_MAX_CATALOG_ERRORS)
			e->cap = GS_MAX_CATALOG_ERRORS;
		e->v = gs_xrealloc(e->v, e->cap * sizeof(*e->v));
	}
	r = &e->v[e->n++];
	memset(r, 0, sizeof(*r));
	r->line = line;
	caterr_copy_clean(r->field, sizeof(r->field), field ? field : "");
	caterr_copy_clean(r->code, sizeof(r->code), code ? code : "");
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	caterr_copy_clean(r->message, sizeof(r->message), msg);
}
