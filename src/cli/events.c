/*
 * cli/events.c -- `gitstore events`: print the event log as JSON lines,
 * optionally following the SSE stream (libcurl).
 * SPDX-License-Identifier: MIT
 */
#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
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
		} else if (r == 0 && strcmp(argv[i], "--follow") == 0)
			o.follow = 1;
		else {
			fprintf(stderr, "usage: gitstore events [--server URL] [--token T] [--after N] [--repo NS/NAME] "
					"[--type NAME]... [--follow]\n");
			return 2;
		}
	}
	if (!o.token) {
		fprintf(stderr, "gitstore: a token is required (--token or GITSTORE_TOKEN)\n");
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = o.follow ? events_follow(&o, o.after) : events_fetch_all(&o, &o.after);
	curl_global_cleanup();
	return rc;
}
