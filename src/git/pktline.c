/*
 * git/pktline.c -- pkt-line framing and receive-pack command parsing.
 *
 * Pure: no I/O. Every length comes from the peer, so each is checked
 * before use and buffers are bounded by GS_PKT_MAX.
 * SPDX-License-Identifier: MIT
 */
#include "git/pktline.h"

#include <stdlib.h>
#include <string.h>

#include "limits.h"
#include "util/alloc.h"
#include "util/str.h"
#include "util/utf8.h"

void gs_pkt_reader_init(gs_pkt_reader *r)
{
	memset(r, 0, sizeof(*r));
	gs_buf_init(&r->pkt, GS_PKT_MAX);
}

void gs_pkt_reader_release(gs_pkt_reader *r) { gs_buf_release(&r->pkt); }

int gs_pkt_at_boundary(const gs_pkt_reader *r) { return r->hdr_len == 0 && r->want == 0; }

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int pkt_header(gs_pkt_reader *r, size_t *len, gs_error *err)
{
	int v = 0;
	for (int i = 0; i < 4; i++) {
		int h = hexval(r->hdr[i]);
		if (h < 0)
			return gs_error_set(err, GS_EINVALID, "pkt-line",
					    "malformed pkt-line: bad length header at byte %llu",
					    (unsigned long long)(r->offset - 4));
		v = v * 16 + h;
	}
	if (v == 3 || v > GS_PKT_MAX + 4)
		return gs_error_set(err, GS_EINVALID, "pkt-line", "malformed pkt-line: invalid length %d at byte %llu",
				    v, (unsigned long long)(r->offset - 4));
	*len = (size_t)v;
	return 0;
}

int gs_pkt_feed(gs_pkt_reader *r, const char *data, size_t len, size_t *consumed, gs_pkt_cb cb, void *payload,
		gs_error *err)
{
	size_t i = 0;
	int error = 0;
	while (i < len && !r->stopped) {
		if (r->want == 0) {
			size_t plen = 0;
			r->hdr[r->hdr_len++] = data[i++];
			r->offset++;
			if (r->hdr_len < 4)
				continue;
			r->hdr_len = 0;
			if ((error = pkt_header(r, &plen, err)) < 0)
				goto out;
			if (plen < 4) {
				if ((error = cb((int)plen, NULL, 0, payload, err)) < 0)
					goto out;
				if (error == 1)
					r->stopped = 1;
				error = 0;
				continue;
			}
			r->want = plen - 4;
			gs_buf_reset(&r->pkt);
			if (r->want > 0)
				continue;
		} else {
			size_t take = len - i < r->want ? len - i : r->want;
			if ((error = gs_buf_add(&r->pkt, data + i, take, err)) < 0)
				goto out;
			i += take;
			r->offset += take;
			r->want -= take;
			if (r->want > 0)
				continue;
		}
		if ((error = cb(GS_PKT_DATA, r->pkt.ptr ? r->pkt.ptr : "", r->pkt.len, payload, err)) < 0)
			goto out;
		if (error == 1)
			r->stopped = 1;
		error = 0;
	}
out:
	if (consumed)
		*consumed = i;
	return error;
}

void gs_push_cmds_init(gs_push_cmds *c)
{
	memset(c, 0, sizeof(*c));
	gs_pkt_reader_init(&c->rd);
}

void gs_push_cmds_release(gs_push_cmds *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->cmds[i].ref);
	free(c->cmds);
	gs_pkt_reader_release(&c->rd);
	memset(c, 0, sizeof(*c));
}

static int has_cap(const char *caps, size_t len, const char *name)
{
	size_t nl = strlen(name), i = 0;
	while (i < len) {
		size_t j = i;
		while (j < len && caps[j] != ' ')
			j++;
		if (j - i == nl && memcmp(caps + i, name, nl) == 0)
			return 1;
		i = j + 1;
	}
	return 0;
}

static int is_hex40(const char *p)
{
	for (int i = 0; i < 40; i++)
		if (hexval(p[i]) < 0) /* git accepts either case */
			return 0;
	return 1;
}

static int cmds_add(gs_push_cmds *c, const char *line, size_t len, gs_error *err)
{
	const char *nul = memchr(line, 0, len);
	size_t cmdlen = nul ? (size_t)(nul - line) : len;
	size_t reflen;
	gs_push_cmd *cmd;

	if (cmdlen && line[cmdlen - 1] == '\n')
		cmdlen--;
	if (nul && c->n == 0) {
		c->atomic = has_cap(nul + 1, len - cmdlen - 1, "atomic");
		c->push_options = has_cap(nul + 1, len - cmdlen - 1, "push-options");
	}
	if (cmdlen < 83 || line[40] != ' ' || line[81] != ' ' || !is_hex40(line) || !is_hex40(line + 41))
		return gs_error_set(err, GS_EINVALID, "pkt-line", "malformed push command (expected '<old> <new> <ref>')");
	reflen = cmdlen - 82;
	if (reflen > GS_MAX_REF_NAME || memchr(line + 82, 0, reflen))
		return gs_error_set(err, GS_EINVALID, "pkt-line", "invalid ref name in push command");
	/* ref names reach events, which are JSON */
	if (gs_utf8_first_bad(line + 82, reflen) != (size_t)-1)
		return gs_error_set(err, GS_EINVALID, "pkt-line", "ref name in push command is not valid UTF-8");
	if (c->n >= GS_MAX_REFS_PER_PUSH)
		return gs_error_set(err, GS_ELIMIT, "pkt-line", "push updates more than %d refs", GS_MAX_REFS_PER_PUSH);
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		c->cmds = gs_xrealloc(c->cmds, c->cap * sizeof(*c->cmds));
	}
	cmd = &c->cmds[c->n++];
	memcpy(cmd->old_sha, line, 40);
	cmd->old_sha[40] = 0;
	memcpy(cmd->new_sha, line + 41, 40);
	cmd->new_sha[40] = 0;
	for (int i = 0; i < 40; i++) { /* canonical lowercase, as git stores them */
		if (cmd->old_sha[i] >= 'A' && cmd->old_sha[i] <= 'F')
			cmd->old_sha[i] = (char)(cmd->old_sha[i] - 'A' + 'a');
		if (cmd->new_sha[i] >= 'A' && cmd->new_sha[i] <= 'F')
			cmd->new_sha[i] = (char)(cmd->new_sha[i] - 'A' + 'a');
	}
	cmd->ref = gs_xstrndup(line + 82, reflen);
	return 0;
}

static int cmds_cb(int kind, const char *data, size_t len, void *payload, gs_error *err)
{
	gs_push_cmds *c = payload;
	if (kind == GS_PKT_FLUSH) {
		if (c->in_cert)
			return gs_error_set(err, GS_EINVALID, "pkt-line", "unterminated push certificate");
		c->done = 1;
		return 1;
	}
	if (kind != GS_PKT_DATA)
		return gs_error_set(err, GS_EINVALID, "pkt-line", "unexpected special packet in push commands");
	if (c->in_cert) {
		if (len >= 13 && memcmp(data, "push-cert-end", 13) == 0)
			c->in_cert = 0;
		return 0;
	}
	if (len >= 9 && memcmp(data, "push-cert", 9) == 0 && (len == 9 || data[9] == 0 || data[9] == '\n')) {
		c->in_cert = 1;
		return 0;
	}
	if (len >= 8 && memcmp(data, "shallow ", 8) == 0)
		return 0;
	return cmds_add(c, data, len, err);
}

int gs_push_cmds_feed(gs_push_cmds *c, const char *data, size_t len, size_t *consumed, gs_error *err)
{
	if (c->done) {
		*consumed = 0;
		return 0;
	}
	return gs_pkt_feed(&c->rd, data, len, consumed, cmds_cb, c, err);
}
