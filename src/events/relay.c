/*
 * events/relay.c -- the NATS JetStream outbox relay (see relay.h).
 *
 * Owns: the relay thread, its NATS connection (libnats; nothing else in
 * the daemon links against it) and the cursor "relay:nats".
 * Thread: the relay's own. It holds a pooled database connection only to
 * read a batch or store the cursor, never while it waits on the network,
 * and takes SQLite's write lock only for the one-row cursor update, so a
 * dead or slow broker cannot hold up a push.
 * Invariants: events go out in logseq order on one connection; the cursor
 * never passes an event JetStream has not acknowledged; after any failure
 * the connection is dropped (and with it every buffered publish and late
 * acknowledgement) and publishing resumes at the first unacknowledged
 * event. On a single server a lost publish takes everything after it on
 * that connection with it, so a retry never lands behind a later event;
 * whatever of the in-flight window the broker did store is dropped as a
 * duplicate when republished (Nats-Msg-Id, within its duplicate window).
 * libnats' own reconnect is off: its reconnect buffer would replay
 * publishes queued after one that was lost.
 * SPDX-License-Identifier: MIT
 */
#include "events/relay.h"

#include <jansson.h>
#include <nats/nats.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "events/evlog.h"
#include "limits.h"
#include "log/log.h"
#include "store/resstore.h"
#include "util/alloc.h"
#include "util/time.h"

/* how often a wait on acknowledgements looks at the stop flag, and how
 * long an idle relay sleeps between checks of its connection */
#define RELAY_ACK_POLL_MS 200
#define RELAY_IDLE_MS 1000
#define RELAY_DEFAULT_PORT 4222
#define RELAY_MAX_TOKEN 63

typedef struct relay_item {
	int64_t logseq;
	char subject[GS_RELAY_MAX_SUBJECT];
	char id[GS_RELAY_MAX_ID];
	char *json; /* the event as stored, published byte for byte */
	size_t len;
	int acked;
} relay_item;

/* One pass's events, read from the log in order. A malformed event ends
 * the batch (nothing after it may overtake it) and is reported in bad. */
typedef struct relay_batch {
	relay_item items[GS_RELAY_BATCH];
	size_t n;
	int64_t bad;
	gs_error bad_err;
} relay_batch;

struct gs_relay {
	char *url; /* canonical nats://HOST:PORT; carries no secret, may be logged */
	gs_dbpool *pool;
	gs_evnotify *notify;
	gs_metrics *metrics;
	const char *fault; /* GITSTORE_TEST_FAULT */
	pthread_t thread;
	atomic_int stopping;
	/* relay thread only */
	natsConnection *nc;
	natsSubscription *acks; /* <inbox>.* : one reply subject per publish */
	natsInbox *inbox;
	int64_t cursor;
	int64_t seen; /* log head the notifier last reported */
	relay_batch *batch;
	unsigned seed;
};

/* --- pure parts: URL and subject ----------------------------------------- */

int gs_relay_parse_url(const char *url, char host[GS_RELAY_MAX_HOST], int *port, gs_error *err)
{
	static const char scheme[] = "nats://";
	const char *h, *end, *colon;
	long p = RELAY_DEFAULT_PORT;
	size_t hlen;

	if (url && strchr(url, '@')) /* not echoed: it would show a password */
		return gs_error_set(err, GS_EINVALID, "nats",
				    "--nats: credentials in the URL are not supported; expected nats://HOST:PORT");
	if (!url || strncmp(url, scheme, sizeof(scheme) - 1) != 0)
		return gs_error_set(err, GS_EINVALID, "nats", "--nats %s: expected nats://HOST:PORT", url ? url : "");
	h = url + sizeof(scheme) - 1;
	end = h + strlen(h);
	if (strpbrk(h, "@/?#, \t\r\n"))
		return gs_error_set(err, GS_EINVALID, "nats",
				    "--nats %s: expected nats://HOST:PORT (no path, query or list)", url);
	if (*h == '[') { /* [IPv6]:PORT */
		const char *close = strchr(h, ']');
		if (!close || close == h + 1 || strspn(h + 1, "0123456789abcdefABCDEF:.") != (size_t)(close - h - 1))
			return gs_error_set(err, GS_EINVALID, "nats", "--nats %s: bad IPv6 address", url);
		colon = close[1] == ':' ? close + 1 : NULL;
		if (!colon && close[1])
			return gs_error_set(err, GS_EINVALID, "nats", "--nats %s: expected nats://HOST:PORT", url);
		hlen = (size_t)(close + 1 - h);
	} else {
		colon = strchr(h, ':');
		hlen = (size_t)((colon ? colon : end) - h);
		if (hlen == 0 || strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") != hlen)
			return gs_error_set(err, GS_EINVALID, "nats", "--nats %s: bad or missing host", url);
	}
	if (hlen >= GS_RELAY_MAX_HOST)
		return gs_error_set(err, GS_EINVALID, "nats", "--nats: host name too long");
	if (colon) {
		char *stop = NULL;
		if (!colon[1] || strspn(colon + 1, "0123456789") != strlen(colon + 1) || strlen(colon + 1) > 5)
			return gs_error_set(err, GS_EINVALID, "nats", "--nats %s: port must be a number 1-65535", url);
		p = strtol(colon + 1, &stop, 10);
		if (p < 1 || p > 65535)
			return gs_error_set(err, GS_EINVALID, "nats", "--nats %s: port must be a number 1-65535", url);
	}
	if (host)
		snprintf(host, GS_RELAY_MAX_HOST, "%.*s", (int)hlen, h);
	if (port)
		*port = (int)p;
	return 0;
}

/* A subject token we publish: [A-Za-z0-9_-]{1,63} (no '.', '*', '>' or
 * white space, which NATS gives meaning). */
static int relay_token_ok(const char *s, size_t n)
{
	if (n == 0 || n > RELAY_MAX_TOKEN)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return 0;
	}
	return 1;
}

/* dev.gitstore.<name>.v<N> -> <name> (a slice of type) */
static int relay_type_name(const char *type, size_t len, const char **name, size_t *n)
{
	const char *v;
	size_t plen = strlen(GS_EVENT_TYPE_PREFIX), digits;
	if (!type || len <= plen || strncmp(type, GS_EVENT_TYPE_PREFIX, plen) != 0)
		return -1;
	for (v = type + len - 1; v > type + plen && *v != '.'; v--)
		;
	digits = len - (size_t)(v + 2 - type);
	if (*v != '.' || v + 2 > type + len || v[1] != 'v' || digits == 0 || strspn(v + 2, "0123456789") < digits)
		return -1;
	*name = type + plen;
	*n = (size_t)(v - *name);
	return relay_token_ok(*name, *n) ? 0 : -1;
}

/* The parts of an event a message is made of, as slices of its text (or
 * of its parsed tree); NULL when absent. */
typedef struct relay_parts {
	const char *id, *type, *ns, *name;
	size_t id_len, type_len, ns_len, name_len;
} relay_parts;

/* The fast path: the envelope exactly as evlog_envelope writes it,
 *   {"specversion":"1.0","id":"..","source":"..","type":"..",...
 *    ...,"repository":{"uid":"..","namespace":"..","name":".."}}}
 * read off the text without building a tree (a full parse of every event
 * was most of the relay's CPU). Any other shape -- an escape, another key
 * order -- returns -1 and the event goes through the full parse. */
static int relay_scan_str(const char **p, const char *end, const char *key, const char **val, size_t *len)
{
	size_t klen = strlen(key);
	const char *q;
	if ((size_t)(end - *p) < klen || memcmp(*p, key, klen) != 0)
		return -1;
	for (q = *p + klen; q < end && *q != '"' && *q != '\\'; q++)
		;
	if (q >= end || *q != '"')
		return -1;
	*val = *p + klen;
	*len = (size_t)(q - *val);
	*p = q;
	return 0;
}

/* backwards: the text just before *p must be lit; moves *p before it */
static int relay_scan_back(const char **p, const char *start, const char *lit)
{
	size_t n = strlen(lit);
	if ((size_t)(*p - start) < n || memcmp(*p - n, lit, n) != 0)
		return -1;
	*p -= n;
	return 0;
}

static const char *relay_scan_token_back(const char *p, const char *start)
{
	while (p > start && relay_token_ok(p - 1, 1))
		p--;
	return p;
}

static int relay_scan(const char *json, size_t len, relay_parts *out)
{
	const char *p = json, *end = json + len, *src, *q, *tok;
	size_t src_len;
	if (relay_scan_str(&p, end, "{\"specversion\":\"1.0\",\"id\":\"", &out->id, &out->id_len) < 0 ||
	    relay_scan_str(&p, end, "\",\"source\":\"", &src, &src_len) < 0 ||
	    relay_scan_str(&p, end, "\",\"type\":\"", &out->type, &out->type_len) < 0)
		return -1;
	q = end;
	if (relay_scan_back(&q, p, "\"}}}") < 0)
		return -1;
	tok = relay_scan_token_back(q, p);
	out->name = tok;
	out->name_len = (size_t)(q - tok);
	q = tok;
	if (relay_scan_back(&q, p, "\",\"name\":\"") < 0)
		return -1;
	tok = relay_scan_token_back(q, p);
	out->ns = tok;
	out->ns_len = (size_t)(q - tok);
	q = tok;
	if (relay_scan_back(&q, p, "\",\"namespace\":\"") < 0)
		return -1;
	q = relay_scan_token_back(q, p); /* the uid */
	if (relay_scan_back(&q, p, "\"repository\":{\"uid\":\"") < 0 || q <= p || (q[-1] != '{' && q[-1] != ','))
		return -1;
	return 0;
}

/* a header value: visible ASCII, no space, no control character */
static int relay_visible(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x21 || s[i] > 0x7e)
			return 0;
	return 1;
}

static void relay_take_str(json_t *v, const char **s, size_t *len)
{
	*s = json_string_value(v);
	*len = *s ? json_string_length(v) : 0;
}

int gs_relay_subject(const char *json, size_t len, char subject[GS_RELAY_MAX_SUBJECT], char id[GS_RELAY_MAX_ID],
		     gs_error *err)
{
	json_t *ev = NULL;
	relay_parts e;
	const char *tname = NULL;
	size_t tlen = 0;
	int error = 0, n;

	memset(&e, 0, sizeof(e));
	if (relay_scan(json, len, &e) < 0) {
		json_t *repo;
		memset(&e, 0, sizeof(e));
		ev = json_loadb(json, len, 0, NULL);
		if (!json_is_object(ev)) {
			error = gs_error_set(err, GS_EINVALID, "events", "event is not a JSON object");
			goto out;
		}
		repo = json_object_get(json_object_get(ev, "data"), "repository");
		relay_take_str(json_object_get(ev, "id"), &e.id, &e.id_len);
		relay_take_str(json_object_get(ev, "type"), &e.type, &e.type_len);
		relay_take_str(json_object_get(repo, "namespace"), &e.ns, &e.ns_len);
		relay_take_str(json_object_get(repo, "name"), &e.name, &e.name_len);
	}
	if (!e.id || e.id_len == 0 || e.id_len >= GS_RELAY_MAX_ID || !relay_visible(e.id, e.id_len))
		error = gs_error_set(err, GS_EINVALID, "events", "event without a usable id (1-%d printable characters)",
				     GS_RELAY_MAX_ID - 1);
	else if (relay_type_name(e.type, e.type_len, &tname, &tlen) < 0)
		error = gs_error_set(err, GS_EINVALID, "events", "event %.*s: type %.*s is not dev.gitstore.<name>.v<N>",
				     (int)e.id_len, e.id, e.type ? (int)e.type_len : 6, e.type ? e.type : "(none)");
	else if (!e.ns || !relay_token_ok(e.ns, e.ns_len))
		error = gs_error_set(err, GS_EINVALID, "events", "event %.*s: data.repository.namespace %.*s is not a subject token",
				     (int)e.id_len, e.id, e.ns ? (int)e.ns_len : 6, e.ns ? e.ns : "(none)");
	else if (!e.name || !relay_token_ok(e.name, e.name_len))
		error = gs_error_set(err, GS_EINVALID, "events", "event %.*s: data.repository.name %.*s is not a subject token",
				     (int)e.id_len, e.id, e.name ? (int)e.name_len : 6, e.name ? e.name : "(none)");
	if (error)
		goto out;
	/* the prefix and 3 tokens of <= 63 with their dots fit (asserted below) */
	n = snprintf(subject, GS_RELAY_MAX_SUBJECT, GS_RELAY_SUBJECT_PREFIX ".%.*s.%.*s.", (int)e.ns_len, e.ns,
		     (int)e.name_len, e.name);
	memcpy(subject + n, tname, tlen);
	subject[(size_t)n + tlen] = 0;
	memcpy(id, e.id, e.id_len);
	id[e.id_len] = 0;
out:
	json_decref(ev);
	return error;
}

_Static_assert(sizeof(GS_RELAY_SUBJECT_PREFIX) + 3 * (RELAY_MAX_TOKEN + 1) <= GS_RELAY_MAX_SUBJECT, "subject fits");

/* --- NATS plumbing ------------------------------------------------------- */

/* libnats keeps a thread-local error text; copy it now, on this thread. */
static int relay_nats_error(gs_error *err, natsStatus s, const char *what)
{
	const char *detail = nats_GetLastError(NULL), *src;
	/* "(conn.c:2088): No server available..." -> the message alone */
	if (detail && detail[0] == '(' && (src = strstr(detail, "): ")) != NULL)
		detail = src + 3;
	return gs_error_set(err, GS_EUNAVAILABLE, "nats", "%s: %s", what,
			    detail && *detail ? detail : natsStatus_GetText(s));
}

static void relay_disconnect(gs_relay *r)
{
	natsSubscription_Destroy(r->acks);
	natsConnection_Destroy(r->nc);
	natsInbox_Destroy(r->inbox);
	r->acks = NULL;
	r->nc = NULL;
	r->inbox = NULL;
	atomic_store(&r->metrics->relay_connected, 0);
}

/* Creates the stream if it is absent; an existing one is left as it is
 * (an operator may have tuned its limits or replicas). */
static int relay_ensure_stream(gs_relay *r, int *created, gs_error *err)
{
	static const char *subjects[] = {GS_RELAY_SUBJECT_PREFIX ".>"};
	jsOptions jo;
	jsCtx *js = NULL;
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	natsStatus s;
	int error = 0;

	*created = 0;
	jsOptions_Init(&jo);
	jo.Wait = GS_RELAY_CONNECT_TIMEOUT_MS;
	if ((s = natsConnection_JetStream(&js, r->nc, &jo)) != NATS_OK) {
		error = relay_nats_error(err, s, "jetstream context");
		goto out;
	}
	s = js_GetStreamInfo(&si, js, GS_RELAY_STREAM, NULL, &jerr);
	if (s == NATS_NOT_FOUND || jerr == JSStreamNotFoundErr) {
		jsStreamConfig cfg;
		jsStreamConfig_Init(&cfg);
		cfg.Name = GS_RELAY_STREAM;
		cfg.Subjects = subjects;
		cfg.SubjectsLen = 1;
		cfg.Storage = js_FileStorage;
		jerr = 0;
		s = js_AddStream(&si, js, &cfg, NULL, &jerr);
		if (s == NATS_OK)
			*created = 1;
		else if (jerr == JSStreamNameExistErr) /* another relay won the race */
			s = NATS_OK;
	}
	if (s != NATS_OK)
		error = relay_nats_error(err, s, "jetstream stream " GS_RELAY_STREAM);
out:
	jsStreamInfo_Destroy(si);
	jsCtx_Destroy(js);
	return error;
}

static int relay_connect(gs_relay *r, gs_error *err)
{
	natsOptions *o = NULL;
	natsStatus s;
	char filter[128];
	int error = 0, created = 0;

	s = natsOptions_Create(&o);
	if (s == NATS_OK)
		s = natsOptions_SetURL(o, r->url);
	if (s == NATS_OK)
		s = natsOptions_SetName(o, "gitstore-relay");
	if (s == NATS_OK)
		s = natsOptions_SetAllowReconnect(o, false);
	if (s == NATS_OK)
		s = natsOptions_SetTimeout(o, GS_RELAY_CONNECT_TIMEOUT_MS);
	if (s == NATS_OK)
		s = natsConnection_Connect(&r->nc, o);
	if (s != NATS_OK) {
		error = relay_nats_error(err, s, r->url);
		goto out;
	}
	if ((error = relay_ensure_stream(r, &created, err)) < 0)
		goto out;
	s = natsInbox_Create(&r->inbox);
	if (s == NATS_OK) {
		snprintf(filter, sizeof(filter), "%s.*", (const char *)r->inbox);
		s = natsConnection_SubscribeSync(&r->acks, r->nc, filter);
	}
	if (s != NATS_OK) {
		error = relay_nats_error(err, s, "acknowledgement subscription");
		goto out;
	}
	atomic_store(&r->metrics->relay_connected, 1);
	GS_LOG(GS_LOG_INFO, "relay", "connected to %s; stream %s %s; publishing after logseq %lld", r->url,
	       GS_RELAY_STREAM, created ? "created" : "exists", (long long)r->cursor);
out:
	natsOptions_Destroy(o);
	if (error < 0)
		relay_disconnect(r);
	return error;
}

static int relay_ensure_connected(gs_relay *r, gs_error *err)
{
	if (r->nc && natsConnection_Status(r->nc) == NATS_CONN_STATUS_CONNECTED)
		return 0;
	if (r->nc) {
		GS_LOG(GS_LOG_WARN, "relay", "connection to %s lost", r->url);
		relay_disconnect(r);
	}
	return relay_connect(r, err);
}

/* --- one pass: read, publish, acknowledge, persist ------------------------ */

static void relay_batch_clear(relay_batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		free(b->items[i].json);
	b->n = 0;
	b->bad = 0;
	gs_error_clear(&b->bad_err);
}

static int relay_collect(int64_t logseq, const char *type, const char *json, void *payload)
{
	relay_batch *b = payload;
	relay_item *it = &b->items[b->n];
	size_t len = strlen(json);
	(void)type;
	if (gs_relay_subject(json, len, it->subject, it->id, &b->bad_err) < 0) {
		b->bad = logseq;
		return 1; /* stop here: nothing after it may go first */
	}
	it->logseq = logseq;
	it->json = gs_xstrndup(json, len);
	it->len = len;
	it->acked = 0;
	b->n++;
	return 0;
}

static int relay_read(gs_relay *r, relay_batch *b, gs_error *err)
{
	gs_evlog_filter f;
	gs_db *db = gs_dbpool_get(r->pool);
	int error;
	memset(&f, 0, sizeof(f));
	f.after = r->cursor;
	f.limit = GS_RELAY_BATCH;
	error = gs_evlog_read(db, &f, relay_collect, b, err);
	gs_dbpool_put(r->pool, db);
	return error < 0 ? error : 0;
}

/* Its own small transaction: the write lock is held for one row. */
static int relay_save_cursor(gs_relay *r, int64_t logseq, gs_error *err)
{
	gs_db *db = gs_dbpool_get(r->pool);
	int error;
	if ((error = gs_db_begin(db, err)) == 0 && (error = gs_cursor_set(db, GS_RELAY_CURSOR, logseq, err)) == 0)
		error = gs_db_commit(db, err);
	if (error < 0)
		gs_db_rollback(db);
	gs_dbpool_put(r->pool, db);
	if (error == 0) {
		r->cursor = logseq;
		atomic_store(&r->metrics->relay_cursor, logseq);
	}
	return error;
}

static int relay_publish(gs_relay *r, const relay_item *it, gs_error *err)
{
	natsMsg *m = NULL;
	natsStatus s;
	char reply[128];
	snprintf(reply, sizeof(reply), "%s.%lld", (const char *)r->inbox, (long long)it->logseq);
	s = natsMsg_Create(&m, it->subject, reply, it->json, (int)it->len);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "Nats-Msg-Id", it->id);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, "content-type", GS_RELAY_CONTENT_TYPE);
	if (s == NATS_OK)
		s = natsConnection_PublishMsg(r->nc, m);
	natsMsg_Destroy(m);
	return s == NATS_OK ? 0 : relay_nats_error(err, s, it->subject);
}

static relay_item *relay_find(relay_batch *b, int64_t logseq)
{
	size_t lo = 0, hi = b->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (b->items[mid].logseq == logseq)
			return &b->items[mid];
		if (b->items[mid].logseq < logseq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* One PubAck, matched to its publish by the reply subject's last token
 * (the logseq): 1 if it settled an outstanding publish, 0 if it is stale,
 * <0 if JetStream refused the message. */
static int relay_take_ack(gs_relay *r, relay_batch *b, natsMsg *m, gs_error *err)
{
	const char *subj = natsMsg_GetSubject(m), *dot = strrchr(subj, '.');
	relay_item *it = dot ? relay_find(b, strtoll(dot + 1, NULL, 10)) : NULL;
	json_t *ack, *e;
	int error = 1;
	if (!it || it->acked)
		return 0;
	ack = json_loadb(natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), 0, NULL);
	e = json_object_get(ack, "error");
	if (e || !json_is_integer(json_object_get(ack, "seq"))) {
		const char *desc = json_string_value(json_object_get(e, "description"));
		error = gs_error_set(err, GS_EUNAVAILABLE, "nats", "jetstream refused %s (logseq %lld): %s [%lld]",
				     it->subject, (long long)it->logseq, desc ? desc : "malformed acknowledgement",
				     (long long)json_integer_value(json_object_get(e, "err_code")));
	} else {
		it->acked = 1;
		atomic_fetch_add(&r->metrics->relay_published, 1);
		if (json_is_true(json_object_get(ack, "duplicate")))
			atomic_fetch_add(&r->metrics->relay_duplicates, 1);
	}
	json_decref(ack);
	return error;
}

/* Publishes b's events in order with at most GS_RELAY_MAX_INFLIGHT
 * unacknowledged; *done is the acknowledged prefix, on failure too. */
static int relay_send(gs_relay *r, relay_batch *b, size_t *done, gs_error *err)
{
	size_t sent = 0, acked = 0;
	int64_t progress = gs_time_mono_ns();
	int error = 0;

	*done = 0;
	while (*done < b->n) {
		natsMsg *m = NULL;
		natsStatus s;
		while (sent < b->n && sent - acked < GS_RELAY_MAX_INFLIGHT)
			if ((error = relay_publish(r, &b->items[sent++], err)) < 0)
				goto out;
		s = natsSubscription_NextMsg(&m, r->acks, RELAY_ACK_POLL_MS);
		if (s == NATS_TIMEOUT) {
			if (atomic_load(&r->stopping)) {
				error = gs_error_set(err, GS_EUNAVAILABLE, "nats", "stopping with %zu publishes unacknowledged",
						     sent - acked);
				goto out;
			}
			if (gs_time_mono_ns() - progress >= (int64_t)GS_RELAY_PUBLISH_TIMEOUT_MS * 1000000) {
				error = gs_error_set(err, GS_EUNAVAILABLE, "nats",
						     "no acknowledgement from jetstream in %d ms (%zu publishes outstanding)",
						     GS_RELAY_PUBLISH_TIMEOUT_MS, sent - acked);
				goto out;
			}
			continue;
		}
		if (s == NATS_NO_RESPONDERS) {
			error = gs_error_set(err, GS_EUNAVAILABLE, "nats", "no jetstream stream takes %s (stream %s deleted?)",
					     b->items[*done].subject, GS_RELAY_STREAM);
			goto out;
		}
		if (s != NATS_OK) {
			error = relay_nats_error(err, s, "acknowledgements");
			goto out;
		}
		error = relay_take_ack(r, b, m, err);
		natsMsg_Destroy(m);
		if (error < 0)
			goto out;
		if (error > 0) {
			acked++;
			progress = gs_time_mono_ns();
		}
		error = 0;
		while (*done < b->n && b->items[*done].acked)
			(*done)++;
	}
out:
	while (*done < b->n && b->items[*done].acked)
		(*done)++;
	return error;
}

/* The next batch after the cursor, published and acknowledged; then the
 * cursor moves over the acknowledged prefix (also when the rest failed).
 * *idle is set when the log had nothing new. */
static int relay_pass(gs_relay *r, int *idle, gs_error *err)
{
	relay_batch *b = r->batch;
	size_t done = 0;
	int error;

	*idle = 0;
	if ((error = relay_read(r, b, err)) < 0)
		goto out;
	*idle = b->n == 0 && !b->bad;
	if (b->n)
		error = relay_send(r, b, &done, err);
	if (done > 0) {
		gs_error cerr = GS_ERROR_INIT;
		int cerror;
		if (r->fault && strcmp(r->fault, "relay-after-publish") == 0) {
			/* test-only crash point: acknowledged, cursor not stored */
			GS_LOG(GS_LOG_WARN, "relay", "test fault relay-after-publish: exiting after logseq %lld",
			       (long long)b->items[done - 1].logseq);
			_exit(137);
		}
		/* an unstored cursor only means a republish the broker drops */
		if ((cerror = relay_save_cursor(r, b->items[done - 1].logseq, &cerr)) < 0 && error == 0)
			error = gs_error_set(err, cerror, cerr.domain, "%s", cerr.msg);
	}
	if (error == 0 && b->bad && done == b->n)
		error = gs_error_set(err, GS_EINVALID, "events", "logseq %lld cannot be published: %s",
				     (long long)b->bad, b->bad_err.msg);
out:
	relay_batch_clear(b);
	return error;
}

/* --- the thread ----------------------------------------------------------- */

/* backoff minus up to 20% */
static int relay_jitter(gs_relay *r, int backoff_ms)
{
	return backoff_ms - (int)(rand_r(&r->seed) % (unsigned)(backoff_ms / 5 + 1));
}

static void *relay_main(void *arg)
{
	gs_relay *r = arg;
	int backoff = GS_RELAY_BACKOFF_MIN_MS, failures = 0, closing = 0;

	while (!closing && !atomic_load(&r->stopping)) {
		gs_error err = GS_ERROR_INIT;
		int idle = 0, error;
		if ((error = relay_ensure_connected(r, &err)) == 0)
			error = relay_pass(r, &idle, &err);
		if (error < 0 && atomic_load(&r->stopping))
			break; /* shutting down: the unacknowledged rest goes out at the next start */
		if (error < 0) {
			int delay = relay_jitter(r, backoff);
			relay_disconnect(r); /* late acks and queued publishes go with it */
			atomic_fetch_add(&r->metrics->relay_errors, 1);
			/* the first failure of a run is a warning; the retries
			 * behind it would flood the log while NATS is down */
			GS_LOG(failures == 0 ? GS_LOG_WARN : GS_LOG_DEBUG, "relay", "%s; retrying in %d ms", err.msg, delay);
			failures++;
			gs_evnotify_wait(r->notify, INT64_MAX, delay, &closing);
			backoff = backoff * 2 > GS_RELAY_BACKOFF_MAX_MS ? GS_RELAY_BACKOFF_MAX_MS : backoff * 2;
			continue;
		}
		if (failures) {
			GS_LOG(GS_LOG_INFO, "relay", "publishing again after %d failed attempts", failures);
			failures = 0;
		}
		backoff = GS_RELAY_BACKOFF_MIN_MS;
		/* nothing after the cursor: sleep until the head passes what we
		 * have seen (not just the cursor, so a head the read cannot
		 * reach never makes this spin) */
		if (idle)
			r->seen = gs_evnotify_wait(r->notify, r->seen > r->cursor ? r->seen : r->cursor, RELAY_IDLE_MS,
						   &closing);
	}
	relay_disconnect(r);
	return NULL;
}

int gs_relay_start(gs_relay **out, const gs_relay_config *cfg, gs_error *err)
{
	char host[GS_RELAY_MAX_HOST];
	gs_relay *r = NULL;
	gs_db *db;
	int port = 0, error;

	*out = NULL;
	if ((error = gs_relay_parse_url(cfg->url, host, &port, err)) < 0)
		return error;
	r = gs_xcalloc(1, sizeof(*r));
	r->url = gs_xasprintf("nats://%s:%d", host, port);
	r->pool = cfg->pool;
	r->notify = cfg->notify;
	r->metrics = cfg->metrics;
	r->fault = getenv("GITSTORE_TEST_FAULT");
	r->batch = gs_xcalloc(1, sizeof(*r->batch));
	r->seed = (unsigned)time(NULL) ^ (unsigned)getpid();
	db = gs_dbpool_get(r->pool);
	error = gs_cursor_get(db, GS_RELAY_CURSOR, &r->cursor, err);
	gs_dbpool_put(r->pool, db);
	if (error < 0)
		goto fail;
	atomic_store(&r->metrics->relay_cursor, r->cursor);
	atomic_store(&r->metrics->relay_enabled, 1);
	if (pthread_create(&r->thread, NULL, relay_main, r) != 0) {
		error = gs_error_set(err, GS_ERROR, "os", "cannot start the relay thread");
		goto fail;
	}
	*out = r;
	return 0;
fail:
	free(r->batch);
	free(r->url);
	free(r);
	return error;
}

void gs_relay_stop(gs_relay *r)
{
	if (!r)
		return;
	atomic_store(&r->stopping, 1);
	pthread_join(r->thread, NULL);
	/* libnats' own threads hold library references until they unwind;
	 * wait for them so nothing of it outlives the relay (leak checkers) */
	nats_CloseAndWait(GS_RELAY_CONNECT_TIMEOUT_MS);
	free(r->batch);
	free(r->url);
	free(r);
}
