/*
 * http/reqparse.h -- the small parsers of request metadata the HTTP layer
 * reads before anything else: credentials from an Authorization header and
 * the route of a Git smart-HTTP URL.
 *
 * Pure: no I/O, no libmicrohttpd, so they are unit-tested and fuzzed
 * (tests/fuzz/fuzz_httpreq.c) on their own.
 * Ownership: results are written into caller-owned buffers.
 * Threads: no state.
 * Errors: -1 for anything not well formed (the caller answers 401 or 400);
 *   outputs are then unspecified.
 * SPDX-License-Identifier: MIT
 */
#ifndef GS_HTTP_REQPARSE_H
#define GS_HTTP_REQPARSE_H

#include <stddef.h>

/* The token from "Bearer TOKEN" or "Basic base64(user:TOKEN)" (the user
 * part is ignored). 0 ok; -1 other schemes, malformed base64 or padding,
 * an empty token, or a token that does not fit in outsz (NUL included). */
int gs_reqparse_credentials(const char *hdr, char *out, size_t outsz);

typedef enum { GS_GITROUTE_INFO_REFS = 1, GS_GITROUTE_UPLOAD = 2, GS_GITROUTE_RECEIVE = 3 } gs_gitroute;

/* /<ns>/<repo>[.git]/info/refs | git-upload-pack | git-receive-pack.
 * ns and repo must be DNS labels; empty, "." and ".." segments and any
 * other shape are -1. */
int gs_reqparse_git_url(const char *url, char ns[64], char name[64], gs_gitroute *route);

#endif
