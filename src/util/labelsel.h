/*
 * util/labelsel.h -- Kubernetes-style label selectors (pure; parses
 * untrusted query strings, fuzzed).
 *
 * Syntax: comma-separated requirements
 *   key=value  key==value  key!=value  key  !key
 *   key in (v1,v2)  key notin (v1,v2)
 * Keys and values are [A-Za-z0-9._/-]{1,253}; whitespace around tokens is
 * ignored. At most GS_LABELSEL_MAX requirements.
 *
 * Ownership: gs_labelsel_parse gives a selector freed with
 *   gs_labelsel_free.
 * Threads: no state.
 * Errors: GS_EINVALID with the offending position in the message.
 */
#ifndef GS_LABELSEL_H
#define GS_LABELSEL_H

#include <jansson.h>

#include "util/error.h"

#define GS_LABELSEL_MAX 32
#define GS_LABELSEL_MAX_VALUES 32

typedef struct gs_labelsel gs_labelsel;

int gs_labelsel_parse(gs_labelsel **out, const char *text, gs_error *err);
void gs_labelsel_free(gs_labelsel *sel);
/* labels: a JSON object of strings. NULL selector matches everything. */
int gs_labelsel_match(const gs_labelsel *sel, const json_t *labels);

#endif
