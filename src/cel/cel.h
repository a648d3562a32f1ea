/*
 * cel/cel.h -- a bounded Common Expression Language (CEL) interpreter:
 * compile once into an AST, evaluate many times (pure: no I/O).
 *
 * Language, values, functions and the cost model: docs/cel.md.
 *
 * Ownership: gs_cel_compile() gives the caller a program; release it with
 *   gs_cel_program_free() (accepts NULL). The expression text is copied.
 *   Evaluation borrows the bound json_t values for the duration of the
 *   call only; a json_t handed back through *out belongs to the caller
 *   (json_decref it).
 * Threads: a compiled program is immutable; any number of threads may
 *   evaluate one program concurrently. Every evaluation has its own
 *   arena and cost counter; nothing is shared or global.
 * Errors: gs_cel_compile returns GS_EINVALID (syntax error, or a size
 *   limit: GS_CEL_MAX_EXPR_BYTES, _AST_NODES, _AST_DEPTH) with err->line
 *   and err->column (1-based; column counts bytes) set. Evaluation returns
 *   GS_EINVALID for every CEL runtime error ("no such key: title",
 *   "integer overflow", "cost limit exceeded", ...) with the position of
 *   the failing sub-expression. No other codes are returned.
 */
#ifndef GS_CEL_H
#define GS_CEL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct gs_cel_program gs_cel_program;

typedef struct gs_cel_error {
	int line, column;  /* 1-based position in the expression; 0 when none */
	char message[256]; /* lowercase, one line */
} gs_cel_error;

typedef struct gs_cel_options {
	/* Namespace for name resolution: with container "a.b", identifier x
	 * is looked up as a.b.x, a.x, then x. NULL or "" for none. */
	const char *container;
} gs_cel_options;

/* Parses and checks expr[0..len) (UTF-8). */
int gs_cel_compile(const char *expr, size_t len, gs_cel_program **out, gs_cel_error *err);
/* Same, with options (opts may be NULL). */
int gs_cel_compile_opts(const char *expr, size_t len, const gs_cel_options *opts, gs_cel_program **out,
			gs_cel_error *err);
void gs_cel_program_free(gs_cel_program *p);

/*
 * Evaluates p with variables names[i] = values[i] (plain JSON: integers
 * -> int, reals -> double, strings, bools, null, arrays -> list, objects
 * -> map; wrapped lazily, never copied). A name may be dotted ("a.b").
 * *out is the result as plain JSON: int/uint -> integer (a uint above
 * INT64_MAX -> real), double -> real (NaN/inf -> "NaN"/"Infinity"/
 * "-Infinity" strings), bytes -> base64 string, timestamp -> RFC 3339
 * string, duration -> "1.5s", type -> its name.
 */
int gs_cel_eval_json(const gs_cel_program *p, const char *const *names, json_t *const *values, size_t n,
		     json_t **out, gs_cel_error *err);

/* The fast path for policies: the result must be a bool (otherwise
 * GS_EINVALID "result is <type>, not bool"); nothing is allocated for it. */
int gs_cel_eval_bool(const gs_cel_program *p, const char *const *names, json_t *const *values, size_t n,
		     bool *out, gs_cel_error *err);

/* How gs_cel_eval_ex reads bindings and writes the result. */
enum {
	GS_CEL_IN_TYPED = 1 << 0,  /* values are cel.expr.Value proto3 JSON */
	GS_CEL_OUT_TYPED = 1 << 1, /* *out is cel.expr.Value proto3 JSON */
};

/*
 * gs_cel_eval_json with a choice of forms. The typed form is cel.expr.Value
 * in proto3 JSON: {"int64Value":"1"}, {"uint64Value":"1"},
 * {"doubleValue":1.5} ("NaN", "Infinity", "-Infinity" as strings),
 * {"stringValue":"a"}, {"bytesValue":"<base64>"}, {"boolValue":true},
 * {"nullValue":null}, {"listValue":{"values":[...]}},
 * {"mapValue":{"entries":[{"key":...,"value":...}]}}, {"typeValue":"int"},
 * and {"objectValue":{"@type":"type.googleapis.com/google.protobuf.
 * Timestamp","value":"2009-02-13T23:31:30Z"}} (or ...Duration, "1.5s").
 * A malformed typed binding is GS_EINVALID with line/column 0.
 */
int gs_cel_eval_ex(const gs_cel_program *p, const char *const *names, json_t *const *values, size_t n,
		   unsigned flags, json_t **out, gs_cel_error *err);

#endif
