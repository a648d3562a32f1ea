/*
 * cli/policy.c -- `gitstore policy test POLICY.md RESOURCE.md...`: runs
 * one ValidatingAdmissionPolicy against resource files offline, through
 * the same admission function the server uses (built-in cross-object
 * checks see an empty namespace, so only the policy and the schema can
 * deny). One line per resource: `path: allowed`, `path: denied: ...`,
 * plus `path: warning: ...` lines. Exit: 0 all allowed, 1 any denied or
 * unreadable/invalid input, 2 usage.
 * SPDX-License-Identifier: MIT
 */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admission/admission.h"
#include "catalog/resource.h"
#include "cli/cli.h"
#include "limits.h"
#include "refs/refpolicy.h"
#include "util/alloc.h"

static const char POLICY_USAGE[] =
	"usage: gitstore policy test [--namespace NS] [--operation CREATE|UPDATE] [--user NAME --role ROLE]\n"
	"                            POLICY.md RESOURCE.md...\n"
	"\n"
	"  Evaluates the policy against each resource file as the server's admission\n"
	"  would (namespace NS, default \"default\"); exits 1 when any is denied.\n";

typedef struct policy_opts {
	const char *ns, *op, *user, *role;
	int first; /* argv index of POLICY.md */
} policy_opts;

static int policy_none_lookup(void *p, const char *kind, const char *name, gs_adm_object *out)
{
	(void)p, (void)kind, (void)name, (void)out;
	return 0;
}

static int policy_none_sku(void *p, const char *sku, const char *name, char owner[64])
{
	(void)p, (void)sku, (void)name, (void)owner;
	return 0;
}

/* Reads and parses path at full depth; errors printed. NULL on failure. */
static gs_resource *policy_parse(const char *path, const char *ns, const char *repo, const char *as_path,
				 gs_cat_errors *errs)
{
	gs_buf buf;
	gs_error err = GS_ERROR_INIT;
	long long size = 0;
	gs_catalog_ctx cctx;
	gs_resource *res = NULL;
	gs_buf_init(&buf, GS_MAX_RESOURCE_FILE_BYTES);
	if (gs_cli_read_file(path, &buf, &size, &err) < 0) {
		fprintf(stderr, "gitstore: %s\n", err.msg);
		gs_buf_release(&buf);
		return NULL;
	}
	memset(&cctx, 0, sizeof(cctx));
	cctx.repo_ns = ns;
	cctx.repo_name = repo;
	cctx.path = as_path;
	cctx.depth = GS_CATALOG_FULL;
	if (gs_catalog_parse(&cctx, buf.ptr ? buf.ptr : "", buf.len, &res, errs) == GS_ENOTFOUND)
		fprintf(stderr, "gitstore: %s: not a resource file (no front-matter)\n", path);
	for (size_t i = 0; i < errs->n; i++)
		printf("%s:%u: %s%s%s [%s]\n", path, errs->v[i].line, errs->v[i].field, errs->v[i].field[0] ? ": " : "",
		       errs->v[i].message, errs->v[i].code);
	gs_buf_release(&buf);
	if (res && errs->n == 0)
		return res;
	if (res && errs->n)
		return res; /* schema errors: admission reports them as a denial */
	return NULL;
}

static int policy_opts_parse(int argc, char **argv, policy_opts *o)
{
	int i = 2;
	o->ns = "default";
	o->op = "CREATE";
	o->user = "";
	o->role = NULL;
	while (i < argc && strncmp(argv[i], "--", 2) == 0) {
		static const char *const names[] = {"--namespace", "--operation", "--user", "--role"};
		const char **dst[] = {&o->ns, &o->op, &o->user, &o->role};
		int r = 0;
		for (size_t k = 0; k < 4 && r == 0; k++)
			if ((r = gs_cli_opt(argc, argv, &i, names[k], dst[k])) < 0)
				return -1;
		if (r == 0)
			return -1;
		i++;
	}
	o->first = i;
	if (argc - i < 2 || (strcmp(o->op, "CREATE") != 0 && strcmp(o->op, "UPDATE") != 0))
		return -1;
	return 0;
}

/* Admits one resource under the policy; prints the outcome. 1 if denied. */
static int policy_run_one(const policy_opts *o, gs_adm_policy *pol, const char *path)
{
	gs_cat_errors errs;
	gs_resource *res;
	gs_adm_request q;
	gs_adm_response r;
	gs_adm_view v = {policy_none_lookup, policy_none_sku, NULL, &pol, 1};
	const char *roles[1] = {o->role};
	size_t i;
	json_t *w;
	int denied;

	gs_cat_errors_init(&errs);
	if (!(res = policy_parse(path, o->ns, "catalog", path, &errs))) {
		gs_cat_errors_release(&errs);
		printf("%s: denied: the file could not be read as a resource\n", path);
		return 1;
	}
	memset(&q, 0, sizeof(q));
	q.operation = strcmp(o->op, "UPDATE") == 0 ? GS_ADM_UPDATE : GS_ADM_CREATE;
	q.object.kind = res->kind;
	q.object.ns = res->ns;
	q.object.name = res->name;
	q.object.spec = res->spec;
	q.object.labels = res->labels;
	if (q.operation == GS_ADM_UPDATE)
		q.old_object = q.object; /* offline: the version stands in for its predecessor */
	q.user = o->user;
	q.roles = roles;
	q.nroles = o->role ? 1 : 0;
	q.origin = "api";
	q.dry_run = 1;
	q.schema_errors = &errs;
	gs_adm_response_init(&r);
	gs_admission_review(&q, &v, &r);
	json_array_foreach(r.warnings, i, w) printf("%s: warning: %s\n", path, json_string_value(w));
	denied = !r.allowed;
	if (denied)
		printf("%s: denied (%d %s)%s%s: %s\n", path, r.code, r.reason, r.policy[0] ? " by policy " : "", r.policy,
		       r.message);
	else
		printf("%s: allowed\n", path);
	gs_adm_response_release(&r);
	gs_cat_errors_release(&errs);
	gs_resource_free(res);
	return denied;
}

static int policy_test(int argc, char **argv)
{
	policy_opts o;
	gs_cat_errors errs;
	gs_resource *pres;
	gs_adm_policy *pol = NULL;
	gs_error err = GS_ERROR_INIT;
	char *copy, *as_path;
	int denied = 0;

	if (policy_opts_parse(argc, argv, &o) < 0) {
		fputs(POLICY_USAGE, stderr);
		return 2;
	}
	/* checked as if it lived where policies live */
	copy = gs_xstrdup(argv[o.first]);
	as_path = gs_xasprintf("policies/%s", basename(copy));
	gs_cat_errors_init(&errs);
	pres = policy_parse(argv[o.first], o.ns, GS_SYSTEM_REPO, as_path, &errs);
	free(as_path);
	free(copy);
	if (!pres || errs.n || strcmp(pres->kind, "ValidatingAdmissionPolicy") != 0 ||
	    gs_adm_policy_compile(pres->name, pres->spec, &pol, &err) < 0) {
		if (pres && !errs.n && strcmp(pres->kind, "ValidatingAdmissionPolicy") != 0)
			fprintf(stderr, "gitstore: %s: kind is %s, not ValidatingAdmissionPolicy\n", argv[o.first], pres->kind);
		else if (err.msg[0])
			fprintf(stderr, "gitstore: %s: %s\n", argv[o.first], err.msg);
		gs_resource_free(pres);
		gs_cat_errors_release(&errs);
		return 1;
	}
	for (int i = o.first + 1; i < argc; i++)
		denied |= policy_run_one(&o, pol, argv[i]);
	gs_adm_policy_free(pol);
	gs_resource_free(pres);
	gs_cat_errors_release(&errs);
	return denied ? 1 : 0;
}

int gs_cli_policy(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "test") == 0)
		return policy_test(argc, argv);
	fputs(POLICY_USAGE, stderr);
	return 2;
}
