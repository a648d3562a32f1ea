/*
 * cli/cel.c -- `gitstore cel eval`: evaluate one CEL expression, or a
 * stream of them (--batch, the conformance runner's protocol).
 *
 *   gitstore cel eval [--typed] [--json NAME=JSON]... EXPR
 *   gitstore cel eval --batch
 *
 * Batch protocol (tests/cel/conformance.py): one JSON object per input
 * line, {"id", "expr", "bindings": {name: <cel.expr.Value JSON>},
 * "container"}; exactly one flushed output line each, {"id", "value"} or
 * {"id", "error", "stage": "parse"|"eval"|"input"}. No input line can
 * stop the loop.
 * SPDX-License-Identifier: MIT
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cel/cel.h"
#include "cli/cli.h"
#include "cli/cli.h"

int gs_cli_cel(int argc, char **argv);

#define MAX_VARS 64
#define MAX_LINE (64 * 1024 * 1024)

static const char USAGE[] = "usage: gitstore cel eval [--typed] [--json NAME=JSON]... EXPR\n"
			    "       gitstore cel eval --batch\n";

static void print_error(const gs_cel_error *e)
{
	if (e->line)
		fprintf(stderr, "gitstore: cel: %d:%d: %s\n", e->line, e->column, e->message);
	else
		fprintf(stderr, "gitstore: cel: %s\n", e->message);
}

static void emit(json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT | JSON_ENCODE_ANY);
	if (!s)
		s = strdup("{\"id\":null,\"error\":\"output not encodable\",\"stage\":\"input\"}");
	fputs(s ? s : "{}", stdout);
	fputc('\n', stdout);
	fflush(stdout);
	free(s);
	json_decref(o);
}

static json_t *error_line(json_t *id, const char *stage, const gs_cel_error *e, const char *msg)
{
	char buf[320];
	if (e && e->line)
		snprintf(buf, sizeof(buf), "%d:%d: %s", e->line, e->column, e->message);
	else
		snprintf(buf, sizeof(buf), "%s", e ? e->message : msg);
	return json_pack("{s:O?,s:s,s:s}", "id", id, "error", buf, "stage", stage);
}

static json_t *batch_one(json_t *in)
{
	json_t *id = json_object_get(in, "id"), *expr = json_object_get(in, "expr"), *b = json_object_get(in, "bindings");
	json_t *cont = json_object_get(in, "container"), *vals[MAX_VARS], *out = NULL, *res;
	const char *names[MAX_VARS], *key;
	gs_cel_options opts = {0};
	gs_cel_program *p = NULL;
	gs_cel_error e;
	json_t *v;
	size_t n = 0;
	if (!json_is_string(expr) || (b && !json_is_object(b) && !json_is_null(b)) || (cont && !json_is_string(cont) && !json_is_null(cont)))
		return error_line(json_is_object(in) ? id : NULL, "input", NULL, "expected {\"id\", \"expr\": string, \"bindings\": object}");
	if (json_object_size(b) > MAX_VARS)
		return error_line(id, "input", NULL, "too many bindings");
	json_object_foreach(b, key, v) {
		names[n] = key;
		vals[n++] = v;
	}
	opts.container = json_string_value(cont);
	if (gs_cel_compile_opts(json_string_value(expr), json_string_length(expr), &opts, &p, &e) < 0)
		return error_line(id, "parse", &e, NULL);
	if (gs_cel_eval_ex(p, names, vals, n, GS_CEL_IN_TYPED | GS_CEL_OUT_TYPED, &res, &e) < 0)
		out = error_line(id, !strncmp(e.message, "binding '", 9) ? "input" : "eval", &e, NULL);
	else
		out = json_pack("{s:O?,s:o}", "id", id, "value", res);
	gs_cel_program_free(p);
	return out;
}

static int batch(void)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	json_t *in;
	json_error_t je;
	while ((len = getline(&line, &cap, stdin)) >= 0) {
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = 0;
		in = len == 0 || len > MAX_LINE ? NULL : json_loadb(line, (size_t)len, JSON_ALLOW_NUL, &je);
		if (!json_is_object(in))
			emit(error_line(NULL, "input", NULL, in ? "expected a JSON object" : "malformed JSON line"));
		else
			emit(batch_one(in));
		json_decref(in);
	}
	free(line);
	return 0;
}

static int eval_one(const char *expr, int typed, const char **names, json_t **vals, size_t n)
{
	gs_cel_program *p = NULL;
	gs_cel_error e;
	json_t *res = NULL;
	char *s;
	int rc = 1;
	if (gs_cel_compile(expr, strlen(expr), &p, &e) < 0) {
		print_error(&e);
		return 1;
	}
	if (gs_cel_eval_ex(p, names, vals, n, typed ? GS_CEL_OUT_TYPED : 0, &res, &e) < 0) {
		print_error(&e);
		goto out;
	}
	s = json_dumps(res, JSON_COMPACT | JSON_ENCODE_ANY);
	if (s)
		printf("%s\n", s);
	free(s);
	rc = s ? 0 : 1;
out:
	json_decref(res);
	gs_cel_program_free(p);
	return rc;
}

static int cel_eval(int argc, char **argv)
{
	const char *names[MAX_VARS], *expr = NULL, *val;
	json_t *vals[MAX_VARS];
	json_error_t je;
	size_t n = 0, k;
	int i, typed = 0, rc = 2;
	char *eq;
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--batch") && argc == 2)
			return batch();
		if (!strcmp(argv[i], "--typed")) {
			typed = 1;
		} else if (gs_cli_opt(argc, argv, &i, "--json", &val)) {
			if (!val || !(eq = strchr(val, '=')) || eq == val || n == MAX_VARS) {
				fputs(USAGE, stderr);
				goto out;
			}
			if (!(vals[n] = json_loads(eq + 1, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je))) {
				fprintf(stderr, "gitstore: cel: --json %.*s: %s\n", (int)(eq - val), val, je.text);
				rc = 1;
				goto out;
			}
			names[n++] = strndup(val, (size_t)(eq - val));
		} else if (!expr && !strcmp(argv[i], "--") && i + 1 < argc) {
			expr = argv[++i];
		} else if (!expr && strncmp(argv[i], "--", 2) != 0) {
			expr = argv[i]; /* "-1 + x" is an expression, not an option */
		} else {
			fputs(USAGE, stderr);
			goto out;
		}
	}
	if (!expr) {
		fputs(USAGE, stderr);
		goto out;
	}
	rc = eval_one(expr, typed, names, vals, n);
out:
	for (k = 0; k < n; k++) {
		free((char *)names[k]);
		json_decref(vals[k]);
	}
	return rc;
}

int gs_cli_cel(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "eval"))
		return cel_eval(argc - 1, argv + 1);
	fputs(USAGE, argc >= 2 && !strcmp(argv[1], "--help") ? stdout : stderr);
	return argc >= 2 && !strcmp(argv[1], "--help") ? 0 : 2;
}
