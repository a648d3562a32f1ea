/*
 * git/hooksock.h -- the Unix socket between `gitstore hook ...` processes
 * and the daemon.
 *
 * Framing: 4-byte big-endian length, then that many bytes of JSON. One
 * request and one reply per connection.
 * Request:  {"hook": "pre-receive"|"reference-transaction"|"post-receive",
 *            "phase": "prepared"|"committed"|"aborted" (transaction only),
 *            "pushId", "repoUid", "quarantine",
 *            "updates": [["<old>", "<new>", "<ref>"], ...]}
 * Reply:    {"exit": 0|1, "message": "text shown to the pusher"}
 *
 * Ownership: the server thread owns its connections; handler output
 *   (reply json) is released by the server.
 * Threads: one accept thread, one detached thread per connection.
 * Errors: GS_EUNAVAILABLE (cannot connect / daemon gone), GS_EINVALID
 *   (malformed frame), GS_ELIMIT (frame over GS_MAX_HOOK_MSG_BYTES).
 */
#ifndef GS_HOOKSOCK_H
#define GS_HOOKSOCK_H

#include <jansson.h>

#include "util/error.h"

typedef struct gs_hooksock gs_hooksock;

/* Handles one request; returns a new reply object. */
typedef json_t *(*gs_hooksock_handler)(json_t *request, void *payload);

int gs_hooksock_listen(gs_hooksock **out, const char *path, gs_hooksock_handler h, void *payload, gs_error *err);
/* Stops accepting, waits for in-flight handlers, unlinks the socket. */
void gs_hooksock_close(gs_hooksock *s);

/* Client side: sends req, waits up to timeout_s for the reply. */
int gs_hooksock_call(const char *path, json_t *req, json_t **reply, int timeout_s, gs_error *err);

#endif
