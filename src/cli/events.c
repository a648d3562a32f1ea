/*
 * cli/events.c -- `gitstore events`: print the event log as JSON lines,
 * optionally following the SSE stream, or through a durable consumer
 * (--consumer: fetch, print, then ack, so a restart resumes where the
 * last printed event was acknowledged) (libcurl).
 * SPDX-License-Identifier: MIT
 */
#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "events/consumer.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/str.h"

typedef struct events_opts {
	const char *server;
	const char *token;
	const char *repo;
	const char *types[32];
	int ntypes;
	long long after;
	int follow;
	const char *consumer;
} events_opts;

typedef struct sse_state {
	gs_buf line;
	gs_buf data;
	long long last;
} sse_state;

static size_t collect_body(char *p, size_t size, size_t n, void *ud)
{
	gs_buf *b = ud;
	return gs_buf_add(b, p, size * n, NULL) < 0 ? 0 : size * n;
}

static void sse_line(sse_state *s, const char *line)
{
	if (*line == 0) {
		if (s->data.len) {
			fputs(s->data.ptr, stdout);
			fputc('\n', stdout);
			fflush(stdout);
		}
		gs_buf_reset(&s->data);
		return;
	}
	if (strncmp(line, "data: ", 6) == 0)
		gs_buf_adds(&s->data, line + 6, NULL);
	else if (strncmp(line, "id: ", 4) == 0)
		s->last = strtoll(line + 4, NULL, 10);
}

static size_t sse_body(char *p, size_t size, size_t n, void *ud)
{
	sse_state *s = ud;
	for (size_t i = 0; i < size * n; i++) {
		if (p[i] == '\n') {
			sse_line(s, s->line.ptr ? s->line.ptr : "");
			gs_buf_reset(&s->line);
		} else if (gs_buf_add(&s->line, p + i, 1, NULL) < 0) {
			return 0;
		}
	}
	return size * n;
}

static char *events_url(const events_opts *o, CURL *c, int stream, long long after, int limit)
{
	gs_buf u;
	gs_buf_init(&u, 16384);
	gs_buf_printf(&u, NULL, "%s/api/v1/events%s?after=%lld", o->server, stream ? "/stream" : "", after);
	if (!stream)
		gs_buf_printf(&u, NULL, "&limit=%d", limit);
	if (o->repo) {
		char *e = curl_easy_escape(c, o->repo, 0);
		gs_buf_printf(&u, NULL, "&repo=%s", e);
		curl_free(e);
	}
	for (int i = 0; i < o->ntypes; i++)
		gs_buf_printf(&u, NULL, "&type=%s", o->types[i]);
	return gs_buf_detach(&u);
}

static int events_fetch_all(const events_opts *o, long long *after)
{
	for (;;) {
		CURL *c = curl_easy_init();
		gs_buf body;
		struct curl_slist *h = NULL;
		char auth[512], *url;
		long status = 0;
		json_t *arr;
		size_t n;
		CURLcode rc;
		gs_buf_init(&body, 256u * 1024 * 1024);
		url = events_url(o, c, 0, *after, 1000);
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", o->token);
		h = curl_slist_append(h, auth);
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect_body);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
		rc = curl_easy_perform(c);
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		curl_slist_free_all(h);
		curl_easy_cleanup(c);
		free(url);
		if (rc != CURLE_OK || status != 200) {
			fprintf(stderr, "gitstore: %s: %s%s\n", o->server, rc != CURLE_OK ? curl_easy_strerror(rc) : "HTTP error ",
				rc != CURLE_OK ? "" : (body.ptr ? body.ptr : ""));
			gs_buf_release(&body);
			return 1;
		}
		arr = json_loadb(body.ptr ? body.ptr : "[]", body.len, 0, NULL);
		gs_buf_release(&body);
		if (!json_is_array(arr)) {
			json_decref(arr);
			fprintf(stderr, "gitstore: malformed event batch from server\n");
			return 1;
		}
		n = json_array_size(arr);
		for (size_t i = 0; i < n; i++) {
			json_t *ev = json_array_get(arr, i);
			char *line = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER);
			puts(line);
			free(line);
			*after = json_integer_value(json_object_get(ev, "logseq"));
		}
		json_decref(arr);
		fflush(stdout);
		if (n < 1000)
			return 0;
	}
}

static int events_follow(const events_opts *o, long long after)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char auth[512], *url = events_url(o, c, 1, after, 0);
	sse_state s;
	long status = 0;
	CURLcode rc;
	memset(&s, 0, sizeof(s));
	gs_buf_init(&s.line, 1024 * 1024);
	gs_buf_init(&s.data, 1024 * 1024);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", o->token);
	h = curl_slist_append(h, auth);
	h = curl_slist_append(h, "Accept: text/event-stream");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sse_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	free(url);
	gs_buf_release(&s.line);
	gs_buf_release(&s.data);
	if (rc != CURLE_OK || status != 200) {
		fprintf(stderr, "gitstore: stream ended: %s (HTTP %ld)\n", curl_easy_strerror(rc), status);
		return 1;
	}
	return 0;
}

/* One request to the server: *status and the body (caller releases). */
static int cli_request(const events_opts *o, const char *method, const char *path, const char *body, long *status,
		       gs_buf *out)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char auth[512], *url;
	CURLcode rc;
	gs_buf_init(out, 256u * 1024 * 1024);
	url = gs_xasprintf("%s%s", o->server, path);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", o->token);
	h = curl_slist_append(h, auth);
	h = curl_slist_append(h, "Content-Type: application/json");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (body)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	free(url);
	if (rc != CURLE_OK) {
		fprintf(stderr, "gitstore: %s: %s\n", o->server, curl_easy_strerror(rc));
		return -1;
	}
	return 0;
}

static int cli_http_fail(const char *what, long status, const gs_buf *b)
{
	fprintf(stderr, "gitstore: %s: HTTP %ld %s\n", what, status, b->ptr ? b->ptr : "");
	return 1;
}

/* Creates the consumer unless it exists (filter from --repo/--type,
 * starting after --after). */
static int consumer_ensure(const events_opts *o)
{
	char *path = gs_xasprintf("/api/v1/consumers/%s", o->consumer), *text;
	json_t *types = json_array(), *cfg;
	gs_buf b;
	long status = 0;
	int rc = 0;
	if (cli_request(o, "GET", path, NULL, &status, &b) < 0) {
		rc = 1;
		goto out;
	}
	if (status == 200)
		goto out;
	if (status != 404) {
		rc = cli_http_fail("consumer", status, &b);
		goto out;
	}
	gs_buf_release(&b);
	for (int i = 0; i < o->ntypes; i++)
		json_array_append_new(types, json_string(o->types[i]));
	cfg = json_pack("{s:{s:O, s:s?}, s:I}", "filter", "types", types, "repo", o->repo, "startAfter",
			(json_int_t)o->after);
	text = json_dumps(cfg, JSON_COMPACT);
	json_decref(cfg);
	if (cli_request(o, "PUT", path, text, &status, &b) < 0)
		rc = 1;
	else if (status != 201 && status != 200)
		rc = cli_http_fail("create consumer", status, &b);
	free(text);
out:
	gs_buf_release(&b);
	json_decref(types);
	free(path);
	return rc;
}

/* Prints one fetched batch, then acknowledges it: *n events. */
static int consumer_batch(const events_opts *o, const gs_buf *b, size_t *n)
{
	json_t *arr = json_loadb(b->ptr ? b->ptr : "[]", b->len, 0, NULL), *d, *seqs = json_array(), *body;
	char *text, *path;
	gs_buf ab;
	long status = 0;
	size_t i;
	int rc = 0;
	if (!json_is_array(arr)) {
		fprintf(stderr, "gitstore: malformed fetch answer from server\n");
		rc = 1;
		goto out;
	}
	json_array_foreach(arr, i, d) {
		char *line = json_dumps(json_object_get(d, "event"), JSON_COMPACT | JSON_PRESERVE_ORDER);
		puts(line);
		free(line);
		json_array_append(seqs, json_object_get(d, "logseq"));
	}
	fflush(stdout);
	*n = json_array_size(arr);
	if (*n == 0)
		goto out;
	/* printed (and flushed) first: a crash in between prints it again,
	 * never loses it */
	body = json_pack("{s:O}", "logseq", seqs);
	text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	path = gs_xasprintf("/api/v1/consumers/%s/ack", o->consumer);
	if (cli_request(o, "POST", path, text, &status, &ab) < 0)
		rc = 1;
	else if (status != 200)
		rc = cli_http_fail("ack", status, &ab);
	gs_buf_release(&ab);
	free(text);
	free(path);
out:
	json_decref(arr);
	json_decref(seqs);
	return rc;
}

static int events_consumer(const events_opts *o)
{
	char *path = gs_xasprintf("/api/v1/consumers/%s/fetch?max=100&wait=%d", o->consumer, o->follow ? 30 : 0);
	int rc = consumer_ensure(o);
	while (rc == 0) {
		gs_buf b;
		long status = 0;
		size_t n = 0;
		if (cli_request(o, "POST", path, "", &status, &b) < 0)
			rc = 1;
		else if (status != 200)
			rc = cli_http_fail("fetch", status, &b);
		else
			rc = consumer_batch(o, &b, &n);
		gs_buf_release(&b);
		if (n == 0 && !o->follow)
			break;
	}
	free(path);
	return rc;
}

int gs_cli_events(int argc, char **argv)
{
	events_opts o;
	int rc;
	memset(&o, 0, sizeof(o));
	o.server = getenv("GITSTORE_SERVER") ? getenv("GITSTORE_SERVER") : "http://127.0.0.1:8080";
	o.token = getenv("GITSTORE_TOKEN");
	for (int i = 1; i < argc; i++) {
		const char *v;
		int r;
		if ((r = gs_cli_opt(argc, argv, &i, "--server", &v)) > 0)
			o.server = v;
		else if (r == 0 && (r = gs_cli_opt(argc, argv, &i, "--token", &v)) > 0)
			o.token = v;
		else if (r == 0 && (r = gs_cli_opt(argc, argv, &i, "--repo", &v)) > 0)
			o.repo = v;
		else if (r == 0 && (r = gs_cli_opt(argc, argv, &i, "--type", &v)) > 0 && o.ntypes < 32)
			o.types[o.ntypes++] = v;
		else if (r == 0 && (r = gs_cli_opt(argc, argv, &i, "--after", &v)) > 0) {
			uint64_t a;
			gs_error err = GS_ERROR_INIT;
			if (gs_str_parse_u64(v, INT64_MAX, &a, &err) < 0) {
				fprintf(stderr, "gitstore: --after: %s\n", err.msg);
				return 2;
			}
			o.after = (long long)a;
		} else if (r == 0 && (r = gs_cli_opt(argc, argv, &i, "--consumer", &v)) > 0) {
			o.consumer = v;
		} else if (r == 0 && strcmp(argv[i], "--follow") == 0)
			o.follow = 1;
		else {
			fprintf(stderr, "usage: gitstore events [--server URL] [--token T] [--after N] [--repo NS/NAME] "
					"[--type NAME]... [--follow] [--consumer NAME]\n");
			return 2;
		}
	}
	if (!o.token) {
		fprintf(stderr, "gitstore: a token is required (--token or GITSTORE_TOKEN)\n");
		return 2;
	}
	if (o.consumer && !gs_consumer_name_ok(o.consumer)) {
		fprintf(stderr, "gitstore: --consumer: names are 1..64 of [A-Za-z0-9._-]\n");
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (o.consumer)
		rc = events_consumer(&o);
	else
		rc = o.follow ? events_follow(&o, o.after) : events_fetch_all(&o, &o.after);
	curl_global_cleanup();
	return rc;
}
