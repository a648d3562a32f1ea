/*
 * cli/admin.c -- namespace, repo and token administration.
 *
 * Works directly on the data directory's database, so it is usable while
 * the daemon runs (SQLite serialises the writers).
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "git/gitrepo.h"
#include "refs/refpolicy.h"
#include "refs/reposettings.h"
#include "store/db.h"
#include "store/registry.h"
#include "util/hash.h"
#include "util/str.h"

int gs_cli_opt(int argc, char **argv, int *i, const char *name, const char **value)
{
	size_t n = strlen(name);
	if (strncmp(argv[*i], name, n) != 0)
		return 0;
	if (argv[*i][n] == '=') {
		*value = argv[*i] + n + 1;
		return 1;
	}
	if (argv[*i][n] != 0)
		return 0;
	if (*i + 1 >= argc) {
		*value = NULL;
		return -1;
	}
	*value = argv[++*i];
	return 1;
}

static int admin_open(const char *data, gs_db **db, gs_error *err)
{
	char path[4096];
	if (mkdir(data, 0755) < 0 && errno != EEXIST)
		return gs_error_os(err, data);
	snprintf(path, sizeof(path), "%s/repos", data);
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return gs_error_os(err, path);
	return gs_db_open(db, data, err);
}

/* Inserts the row and creates the bare repository in one transaction:
 * if git init fails nothing is registered. */
static int admin_repo_create(gs_db *db, const char *data, const char *ns, const char *name, gs_repo_info *out,
			     gs_error *err)
{
	char *path = NULL;
	int error;
	memset(out, 0, sizeof(*out));
	if ((error = gs_uuid_v4(out->uid, err)) < 0)
		return error;
	snprintf(out->ns, sizeof(out->ns), "%s", ns);
	snprintf(out->name, sizeof(out->name), "%s", name);
	if ((error = gs_registry_repo_insert(db, out, err)) < 0)
		return error;
	path = gs_gitrepo_path(data, out->uid);
	error = gs_gitrepo_create(path, err);
	free(path);
	return error;
}

static int parse_common(int argc, char **argv, int start, const char **data, const char **pos, int *bad)
{
	for (int i = start; i < argc; i++) {
		const char *v;
		int r = gs_cli_opt(argc, argv, &i, "--data", &v);
		if (r < 0) {
			*bad = 1;
			return -1;
		}
		if (r > 0) {
			*data = v;
			continue;
		}
		if (argv[i][0] == '-' || *pos) {
			*bad = 1;
			return -1;
		}
		*pos = argv[i];
	}
	return 0;
}

int gs_cli_namespace(int argc, char **argv)
{
	const char *data = "./gitstore-data", *name = NULL;
	gs_error err = GS_ERROR_INIT;
	gs_repo_info repo;
	gs_db *db = NULL;
	int bad = 0, error;

	if (argc < 2 || strcmp(argv[1], "create") != 0 || parse_common(argc, argv, 2, &data, &name, &bad) < 0 || !name) {
		fprintf(stderr, "usage: gitstore namespace create NAME [--data DIR]\n");
		return 2;
	}
	if (!gs_str_is_dns_label(name) || strcmp(name, GS_SYSTEM_REPO) == 0) {
		fprintf(stderr, "gitstore: invalid namespace name '%s': use a DNS label (a-z, 0-9, '-', 1-63 chars)\n", name);
		return 1;
	}
	gs_gitrepo_global_init();
	if ((error = admin_open(data, &db, &err)) < 0 || (error = gs_db_begin(db, &err)) < 0 ||
	    (error = gs_registry_ns_insert(db, name, &err)) < 0 ||
	    (error = admin_repo_create(db, data, name, GS_SYSTEM_REPO, &repo, &err)) < 0 ||
	    (error = gs_db_commit(db, &err)) < 0)
		goto out;
	printf("namespace %s created (system repository %s/%s, uid %s)\n", name, name, GS_SYSTEM_REPO, repo.uid);
out:
	if (error < 0) {
		gs_db_rollback(db);
		fprintf(stderr, "gitstore: %s\n", err.msg);
	}
	gs_db_close(db);
	gs_gitrepo_global_shutdown();
	return error < 0 ? 1 : 0;
}

/* `repo set NS/NAME key=value...`: validated against the settings table
 * first, then stored together (all or nothing). */
static int admin_repo_set(int argc, char **argv)
{
	const char *data = "./gitstore-data", *full = NULL;
	const char *pairs[32];
	int npairs = 0, error = 0;
	char ns[64], name[64];
	gs_error err = GS_ERROR_INIT;
	gs_repo_settings check;
	gs_repo_info repo;
	gs_db *db = NULL;

	for (int i = 2; i < argc; i++) {
		const char *v;
		int r = gs_cli_opt(argc, argv, &i, "--data", &v);
		if (r < 0)
			goto usage;
		if (r > 0)
			data = v;
		else if (!full && argv[i][0] != '-')
			full = argv[i];
		else if (strchr(argv[i], '=') && npairs < 32)
			pairs[npairs++] = argv[i];
		else
			goto usage;
	}
	if (!full || npairs == 0)
		goto usage;
	if (gs_str_split_repo(full, ns, name, &err) < 0) {
		fprintf(stderr, "gitstore: %s\n", err.msg);
		return 1;
	}
	gs_reposettings_defaults(&check);
	for (int i = 0; i < npairs; i++) {
		char key[64];
		const char *eq = strchr(pairs[i], '=');
		snprintf(key, sizeof(key), "%.*s", (int)(eq - pairs[i]), pairs[i]);
		if (gs_reposettings_apply(&check, key, eq + 1, &err) < 0) {
			fprintf(stderr, "gitstore: %s\n", err.msg);
			return 1;
		}
	}
	if ((error = admin_open(data, &db, &err)) < 0 || (error = gs_db_begin(db, &err)) < 0 ||
	    (error = gs_registry_repo_lookup(db, ns, name, &repo, &err)) < 0)
		goto out;
	for (int i = 0; i < npairs && !error; i++) {
		char key[64];
		const char *eq = strchr(pairs[i], '=');
		snprintf(key, sizeof(key), "%.*s", (int)(eq - pairs[i]), pairs[i]);
		error = gs_registry_setting_set(db, repo.uid, key, eq + 1, &err);
	}
	if (!error && (error = gs_db_commit(db, &err)) == 0)
		for (int i = 0; i < npairs; i++)
			printf("%s/%s: %s\n", ns, name, pairs[i]);
out:
	if (error < 0) {
		gs_db_rollback(db);
		if (error == GS_ENOTFOUND)
			fprintf(stderr, "gitstore: repository %s/%s not found\n", ns, name);
		else
			fprintf(stderr, "gitstore: %s\n", err.msg);
	}
	gs_db_close(db);
	return error < 0 ? 1 : 0;
usage:
	fprintf(stderr, "usage: gitstore repo set NS/NAME KEY=VALUE... [--data DIR]\n"
			"       keys: draft-branch=refs/heads/NAME, schema-validation=pre-receive|post-receive\n");
	return 2;
}

int gs_cli_repo(int argc, char **argv)
{
	const char *data = "./gitstore-data", *full = NULL;
	char ns[64], name[64];
	gs_error err = GS_ERROR_INIT;
	gs_repo_info repo;
	gs_db *db = NULL;
	int bad = 0, error;

	if (argc >= 2 && strcmp(argv[1], "set") == 0)
		return admin_repo_set(argc, argv);
	if (argc < 2 || strcmp(argv[1], "create") != 0 || parse_common(argc, argv, 2, &data, &full, &bad) < 0 || !full) {
		fprintf(stderr, "usage: gitstore repo create NS/NAME [--data DIR]\n"
				"       gitstore repo set NS/NAME KEY=VALUE... [--data DIR]\n");
		return 2;
	}
	if (gs_str_split_repo(full, ns, name, &err) < 0) {
		fprintf(stderr, "gitstore: %s\n", err.msg);
		return 1;
	}
	gs_gitrepo_global_init();
	if ((error = admin_open(data, &db, &err)) < 0 || (error = gs_db_begin(db, &err)) < 0)
		goto out;
	if ((error = gs_registry_ns_exists(db, ns, &err)) <= 0) {
		if (error == 0)
			error = gs_error_set(&err, GS_ENOTFOUND, "registry", "namespace '%s' does not exist (gitstore namespace create %s)", ns, ns);
		goto out;
	}
	if ((error = admin_repo_create(db, data, ns, name, &repo, &err)) < 0 || (error = gs_db_commit(db, &err)) < 0)
		goto out;
	printf("repository %s/%s created (uid %s)\n", ns, name, repo.uid);
out:
	if (error < 0) {
		gs_db_rollback(db);
		fprintf(stderr, "gitstore: %s\n", err.msg);
	}
	gs_db_close(db);
	gs_gitrepo_global_shutdown();
	return error < 0 ? 1 : 0;
}

int gs_cli_token(int argc, char **argv)
{
	const char *data = "./gitstore-data", *user = NULL;
	gs_grant grants[GS_MAX_TOKEN_ROLES];
	int ngrants = 0, error;
	char secret[65], token[80], hash[GS_SHA256_HEX];
	gs_error err = GS_ERROR_INIT;
	gs_db *db = NULL;

	if (argc < 2 || strcmp(argv[1], "create") != 0)
		goto usage;
	for (int i = 2; i < argc; i++) {
		const char *v;
		int r;
		if ((r = gs_cli_opt(argc, argv, &i, "--data", &v)) != 0) {
			if (r < 0)
				goto usage;
			data = v;
		} else if ((r = gs_cli_opt(argc, argv, &i, "--user", &v)) != 0) {
			if (r < 0)
				goto usage;
			user = v;
		} else if ((r = gs_cli_opt(argc, argv, &i, "--role", &v)) != 0) {
			if (r < 0)
				goto usage;
			if (ngrants >= GS_MAX_TOKEN_ROLES) {
				fprintf(stderr, "gitstore: at most %d roles per token\n", GS_MAX_TOKEN_ROLES);
				return 1;
			}
			if (gs_grant_parse(&grants[ngrants], v, &err) < 0) {
				fprintf(stderr, "gitstore: %s\n", err.msg);
				return 1;
			}
			ngrants++;
		} else {
			goto usage;
		}
	}
	if (!user || ngrants == 0)
		goto usage;
	if (!gs_str_is_dns_label(user)) {
		fprintf(stderr, "gitstore: invalid user name '%s': use a DNS label\n", user);
		return 1;
	}
	if ((error = gs_random_hex(secret, 32, &err)) < 0)
		goto out;
	snprintf(token, sizeof(token), "gst_%s", secret);
	gs_sha256_hex(hash, token, strlen(token));
	if ((error = admin_open(data, &db, &err)) < 0 ||
	    (error = gs_registry_token_insert(db, user, hash, grants, ngrants, &err)) < 0)
		goto out;
	printf("%s\n", token);
out:
	if (error < 0)
		fprintf(stderr, "gitstore: %s\n", err.msg);
	gs_db_close(db);
	return error < 0 ? 1 : 0;
usage:
	fprintf(stderr, "usage: gitstore token create --user NAME --role ROLE:NS [--role ...] [--data DIR]\n"
			"       ROLE is reader, writer, publisher or admin; NS is a namespace or '*'\n");
	return 2;
}
