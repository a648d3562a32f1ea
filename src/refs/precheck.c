/*
 * refs/precheck.c -- pre-receive catalog check of the files a push brings.
 *
 * Runs on a hook worker thread, blocking the push: bounded by the limits
 * on files and scalars (limits.h) and by reading only changed blobs.
 * SPDX-License-Identifier: MIT
 */
#include "refs/precheck.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/frontmatter.h"
#include "limits.h"
#include "util/alloc.h"
#include "util/str.h"
#include "util/utf8.h"

/* error records inlined in push-rejected (events stay < 64 KiB) */
#define PRECHECK_ERRORS_BUDGET (32 * 1024)
/* remote: lines shown to the pusher */
#define PRECHECK_MAX_LINES 200

typedef struct precheck_ctx {
	gs_gitrepo *git;
	const gs_repo_info *repo;
	gs_catalog_depth depth;
	gs_precheck_result *res;
	size_t budget;
	size_t shown;
	gs_error *err;
	int failed;
	const gs_policyset *pols;
	const char *user, *role;
	int on_draft;    /* the ref being checked is the draft branch */
	size_t nnotes;
} precheck_ctx;

void gs_precheck_result_init(gs_precheck_result *res)
{
	memset(res, 0, sizeof(*res));
	res->errors = json_array();
	gs_buf_init(&res->lines, 256 * 1024);
	gs_buf_init(&res->notes, 64 * 1024);
}

void gs_precheck_result_release(gs_precheck_result *res)
{
	json_decref(res->errors);
	gs_buf_release(&res->lines);
	gs_buf_release(&res->notes);
	memset(res, 0, sizeof(*res));
}

void gs_precheck_format(gs_buf *out, const char *path, const gs_cat_error *e)
{
	if (e->field[0])
		gs_buf_printf(out, NULL, "%s:%u: %s: %s [%s]\n", path, e->line, e->field, e->message, e->code);
	else
		gs_buf_printf(out, NULL, "%s:%u: %s [%s]\n", path, e->line, e->message, e->code);
}

static void precheck_record(precheck_ctx *c, const char *path, const gs_cat_error *e)
{
	json_t *rec = json_pack("{s:s, s:i, s:s, s:s, s:s}", "path", path, "line", (int)e->line, "field", e->field,
				"code", e->code, "message", e->message);
	char *text = json_dumps(rec, JSON_COMPACT);
	size_t len = text ? strlen(text) : 0;
	free(text);
	c->res->nerrors++;
	if (len + 1 <= c->budget) {
		c->budget -= len + 1;
		json_array_append_new(c->res->errors, rec);
	} else {
		c->res->truncated = 1;
		json_decref(rec);
	}
	if (c->shown++ < PRECHECK_MAX_LINES)
		gs_precheck_format(&c->res->lines, path, e);
}

/* Previews the namespace's policies on a valid file bound for the draft
 * branch: the pusher sees Warn results now, as remote: lines. */
static void precheck_policies(precheck_ctx *c, const gs_tree_change *ch, const gs_resource *res)
{
	json_t *object, *request;
	const char *op = gs_str_is_zero_oid(ch->old_blob) ? "CREATE" : "UPDATE";
	if (!c->pols || !c->pols->n || !c->on_draft)
		return;
	object = json_pack("{s:s, s:s, s:{s:s, s:s, s:O}, s:O}", "apiVersion", res->api_version, "kind", res->kind,
			   "metadata", "name", res->name, "namespace", res->ns, "labels", res->labels, "spec", res->spec);
	request = json_pack("{s:s, s:{s:s, s:[s]}, s:s, s:b}", "operation", op, "user", "name", c->user ? c->user : "",
			    "roles", c->role ? c->role : "", "origin", "git", "dryRun", 0);
	for (size_t i = 0; i < c->pols->n && c->nnotes < PRECHECK_MAX_LINES; i++) {
		gs_adm_policy_result pr;
		gs_adm_policy_eval(c->pols->v[i], res->kind, op, object, NULL, request, &pr);
		if (!pr.matched || !pr.failed || (!pr.warn && !pr.deny))
			continue;
		c->nnotes++;
		gs_buf_printf(&c->res->notes, NULL, "gitstore: %s: %s: policy %s: %s\n", pr.deny ? "will be denied" : "warning",
			      ch->path, gs_adm_policy_name(c->pols->v[i]), pr.message);
	}
	json_decref(object);
	json_decref(request);
}

/* A path that is not UTF-8 as shown (pusher's lines, push-rejected):
 * each ill-formed byte becomes '?'. malloc'd. */
static char *precheck_shown_path(const char *path)
{
	const unsigned char *s = (const unsigned char *)path;
	size_t n = strlen(path), i = 0, o = 0;
	char *out = gs_xmalloc(n + 1);
	while (i < n) {
		size_t len = gs_utf8_seq_len(s + i, n - i, NULL);
		if (len == 0) {
			out[o++] = '?';
			i++;
			continue;
		}
		memcpy(out + o, s + i, len);
		o += len;
		i += len;
	}
	out[o] = 0;
	return out;
}

/* A resource file whose path is not UTF-8: refused here, ignored by the
 * catalog afterwards (events are JSON and carry the path). */
static void precheck_bad_path(precheck_ctx *c, const gs_tree_change *ch)
{
	gs_cat_error e;
	char *shown = precheck_shown_path(ch->path);
	memset(&e, 0, sizeof(e));
	e.line = 1;
	snprintf(e.code, sizeof(e.code), "invalid_utf8");
	snprintf(e.message, sizeof(e.message), "file path is not valid utf-8; resource files need utf-8 paths");
	c->res->files++;
	precheck_record(c, shown, &e);
	free(shown);
}

static int precheck_file(const gs_tree_change *ch, void *payload)
{
	precheck_ctx *c = payload;
	gs_catalog_ctx cctx;
	gs_cat_errors errs;
	gs_resource *res = NULL;
	gs_error e2 = GS_ERROR_INIT;
	char *data = NULL;
	size_t len = 0;

	if (gs_str_is_zero_oid(ch->new_blob))
		return 0; /* deletions are not checked here */
	if (gs_gitrepo_blob_read(c->git, ch->new_blob, GS_MAX_RESOURCE_FILE_BYTES, &data, &len, &e2) < 0) {
		char head[3];
		size_t got = 0;
		gs_error e3 = GS_ERROR_INIT;
		if (e2.code != GS_ELIMIT) {
			gs_error_set(c->err, GS_ERROR, "git", "%s: %s", ch->path, e2.msg);
			c->failed = 1;
			return 1;
		}
		/* too large to be a resource: never loaded whole; if it claims
		 * to be one, that is an error */
		if (gs_gitrepo_blob_prefix(c->git, ch->new_blob, head, 3, &got, &e3) < 0 ||
		    !gs_frontmatter_is_resource(head, got))
			return 0;
		if (!ch->path_utf8) {
			precheck_bad_path(c, ch);
		} else {
			gs_cat_error big;
			memset(&big, 0, sizeof(big));
			big.line = 1;
			snprintf(big.code, sizeof(big.code), "file_too_large");
			snprintf(big.message, sizeof(big.message), "file is %zu bytes; resource files are limited to %d bytes",
				 len, GS_MAX_RESOURCE_FILE_BYTES);
			c->res->files++;
			precheck_record(c, ch->path, &big);
		}
		return 0;
	}
	if (!gs_frontmatter_is_resource(data, len)) {
		free(data);
		return 0;
	}
	if (!ch->path_utf8) {
		precheck_bad_path(c, ch);
		free(data);
		return 0;
	}
	memset(&cctx, 0, sizeof(cctx));
	cctx.repo_ns = c->repo->ns;
	cctx.repo_name = c->repo->name;
	cctx.path = ch->path;
	cctx.depth = c->depth;
	gs_cat_errors_init(&errs);
	c->res->files++;
	if (gs_catalog_parse(&cctx, data, len, &res, &errs) != 0 || errs.n) {
		for (size_t i = 0; i < errs.n; i++)
			precheck_record(c, ch->path, &errs.v[i]);
		if (errs.dropped) {
			gs_cat_error more;
			memset(&more, 0, sizeof(more));
			snprintf(more.code, sizeof(more.code), "too_many_errors");
			snprintf(more.message, sizeof(more.message), "%zu more errors in this file", errs.dropped);
			precheck_record(c, ch->path, &more);
		}
	} else if (res && res->kind[0]) {
		precheck_policies(c, ch, res);
	}
	gs_resource_free(res);
	gs_cat_errors_release(&errs);
	free(data);
	return 0;
}

int gs_precheck_run(gs_gitrepo *git, const gs_repo_info *repo, const char *draft_branch, gs_catalog_depth depth,
		    const gs_policyset *pols, const char *user, const char *role, const gs_ref_update *u, size_t n,
		    gs_precheck_result *res, gs_error *err)
{
	precheck_ctx c;
	memset(&c, 0, sizeof(c));
	c.git = git;
	c.repo = repo;
	c.depth = depth;
	c.res = res;
	c.budget = PRECHECK_ERRORS_BUDGET;
	c.err = err;
	c.pols = pols;
	c.user = user;
	c.role = role;
	for (size_t i = 0; i < n; i++) {
		char base[41];
		int error;
		if (!gs_str_has_prefix(u[i].ref, "refs/heads/") || gs_str_is_zero_oid(u[i].new_sha))
			continue;
		c.on_draft = strcmp(u[i].ref, draft_branch) == 0;
		memcpy(base, u[i].old_sha, 41);
		if (gs_str_is_zero_oid(base) &&
		    (error = gs_gitrepo_base_for_new_ref(git, u[i].new_sha, u[i].ref, draft_branch, base, err)) < 0)
			return error;
		error = gs_gitrepo_diff(git, base, u[i].new_sha, precheck_file, &c, err);
		if (c.failed)
			return GS_ERROR;
		if (error < 0)
			return error;
	}
	return 0;
}
