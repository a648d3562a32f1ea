/*
 * events/consumer.h -- durable, acknowledged consumers of the event log
 * (DESIGN 6), persisted in SQLite so they survive restarts.
 *
 * A consumer has a filter (taxonomy names, optionally one repository), an
 * ack wait and a maximum number of deliveries. Matching events are pulled
 * from the log into the consumer's pending set in log order; fetch leases
 * ready ones (deliveryAttempt + 1, lease until now + ack wait); ack
 * settles them; nak makes them ready again (after an optional delay); term
 * dead-letters them. A lease that runs out makes the event ready again; an
 * event that already had maxDeliver deliveries is dead-lettered instead,
 * and an `event-dead-lettered` event is appended to the log (not for
 * dead-lettered advisories themselves, so a failing consumer cannot feed
 * itself). Order: a consumer is never handed an event of a repository
 * while an earlier unsettled event of the same repository is not leased.
 *
 * The cursor is the settled floor: every matching event at or before it is
 * acknowledged, terminated or dead-lettered.
 *
 * Built-in consumers (names starting with "gitstore-": the catalog worker
 * and the lifecycle controller) use the same tables; they may settle an
 * event inside the transaction that writes its effects (gs_consumer_ack_tx).
 *
 * Ownership: gs_delivery json is malloc'd; gs_deliveries_free frees an
 *   array of them. Configuration strings are copied.
 * Threads: one gs_db per thread; each call that is not *_tx runs its own
 *   write transaction (BEGIN IMMEDIATE), so concurrent fetches of one
 *   consumer never lease the same event twice.
 * Errors: GS_ENOTFOUND (no such consumer), GS_EINVALID, GS_ELIMIT,
 *   GS_EUNAVAILABLE (database busy), GS_ERROR.
 */
#ifndef GS_CONSUMER_H
#define GS_CONSUMER_H

#include <stddef.h>
#include <stdint.h>

#include "events/evnotify.h"
#include "limits.h"
#include "store/db.h"

#define GS_CONSUMER_BUILTIN_PREFIX "gitstore-"
#define GS_CONSUMER_CATALOG "gitstore-catalog"
#define GS_CONSUMER_LIFECYCLE "gitstore-lifecycle"

typedef struct gs_consumer_cfg {
	char name[GS_MAX_CONSUMER_NAME + 1];
	/* taxonomy names (static strings of gs_evlog_taxonomy); none: all */
	const char *types[GS_MAX_CONSUMER_TYPES + 1];
	int ntypes;
	char repo_uid[37];  /* "" for every repository */
	char repo[130];     /* "ns/name" as configured, "" for every one */
	char ns[64];        /* the repository's namespace, "" for every one */
	int64_t ack_wait_ms;
	int max_deliver;    /* 0: unlimited */
	int64_t start_after; /* only used when the consumer is created */
} gs_consumer_cfg;

typedef struct gs_consumer_info {
	gs_consumer_cfg cfg;
	int64_t cursor;       /* settled floor */
	int64_t pulled;       /* the log has been scanned up to here */
	int64_t pending;      /* unsettled: leased or waiting */
	int64_t leased;
	int64_t dead;         /* dead-lettered, in total */
	int64_t created_ms;
	int64_t updated_ms;
} gs_consumer_info;

typedef struct gs_delivery {
	int64_t logseq;
	int attempt;          /* 1 for the first delivery */
	char *json;           /* the CloudEvent as stored */
} gs_delivery;

void gs_deliveries_free(gs_delivery *d, size_t n);

/* 1 if name is a valid consumer name: 1..GS_MAX_CONSUMER_NAME of
 * [A-Za-z0-9._-], starting with a letter or digit. */
int gs_consumer_name_ok(const char *name);

/* Creates (*created = 1; pulled = start_after) or updates the filter, ack
 * wait and max deliver (*created = 0; position, pending and dead letters
 * kept). */
int gs_consumer_put(gs_db *db, const gs_consumer_cfg *cfg, int *created, gs_error *err);
int gs_consumer_get(gs_db *db, const char *name, gs_consumer_info *out, gs_error *err);
/* The same without the counts (pending, leased, cursor stay 0): no scan
 * of the pending set. */
int gs_consumer_get_cfg(gs_db *db, const char *name, gs_consumer_info *out, gs_error *err);
int gs_consumer_delete(gs_db *db, const char *name, gs_error *err);
typedef int (*gs_consumer_cb)(const gs_consumer_info *c, void *payload);
int gs_consumer_each(gs_db *db, gs_consumer_cb cb, void *payload, gs_error *err);

/* Leases up to max events (after pulling new ones from the log and
 * expiring leases). *out (caller frees with gs_deliveries_free) may be
 * empty; *next_due_ms is the earliest time a waiting event becomes ready
 * (0: none), for a caller that waits. notify (may be NULL) is bumped when
 * dead-letter events were appended. */
int gs_consumer_fetch(gs_db *db, gs_evnotify *notify, const char *name, int max, gs_delivery **out, size_t *n,
		      int64_t *next_due_ms, gs_error *err);

/* Settle events. settled[i] (may be NULL) is 1 when logseqs[i] was pending
 * (and is now settled), 0 when it was not (unknown or already settled). */
int gs_consumer_ack(gs_db *db, const char *name, const int64_t *logseqs, size_t n, int *settled, gs_error *err);
/* Ready again after delay_ms (its next delivery counts as an attempt; one
 * that already had max deliveries is dead-lettered). */
int gs_consumer_nak(gs_db *db, gs_evnotify *notify, const char *name, const int64_t *logseqs, size_t n,
		    int64_t delay_ms, int *settled, gs_error *err);
int gs_consumer_term(gs_db *db, gs_evnotify *notify, const char *name, const int64_t *logseqs, size_t n,
		     int *settled, gs_error *err);

/* Dead letters after `after` (a logseq), oldest first, at most limit. */
typedef struct gs_dead_letter {
	int64_t logseq;
	int attempts;
	const char *reason;   /* "max-deliver" or "term" */
	int64_t dead_ms;
	const char *json;     /* the event; "" if it is no longer in the log */
} gs_dead_letter;
typedef int (*gs_dead_letter_cb)(const gs_dead_letter *d, void *payload);
int gs_consumer_dead_each(gs_db *db, const char *name, int64_t after, int limit, gs_dead_letter_cb cb, void *payload,
			  gs_error *err);

/* ---- for the built-in workers ---- */

/* Creates the built-in consumer or updates its filter (types NULL-
 * terminated); unlimited deliveries. Leases left by a previous run of the
 * process are returned (uncounted): nobody else holds them. */
int gs_consumer_builtin(gs_db *db, const char *name, const char *const *types, gs_error *err);
/* ack inside the caller's write transaction (with the event's effects). */
int gs_consumer_ack_tx(gs_db *db, const char *name, int64_t logseq, gs_error *err);
/* Gives a lease back uncounted, ready after delay_ms: the event was not
 * looked at (its preconditions do not hold yet). */
int gs_consumer_defer(gs_db *db, const char *name, int64_t logseq, int64_t delay_ms, gs_error *err);
/* The settled floor (see above). */
int gs_consumer_cursor(gs_db *db, const char *name, int64_t *out, gs_error *err);

#endif
