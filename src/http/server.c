/*
 * http/server.c -- libmicrohttpd glue: daemon start/stop, dispatch,
 * authentication, error responses.
 *
 * Threads: MHD_USE_THREAD_PER_CONNECTION, so handlers may block (git
 * pipes, SSE waits). Per-request state lives in gs_req, freed in
 * request_completed. A watchdog thread enforces the header deadline
 * (GS_HTTP_HEADER_TIMEOUT_S): it shuts down (never closes) the socket of
 * a connection that has not sent a request's headers in time, under the
 * lock that MHD's connection-closed notification takes before MHD
 * closes the socket, so the descriptor is always still the connection's.
 * Slots: GS_MAX_HTTP_CONNECTIONS in all, the per-address limit each.
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
#include <time.h>

#include "limits.h"
#include "log/log.h"
#include "store/registry.h"
#include "util/alloc.h"
#include "util/hash.h"
#include "util/str.h"
#include "util/time.h"

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

/* Per-connection memory pool. MHD reads headers into a buffer of half the
 * pool and cannot grow it past the pool, so the pool is twice the header
 * limit (a pool of the limit + 8 KiB refused headers of 20 KiB). */
#define SERVER_CONN_MEMORY (2 * (size_t)GS_MAX_HTTP_HEADER_BYTES + 8192)

/* ---- header deadline --------------------------------------------------- */

static int64_t server_mono_ms(void)
{
	return gs_time_mono_ns() / 1000000;
}

/* Arms (a request's headers are due) or disarms (a request is being
 * handled) the connection's deadline. */
static void server_deadline_set(gs_httpd *h, struct MHD_Connection *conn, int arm)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	gs_http_conn *c = ci ? ci->socket_context : NULL;
	if (!c)
		return;
	pthread_mutex_lock(&h->conns_lock);
	c->deadline_ms = arm ? server_mono_ms() + (int64_t)h->ctx.header_timeout_s * 1000 : 0;
	pthread_mutex_unlock(&h->conns_lock);
}

static void notify_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			      enum MHD_ConnectionNotificationCode toe)
{
	gs_httpd *h = cls;
	gs_http_conn *c;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		c = gs_xcalloc(1, sizeof(*c));
		c->fd = ci ? ci->connect_fd : -1;
		pthread_mutex_lock(&h->conns_lock);
		c->deadline_ms = server_mono_ms() + (int64_t)h->ctx.header_timeout_s * 1000;
		c->next = h->conns;
		if (h->conns)
			h->conns->prev = c;
		h->conns = c;
		pthread_mutex_unlock(&h->conns_lock);
		*socket_context = c;
		atomic_fetch_add(&h->ctx.metrics->http_connections, 1);
		return;
	}
	c = *socket_context;
	if (!c)
		return;
	pthread_mutex_lock(&h->conns_lock);
	if (c->prev)
		c->prev->next = c->next;
	else
		h->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&h->conns_lock);
	free(c);
	*socket_context = NULL;
	atomic_fetch_sub(&h->ctx.metrics->http_connections, 1);
}

/* Shuts down the connections past their header deadline, twice a second.
 * MHD's connection thread then sees the end of the stream and closes. */
static void *server_watchdog(void *arg)
{
	gs_httpd *h = arg;
	pthread_mutex_lock(&h->conns_lock);
	while (!h->stopping) {
		struct timespec ts;
		int64_t now = server_mono_ms();
		for (gs_http_conn *c = h->conns; c; c = c->next) {
			if (c->cut || !c->deadline_ms || now < c->deadline_ms || c->fd < 0)
				continue;
			shutdown(c->fd, SHUT_RDWR);
			c->cut = 1;
			atomic_fetch_add(&h->ctx.metrics->http_header_timeouts, 1);
		}
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += 500 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&h->conns_cond, &h->conns_lock, &ts);
	}
	pthread_mutex_unlock(&h->conns_lock);
	return NULL;
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
		server_deadline_set(h, conn, 0); /* the headers are in */
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
	gs_httpd *h = cls;
	gs_req *req = *con_cls;
	(void)toe;
	server_deadline_set(h, conn, 1); /* the next request's headers are due */
	if (!req)
		return;
	gs_githttp_complete(req);
	gs_api_complete(req);
	if (req->body_init)
		gs_buf_release(&req->body);
	free(req);
	*con_cls = NULL;
}

static int url_hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* MHD's %HH decoding of paths and query values, except that %00 stays as
 * it is: a decoded NUL cut the C string short, so .../products/x%00evil
 * was served as .../products/x. Left encoded, it fails name checks. */
static size_t unescape_url(void *cls, struct MHD_Connection *conn, char *s)
{
	char *w = s;
	(void)cls;
	(void)conn;
	for (const char *r = s; *r;) {
		int hi = r[0] == '%' ? url_hexval(r[1]) : -1, lo = hi >= 0 ? url_hexval(r[2]) : -1;
		if (lo >= 0 && (hi | lo) != 0) {
			*w++ = (char)(hi << 4 | lo);
			r += 3;
		} else {
			*w++ = *r++;
		}
	}
	*w = 0;
	return (size_t)(w - s);
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

static void server_cond_init(pthread_cond_t *cond)
{
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(cond, &attr);
	pthread_condattr_destroy(&attr);
}

static void server_free(gs_httpd *h)
{
	pthread_cond_destroy(&h->conns_cond);
	pthread_mutex_destroy(&h->conns_lock);
	free(h);
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
	pthread_mutex_init(&h->conns_lock, NULL);
	server_cond_init(&h->conns_cond);
	h->mhd = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG,
				  0, NULL, NULL, access_handler, h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
				  MHD_OPTION_NOTIFY_COMPLETED, request_completed, h, MHD_OPTION_NOTIFY_CONNECTION,
				  notify_connection, h, MHD_OPTION_CONNECTION_LIMIT, (unsigned)GS_MAX_HTTP_CONNECTIONS,
				  MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)ctx->per_ip_limit,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)ctx->idle_timeout_s,
				  MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)SERVER_CONN_MEMORY,
				  MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_UNESCAPE_CALLBACK, unescape_url, NULL,
				  MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u,
				  MHD_OPTION_END);
	if (!h->mhd) {
		server_free(h);
		return gs_error_set(err, GS_ERROR, "http", "cannot listen on %s", listen);
	}
	h->watchdog_started = pthread_create(&h->watchdog, NULL, server_watchdog, h) == 0;
	if (!h->watchdog_started)
		GS_LOG(GS_LOG_WARN, "http", "no header-deadline thread: slow clients are cut by the idle timeout only");
	info = MHD_get_daemon_info(h->mhd, MHD_DAEMON_INFO_BIND_PORT);
	*bound_port = info ? info->port : ntohs(sa.sin_port);
	*out = h;
	return 0;
}

void gs_httpd_stop(gs_httpd *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->mhd); /* every connection closed: the list is empty */
	if (h->watchdog_started) {
		pthread_mutex_lock(&h->conns_lock);
		h->stopping = 1;
		pthread_cond_signal(&h->conns_cond);
		pthread_mutex_unlock(&h->conns_lock);
		pthread_join(h->watchdog, NULL);
	}
	server_free(h);
}
