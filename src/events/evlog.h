/*
 * events/evlog.h -- the append-only, gap-free, de-duplicated event log.
 *
 * Every event gets logseq (global, contiguous from 1) and sequence (per
 * repository, contiguous from 1) at append time, inside the caller's
 * write transaction. An event whose id is already in the log is dropped
 * without consuming a number, so replays add nothing and leave no gap.
 *
 * Ownership: specs and their json data are borrowed for the call.
 *   gs_evlog_read hands each stored event (JSON text) to a callback; the
 *   text is valid only during the callback.
 * Threads: one gs_db per thread; appends serialise on SQLite's write lock.
 * Errors: GS_ELIMIT (an event over GS_MAX_EVENT_BYTES; nothing written),
 *   GS_EUNAVAILABLE (database busy), GS_ERROR.
 */
#ifndef GS_EVLOG_H
#define GS_EVLOG_H

#include <jansson.h>
#include <stdint.h>

#include "store/db.h"
#include "store/registry.h"

#define GS_EVENT_TYPE_PREFIX "dev.gitstore."
#define GS_EVENT_ID_HEX 32

/* The event names of the taxonomy (DESIGN 3, plus event-dead-lettered),
 * NULL-terminated. */
extern const char *const gs_evlog_taxonomy[];
/* The taxonomy name for a name or a full CloudEvents type
 * ("dev.gitstore.<name>.v1"); NULL if it is neither. The result is one of
 * gs_evlog_taxonomy's (static) strings. */
const char *gs_evlog_type_canonical(const char *t);

typedef struct gs_event_spec {
	const char *id;          /* deterministic, see gs_evlog_make_id */
	const char *type;        /* taxonomy name, e.g. "branch-created" */
	const gs_repo_info *repo;
	const char *subject;
	const char *correlation; /* NULL to omit */
	const char *causation;   /* NULL to omit */
	json_t *data;            /* borrowed; evlog adds data.repository */
} gs_event_spec;

typedef struct gs_evlog_filter {
	int64_t after;            /* logseq strictly greater than this */
	int limit;                /* 1..GS_MAX_EVENTS_PAGE */
	const char *repo_uid;     /* NULL: every repository */
	const char *const *types; /* NULL-terminated taxonomy names; NULL: all */
	const char *const *namespaces; /* NULL-terminated allow list; NULL: all */
} gs_evlog_filter;

typedef int (*gs_evlog_cb)(int64_t logseq, const char *type, const char *json, void *payload);

/* Id = first 32 hex digits of SHA-256 over the parts (see DESIGN 5.2). */
void gs_evlog_make_id(char out[GS_EVENT_ID_HEX + 1], const char *const *parts, size_t n);

/* Appends inside an open write transaction (gs_db_begin). *appended
 * counts events written (duplicates excluded); added[i] (if not NULL)
 * says whether evs[i] was new; *last_logseq is the log head afterwards. */
int gs_evlog_append_tx(gs_db *db, const gs_event_spec *evs, size_t n, int *added, size_t *appended,
		       int64_t *last_logseq, gs_error *err);
/* Same, in its own transaction. */
int gs_evlog_append(gs_db *db, const gs_event_spec *evs, size_t n, size_t *appended, int64_t *last_logseq,
		    gs_error *err);
int gs_evlog_exists(gs_db *db, const char *id, gs_error *err); /* 1, 0 or <0 */
int gs_evlog_head(gs_db *db, int64_t *out, gs_error *err);
/* Calls cb for each matching event in logseq order; a non-zero return
 * from cb stops the scan and is returned. */
int gs_evlog_read(gs_db *db, const gs_evlog_filter *f, gs_evlog_cb cb, void *payload, gs_error *err);
/* Retention. The log's removed prefix: events up to *through are gone
 * (0: none removed). The head never goes below it, so numbering
 * continues. */
int gs_evlog_floor(gs_db *db, int64_t *through, gs_error *err);
/* Removes the events appended before before_ms, but none after
 * keep_after (the least position a built-in reader still needs), in
 * transactions of at most GS_PRUNE_BATCH events; *removed counts them. */
int gs_evlog_prune(gs_db *db, int64_t before_ms, int64_t keep_after, int64_t *removed, gs_error *err);
/* Ref events (and their JSON) of one push, in log order. */
int gs_evlog_read_correlation(gs_db *db, const char *correlation, gs_evlog_cb cb, void *payload, gs_error *err);

#endif
