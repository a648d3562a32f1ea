/*
 * store/journal.h -- the ref-transaction journal: pushes, intents and the
 * last-known value of every ref.
 *
 * A push row is written when a push (or API write) starts; an intent per
 * ref is written at the reference-transaction "prepared" phase and
 * removed when the ref events are appended ("committed") or the
 * transaction is abandoned ("aborted"). refs_state holds the value each
 * ref had after the last event, with a version counter that makes
 * reconcile ids deterministic.
 *
 * Ownership: lists are malloc'd arrays freed by the caller with free().
 * Threads: one gs_db per thread.
 * Errors: GS_ENOTFOUND, GS_EUNAVAILABLE, GS_ERROR.
 */
#ifndef GS_JOURNAL_H
#define GS_JOURNAL_H

#include <stdint.h>

#include "limits.h"
#include "store/db.h"

typedef struct gs_ref_update {
	char ref[GS_MAX_REF_NAME + 1];
	char old_sha[41];
	char new_sha[41];
} gs_ref_update;

typedef struct gs_push_rec {
	char push_id[65];
	char repo_uid[37];
	char actor[GS_MAX_NAME + 1];
	char via[16];
	int atomic;
	char state[16]; /* "open" or "done" */
	char role[16];  /* the pusher's role on the namespace at push time */
} gs_push_rec;

typedef struct gs_intent {
	char push_id[65];
	char repo_uid[37];
	gs_ref_update u;
} gs_intent;

int gs_journal_push_insert(gs_db *db, const gs_push_rec *p, gs_error *err);
int gs_journal_push_get(gs_db *db, const char *push_id, gs_push_rec *out, gs_error *err);
int gs_journal_push_set_atomic(gs_db *db, const char *push_id, int atomic, gs_error *err);
int gs_journal_push_set_state(gs_db *db, const char *push_id, const char *state, gs_error *err);
int gs_journal_push_list_open(gs_db *db, gs_push_rec **out, size_t *n, gs_error *err);

/* Intents: callers wrap these in a transaction with the event append. */
int gs_journal_intent_put(gs_db *db, const char *push_id, const char *repo_uid, const gs_ref_update *u,
			  gs_error *err);
int gs_journal_intent_drop(gs_db *db, const char *push_id, const char *ref, gs_error *err);
int gs_journal_intent_list(gs_db *db, gs_intent **out, size_t *n, gs_error *err);
/* 1 if push_id has an open intent (for ref, or any ref when ref is NULL). */
int gs_journal_intent_open(gs_db *db, const char *push_id, const char *ref, gs_error *err);

/* refs_state. A missing row reads as the zero id with version 0. */
int gs_journal_ref_get(gs_db *db, const char *repo_uid, const char *ref, char sha[41], int64_t *version,
		       gs_error *err);
int gs_journal_ref_set(gs_db *db, const char *repo_uid, const char *ref, const char *sha, gs_error *err);
typedef int (*gs_journal_ref_cb)(const char *ref, const char *sha, int64_t version, void *payload);
int gs_journal_ref_each(gs_db *db, const char *repo_uid, gs_journal_ref_cb cb, void *payload, gs_error *err);

#endif
