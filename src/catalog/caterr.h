/*
 * catalog/caterr.h -- validation error records (pure).
 *
 * A record is {line, field, code, message}; the file path is added by the
 * caller that knows it. `field` is a camelCase path such as
 * `spec.media[0].fileRef.name` ("" for file-level problems); `code` is a
 * stable snake_case identifier documented in docs/catalog.md; `line` is
 * 1-based in the whole file (0 when unknown).
 *
 * Ownership: gs_cat_errors is embedded by the caller; init/release.
 * Threads: none shared.
 * Errors: adding past GS_MAX_CATALOG_ERRORS only counts (`dropped`).
 */
#ifndef GS_CATERR_H
#define GS_CATERR_H

#include <stddef.h>

typedef struct gs_cat_error {
	unsigned line;
	char field[160];
	char code[48];
	char message[256];
	char policy[64]; /* the admission policy behind the record ("" none) */
} gs_cat_error;

typedef struct gs_cat_errors {
	gs_cat_error *v;
	size_t n, cap;
	size_t dropped; /* records beyond GS_MAX_CATALOG_ERRORS */
} gs_cat_errors;

void gs_cat_errors_init(gs_cat_errors *e);
void gs_cat_errors_release(gs_cat_errors *e);
void gs_cat_errors_reset(gs_cat_errors *e);
void gs_cat_errors_add(gs_cat_errors *e, unsigned line, const char *field, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
/* Total including dropped ones. */
size_t gs_cat_errors_count(const gs_cat_errors *e);

#endif
