/*
 * tests/unit/cel/celtest.h -- helpers shared by the CEL unit tests:
 * compile + evaluate one expression and compare the result (typed or
 * plain JSON, compact) or the error message. Included after cmocka.h.
 */
#ifndef GS_TEST_CELTEST_H
#define GS_TEST_CELTEST_H

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cel/cel.h"
#include "util/error.h"

/* Evaluates expr with bindings given as one JSON object {"name": value}
 * (plain, or typed when flags has GS_CEL_IN_TYPED); returns the result
 * as compact JSON text, or "error: <line>:<col>: <message>" (malloc'd). */
static char *cel_run(const char *expr, const char *bindings, unsigned flags)
{
	gs_cel_program *p = NULL;
	gs_cel_error e;
	json_t *b = bindings ? json_loads(bindings, 0, NULL) : NULL, *vals[16], *res = NULL, *v;
	const char *names[16], *k;
	size_t n = 0;
	char *out = NULL;
	if (bindings && !b)
		return strdup("error: bad test bindings");
	json_object_foreach(b, k, v) {
		names[n] = k;
		vals[n++] = v;
	}
	if (gs_cel_compile(expr, strlen(expr), &p, &e) < 0) {
		if (asprintf(&out, "parse error: %d:%d: %s", e.line, e.column, e.message) < 0)
			out = NULL;
	} else if (gs_cel_eval_ex(p, names, vals, n, flags, &res, &e) < 0) {
		if (asprintf(&out, "error: %d:%d: %s", e.line, e.column, e.message) < 0)
			out = NULL;
	} else {
		out = json_dumps(res, JSON_COMPACT | JSON_ENCODE_ANY);
	}
	json_decref(res);
	json_decref(b);
	gs_cel_program_free(p);
	return out;
}

#define CEL_CHECK(expr, bindings, flags, want)                                                          \
	do {                                                                                            \
		char *got_ = cel_run((expr), (bindings), (flags));                                      \
		if (!got_ || strcmp(got_, (want)) != 0)                                                 \
			fail_msg("%s\n  want %s\n  got  %s", (expr), (want), got_ ? got_ : "(null)");   \
		free(got_);                                                                             \
	} while (0)

/* typed result, no bindings */
#define EXPECT(expr, want) CEL_CHECK(expr, NULL, GS_CEL_OUT_TYPED, want)
/* plain JSON result with plain bindings */
#define EXPECT_JSON(expr, bindings, want) CEL_CHECK(expr, bindings, 0, want)

/* The evaluation (or parse) fails and the message contains `part`. */
#define EXPECT_ERROR(expr, bindings, part)                                                              \
	do {                                                                                            \
		char *got_ = cel_run((expr), (bindings), 0);                                            \
		if (!got_ || strncmp(got_, "error: ", 7) != 0 || !strstr(got_, (part)))                 \
			fail_msg("%s\n  want error containing '%s'\n  got  %s", (expr), (part),         \
				 got_ ? got_ : "(null)");                                               \
		free(got_);                                                                             \
	} while (0)

#define EXPECT_PARSE_ERROR(expr, want_prefix)                                                           \
	do {                                                                                            \
		char *got_ = cel_run((expr), NULL, 0);                                                  \
		if (!got_ || strncmp(got_, "parse error: " want_prefix, strlen("parse error: " want_prefix)))  \
			fail_msg("%s\n  want parse error: %s...\n  got  %s", (expr), (want_prefix),     \
				 got_ ? got_ : "(null)");                                               \
		free(got_);                                                                             \
	} while (0)

#define T_TRUE "{\"boolValue\":true}"
#define T_FALSE "{\"boolValue\":false}"
#define T_INT(s) "{\"int64Value\":\"" s "\"}"
#define T_UINT(s) "{\"uint64Value\":\"" s "\"}"
#define T_STR(s) "{\"stringValue\":\"" s "\"}"

#endif
