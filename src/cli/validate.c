/*
 * cli/validate.c -- `gitstore validate FILE...`: the offline catalog check.
 *
 * Reads each file (bounded by GS_MAX_RESOURCE_FILE_BYTES), validates it at
 * full depth as if it were pushed to --namespace/--repo at the path given,
 * then checks identities across all the files. Prints one line per error,
 * `path:line: field: message [code]`, on stdout; files that are not
 * resource documents are skipped silently. Exit: 0 no errors, 1 any error
 * (or an unreadable file), 2 usage.
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/caterr.h"
#include "catalog/frontmatter.h"
#include "catalog/resource.h"
#include "cli/cli.h"
#include "limits.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/error.h"

static const char VALIDATE_USAGE[] =
	"usage: gitstore validate [--namespace NS] [--repo NAME] FILE...\n"
	"\n"
	"  Checks catalog resource files offline, as a push of them to\n"
	"  repository NS/NAME would (defaults: default/catalog). Prints\n"
	"  `path:line: field: message [code]` per error; exits 1 on any error.\n";

typedef struct validate_file {
	const char *path;
	gs_resource *res;
} validate_file;

typedef struct validate_run {
	validate_file *files;
	gs_catalog_file *tree;
	int failed;
} validate_run;

static void validate_print(const char *path, const gs_cat_error *e)
{
	if (e->field[0])
		printf("%s:%u: %s: %s [%s]\n", path, e->line, e->field, e->message, e->code);
	else
		printf("%s:%u: %s [%s]\n", path, e->line, e->message, e->code);
}

/* Reads at most out->max bytes; *size is the file's size. */
int gs_cli_read_file(const char *path, gs_buf *out, long long *size, gs_error *err)
{
	char chunk[65536];
	FILE *f = fopen(path, "rb");
	struct stat st;
	int error = 0;

	if (!f)
		return gs_error_os(err, path);
	*size = fstat(fileno(f), &st) == 0 ? (long long)st.st_size : -1;
	while (out->len < out->max) {
		size_t want = out->max - out->len < sizeof(chunk) ? out->max - out->len : sizeof(chunk);
		size_t n = fread(chunk, 1, want, f);
		if (n > 0 && (error = gs_buf_add(out, chunk, n, err)) < 0)
			goto out;
		if (n < want) {
			if (ferror(f)) {
				if (errno == 0)
					errno = EIO;
				error = gs_error_os(err, path);
			}
			goto out;
		}
	}
out:
	fclose(f);
	return error;
}

static void validate_dup(size_t idx, size_t earlier, void *payload)
{
	validate_run *run = payload;
	const validate_file *f = &run->files[idx];
	const gs_resource *r = f->res;

	if (r->ns[0])
		printf("%s:%u: metadata.name: %s %s/%s is also defined in %s [duplicate_identity]\n", f->path,
		       r->name_line, r->kind, r->ns, r->name, run->files[earlier].path);
	else
		printf("%s:%u: metadata.name: %s %s is also defined in %s [duplicate_identity]\n", f->path,
		       r->name_line, r->kind, r->name, run->files[earlier].path);
	run->failed = 1;
}

static int validate_one(const gs_catalog_ctx *base, const char *path, gs_resource **res)
{
	gs_catalog_ctx ctx = *base;
	gs_error err = GS_ERROR_INIT;
	gs_cat_errors errs;
	gs_buf data;
	long long size;
	int rc, failed = 0;

	*res = NULL;
	/* one byte over the limit is enough to tell a file is too large */
	gs_buf_init(&data, (size_t)GS_MAX_RESOURCE_FILE_BYTES + 1);
	if (gs_cli_read_file(path, &data, &size, &err) < 0) {
		fprintf(stderr, "gitstore validate: cannot read %s\n", err.msg);
		gs_buf_release(&data);
		return 1;
	}
	if (data.len > GS_MAX_RESOURCE_FILE_BYTES && gs_frontmatter_is_resource(data.ptr, data.len)) {
		printf("%s:0: resource file is %lld bytes, over the limit of %d bytes [file_too_large]\n", path,
		       size > 0 ? size : (long long)data.len, GS_MAX_RESOURCE_FILE_BYTES);
		gs_buf_release(&data);
		return 1;
	}
	ctx.path = path;
	gs_cat_errors_init(&errs);
	rc = gs_catalog_parse(&ctx, data.ptr ? data.ptr : "", data.len, res, &errs);
	if (rc != GS_ENOTFOUND && (rc < 0 || gs_cat_errors_count(&errs) > 0)) {
		failed = 1;
		for (size_t i = 0; i < errs.n; i++)
			validate_print(path, &errs.v[i]);
		if (errs.dropped)
			printf("%s:0: %zu more errors in this file [too_many_errors]\n", path, errs.dropped);
	}
	gs_cat_errors_release(&errs);
	gs_buf_release(&data);
	return failed;
}

int gs_cli_validate(int argc, char **argv)
{
	gs_catalog_ctx ctx;
	validate_run run;
	const char **paths;
	size_t n = 0;
	int only_files = 0;

	memset(&ctx, 0, sizeof(ctx));
	ctx.repo_ns = "default";
	ctx.repo_name = "catalog";
	ctx.depth = GS_CATALOG_FULL;
	paths = gs_xcalloc((size_t)argc, sizeof(*paths));
	for (int i = 1; i < argc; i++) {
		const char *v = NULL;
		int r;
		if (!only_files && strcmp(argv[i], "--") == 0) {
			only_files = 1;
			continue;
		}
		if (!only_files && (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)) {
			fputs(VALIDATE_USAGE, stdout);
			free(paths);
			return 0;
		}
		if (!only_files && (r = gs_cli_opt(argc, argv, &i, "--namespace", &v)) != 0) {
			if (r < 0 || !v[0])
				goto usage;
			ctx.repo_ns = v;
			continue;
		}
		if (!only_files && (r = gs_cli_opt(argc, argv, &i, "--repo", &v)) != 0) {
			if (r < 0 || !v[0])
				goto usage;
			ctx.repo_name = v;
			continue;
		}
		if (!only_files && argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "gitstore validate: unknown option '%s'\n", argv[i]);
			goto usage;
		}
		paths[n++] = argv[i];
	}
	if (n == 0)
		goto usage;

	memset(&run, 0, sizeof(run));
	run.files = gs_xcalloc(n, sizeof(*run.files));
	run.tree = gs_xcalloc(n, sizeof(*run.tree));
	for (size_t i = 0; i < n; i++) {
		run.files[i].path = paths[i];
		if (validate_one(&ctx, paths[i], &run.files[i].res))
			run.failed = 1;
		run.tree[i].path = paths[i];
		run.tree[i].res = run.files[i].res;
	}
	gs_catalog_check_tree(run.tree, n, validate_dup, &run);
	fflush(stdout);
	for (size_t i = 0; i < n; i++)
		gs_resource_free(run.files[i].res);
	free(run.tree);
	free(run.files);
	free(paths);
	return run.failed ? 1 : 0;

usage:
	fputs(VALIDATE_USAGE, stderr);
	free(paths);
	return 2;
}
