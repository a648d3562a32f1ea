/*
 * http/server.c -- libmicrohttpd glue: daemon start/stop, dispatch,
 * authentication, error responses.
 *
 * Threads: MHD_USE_THREAD_PER_CONNECTION, so handlers may block (git
 * pipes, SSE waits). Per-request state lives in gs_req, freed in
 * request_completed.
 * Only this folder maps gs_code to HTTP statuses.
 * SPDX-License-Identifier: MIT
 */
#include "http/internal.h"
#include "http/reqparse.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "limits.h"
#include "log/log.h"
#include "store/registry.h"
#include "util/alloc.h"
#include "util/hash.h"
#include "util/str.h"

MHD_Result_t gs_http__send(struct MHD_Connection *c, unsigned status, const char *ctype, const char *body, size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	MHD_Result_t ret;
	if (!r)
		return MHD_NO;
	if (ctype)
		MHD_add_response_header(r, "Content-Type", ctype);
	MHD_add_response_header(r, "Cache-Control", "no-cache");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

MHD_Result_t gs_http__send_error(struct MHD_Connection *c, unsigned status, const char *code, const char *msg)
{
	json_t *j = json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", msg);
	char *text = json_dumps(j, JSON_COMPACT);
	MHD_Result_t ret;
	size_t len = strlen(text);
	text = gs_xrealloc(text, len + 2);
	text[len] = '\n';
	text[len + 1] = 0;
	ret = gs_http__send(c, status, "application/json", text, len + 1);
	free(text);
	json_decref(j);
	return ret;
}

MHD_Result_t gs_http__send_401(struct MHD_Connection *c)
{
	static const char body[] = "{\"error\":{\"code\":\"unauthenticated\",\"message\":\"a token is required "
				   "(HTTP Basic password or Bearer)\"}}\n";
	struct MHD_Response *r = MHD_create_response_from_buffer(sizeof(body) - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
	MHD_Result_t ret;
	MHD_add_response_header(r, "Content-Type", "application/json");
	MHD_add_response_header(r, "WWW-Authenticate", "Basic realm=\"gitstore\", charset=\"UTF-8\"");
	ret = MHD_queue_response(c, MHD_HTTP_UNAUTHORIZED, r);
	MHD_destroy_response(r);
	return ret;
}

int gs_http__authenticate(gs_req *req, gs_error *err)
{
	const char *hdr = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Authorization");
	char token[256], hash[GS_SHA256_HEX];
	gs_db *db;
	int error;
	if (!hdr || gs_reqparse_credentials(hdr, token, sizeof(token)) < 0)
		return gs_error_set(err, GS_EAUTH, "auth", "no credentials");
	/* lookup by hash: timing does not depend on how much of a guessed
	 * token matches */
	gs_sha256_hex(hash, token, strlen(token));
	db = gs_dbpool_get(req->h->ctx.pool);
	error = gs_registry_token_lookup(db, hash, &req->who, err);
	gs_dbpool_put(req->h->ctx.pool, db);
	if (error == 0)
		req->authed = 1;
	return error;
}

char **gs_http__readable_namespaces(gs_req *req)
{
	char **v;
	int n = 0;
	if (gs_principal_is_global(&req->who, GS_ROLE_READER))
		return NULL;
	v = gs_xcalloc((size_t)req->who.ngrants + 1, sizeof(char *));
	for (int i = 0; i < req->who.ngrants; i++)
		if (req->who.grants[i].role >= GS_ROLE_READER)
			v[n++] = gs_xstrdup(req->who.grants[i].ns);
	return v;
}

void gs_http__strv_free(char **v)
{
	for (char **p = v; p && *p; p++)
		free(*p);
	free(v);
}

static int is_git_url(const char *url)
{
	return strstr(url, "/info/refs") || strstr(url, "/git-upload-pack") || strstr(url, "/git-receive-pack");
}

/* Routes whose request body is a resource file (buffered, bounded). */
static int takes_body(const char *url, const char *method)
{
	return (strcmp(url, "/api/v1/admission/review") == 0 && strcmp(method, "POST") == 0) ||
	       (gs_str_has_prefix(url, "/api/v1/repos/") && strcmp(method, "PUT") == 0);
}

static MHD_Result_t access_handler(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				   const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	gs_httpd *h = cls;
	gs_req *req = *con_cls;
	(void)version;
	if (!req) {
		req = gs_xcalloc(1, sizeof(*req));
		req->h = h;
		req->conn = conn;
		req->proc.in_fd = req->proc.out_fd = -1;
		*con_cls = req;
		atomic_fetch_add(&h->ctx.metrics->http_requests, 1);
	}
	if (!gs_str_has_prefix(url, "/api/") && strcmp(url, "/healthz") != 0 && strcmp(url, "/metrics") != 0 &&
	    is_git_url(url))
		return gs_githttp_handle(req, url, method, upload, upload_size);
	if (takes_body(url, method) || gs_consumers__takes_body(url, method)) {
		/* a resource file as the body, bounded like a pushed file; the
		 * consumer API's small JSON bodies */
		int consumers = gs_consumers__takes_body(url, method);
		if (!req->body_init) { /* first call: headers only */
			gs_buf_init(&req->body, consumers ? GS_MAX_CONSUMER_BODY : GS_MAX_RESOURCE_FILE_BYTES);
			req->body_init = 1;
			return MHD_YES;
		}
		if (*upload_size) {
			if (gs_buf_add(&req->body, upload, *upload_size, NULL) < 0)
				req->failed = 1;
			*upload_size = 0;
			return MHD_YES;
		}
		if (consumers)
			return gs_consumers_handle(req, url, method);
		if (req->failed)
			return gs_http__send_error(conn, 413, "file_too_large", "the resource file exceeds 1 MiB");
		if (strcmp(method, "POST") == 0)
			return gs_review_handle(req);
		return gs_writeapi_handle(req, url, method);
	}
	if (!req->started) {
		/* first call: headers only. libmicrohttpd closes the connection
		 * after an answer queued before the (empty) body was read, so
		 * answering now would defeat keep-alive */
		req->started = 1;
		return MHD_YES;
	}
	if (*upload_size) { /* the other API routes take no body */
		*upload_size = 0;
		req->failed = 1;
		return MHD_YES;
	}
	if (req->failed)
		return gs_http__send_error(conn, 413, "body_not_allowed", "this route takes no request body");
	if (gs_str_has_prefix(url, "/api/v1/repos/") &&
	    (strcmp(method, "DELETE") == 0 || strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0))
		return gs_writeapi_handle(req, url, method);
	if (gs_str_has_prefix(url, "/storefront/v1/namespaces/"))
		return gs_storefront_handle(req, url, method); /* anonymous */
	if (strcmp(url, "/api/v1/consumers") == 0 || gs_str_has_prefix(url, "/api/v1/consumers/"))
		return gs_consumers_handle(req, url, method);
	return gs_api_handle(req, url, method);
}

static void request_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			      enum MHD_RequestTerminationCode toe)
{
	gs_req *req = *con_cls;
	(void)cls;
	(void)conn;
	(void)toe;
	if (!req)
		return;
	gs_githttp_complete(req);
	gs_api_complete(req);
	if (req->body_init)
		gs_buf_release(&req->body);
	free(req);
	*con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	GS_LOG(GS_LOG_DEBUG, "http", "%s", msg);
}

static int parse_listen(const char *listen, struct sockaddr_in *sa, gs_error *err)
{
	char host[64];
	const char *colon = strrchr(listen, ':');
	long port;
	char *end;
	if (!colon || (size_t)(colon - listen) >= sizeof(host))
		return gs_error_set(err, GS_EINVALID, "http", "--listen must be HOST:PORT, got '%.80s'", listen);
	memcpy(host, listen, (size_t)(colon - listen));
	host[colon - listen] = 0;
	port = strtol(colon + 1, &end, 10);
	if (*end || port < 0 || port > 65535 || end == colon + 1)
		return gs_error_set(err, GS_EINVALID, "http", "invalid port in '%.80s'", listen);
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	if (strcmp(host, "localhost") == 0)
		memcpy(host, "127.0.0.1", 10);
	if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
		return gs_error_set(err, GS_EINVALID, "http", "invalid IPv4 address '%s'", host);
	return 0;
}

int gs_httpd_start(gs_httpd **out, const gs_httpd_ctx *ctx, const char *listen, int *bound_port, gs_error *err)
{
	struct sockaddr_in sa;
	gs_httpd *h;
	const union MHD_DaemonInfo *info;
	int error;
	if ((error = parse_listen(listen, &sa, err)) < 0)
		return error;
	h = gs_xcalloc(1, sizeof(*h));
	h->ctx = *ctx;
	h->mhd = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG,
				  0, NULL, NULL, access_handler, h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
				  MHD_OPTION_NOTIFY_COMPLETED, request_completed, h, MHD_OPTION_CONNECTION_LIMIT,
				  (unsigned)GS_MAX_HTTP_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT,
				  (unsigned)GS_HTTP_IDLE_TIMEOUT_S, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
				  (size_t)GS_MAX_HTTP_HEADER_BYTES + 8192, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
				  MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u, MHD_OPTION_END);
	if (!h->mhd) {
		free(h);
		return gs_error_set(err, GS_ERROR, "http", "cannot listen on %s", listen);
	}
	info = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_BIND_PORT);
	*bound_port = info ? info->port : ntohs(sa.sin_port);
	*out = h;
	return 0;
}

void gs_httpd_stop(gs_httpd *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->mhd);
	free(h);
}
