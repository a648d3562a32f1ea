/*
 * http/internal.h -- shared between the files of http/ only.
 */
#ifndef GS_HTTP_INTERNAL_H
#define GS_HTTP_INTERNAL_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdint.h>
#include <zlib.h>

#include "auth/principal.h"
#include "git/pktline.h"
#include "git/transport.h"
#include "http/httpd.h"
#include "store/registry.h"
#include "util/buf.h"

#if MHD_VERSION < 0x00097002
typedef int MHD_Result_t;
#else
typedef enum MHD_Result MHD_Result_t;
#endif

/* A connection as the header deadline sees it (server.c). */
typedef struct gs_http_conn {
	struct gs_http_conn *prev, *next;
	int fd;
	int64_t deadline_ms; /* monotonic; 0 while a request is being handled */
	int cut;             /* shut down for missing its deadline */
} gs_http_conn;

struct gs_httpd {
	gs_httpd_ctx ctx;
	struct MHD_Daemon *mhd;

	/* Header deadline (GS_HTTP_HEADER_TIMEOUT_S): the open connections,
	 * and a thread that shuts down those whose deadline has passed. */
	pthread_mutex_t conns_lock;
	pthread_cond_t conns_cond; /* signalled to stop the watchdog */
	gs_http_conn *conns;
	int stopping;
	pthread_t watchdog;
	int watchdog_started;
};

enum { REQ_NONE = 0, REQ_GIT_SERVICE, REQ_SSE };

/* Per-request state, created on the first access-handler call and freed
 * in the request-completed callback. */
typedef struct gs_req {
	gs_httpd *h;
	struct MHD_Connection *conn;
	int kind;
	int started; /* first call done */
	int authed;
	gs_principal who;

	/* git service POST */
	gs_repo_info repo;
	int receive;          /* receive-pack (else upload-pack) */
	int gzip;
	z_stream zs;
	int zs_init;
	int zs_done;          /* gzip stream ended with a valid trailer */
	uint64_t body_bytes;  /* decoded bytes seen */
	gs_push_cmds cmds;    /* receive-pack: parsed command list */
	gs_buf pending;       /* receive-pack: bytes held until spawn */
	gs_pkt_reader rd;     /* upload-pack: framing check */
	gs_gitproc proc;
	int spawned;
	gs_buf early;         /* child output read while feeding input */
	size_t early_off;
	char push_id[65];
	int push_begun;
	int failed;
	unsigned fail_status;
	char fail_msg[320];
	char git_protocol[256];
	int has_git_protocol;

	/* POST bodies of API routes (admission review) */
	gs_buf body;
	int body_init;

	/* SSE */
	int64_t sse_after;
	int sse_returned; /* events in the current scan */
	int64_t sse_last_sent_ms; /* monotonic, for heartbeats */
	gs_buf sse_buf;
	size_t sse_off;
	char *sse_repo_uid;
	char **sse_types;
	char **sse_namespaces; /* NULL = all */
	int sse_counted;
	int sse_live;             /* caught up with the head once */
	int64_t sse_behind_since_ms; /* monotonic; 0: not too far behind */
	int sse_ending;           /* the final comment is queued */
} gs_req;

/* server.c */
MHD_Result_t gs_http__send(struct MHD_Connection *c, unsigned status, const char *ctype, const char *body,
			   size_t len);
MHD_Result_t gs_http__send_error(struct MHD_Connection *c, unsigned status, const char *code, const char *msg);
MHD_Result_t gs_http__send_401(struct MHD_Connection *c);
/* 0 and fills req->who when a valid token was given; GS_EAUTH if none
 * or unknown. */
int gs_http__authenticate(gs_req *req, gs_error *err);
/* Namespaces the principal can read, NULL-terminated (NULL = all). */
char **gs_http__readable_namespaces(gs_req *req);
void gs_http__strv_free(char **v);

/* githttp.c */
MHD_Result_t gs_githttp_handle(gs_req *req, const char *url, const char *method, const char *upload,
			       size_t *upload_size);
void gs_githttp_complete(gs_req *req);

/* review.c */
MHD_Result_t gs_review_handle(gs_req *req);

/* resapi.c */
struct gs_resrow;
MHD_Result_t gs_resapi_handle(gs_req *req, const char *url);
/* The kind a plural names ("products" -> "Product"), or NULL; includes
 * "namespaces". */
const char *gs_resapi__kind(const char *plural, size_t len);
/* A stored row as the API shows it (new reference). */
/* Durable consumers (consumers.c): the routes under /api/v1/consumers. */
int gs_consumers__takes_body(const char *url, const char *method);
MHD_Result_t gs_consumers_handle(gs_req *req, const char *url, const char *method);

/* The draft resource as the admin API shows it: the stored row, with the
 * publication state read from db's published view. */
json_t *gs_resapi__object(gs_db *db, const struct gs_resrow *r);

/* storefront.c */
MHD_Result_t gs_storefront_handle(gs_req *req, const char *url, const char *method);

/* writeapi.c */
MHD_Result_t gs_writeapi_handle(gs_req *req, const char *url, const char *method);

/* api.c */
MHD_Result_t gs_api_handle(gs_req *req, const char *url, const char *method);
void gs_api_complete(gs_req *req);

#endif
