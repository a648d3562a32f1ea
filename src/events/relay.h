/*
 * events/relay.h -- outbox relay: publishes the event log to NATS JetStream.
 *
 * One background thread reads the log in logseq order after its cursor
 * ("relay:nats" in the cursors table) and publishes each event, as stored
 * (structured-mode CloudEvent, header content-type
 * application/cloudevents+json), to gitstore.<namespace>.<repository>.<name>
 * with header Nats-Msg-Id = the event id, on one connection, in log order,
 * with at most GS_RELAY_MAX_INFLIGHT publishes awaiting their PubAck. The
 * cursor moves only over a contiguous acknowledged prefix, in its own small
 * transaction, so delivery is at-least-once and the broker's de-duplication
 * window drops the republished suffix after a crash. On any failure the
 * connection is dropped and rebuilt with exponential backoff; the rest of
 * the daemon never waits for the relay. At start the stream GITSTORE
 * (subjects gitstore.>, file storage) is created if absent; an existing
 * stream's configuration is left alone.
 *
 * Ownership: gs_relay_start gives a running relay; gs_relay_stop joins and
 *   frees it (the caller closes the notifier first, as for gs_evworker).
 *   The config's pool, notifier and metrics are borrowed and must outlive
 *   the relay; the URL is copied.
 * Threads: everything NATS happens on the relay's thread; it touches the
 *   rest of the daemon only through the pool, the notifier (waits) and
 *   atomic metrics.
 * Errors: gs_relay_parse_url and gs_relay_subject return GS_EINVALID for
 *   malformed input; gs_relay_start returns GS_EINVALID (bad URL) or
 *   GS_ERROR. Runtime failures are logged, counted and retried, never
 *   returned.
 */
#ifndef GS_RELAY_H
#define GS_RELAY_H

#include "events/evnotify.h"
#include "store/db.h"
#include "util/error.h"
#include "util/metrics.h"

#define GS_RELAY_STREAM "GITSTORE"
#define GS_RELAY_SUBJECT_PREFIX "gitstore"
#define GS_RELAY_CURSOR "relay:nats"
#define GS_RELAY_CONTENT_TYPE "application/cloudevents+json"
/* buffer sizes, terminating NUL included */
#define GS_RELAY_MAX_SUBJECT 256
#define GS_RELAY_MAX_ID 129
#define GS_RELAY_MAX_HOST 256

typedef struct gs_relay gs_relay;

typedef struct gs_relay_config {
	const char *url; /* nats://HOST[:PORT] */
	gs_dbpool *pool;
	gs_evnotify *notify;
	gs_metrics *metrics;
} gs_relay_config;

/* Checks a --nats URL: nats://HOST[:PORT] (PORT 1..65535, default 4222),
 * nothing else (no credentials, path, query or list). host/port may be
 * NULL when only validation is wanted. */
int gs_relay_parse_url(const char *url, char host[GS_RELAY_MAX_HOST], int *port, gs_error *err);

/* From one stored event (its JSON text): the subject
 * gitstore.<data.repository.namespace>.<data.repository.name>.<name>, where
 * type is dev.gitstore.<name>.v1, and the id. Each token must be
 * [A-Za-z0-9_-]{1,63}; the id printable ASCII without spaces. */
int gs_relay_subject(const char *json, size_t len, char subject[GS_RELAY_MAX_SUBJECT], char id[GS_RELAY_MAX_ID],
		     gs_error *err);

int gs_relay_start(gs_relay **out, const gs_relay_config *cfg, gs_error *err);
void gs_relay_stop(gs_relay *r);

#endif
