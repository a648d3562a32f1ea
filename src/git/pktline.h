/*
 * git/pktline.h -- incremental pkt-line framing checker and the
 * receive-pack command parser (pure; untrusted input, fuzzed).
 *
 * A gs_pkt_reader is fed arbitrary slices of a request body. It checks
 * the 4-hex-digit framing (lengths 0000-0002 special, 0003 invalid,
 * 0004..65520 data) and hands each complete packet to a callback.
 * Ownership: embedded by the caller; gs_pkt_reader_release frees it.
 * Errors: GS_EINVALID with a message naming the byte offset.
 */
#ifndef GS_PKTLINE_H
#define GS_PKTLINE_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/error.h"

#define GS_PKT_MAX 65520

enum { GS_PKT_FLUSH = 0, GS_PKT_DELIM = 1, GS_PKT_END = 2, GS_PKT_DATA = 4 };

/* kind is GS_PKT_FLUSH/DELIM/END or GS_PKT_DATA with data/len. Return 1
 * to stop feeding right after this packet (*consumed says where). */
typedef int (*gs_pkt_cb)(int kind, const char *data, size_t len, void *payload, gs_error *err);

typedef struct gs_pkt_reader {
	char hdr[4];
	size_t hdr_len;
	size_t want;      /* payload bytes still missing for the current packet */
	gs_buf pkt;       /* payload of the current packet */
	uint64_t offset;  /* bytes consumed so far (for messages) */
	int stopped;
} gs_pkt_reader;

void gs_pkt_reader_init(gs_pkt_reader *r);
void gs_pkt_reader_release(gs_pkt_reader *r);
/* Feeds bytes; stops early if cb returns 1 (r->stopped set). */
int gs_pkt_feed(gs_pkt_reader *r, const char *data, size_t len, size_t *consumed, gs_pkt_cb cb, void *payload,
		gs_error *err);
/* True when no partial packet is pending (a body may end here). */
int gs_pkt_at_boundary(const gs_pkt_reader *r);

/* The command list of a receive-pack request, up to its flush. */
typedef struct gs_push_cmd {
	char old_sha[41];
	char new_sha[41];
	char *ref;
} gs_push_cmd;

typedef struct gs_push_cmds {
	gs_push_cmd *cmds;
	size_t n, cap;
	int atomic;        /* client asked for an atomic push */
	int push_options;  /* client will send push options */
	int done;          /* flush seen */
	int in_cert;       /* inside a push-cert block */
	gs_pkt_reader rd;
} gs_push_cmds;

void gs_push_cmds_init(gs_push_cmds *c);
void gs_push_cmds_release(gs_push_cmds *c);
/* Feeds request bytes until the command list's flush; *consumed tells
 * how many bytes belonged to it. GS_EINVALID for malformed commands
 * (ref names must be valid UTF-8), GS_ELIMIT for more than
 * GS_MAX_REFS_PER_PUSH. */
int gs_push_cmds_feed(gs_push_cmds *c, const char *data, size_t len, size_t *consumed, gs_error *err);

#endif
