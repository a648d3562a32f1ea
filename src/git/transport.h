/*
 * git/transport.h -- runs `git upload-pack|receive-pack --stateless-rpc`
 * for one HTTP request.
 *
 * The child gets a clean environment: system and global git config
 * ignored, core.hooksPath set to the daemon's thin hooks, plus the
 * variables the hooks need (push id, repository uid, hook socket).
 * Ownership: gs_gitproc is embedded by the caller; gs_gitproc_finish
 *   closes its fds and reaps the child.
 * Threads: callable from any thread; fds are CLOEXEC in the parent.
 * Errors: GS_ERROR (fork/exec/pipe failure).
 */
#ifndef GS_TRANSPORT_H
#define GS_TRANSPORT_H

#include <sys/types.h>

#include "util/error.h"

typedef struct gs_gitproc {
	pid_t pid;
	int in_fd;  /* child's stdin, -1 when closed */
	int out_fd; /* child's stdout, -1 when closed */
	int reaped;
	int status; /* waitpid status once reaped */
} gs_gitproc;

typedef struct gs_transport_env {
	const char *hooks_dir;
	const char *hook_socket;
	const char *push_id;     /* NULL for upload-pack */
	const char *repo_uid;
	const char *git_protocol; /* value of the Git-Protocol header, or NULL */
} gs_transport_env;

/* service: "upload-pack" or "receive-pack". */
int gs_gitproc_spawn(gs_gitproc *out, const char *service, int advertise, const char *repo_path,
		     const gs_transport_env *env, gs_error *err);
void gs_gitproc_close_input(gs_gitproc *p);
/* Closes everything and waits for the child; returns its exit code
 * (128+signal if killed). kill_first sends SIGTERM before waiting. */
int gs_gitproc_finish(gs_gitproc *p, int kill_first);

#endif
