/*
 * cli/hook.c -- `gitstore hook NAME [ARGS]`, run by git inside
 * receive-pack. Thin: forwards stdin and the push's environment to the
 * daemon over the Unix socket and relays the answer.
 *
 * Fail closed: pre-receive and reference-transaction "prepared" refuse
 * when the daemon cannot be reached. For "committed", "aborted" and
 * post-receive the ref outcome is already decided; the hook retries
 * briefly and otherwise leaves the journal to start-up recovery.
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "git/hooksock.h"
#include "limits.h"
#include "util/buf.h"

static int hook_read_updates(json_t *arr, gs_error *err)
{
	gs_buf in;
	char chunk[65536];
	size_t n;
	int error = 0;
	gs_buf_init(&in, GS_MAX_HOOK_MSG_BYTES / 2);
	while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0)
		if ((error = gs_buf_add(&in, chunk, n, err)) < 0)
			goto out;
	for (char *line = in.ptr, *next; line && *line; line = next) {
		char o[41], nw[41], *ref;
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		if (strlen(line) < 83 || line[40] != ' ' || line[81] != ' ') {
			error = gs_error_set(err, GS_EINVALID, "hook", "malformed hook input line");
			goto out;
		}
		memcpy(o, line, 40);
		o[40] = 0;
		memcpy(nw, line + 41, 40);
		nw[40] = 0;
		ref = line + 82;
		/* NULL for a name that is not UTF-8: refuse rather than drop it */
		if (json_array_append_new(arr, json_pack("[s, s, s]", o, nw, ref)) < 0) {
			error = gs_error_set(err, GS_EINVALID, "hook", "ref name is not valid UTF-8");
			goto out;
		}
	}
out:
	gs_buf_release(&in);
	return error;
}

int gs_cli_hook(int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : "", *phase = argc > 2 ? argv[2] : NULL;
	const char *sock = getenv("GITSTORE_HOOK_SOCKET"), *push_id = getenv("GITSTORE_PUSH_ID");
	const char *repo = getenv("GITSTORE_REPO_UID"), *quarantine = getenv("GIT_QUARANTINE_PATH");
	int must_answer = strcmp(name, "pre-receive") == 0 || (phase && strcmp(phase, "prepared") == 0);
	gs_error err = GS_ERROR_INIT;
	json_t *req, *updates = json_array(), *reply = NULL;
	struct timespec ts;
	int code = 1, attempts = must_answer ? 1 : 15;

	if (strcmp(name, "pre-receive") != 0 && strcmp(name, "post-receive") != 0 &&
	    strcmp(name, "reference-transaction") != 0) {
		fprintf(stderr, "usage: gitstore hook pre-receive|reference-transaction PHASE|post-receive\n");
		json_decref(updates);
		return 2;
	}
	if (!sock || !push_id || !repo) {
		/* not a push run by the daemon (hooksPath is only set there) */
		json_decref(updates);
		if (must_answer)
			fprintf(stderr, "gitstore: hook run outside a gitstore push; refusing\n");
		return must_answer ? 1 : 0;
	}
	if (hook_read_updates(updates, &err) < 0) {
		fprintf(stderr, "gitstore: %s\n", err.msg);
		json_decref(updates);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	req = json_pack("{s:s, s:s, s:s, s:o, s:I}", "hook", name, "pushId", push_id, "repoUid", repo, "updates", updates,
			"sentAtUs", (json_int_t)((int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000));
	if (phase)
		json_object_set_new(req, "phase", json_string(phase));
	if (quarantine)
		json_object_set_new(req, "quarantine", json_string(quarantine));
	for (int i = 0; i < attempts; i++) {
		gs_error_clear(&err);
		if (gs_hooksock_call(sock, req, &reply, GS_HOOK_TIMEOUT_S, &err) == 0)
			break;
		if (i + 1 < attempts)
			usleep(200 * 1000);
	}
	if (!reply) {
		if (must_answer) {
			fprintf(stderr, "gitstore: %s; push refused (fail closed)\n", err.msg);
			code = 1;
		} else {
			fprintf(stderr, "gitstore: warning: %s; the daemon will record this on recovery\n", err.msg);
			code = 0;
		}
	} else {
		const char *msg = json_string_value(json_object_get(reply, "message"));
		json_t *ex = json_object_get(reply, "exit");
		if (msg && *msg)
			fputs(msg, stderr);
		code = json_is_integer(ex) ? (int)json_integer_value(ex) : 1;
	}
	json_decref(reply);
	json_decref(req);
	return code;
}
