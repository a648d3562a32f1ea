/*
 * http/reqparse.c -- Authorization header and Git URL parsing (pure).
 * SPDX-License-Identifier: MIT
 */
#include "http/reqparse.h"

#include <openssl/evp.h>
#include <string.h>
#include <strings.h>

#include "limits.h"
#include "util/str.h"

/* base64 alphabet only, '=' at most in the last two places of the last
 * quantum: EVP_DecodeBlock accepts "====" (and counts padding as data),
 * so the padding is checked here, not trusted from it */
static int b64_padding(const char *s, size_t len)
{
	size_t pad = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '=') {
			pad++;
			continue;
		}
		if (pad || !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
			     c == '/'))
			return -1;
	}
	return pad <= 2 ? (int)pad : -1;
}

static int copy_token(const char *t, size_t len, char *out, size_t outsz)
{
	if (len == 0 || len >= outsz || memchr(t, 0, len))
		return -1;
	memcpy(out, t, len);
	out[len] = 0;
	return 0;
}

static int basic_token(const char *b64, char *out, size_t outsz)
{
	unsigned char dec[512];
	size_t len = strlen(b64);
	int n, pad;
	const unsigned char *colon;
	/* 680 base64 characters decode to at most 510 bytes */
	if (len == 0 || len > 680 || len % 4 || (pad = b64_padding(b64, len)) < 0)
		return -1;
	if ((n = EVP_DecodeBlock(dec, (const unsigned char *)b64, (int)len)) < pad)
		return -1;
	n -= pad;
	colon = memchr(dec, ':', (size_t)n);
	if (!colon)
		return -1;
	return copy_token((const char *)colon + 1, (size_t)n - (size_t)(colon + 1 - dec), out, outsz);
}

int gs_reqparse_credentials(const char *hdr, char *out, size_t outsz)
{
	const char *t;
	if (strncasecmp(hdr, "Bearer ", 7) == 0) {
		for (t = hdr + 7; *t == ' '; t++)
			;
		return copy_token(t, strlen(t), out, outsz);
	}
	if (strncasecmp(hdr, "Basic ", 6) == 0) {
		for (t = hdr + 6; *t == ' '; t++)
			;
		return basic_token(t, out, outsz);
	}
	return -1;
}

static int copy_label(const char *s, size_t len, char out[64])
{
	if (len > GS_MAX_NAME)
		return -1;
	memcpy(out, s, len);
	out[len] = 0;
	return gs_str_is_dns_label(out) ? 0 : -1;
}

int gs_reqparse_git_url(const char *url, char ns[64], char name[64], gs_gitroute *route)
{
	const char *p = url, *seg[5];
	size_t len[5], rl;
	int nseg = 0;
	if (*p != '/')
		return -1;
	while (*p && nseg < 5) {
		const char *s = ++p;
		while (*p && *p != '/')
			p++;
		seg[nseg] = s;
		len[nseg++] = (size_t)(p - s);
	}
	if (*p)
		return -1;
	for (int i = 0; i < nseg; i++)
		if (len[i] == 0 || (len[i] <= 2 && seg[i][0] == '.' && (len[i] == 1 || seg[i][1] == '.')))
			return -1;
	if (nseg == 4 && len[2] == 4 && memcmp(seg[2], "info", 4) == 0 && len[3] == 4 && memcmp(seg[3], "refs", 4) == 0)
		*route = GS_GITROUTE_INFO_REFS;
	else if (nseg == 3 && len[2] == 15 && memcmp(seg[2], "git-upload-pack", 15) == 0)
		*route = GS_GITROUTE_UPLOAD;
	else if (nseg == 3 && len[2] == 16 && memcmp(seg[2], "git-receive-pack", 16) == 0)
		*route = GS_GITROUTE_RECEIVE;
	else
		return -1;
	rl = len[1];
	if (rl > 4 && memcmp(seg[1] + rl - 4, ".git", 4) == 0)
		rl -= 4;
	return copy_label(seg[0], len[0], ns) < 0 || copy_label(seg[1], rl, name) < 0 ? -1 : 0;
}
