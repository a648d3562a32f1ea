/*
 * events/consumerreq.c -- consumer API request bodies (see consumerreq.h).
 * SPDX-License-Identifier: MIT
 */
#include "events/consumerreq.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events/evlog.h"
#include "limits.h"
#include "util/alloc.h"
#include "util/str.h"

static json_t *req_object(const char *body, size_t len, const char **code, gs_error *err)
{
	json_error_t jerr;
	json_t *j = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES, &jerr);
	if (json_is_object(j))
		return j;
	*code = "invalid_json";
	gs_error_set(err, GS_EINVALID, "consumer", "the body must be a JSON object: %s",
		     j ? "not an object" : jerr.text);
	json_decref(j);
	return NULL;
}

/* A member not in allowed fails: a typo must not be ignored. */
static int req_only(json_t *obj, const char *const *allowed, const char **code, gs_error *err)
{
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v) {
		int ok = 0;
		for (int i = 0; allowed[i] && !ok; i++)
			ok = strcmp(key, allowed[i]) == 0;
		if (!ok) {
			*code = "invalid_request";
			return gs_error_set(err, GS_EINVALID, "consumer", "unknown member '%.100s'", key);
		}
	}
	return 0;
}

/* An optional integer member in lo..hi (dflt when absent). */
static int req_int(json_t *obj, const char *key, int64_t lo, int64_t hi, int64_t dflt, int64_t *out)
{
	json_t *v = json_object_get(obj, key);
	if (!v) {
		*out = dflt;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return -1;
	*out = json_integer_value(v);
	return 0;
}

static int req_types(json_t *types, gs_consumer_cfg *cfg, const char **code, gs_error *err)
{
	json_t *t;
	size_t i;
	if (!types)
		return 0;
	if (!json_is_array(types) || json_array_size(types) > GS_MAX_CONSUMER_TYPES) {
		*code = "invalid_consumer";
		return gs_error_set(err, GS_EINVALID, "consumer", "filter.types must be an array of at most %d event types",
				    GS_MAX_CONSUMER_TYPES);
	}
	json_array_foreach(types, i, t) {
		const char *name = gs_evlog_type_canonical(json_string_value(t));
		if (!name) {
			*code = "invalid_type";
			return gs_error_set(err, GS_EINVALID, "consumer", "unknown event type '%.100s' in filter.types",
					    json_is_string(t) ? json_string_value(t) : "(not a string)");
		}
		cfg->types[cfg->ntypes++] = name;
	}
	cfg->types[cfg->ntypes] = NULL;
	return 0;
}

static int req_repo(json_t *repo, char out[130], const char **code, gs_error *err)
{
	char ns[64], name[64];
	gs_error e2 = GS_ERROR_INIT;
	out[0] = 0;
	if (!repo || json_is_null(repo))
		return 0;
	if (!json_is_string(repo) || gs_str_split_repo(json_string_value(repo), ns, name, &e2) < 0) {
		*code = "invalid_repo";
		return gs_error_set(err, GS_EINVALID, "consumer", "filter.repo must be \"namespace/name\"");
	}
	snprintf(out, 130, "%s/%s", ns, name);
	return 0;
}

int gs_consumerreq_put(const char *body, size_t len, gs_consumer_cfg *cfg, char repo[130], const char **code,
		       gs_error *err)
{
	static const char *const top[] = {"filter", "ackWaitSeconds", "maxDeliver", "startAfter", NULL};
	static const char *const fkeys[] = {"types", "repo", NULL};
	json_t *j = req_object(body, len, code, err), *filter;
	int64_t v;
	int error;

	if (!j)
		return GS_EINVALID;
	cfg->ntypes = 0;
	cfg->types[0] = NULL;
	filter = json_object_get(j, "filter");
	if ((error = req_only(j, top, code, err)) < 0)
		goto out;
	if (filter && !json_is_object(filter)) {
		*code = "invalid_consumer";
		error = gs_error_set(err, GS_EINVALID, "consumer", "filter must be an object");
		goto out;
	}
	if ((filter && (error = req_only(filter, fkeys, code, err)) < 0) ||
	    (error = req_types(json_object_get(filter, "types"), cfg, code, err)) < 0 ||
	    (error = req_repo(json_object_get(filter, "repo"), repo, code, err)) < 0)
		goto out;
	*code = "invalid_consumer";
	if (req_int(j, "ackWaitSeconds", 1, GS_MAX_CONSUMER_ACK_WAIT_S, GS_CONSUMER_DEFAULT_ACK_WAIT_S, &v) < 0) {
		error = gs_error_set(err, GS_EINVALID, "consumer", "ackWaitSeconds must be an integer 1..%d",
				     GS_MAX_CONSUMER_ACK_WAIT_S);
		goto out;
	}
	cfg->ack_wait_ms = v * 1000;
	if (req_int(j, "maxDeliver", 0, GS_MAX_CONSUMER_DELIVER, GS_CONSUMER_DEFAULT_MAX_DELIVER, &v) < 0) {
		error = gs_error_set(err, GS_EINVALID, "consumer", "maxDeliver must be an integer 0 (unlimited)..%d",
				     GS_MAX_CONSUMER_DELIVER);
		goto out;
	}
	cfg->max_deliver = (int)v;
	if (req_int(j, "startAfter", 0, INT64_MAX, 0, &v) < 0) {
		error = gs_error_set(err, GS_EINVALID, "consumer", "startAfter must be a log position (>= 0)");
		goto out;
	}
	cfg->start_after = v;
	error = 0;
out:
	json_decref(j);
	return error;
}

int gs_consumerreq_settle(const char *body, size_t len, int nak, int64_t **seqs, size_t *n, int64_t *delay_s,
			  const char **code, gs_error *err)
{
	static const char *const keys_ack[] = {"logseq", NULL};
	static const char *const keys_nak[] = {"logseq", "delaySeconds", NULL};
	json_t *j = req_object(body, len, code, err), *list, *v;
	size_t i;
	int error;

	*seqs = NULL;
	*n = 0;
	*delay_s = 0;
	if (!j)
		return GS_EINVALID;
	if ((error = req_only(j, nak ? keys_nak : keys_ack, code, err)) < 0)
		goto out;
	*code = "invalid_request";
	list = json_object_get(j, "logseq");
	if (!json_is_array(list) || json_array_size(list) == 0 || json_array_size(list) > GS_MAX_CONSUMER_SETTLE) {
		error = gs_error_set(err, GS_EINVALID, "consumer", "logseq must be an array of 1..%d log positions",
				     GS_MAX_CONSUMER_SETTLE);
		goto out;
	}
	if (nak && req_int(j, "delaySeconds", 0, GS_MAX_CONSUMER_NAK_DELAY_S, 0, delay_s) < 0) {
		error = gs_error_set(err, GS_EINVALID, "consumer", "delaySeconds must be an integer 0..%d",
				     GS_MAX_CONSUMER_NAK_DELAY_S);
		goto out;
	}
	*seqs = gs_xcalloc(json_array_size(list), sizeof(**seqs));
	json_array_foreach(list, i, v) {
		if (!json_is_integer(v) || json_integer_value(v) < 1) {
			free(*seqs);
			*seqs = NULL;
			error = gs_error_set(err, GS_EINVALID, "consumer", "logseq entries must be positive integers");
			goto out;
		}
		(*seqs)[i] = json_integer_value(v);
	}
	*n = json_array_size(list);
	error = 0;
out:
	json_decref(j);
	return error;
}
