/*
 * http/githttp.c -- Git smart HTTP: info/refs, git-upload-pack,
 * git-receive-pack, served by spawning git with --stateless-rpc.
 *
 * Request bodies are streamed into git as they arrive (gzip decoded on
 * the fly); nothing is buffered whole. A receive-pack body's command list
 * is parsed and checked before git starts, so a malformed request never
 * reaches git and is answered 400. The response streams git's output and
 * ends only after the push's events are recorded (gs_refs_push_end), so
 * `git push` returns after its events are durable.
 * Threads: runs on the connection's own MHD thread; may block on pipes.
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "git/gitrepo.h"
#include "http/internal.h"
#include "http/reqparse.h"
#include "limits.h"
#include "log/log.h"
#include "util/alloc.h"
#include "util/str.h"

#define GIT_IO_CHUNK (64 * 1024)

static void git_fail(gs_req *req, unsigned status, const char *fmt, const char *arg)
{
	if (req->failed)
		return;
	req->failed = 1;
	req->fail_status = status;
	snprintf(req->fail_msg, sizeof(req->fail_msg), fmt, arg ? arg : "");
}

static MHD_Result_t git_send_fail(gs_req *req)
{
	char body[400];
	int n = snprintf(body, sizeof(body), "%s\n", req->fail_msg);
	return gs_http__send(req->conn, req->fail_status, "text/plain; charset=utf-8", body, (size_t)n);
}

static int git_protocol_header(gs_req *req)
{
	const char *gp = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Git-Protocol");
	if (!gp)
		return 0;
	if (strlen(gp) >= sizeof(req->git_protocol))
		return -1;
	for (const char *c = gp; *c; c++)
		if (*c < 0x20 || *c > 0x7e)
			return -1;
	memcpy(req->git_protocol, gp, strlen(gp) + 1);
	req->has_git_protocol = 1;
	return 0;
}

static int git_spawn(gs_req *req, int advertise, gs_error *err)
{
	gs_transport_env env;
	char *path = gs_gitrepo_path(req->h->ctx.data_dir, req->repo.uid);
	int error;
	memset(&env, 0, sizeof(env));
	env.hooks_dir = req->h->ctx.hooks_dir;
	env.hook_socket = req->h->ctx.hook_socket;
	env.repo_uid = req->repo.uid;
	env.push_id = req->push_begun ? req->push_id : NULL;
	env.git_protocol = req->has_git_protocol ? req->git_protocol : NULL;
	error = gs_gitproc_spawn(&req->proc, req->receive ? "receive-pack" : "upload-pack", advertise, path, &env, err);
	free(path);
	if (error == 0)
		req->spawned = 1;
	return error;
}

/* Reads whatever git has written so far into req->early (bounded). */
static int git_drain_output(gs_req *req)
{
	char buf[GIT_IO_CHUNK];
	ssize_t n = read(req->proc.out_fd, buf, sizeof(buf));
	if (n > 0) {
		gs_error err = GS_ERROR_INIT;
		if (gs_buf_add(&req->early, buf, (size_t)n, &err) < 0) {
			git_fail(req, 500, "git produced too much output before the request was read%s", "");
			return -1;
		}
	}
	return 0;
}

/* Writes to git's stdin, draining its stdout meanwhile so neither side
 * blocks forever on a full pipe. */
static void git_write(gs_req *req, const char *data, size_t len)
{
	size_t done = 0;
	while (done < len && req->proc.in_fd >= 0 && !req->failed) {
		struct pollfd p[2] = {{req->proc.in_fd, POLLOUT, 0}, {req->proc.out_fd, POLLIN, 0}};
		int pr = poll(p, req->proc.out_fd >= 0 ? 2 : 1, GS_HTTP_IDLE_TIMEOUT_S * 1000);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0) {
			git_fail(req, 500, "git stopped reading the request%s", "");
			return;
		}
		if (req->proc.out_fd >= 0 && (p[1].revents & (POLLIN | POLLHUP)) && git_drain_output(req) < 0)
			return;
		if (p[0].revents & (POLLERR | POLLHUP)) {
			/* git exited early (it reports why in its output) */
			gs_gitproc_close_input(&req->proc);
			return;
		}
		if (p[0].revents & POLLOUT) {
			ssize_t n = write(req->proc.in_fd, data + done, len - done);
			if (n < 0) {
				if (errno == EINTR || errno == EAGAIN)
					continue;
				gs_gitproc_close_input(&req->proc);
				return;
			}
			done += (size_t)n;
		}
	}
}

static int receive_start(gs_req *req)
{
	gs_error err = GS_ERROR_INIT;
	if (gs_refs_push_begin(req->h->ctx.refs, &req->repo, &req->who, "git", &req->cmds, req->push_id, &err) < 0) {
		GS_LOG(GS_LOG_ERROR, "http", "push not started: %s", err.msg);
		git_fail(req, 503, "cannot record the push: %s", err.msg);
		return -1;
	}
	req->push_begun = 1;
	if (git_spawn(req, 0, &err) < 0) {
		git_fail(req, 500, "cannot start git: %s", err.msg);
		return -1;
	}
	git_write(req, req->pending.ptr, req->pending.len);
	gs_buf_release(&req->pending);
	return 0;
}

/* pkt-line framing callback for upload-pack: framing only. */
static int upload_pkt_ok(int kind, const char *d, size_t l, void *p, gs_error *e)
{
	(void)kind;
	(void)d;
	(void)l;
	(void)p;
	(void)e;
	return 0;
}

static void git_process_decoded(gs_req *req, const char *data, size_t len)
{
	gs_error err = GS_ERROR_INIT;
	uint64_t max = req->receive ? (uint64_t)GS_MAX_PUSH_BYTES : (uint64_t)GS_MAX_UPLOAD_REQUEST_BYTES;
	req->body_bytes += len;
	if (req->body_bytes > max) {
		git_fail(req, 413, "request body too large%s", "");
		return;
	}
	if (req->receive) {
		if (!req->cmds.done) {
			size_t used = 0;
			if (gs_push_cmds_feed(&req->cmds, data, len, &used, &err) < 0) {
				git_fail(req, err.code == GS_ELIMIT ? 413 : 400, "%s", err.msg);
				return;
			}
			if (gs_buf_add(&req->pending, data, used, &err) < 0) {
				git_fail(req, 413, "push command list too large%s", "");
				return;
			}
			data += used;
			len -= used;
			if (!req->cmds.done || receive_start(req) < 0)
				return;
		}
		if (len)
			git_write(req, data, len);
		return;
	}
	if (gs_pkt_feed(&req->rd, data, len, NULL, upload_pkt_ok, NULL, &err) < 0) {
		git_fail(req, 400, "%s", err.msg);
		return;
	}
	git_write(req, data, len);
}

static void git_process_input(gs_req *req, const char *data, size_t len)
{
	unsigned char out[GIT_IO_CHUNK];
	if (!req->gzip) {
		git_process_decoded(req, data, len);
		return;
	}
	req->zs.next_in = (unsigned char *)data;
	req->zs.avail_in = (unsigned)len;
	while (req->zs.avail_in > 0 && !req->failed) {
		int zr;
		req->zs.next_out = out;
		req->zs.avail_out = sizeof(out);
		zr = inflate(&req->zs, Z_NO_FLUSH);
		if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR) {
			git_fail(req, 400, "invalid gzip request body%s", "");
			return;
		}
		git_process_decoded(req, (const char *)out, sizeof(out) - req->zs.avail_out);
		if (zr == Z_STREAM_END) {
			req->zs_done = 1;
			break;
		}
		if (zr == Z_BUF_ERROR && req->zs.avail_out != 0)
			break;
	}
}

static ssize_t git_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	gs_req *req = cls;
	(void)pos;
	if (req->early_off < req->early.len) {
		size_t n = req->early.len - req->early_off;
		if (n > max)
			n = max;
		memcpy(buf, req->early.ptr + req->early_off, n);
		req->early_off += n;
		return (ssize_t)n;
	}
	while (req->proc.out_fd >= 0) {
		ssize_t n = read(req->proc.out_fd, buf, max);
		if (n > 0)
			return n;
		if (n < 0 && errno == EINTR)
			continue;
		break;
	}
	if (req->spawned && !req->proc.reaped) {
		int code = gs_gitproc_finish(&req->proc, 0);
		if (code != 0)
			GS_LOG(GS_LOG_INFO, "http", "git %s exited with %d", req->receive ? "receive-pack" : "upload-pack", code);
	}
	if (req->push_begun) {
		/* record push-completed / rejections before the body ends */
		gs_refs_push_end(req->h->ctx.refs, req->push_id);
		req->push_begun = 0;
	}
	return MHD_CONTENT_READER_END_OF_STREAM;
}

static MHD_Result_t git_stream_response(gs_req *req, const char *ctype)
{
	struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, GIT_IO_CHUNK, git_reader, req, NULL);
	MHD_Result_t ret;
	MHD_add_response_header(r, "Content-Type", ctype);
	MHD_add_response_header(r, "Cache-Control", "no-cache, max-age=0, must-revalidate");
	MHD_add_response_header(r, "Expires", "Fri, 01 Jan 1980 00:00:00 GMT");
	MHD_add_response_header(r, "Pragma", "no-cache");
	/* git may stay silent for long (thousands of ref updates before the
	 * report); the idle timeout guarded the request phase only */
	MHD_set_connection_option(req->conn, MHD_CONNECTION_OPTION_TIMEOUT, (unsigned)GS_GIT_RESPONSE_TIMEOUT_S);
	ret = MHD_queue_response(req->conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

static MHD_Result_t git_info_refs(gs_req *req)
{
	const char *svc = MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, "service");
	char ctype[96], hdr[64];
	gs_error err = GS_ERROR_INIT;
	int v2 = req->has_git_protocol && strstr(req->git_protocol, "version=2") != NULL;
	(void)svc;
	snprintf(ctype, sizeof(ctype), "application/x-git-%s-advertisement", req->receive ? "receive-pack" : "upload-pack");
	gs_buf_init(&req->early, GS_MAX_EARLY_OUTPUT_BYTES);
	if (req->receive || !v2) {
		/* smart HTTP v0/v1 announces the service first; v2 does not */
		int n = snprintf(hdr, sizeof(hdr), "# service=git-%s\n", req->receive ? "receive-pack" : "upload-pack");
		gs_buf_printf(&req->early, &err, "%04x%s0000", n + 4, hdr);
	}
	if (git_spawn(req, 1, &err) < 0)
		return gs_http__send_error(req->conn, 500, "git_unavailable", err.msg);
	gs_gitproc_close_input(&req->proc);
	return git_stream_response(req, ctype);
}

static MHD_Result_t git_first_call(gs_req *req, const char *url, const char *method, int *done)
{
	char ns[64], name[64];
	gs_gitroute route = 0;
	gs_error err = GS_ERROR_INIT;
	gs_role need;
	gs_db *db;
	int error;

	*done = 1;
	if (gs_reqparse_git_url(url, ns, name, &route) < 0)
		return gs_http__send_error(req->conn, 400, "invalid_repository_path",
					   "repository paths are /<namespace>/<repository>.git with DNS-label names");
	if ((route == GS_GITROUTE_INFO_REFS && strcmp(method, "GET") != 0) || (route != GS_GITROUTE_INFO_REFS && strcmp(method, "POST") != 0))
		return gs_http__send_error(req->conn, 405, "method_not_allowed", "method not allowed on this git route");
	if (route == GS_GITROUTE_INFO_REFS) {
		const char *svc = MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, "service");
		if (!svc || (strcmp(svc, "git-upload-pack") != 0 && strcmp(svc, "git-receive-pack") != 0))
			return gs_http__send_error(req->conn, 403, "smart_http_only",
						   "only smart HTTP is served (service=git-upload-pack|git-receive-pack)");
		req->receive = strcmp(svc, "git-receive-pack") == 0;
	} else {
		req->receive = route == GS_GITROUTE_RECEIVE;
	}
	if (git_protocol_header(req) < 0)
		return gs_http__send_error(req->conn, 400, "invalid_git_protocol", "invalid Git-Protocol header");
	if (gs_http__authenticate(req, &err) < 0)
		return err.code == GS_EAUTH ? gs_http__send_401(req->conn)
					   : gs_http__send_error(req->conn, 503, "unavailable", err.msg);
	db = gs_dbpool_get(req->h->ctx.pool);
	gs_error_clear(&err);
	error = gs_registry_repo_lookup(db, ns, name, &req->repo, &err);
	gs_dbpool_put(req->h->ctx.pool, db);
	if (error == GS_ENOTFOUND)
		return gs_http__send_error(req->conn, 404, "repository_not_found", "repository not found");
	if (error < 0)
		return gs_http__send_error(req->conn, 503, "unavailable", err.msg);
	need = req->receive ? GS_ROLE_WRITER : GS_ROLE_READER;
	if (!gs_principal_can(&req->who, ns, need)) {
		char msg[256];
		snprintf(msg, sizeof(msg), "%s needs the %s role on namespace %s (you have %s)",
			 req->receive ? "pushing" : "reading", gs_role_name(need), ns,
			 gs_role_name(gs_principal_role(&req->who, ns)));
		if (req->receive) {
			gs_error_clear(&err);
			if (gs_refs_reject_transport(req->h->ctx.refs, &req->repo, &req->who, "writer_role_required", msg,
						     &err) < 0)
				GS_LOG(GS_LOG_ERROR, "http", "push-rejected not recorded: %s", err.msg);
		}
		return gs_http__send_error(req->conn, 403, "forbidden", msg);
	}
	if (route == GS_GITROUTE_INFO_REFS)
		return git_info_refs(req);

	{
		const char *ct = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Content-Type");
		char want[64];
		snprintf(want, sizeof(want), "application/x-git-%s-request", req->receive ? "receive-pack" : "upload-pack");
		if (!ct || strcmp(ct, want) != 0)
			return gs_http__send_error(req->conn, 415, "unsupported_media_type", "wrong Content-Type for git request");
	}
	{
		const char *ce = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Content-Encoding");
		if (ce && (strcmp(ce, "gzip") == 0 || strcmp(ce, "x-gzip") == 0)) {
			memset(&req->zs, 0, sizeof(req->zs));
			if (inflateInit2(&req->zs, 16 + MAX_WBITS) != Z_OK)
				return gs_http__send_error(req->conn, 500, "internal", "zlib init");
			req->zs_init = 1;
			req->gzip = 1;
		} else if (ce && strcmp(ce, "identity") != 0) {
			return gs_http__send_error(req->conn, 415, "unsupported_encoding", "only gzip request bodies are accepted");
		}
	}
	req->kind = REQ_GIT_SERVICE;
	gs_buf_init(&req->early, GS_MAX_EARLY_OUTPUT_BYTES);
	if (req->receive) {
		gs_push_cmds_init(&req->cmds);
		gs_buf_init(&req->pending, GS_MAX_HOOK_MSG_BYTES * 2);
	} else {
		gs_pkt_reader_init(&req->rd);
		if (git_spawn(req, 0, &err) < 0)
			return gs_http__send_error(req->conn, 500, "git_unavailable", err.msg);
	}
	*done = 0;
	return MHD_YES;
}

MHD_Result_t gs_githttp_handle(gs_req *req, const char *url, const char *method, const char *upload,
			       size_t *upload_size)
{
	char ctype[64];
	if (!req->started) {
		int done;
		MHD_Result_t ret;
		req->started = 1;
		ret = git_first_call(req, url, method, &done);
		if (done || ret != MHD_YES)
			return ret;
		return MHD_YES;
	}
	if (*upload_size) {
		if (!req->failed)
			git_process_input(req, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	/* whole body received */
	if (!req->failed) {
		if (req->receive && !req->cmds.done)
			git_fail(req, 400, "malformed pkt-line: push request ends before its command list%s", "");
		else if (!req->receive && !gs_pkt_at_boundary(&req->rd))
			git_fail(req, 400, "malformed pkt-line: request ends inside a packet%s", "");
		else if (req->gzip && !req->zs_done)
			git_fail(req, 400, "invalid gzip request body: truncated stream%s", "");
	}
	if (req->failed) {
		if (req->spawned && !req->proc.reaped)
			gs_gitproc_finish(&req->proc, 1);
		return git_send_fail(req);
	}
	gs_gitproc_close_input(&req->proc);
	snprintf(ctype, sizeof(ctype), "application/x-git-%s-result", req->receive ? "receive-pack" : "upload-pack");
	return git_stream_response(req, ctype);
}

void gs_githttp_complete(gs_req *req)
{
	if (req->spawned && !req->proc.reaped)
		gs_gitproc_finish(&req->proc, !req->receive); /* never kill a push mid-transaction */
	if (req->push_begun) {
		gs_refs_push_end(req->h->ctx.refs, req->push_id);
		req->push_begun = 0;
	}
	if (req->zs_init)
		inflateEnd(&req->zs);
	gs_push_cmds_release(&req->cmds);
	gs_pkt_reader_release(&req->rd);
	gs_buf_release(&req->pending);
	gs_buf_release(&req->early);
}
