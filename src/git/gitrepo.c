/*
 * git/gitrepo.c -- libgit2 wrappers.
 *
 * Errors from libgit2 are copied right where they happen (git_error_last
 * may be NULL in 1.5.1, hence gitrepo_error).
 * SPDX-License-Identifier: MIT
 */
#include "git/gitrepo.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <git2.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "limits.h"
#include "util/alloc.h"
#include "util/str.h"
#include "util/utf8.h"

/* A branch tip, for counting the commits of new branches. */
typedef struct gitrepo_branch {
	char *name;
	git_oid id;
} gitrepo_branch;

struct gs_gitrepo {
	git_repository *repo;
	char *path;       /* for git subprocesses */
	char *quarantine; /* NULL unless opened for pre-receive */

	/* Branch tips, read once per handle on the first new-branch count:
	 * a push creating N branches would otherwise read all N branches N
	 * times (gitrepo_hide_other_branches). */
	int branches_loaded;
	gitrepo_branch *branches; /* sorted by name */
	size_t nbranches;
	git_oid *tips;            /* distinct tips, sorted */
	size_t *tip_refs;         /* branches at each tip */
	size_t ntips;
};

static int gitrepo_error(gs_error *err, int rc, const char *what)
{
	const git_error *e = git_error_last();
	gs_code c = rc == GIT_ENOTFOUND ? GS_ENOTFOUND : rc == GIT_EEXISTS ? GS_EEXISTS : GS_ERROR;
	return gs_error_set(err, c, "git", "%s: %s", what, e && e->message ? e->message : "unknown libgit2 error");
}

char *gs_gitrepo_path(const char *data_dir, const char *uid)
{
	return gs_xasprintf("%s/repos/%s.git", data_dir, uid);
}

void gs_gitrepo_global_init(void) { git_libgit2_init(); }
void gs_gitrepo_global_shutdown(void) { git_libgit2_shutdown(); }

int gs_gitrepo_create(const char *path, gs_error *err)
{
	git_repository *repo = NULL;
	git_config *cfg = NULL;
	git_repository_init_options opts = GIT_REPOSITORY_INIT_OPTIONS_INIT;
	int rc, error = 0;

	opts.flags = GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_NO_REINIT | GIT_REPOSITORY_INIT_MKPATH;
	opts.initial_head = "main";
	if ((rc = git_repository_init_ext(&repo, path, &opts)) < 0) {
		error = gitrepo_error(err, rc, path);
		goto out;
	}
	/* receive-pack settings: verify objects (hostile pushes), allow
	 * atomic pushes and push options, keep a reflog for forensics */
	if ((rc = git_repository_config(&cfg, repo)) < 0 ||
	    (rc = git_config_set_bool(cfg, "receive.fsckObjects", 1)) < 0 ||
	    (rc = git_config_set_bool(cfg, "receive.advertiseAtomic", 1)) < 0 ||
	    (rc = git_config_set_bool(cfg, "receive.advertisePushOptions", 1)) < 0 ||
	    (rc = git_config_set_bool(cfg, "core.logAllRefUpdates", 1)) < 0 ||
	    (rc = git_config_set_string(cfg, "receive.denyDeleteCurrent", "ignore")) < 0)
		error = gitrepo_error(err, rc, path);
out:
	git_config_free(cfg);
	git_repository_free(repo);
	return error;
}

/* Removes path if it is a regular file whose name ends in ".lock". */
static int unlink_lock(const char *path, gs_gitrepo_removed_cb cb, void *payload, gs_error *err)
{
	struct stat st;
	size_t n = strlen(path);
	if (n < 5 || strcmp(path + n - 5, ".lock") != 0 || lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;
	if (unlink(path) < 0 && errno != ENOENT)
		return gs_error_os(err, path);
	if (cb)
		cb(path, payload);
	return 0;
}

/* unlink_lock on every file under dir, depth first; ref names are at
 * most GS_MAX_REF_NAME bytes, so is the depth. */
static int remove_locks_under(const char *dir, int depth, gs_gitrepo_removed_cb cb, void *payload, gs_error *err)
{
	DIR *d;
	struct dirent *e;
	int error = 0;
	if (depth > GS_MAX_REF_NAME / 2)
		return 0;
	if (!(d = opendir(dir)))
		return errno == ENOENT || errno == ENOTDIR ? 0 : gs_error_os(err, dir);
	while (!error && (e = readdir(d))) {
		struct stat st;
		char *child;
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		child = gs_xasprintf("%s/%s", dir, e->d_name);
		if (lstat(child, &st) == 0 && S_ISDIR(st.st_mode))
			error = remove_locks_under(child, depth + 1, cb, payload, err);
		else
			error = unlink_lock(child, cb, payload, err);
		free(child);
	}
	closedir(d);
	return error;
}

int gs_gitrepo_remove_stale_locks(const char *path, gs_gitrepo_removed_cb cb, void *payload, gs_error *err)
{
	static const char *const top[] = {"HEAD.lock", "packed-refs.lock"};
	int error = 0;
	for (size_t i = 0; i < sizeof(top) / sizeof(top[0]) && !error; i++) {
		char *f = gs_xasprintf("%s/%s", path, top[i]);
		error = unlink_lock(f, cb, payload, err);
		free(f);
	}
	if (!error) {
		char *refs = gs_xasprintf("%s/refs", path);
		error = remove_locks_under(refs, 0, cb, payload, err);
		free(refs);
	}
	return error;
}

/* rm -r of dir (no symlinks followed); a quarantine holds objects/xx/
 * and pack/, so the depth stays small. */
static int remove_tree(const char *dir, int depth, gs_error *err)
{
	DIR *d;
	struct dirent *e;
	int error = 0;
	if (depth > 8)
		return gs_error_set(err, GS_ERROR, "git", "%s: too deep to remove", dir);
	if (!(d = opendir(dir)))
		return errno == ENOENT ? 0 : gs_error_os(err, dir);
	while (!error && (e = readdir(d))) {
		struct stat st;
		char *child;
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		child = gs_xasprintf("%s/%s", dir, e->d_name);
		if (lstat(child, &st) == 0 && S_ISDIR(st.st_mode))
			error = remove_tree(child, depth + 1, err);
		else if (unlink(child) < 0 && errno != ENOENT)
			error = gs_error_os(err, child);
		free(child);
	}
	closedir(d);
	if (!error && rmdir(dir) < 0 && errno != ENOENT)
		error = gs_error_os(err, dir);
	return error;
}

int gs_gitrepo_remove_stale_quarantines(const char *path, gs_gitrepo_removed_cb cb, void *payload, gs_error *err)
{
	static const char prefix[] = "tmp_objdir-incoming-";
	char *objects = gs_xasprintf("%s/objects", path);
	DIR *d = opendir(objects);
	struct dirent *e;
	int error = 0;
	if (!d) {
		error = errno == ENOENT ? 0 : gs_error_os(err, objects);
		free(objects);
		return error;
	}
	while (!error && (e = readdir(d))) {
		struct stat st;
		char *child;
		if (strncmp(e->d_name, prefix, sizeof(prefix) - 1) != 0)
			continue;
		child = gs_xasprintf("%s/%s", objects, e->d_name);
		if (lstat(child, &st) == 0 && S_ISDIR(st.st_mode) && (error = remove_tree(child, 0, err)) == 0 && cb)
			cb(child, payload);
		free(child);
	}
	closedir(d);
	free(objects);
	return error;
}

int gs_gitrepo_open(gs_gitrepo **out, const char *path, const char *quarantine, gs_error *err)
{
	git_repository *repo = NULL;
	git_odb *odb = NULL;
	int rc, error = 0;

	if ((rc = git_repository_open_bare(&repo, path)) < 0) {
		error = gitrepo_error(err, rc, path);
		goto out;
	}
	if (quarantine && *quarantine) {
		if ((rc = git_repository_odb(&odb, repo)) < 0 ||
		    (rc = git_odb_add_disk_alternate(odb, quarantine)) < 0) {
			error = gitrepo_error(err, rc, "quarantine");
			goto out;
		}
	}
	*out = gs_xcalloc(1, sizeof(**out));
	(*out)->repo = repo;
	(*out)->path = gs_xstrdup(path);
	(*out)->quarantine = quarantine && *quarantine ? gs_xstrdup(quarantine) : NULL;
	repo = NULL;
out:
	git_odb_free(odb);
	git_repository_free(repo);
	return error;
}

void gs_gitrepo_close(gs_gitrepo *r)
{
	if (!r)
		return;
	git_repository_free(r->repo);
	for (size_t i = 0; i < r->nbranches; i++)
		free(r->branches[i].name);
	free(r->branches);
	free(r->tips);
	free(r->tip_refs);
	free(r->path);
	free(r->quarantine);
	free(r);
}

int gs_gitrepo_ref_read(gs_gitrepo *r, const char *ref, char sha[41], gs_error *err)
{
	git_reference *gref = NULL;
	int rc, error = 0;
	if ((rc = git_reference_lookup(&gref, r->repo, ref)) < 0) {
		if (rc == GIT_ENOTFOUND)
			return gs_error_set(err, GS_ENOTFOUND, "git", "ref %s not found", ref);
		return gitrepo_error(err, rc, ref);
	}
	if (git_reference_type(gref) != GIT_REFERENCE_DIRECT)
		error = gs_error_set(err, GS_ENOTFOUND, "git", "ref %s is symbolic", ref);
	else
		git_oid_tostr(sha, 41, git_reference_target(gref));
	git_reference_free(gref);
	return error;
}

static int strcmp_ptr(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int gs_gitrepo_refs_each(gs_gitrepo *r, gs_gitrepo_ref_cb cb, void *payload, gs_error *err)
{
	git_strarray names = {0};
	int rc, error = 0;
	if ((rc = git_reference_list(&names, r->repo)) < 0)
		return gitrepo_error(err, rc, "list refs");
	/* git_reference_list returns names in no promised order */
	if (names.count)
		qsort(names.strings, names.count, sizeof(char *), strcmp_ptr);
	for (size_t i = 0; i < names.count && !error; i++) {
		char sha[41];
		gs_error ignore = GS_ERROR_INIT;
		const char *n = names.strings[i];
		if (!gs_str_has_prefix(n, "refs/heads/") && !gs_str_has_prefix(n, "refs/tags/"))
			continue;
		/* events are JSON: a name that is not UTF-8 (made behind the
		 * service; pushes refuse them) cannot be one */
		if (gs_utf8_first_bad(n, strlen(n)) != (size_t)-1)
			continue;
		if (gs_gitrepo_ref_read(r, n, sha, &ignore) < 0)
			continue;
		error = cb(n, sha, payload);
	}
	git_strarray_dispose(&names);
	return error;
}

static int gitrepo_oid(git_oid *out, const char *sha)
{
	return git_oid_fromstr(out, sha);
}

static int gitrepo_branch_cmp(const void *a, const void *b)
{
	return strcmp(((const gitrepo_branch *)a)->name, ((const gitrepo_branch *)b)->name);
}

static int gitrepo_oid_cmp(const void *a, const void *b)
{
	return git_oid_cmp(a, b);
}

/* Reads the direct branches once: sorted by name, and their distinct
 * tips with the number of branches at each. */
static int gitrepo_branches_load(gs_gitrepo *r)
{
	git_reference_iterator *it = NULL;
	git_reference *ref = NULL;
	size_t cap = 0;
	int rc;
	if (r->branches_loaded)
		return 0;
	if ((rc = git_reference_iterator_glob_new(&it, r->repo, "refs/heads/*")) < 0)
		return rc;
	while ((rc = git_reference_next(&ref, it)) == 0) {
		if (git_reference_type(ref) == GIT_REFERENCE_DIRECT) {
			if (r->nbranches == cap) {
				cap = cap ? cap * 2 : 64;
				r->branches = gs_xrealloc(r->branches, cap * sizeof(*r->branches));
			}
			r->branches[r->nbranches].name = gs_xstrdup(git_reference_name(ref));
			git_oid_cpy(&r->branches[r->nbranches].id, git_reference_target(ref));
			r->nbranches++;
		}
		git_reference_free(ref);
	}
	git_reference_iterator_free(it);
	if (rc != GIT_ITEROVER)
		return rc;
	if (r->nbranches)
		qsort(r->branches, r->nbranches, sizeof(*r->branches), gitrepo_branch_cmp);
	r->tips = gs_xcalloc(r->nbranches + 1, sizeof(*r->tips));
	r->tip_refs = gs_xcalloc(r->nbranches + 1, sizeof(*r->tip_refs));
	for (size_t i = 0; i < r->nbranches; i++)
		git_oid_cpy(&r->tips[i], &r->branches[i].id);
	if (r->nbranches)
		qsort(r->tips, r->nbranches, sizeof(*r->tips), gitrepo_oid_cmp);
	for (size_t i = 0; i < r->nbranches; i++) {
		if (r->ntips == 0 || git_oid_cmp(&r->tips[r->ntips - 1], &r->tips[i]) != 0)
			git_oid_cpy(&r->tips[r->ntips++], &r->tips[i]);
		r->tip_refs[r->ntips - 1]++;
	}
	r->branches_loaded = 1;
	return 0;
}

/* Hides every branch tip except the ref being described, so a new
 * branch counts only the commits no other branch has. Each distinct tip
 * is hidden once; the ref's own tip only if another branch is there too. */
static int gitrepo_hide_other_branches(gs_gitrepo *r, git_revwalk *walk, const char *except)
{
	gitrepo_branch key, *self;
	int rc;
	if ((rc = gitrepo_branches_load(r)) < 0)
		return rc;
	key.name = (char *)except;
	self = r->nbranches ? bsearch(&key, r->branches, r->nbranches, sizeof(*r->branches), gitrepo_branch_cmp) : NULL;
	for (size_t i = 0; i < r->ntips; i++) {
		if (self && r->tip_refs[i] == 1 && git_oid_cmp(&r->tips[i], &self->id) == 0)
			continue;
		git_revwalk_hide(walk, &r->tips[i]); /* a tip that cannot be read hides nothing */
	}
	return 0;
}

static int gitrepo_count(gs_gitrepo *r, const git_oid *newid, const git_oid *oldid, const char *new_branch,
			 gs_update_info *out)
{
	git_revwalk *walk = NULL;
	git_oid id;
	int rc;
	if ((rc = git_revwalk_new(&walk, r->repo)) < 0)
		return rc;
	git_revwalk_sorting(walk, GIT_SORT_NONE);
	if ((rc = git_revwalk_push(walk, newid)) < 0)
		goto out;
	if (oldid)
		git_revwalk_hide(walk, oldid);
	if (new_branch && (rc = gitrepo_hide_other_branches(r, walk, new_branch)) < 0)
		goto out;
	while ((rc = git_revwalk_next(&id, walk)) == 0) {
		if (out->commits == GS_MAX_COMMIT_COUNT) {
			out->commits_truncated = 1; /* at least one more */
			break;
		}
		out->commits++;
	}
	rc = (rc == GIT_ITEROVER || rc == 0) ? 0 : rc;
out:
	git_revwalk_free(walk);
	return rc;
}

int gs_gitrepo_describe(gs_gitrepo *r, const char *ref, const char *old_sha, const char *new_sha, int is_tag,
			gs_update_info *out, gs_error *err)
{
	git_oid oldid, newid;
	int has_old = !gs_str_is_zero_oid(old_sha), has_new = !gs_str_is_zero_oid(new_sha);
	(void)err;
	memset(out, 0, sizeof(*out));
	memcpy(out->target_sha, GS_ZERO_OID, 41);
	if ((has_old && gitrepo_oid(&oldid, old_sha) < 0) || (has_new && gitrepo_oid(&newid, new_sha) < 0))
		return gs_error_set(err, GS_EINVALID, "git", "invalid object id");
	if (!has_new)
		return 0;
	if (is_tag) {
		git_object *obj = NULL, *peeled = NULL;
		if (git_object_lookup(&obj, r->repo, &newid, GIT_OBJECT_ANY) == 0) {
			out->annotated = git_object_type(obj) == GIT_OBJECT_TAG;
			if (git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT) == 0)
				git_oid_tostr(out->target_sha, 41, git_object_id(peeled));
		}
		git_object_free(peeled);
		git_object_free(obj);
		return 0;
	}
	if (has_old) {
		int d = git_graph_descendant_of(r->repo, &newid, &oldid);
		/* d < 0: old object missing (pruned); treat as a rewrite */
		out->forced = d != 1 && git_oid_cmp(&newid, &oldid) != 0;
		if (gitrepo_count(r, &newid, &oldid, NULL, out) < 0)
			out->commits = 0;
	} else if (gitrepo_count(r, &newid, NULL, ref, out) < 0) {
		out->commits = 0;
	}
	return 0;
}

int gs_gitrepo_contains(gs_gitrepo *r, const char *descendant, const char *ancestor, gs_error *err)
{
	git_oid d, a;
	int rc;
	if (gitrepo_oid(&d, descendant) < 0 || gitrepo_oid(&a, ancestor) < 0)
		return gs_error_set(err, GS_EINVALID, "git", "invalid object id");
	if (git_oid_cmp(&d, &a) == 0)
		return 1;
	rc = git_graph_descendant_of(r->repo, &d, &a);
	if (rc < 0)
		return gitrepo_error(err, rc, "ancestry");
	return rc;
}

/* ---- tree diffs and blobs (catalog input) ------------------------------ */

typedef struct diff_ctx {
	gs_tree_change_cb cb;
	void *payload;
	int stop;
} diff_ctx;

static int is_regular_file(uint16_t mode)
{
	return mode == GIT_FILEMODE_BLOB || mode == GIT_FILEMODE_BLOB_EXECUTABLE;
}

static int diff_file_cb(const git_diff_delta *d, float progress, void *payload)
{
	diff_ctx *c = payload;
	gs_tree_change ch;
	int old_ok = is_regular_file(d->old_file.mode), new_ok = is_regular_file(d->new_file.mode);
	(void)progress;
	if (!old_ok && !new_ok)
		return 0;
	memset(&ch, 0, sizeof(ch));
	ch.path = new_ok ? d->new_file.path : d->old_file.path;
	ch.path_utf8 = gs_utf8_first_bad(ch.path, strlen(ch.path)) == (size_t)-1;
	memcpy(ch.old_blob, GS_ZERO_OID, 41);
	memcpy(ch.new_blob, GS_ZERO_OID, 41);
	/* a type change (file <-> symlink) is an add or a delete of the file */
	if (old_ok && d->status != GIT_DELTA_ADDED)
		git_oid_tostr(ch.old_blob, 41, &d->old_file.id);
	if (new_ok && d->status != GIT_DELTA_DELETED)
		git_oid_tostr(ch.new_blob, 41, &d->new_file.id);
	if (strcmp(ch.old_blob, ch.new_blob) == 0)
		return 0;
	c->stop = c->cb(&ch, c->payload);
	return c->stop ? -1 : 0;
}

static int commit_tree(gs_gitrepo *r, const char *sha, git_tree **out)
{
	git_oid id;
	git_commit *commit = NULL;
	int rc;
	*out = NULL;
	if (gs_str_is_zero_oid(sha))
		return 0;
	if ((rc = git_oid_fromstr(&id, sha)) < 0 || (rc = git_commit_lookup(&commit, r->repo, &id)) < 0)
		return rc;
	rc = git_commit_tree(out, commit);
	git_commit_free(commit);
	return rc;
}

int gs_gitrepo_diff(gs_gitrepo *r, const char *old_commit, const char *new_commit, gs_tree_change_cb cb,
		    void *payload, gs_error *err)
{
	git_tree *a = NULL, *b = NULL;
	git_diff *diff = NULL;
	git_diff_options opts = GIT_DIFF_OPTIONS_INIT;
	diff_ctx c = {cb, payload, 0};
	int rc, error = 0;

	/* types of objects are checked by the lookups: a tag or tree id
	 * where a commit is expected is an error, not a silent empty diff */
	if ((rc = commit_tree(r, old_commit, &a)) < 0 || (rc = commit_tree(r, new_commit, &b)) < 0) {
		error = gitrepo_error(err, rc, "commit tree");
		goto out;
	}
	opts.flags = GIT_DIFF_INCLUDE_TYPECHANGE | GIT_DIFF_SKIP_BINARY_CHECK;
	if ((rc = git_diff_tree_to_tree(&diff, r->repo, a, b, &opts)) < 0) {
		error = gitrepo_error(err, rc, "tree diff");
		goto out;
	}
	/* deltas only: git_diff_foreach would build a patch per file and
	 * load both blobs, whole, into memory */
	for (size_t i = 0, n = git_diff_num_deltas(diff); i < n && !c.stop; i++)
		diff_file_cb(git_diff_get_delta(diff, i), 0, &c);
	if (c.stop)
		error = c.stop;
out:
	git_diff_free(diff);
	git_tree_free(a);
	git_tree_free(b);
	return error;
}

int gs_gitrepo_blob_read(gs_gitrepo *r, const char *blob_sha, size_t max, char **out, size_t *len, gs_error *err)
{
	git_oid id;
	git_odb *odb = NULL;
	git_object_t type;
	git_blob *blob = NULL;
	size_t size = 0;
	int rc, error = 0;

	*out = NULL;
	*len = 0;
	if ((rc = git_oid_fromstr(&id, blob_sha)) < 0 || (rc = git_repository_odb(&odb, r->repo)) < 0 ||
	    (rc = git_odb_read_header(&size, &type, odb, &id)) < 0) {
		error = gitrepo_error(err, rc, blob_sha);
		goto out;
	}
	*len = size;
	if (size > max) {
		error = gs_error_set(err, GS_ELIMIT, "git", "blob %.12s is %zu bytes", blob_sha, size);
		goto out;
	}
	if ((rc = git_blob_lookup(&blob, r->repo, &id)) < 0) {
		error = gitrepo_error(err, rc, blob_sha);
		goto out;
	}
	size = (size_t)git_blob_rawsize(blob);
	*out = gs_xmalloc(size + 1);
	memcpy(*out, git_blob_rawcontent(blob), size);
	(*out)[size] = 0;
	*len = size;
out:
	git_blob_free(blob);
	git_odb_free(odb);
	return error;
}

static int base_with(gs_gitrepo *r, const git_oid *newid, const char *branch, git_oid *out)
{
	git_reference *ref = NULL;
	int rc = git_reference_lookup(&ref, r->repo, branch);
	if (rc == 0 && git_reference_type(ref) == GIT_REFERENCE_DIRECT)
		rc = git_merge_base(out, r->repo, newid, git_reference_target(ref));
	else if (rc == 0)
		rc = GIT_ENOTFOUND;
	git_reference_free(ref);
	return rc;
}

int gs_gitrepo_base_for_new_ref(gs_gitrepo *r, const char *new_sha, const char *ref, const char *prefer_ref,
				char out[41], gs_error *err)
{
	git_reference_iterator *it = NULL;
	git_reference *other = NULL;
	git_oid newid, base;
	int rc, found = 0;

	memcpy(out, GS_ZERO_OID, 41);
	if (git_oid_fromstr(&newid, new_sha) < 0)
		return gs_error_set(err, GS_EINVALID, "git", "invalid object id");
	if (prefer_ref && strcmp(prefer_ref, ref) != 0 && base_with(r, &newid, prefer_ref, &base) == 0)
		found = 1;
	if (!found && (rc = git_reference_iterator_glob_new(&it, r->repo, "refs/heads/*")) == 0) {
		while (!found && git_reference_next(&other, it) == 0) {
			const char *name = git_reference_name(other);
			if (strcmp(name, ref) != 0 && base_with(r, &newid, name, &base) == 0)
				found = 1;
			git_reference_free(other);
		}
		git_reference_iterator_free(it);
	}
	if (found)
		git_oid_tostr(out, 41, &base);
	return 0;
}

int gs_gitrepo_blob_prefix(gs_gitrepo *r, const char *blob_sha, char *buf, size_t n, size_t *got, gs_error *err)
{
	int fds[2];
	pid_t pid;
	size_t have = 0;
	if (!gs_str_is_oid(blob_sha))
		return gs_error_set(err, GS_EINVALID, "git", "invalid object id");
	if (pipe2(fds, O_CLOEXEC) < 0)
		return gs_error_os(err, "pipe");
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return gs_error_os(err, "fork");
	}
	if (pid == 0) {
		char *objdir;
		dup2(fds[1], 1);
		if (r->quarantine) {
			/* pushed objects are still in quarantine (pre-receive) */
			objdir = gs_xasprintf("%s/objects", r->path);
			setenv("GIT_OBJECT_DIRECTORY", r->quarantine, 1);
			setenv("GIT_ALTERNATE_OBJECT_DIRECTORIES", objdir, 1);
		}
		execlp("git", "git", "--git-dir", r->path, "cat-file", "blob", blob_sha, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	while (have < n) {
		ssize_t k = read(fds[0], buf + have, n - have);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		have += (size_t)k;
	}
	close(fds[0]); /* git gets SIGPIPE: the rest is never read */
	kill(pid, SIGTERM);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	*got = have;
	return 0;
}

/* ---- commits for API writes ------------------------------------------- */

/* Writes tree (may be NULL: empty) with path set to blob (NULL: removed),
 * rebuilding only the trees along the path, so the cost does not grow
 * with the size of the repository. *out is zeroed when the result is an
 * empty tree (the caller drops it from its parent). */
static int tree_with(git_repository *repo, const git_tree *tree, const char *path, const git_oid *blob, git_oid *out,
		     int *empty, gs_error *err)
{
	git_treebuilder *bld = NULL;
	const char *slash = strchr(path, '/');
	char *name = slash ? gs_xstrndup(path, (size_t)(slash - path)) : gs_xstrdup(path);
	int rc, error = 0;

	if ((rc = git_treebuilder_new(&bld, repo, tree)) < 0)
		goto fail;
	if (slash) {
		const git_tree_entry *e = git_treebuilder_get(bld, name);
		git_tree *sub = NULL;
		git_oid subid;
		int subempty = 0;
		if (e && git_tree_entry_type(e) == GIT_OBJECT_TREE &&
		    (rc = git_tree_lookup(&sub, repo, git_tree_entry_id(e))) < 0)
			goto fail;
		if (!e && !blob) {
			error = gs_error_set(err, GS_ENOTFOUND, "git", "%s is not in the tree", path);
			goto out;
		}
		/* a file where a directory must go is replaced, as git add does */
		error = tree_with(repo, e && git_tree_entry_type(e) == GIT_OBJECT_TREE ? sub : NULL, slash + 1, blob,
				  &subid, &subempty, err);
		git_tree_free(sub);
		if (error < 0)
			goto out;
		rc = subempty ? git_treebuilder_remove(bld, name)
			      : git_treebuilder_insert(NULL, bld, name, &subid, GIT_FILEMODE_TREE);
	} else if (blob) {
		rc = git_treebuilder_insert(NULL, bld, name, blob, GIT_FILEMODE_BLOB);
	} else {
		if (!git_treebuilder_get(bld, name)) {
			error = gs_error_set(err, GS_ENOTFOUND, "git", "%s is not in the tree", path);
			goto out;
		}
		rc = git_treebuilder_remove(bld, name);
	}
	if (rc < 0)
		goto fail;
	*empty = git_treebuilder_entrycount(bld) == 0;
	if (!*empty && (rc = git_treebuilder_write(out, bld)) < 0)
		goto fail;
	goto out;
fail:
	error = gitrepo_error(err, rc, "tree");
out:
	git_treebuilder_free(bld);
	free(name);
	return error;
}

int gs_gitrepo_commit_file(gs_gitrepo *r, const char *parent_sha, const char *path, const char *content, size_t len,
			   const char *name, const char *email, const char *message, char out_sha[41], gs_error *err)
{
	git_commit *parent = NULL;
	git_tree *ptree = NULL, *tree = NULL;
	git_signature *sig = NULL;
	git_oid parent_id, tree_id, commit_id, blob_id;
	int rc, error = 0, has_parent = !gs_str_is_zero_oid(parent_sha), empty = 0;

	if (has_parent && ((rc = git_oid_fromstr(&parent_id, parent_sha)) < 0 ||
			   (rc = git_commit_lookup(&parent, r->repo, &parent_id)) < 0 ||
			   (rc = git_commit_tree(&ptree, parent)) < 0))
		goto fail;
	if (content && (rc = git_blob_create_from_buffer(&blob_id, r->repo, content, len)) < 0)
		goto fail;
	if ((error = tree_with(r->repo, ptree, path, content ? &blob_id : NULL, &tree_id, &empty, err)) < 0)
		goto out;
	if (empty) {
		/* the last file went: the commit has the empty tree */
		git_treebuilder *bld = NULL;
		if ((rc = git_treebuilder_new(&bld, r->repo, NULL)) < 0)
			goto fail;
		rc = git_treebuilder_write(&tree_id, bld);
		git_treebuilder_free(bld);
		if (rc < 0)
			goto fail;
	}
	if ((rc = git_tree_lookup(&tree, r->repo, &tree_id)) < 0 || (rc = git_signature_now(&sig, name, email)) < 0)
		goto fail;
	{
		const git_commit *parents[1] = {parent};
		if ((rc = git_commit_create(&commit_id, r->repo, NULL, sig, sig, NULL, message, tree, has_parent ? 1 : 0,
					    parents)) < 0)
			goto fail;
	}
	git_oid_tostr(out_sha, 41, &commit_id);
	goto out;
fail:
	error = gitrepo_error(err, rc, "commit");
out:
	git_signature_free(sig);
	git_tree_free(tree);
	git_tree_free(ptree);
	git_commit_free(parent);
	return error;
}

int gs_gitrepo_path_blob(gs_gitrepo *r, const char *commit_sha, const char *path, char out[41], gs_error *err)
{
	git_oid id;
	git_commit *commit = NULL;
	git_tree *tree = NULL;
	git_tree_entry *entry = NULL;
	int rc, error = 0;
	if (git_oid_fromstr(&id, commit_sha) < 0)
		return gs_error_set(err, GS_EINVALID, "git", "invalid object id");
	if ((rc = git_commit_lookup(&commit, r->repo, &id)) < 0 || (rc = git_commit_tree(&tree, commit)) < 0) {
		error = gitrepo_error(err, rc, commit_sha);
		goto out;
	}
	rc = git_tree_entry_bypath(&entry, tree, path);
	if (rc == GIT_ENOTFOUND || (rc == 0 && git_tree_entry_filemode(entry) != GIT_FILEMODE_BLOB &&
				    git_tree_entry_filemode(entry) != GIT_FILEMODE_BLOB_EXECUTABLE)) {
		error = gs_error_set(err, GS_ENOTFOUND, "git", "%s is not a file in %.12s", path, commit_sha);
		goto out;
	}
	if (rc < 0) {
		error = gitrepo_error(err, rc, path);
		goto out;
	}
	git_oid_tostr(out, 41, git_tree_entry_id(entry));
out:
	git_tree_entry_free(entry);
	git_tree_free(tree);
	git_commit_free(commit);
	return error;
}

int gs_gitrepo_blob_hash(const char *content, size_t len, char out[41], gs_error *err)
{
	git_oid id;
	int rc = git_odb_hash(&id, content, len, GIT_OBJECT_BLOB);
	if (rc < 0)
		return gitrepo_error(err, rc, "hash");
	git_oid_tostr(out, 41, &id);
	return 0;
}

int gs_gitrepo_ref_cas(gs_gitrepo *r, const char *ref, const char *expect_sha, const char *new_sha, const char *log_message,
		       gs_error *err)
{
	git_oid expect, target;
	git_reference *out = NULL;
	int rc;
	if (git_oid_fromstr(&expect, expect_sha) < 0 || git_oid_fromstr(&target, new_sha) < 0)
		return gs_error_set(err, GS_EINVALID, "git", "invalid object id");
	if (gs_str_is_zero_oid(new_sha)) {
		/* delete under the ref's lock, so the check and the removal
		 * cannot be separated by another writer */
		git_transaction *tx = NULL;
		git_reference *cur = NULL;
		int error = 0;
		if ((rc = git_transaction_new(&tx, r->repo)) < 0 || (rc = git_transaction_lock_ref(tx, ref)) < 0) {
			error = rc == GIT_ELOCKED ? gs_error_set(err, GS_ECONFLICT, "git", "%s is being updated", ref)
						  : gitrepo_error(err, rc, ref);
			goto del_out;
		}
		rc = git_reference_lookup(&cur, r->repo, ref);
		if (rc == GIT_ENOTFOUND || (rc == 0 && (git_reference_type(cur) != GIT_REFERENCE_DIRECT ||
							git_oid_cmp(git_reference_target(cur), &expect) != 0))) {
			error = gs_error_set(err, GS_ECONFLICT, "git", "%s moved", ref);
			goto del_out;
		}
		if (rc < 0 || (rc = git_transaction_remove(tx, ref)) < 0 || (rc = git_transaction_commit(tx)) < 0)
			error = gitrepo_error(err, rc, ref);
	del_out:
		git_reference_free(cur);
		git_transaction_free(tx);
		return error;
	}
	/* zero expected: create only (force 0 fails if it exists) */
	if (gs_str_is_zero_oid(expect_sha))
		rc = git_reference_create(&out, r->repo, ref, &target, 0, log_message);
	else
		rc = git_reference_create_matching(&out, r->repo, ref, &target, 1, &expect, log_message);
	git_reference_free(out);
	if (rc == GIT_EMODIFIED || rc == GIT_EEXISTS || rc == GIT_ELOCKED)
		return gs_error_set(err, GS_ECONFLICT, "git", "%s moved concurrently", ref);
	return rc < 0 ? gitrepo_error(err, rc, ref) : 0;
}
