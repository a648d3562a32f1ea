/*
 * git/transport.c -- spawning git's pack protocol commands.
 * SPDX-License-Identifier: MIT
 */
#include "git/transport.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/alloc.h"
#include "util/str.h"

extern char **environ;

#define TRANSPORT_MAX_ENV 256

static char **transport_env(const gs_transport_env *e)
{
	char **envp = gs_xcalloc(TRANSPORT_MAX_ENV + 16, sizeof(char *));
	size_t n = 0;
	for (char **p = environ; *p && n < TRANSPORT_MAX_ENV; p++) {
		/* inherited GIT_* would point git at the wrong repository or
		 * config; our own variables are set below */
		if (gs_str_has_prefix(*p, "GIT_") || gs_str_has_prefix(*p, "GITSTORE_PUSH_ID=") ||
		    gs_str_has_prefix(*p, "GITSTORE_REPO_UID=") || gs_str_has_prefix(*p, "GITSTORE_HOOK_SOCKET="))
			continue;
		envp[n++] = gs_xstrdup(*p);
	}
	envp[n++] = gs_xstrdup("GIT_CONFIG_NOSYSTEM=1");
	envp[n++] = gs_xstrdup("GIT_CONFIG_GLOBAL=/dev/null");
	envp[n++] = gs_xstrdup("GIT_CONFIG_COUNT=1");
	envp[n++] = gs_xstrdup("GIT_CONFIG_KEY_0=core.hooksPath");
	envp[n++] = gs_xasprintf("GIT_CONFIG_VALUE_0=%s", e->hooks_dir);
	envp[n++] = gs_xasprintf("GITSTORE_HOOK_SOCKET=%s", e->hook_socket);
	envp[n++] = gs_xasprintf("GITSTORE_REPO_UID=%s", e->repo_uid);
	if (e->push_id)
		envp[n++] = gs_xasprintf("GITSTORE_PUSH_ID=%s", e->push_id);
	if (e->git_protocol)
		envp[n++] = gs_xasprintf("GIT_PROTOCOL=%s", e->git_protocol);
	envp[n] = NULL;
	return envp;
}

static void env_free(char **envp)
{
	for (char **p = envp; *p; p++)
		free(*p);
	free(envp);
}

int gs_gitproc_spawn(gs_gitproc *out, const char *service, int advertise, const char *repo_path,
		     const gs_transport_env *env, gs_error *err)
{
	int in[2] = {-1, -1}, outp[2] = {-1, -1};
	char **envp;
	pid_t pid;

	memset(out, 0, sizeof(*out));
	out->in_fd = out->out_fd = -1;
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(outp, O_CLOEXEC) < 0) {
		gs_error_os(err, "pipe");
		goto fail;
	}
	envp = transport_env(env);
	pid = fork();
	if (pid < 0) {
		env_free(envp);
		gs_error_os(err, "fork");
		goto fail;
	}
	if (pid == 0) {
		char *argv[6];
		int i = 0;
		dup2(in[0], 0);
		dup2(outp[1], 1);
		signal(SIGPIPE, SIG_DFL);
		argv[i++] = "git";
		argv[i++] = (char *)service;
		argv[i++] = "--stateless-rpc";
		if (advertise)
			argv[i++] = "--advertise-refs";
		argv[i++] = (char *)repo_path;
		argv[i] = NULL;
		{
			sigset_t none;
			sigemptyset(&none);
			sigprocmask(SIG_SETMASK, &none, NULL);
		}
		execvpe("git", argv, envp);
		_exit(127);
	}
	env_free(envp);
	close(in[0]);
	close(outp[1]);
	out->pid = pid;
	out->in_fd = in[1];
	out->out_fd = outp[0];
	return 0;
fail:
	for (int k = 0; k < 2; k++) {
		if (in[k] >= 0)
			close(in[k]);
		if (outp[k] >= 0)
			close(outp[k]);
	}
	return GS_ERROR;
}

void gs_gitproc_close_input(gs_gitproc *p)
{
	if (p->in_fd >= 0) {
		close(p->in_fd);
		p->in_fd = -1;
	}
}

int gs_gitproc_finish(gs_gitproc *p, int kill_first)
{
	gs_gitproc_close_input(p);
	if (p->pid > 0 && !p->reaped) {
		if (kill_first)
			kill(p->pid, SIGTERM);
		if (p->out_fd >= 0) {
			close(p->out_fd);
			p->out_fd = -1;
		}
		while (waitpid(p->pid, &p->status, 0) < 0 && errno == EINTR)
			;
		p->reaped = 1;
	}
	if (p->out_fd >= 0) {
		close(p->out_fd);
		p->out_fd = -1;
	}
	if (!p->reaped)
		return -1;
	if (WIFEXITED(p->status))
		return WEXITSTATUS(p->status);
	return 128 + (WIFSIGNALED(p->status) ? WTERMSIG(p->status) : 0);
}
