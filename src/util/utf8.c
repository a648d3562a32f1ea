/*
 * util/utf8.c -- UTF-8 checks.
 * SPDX-License-Identifier: MIT
 */
#include "util/utf8.h"

size_t gs_utf8_seq_len(const unsigned char *s, size_t n, unsigned *cp)
{
	unsigned c = s[0], v;
	size_t len, i;

	if (c < 0x80) {
		if (cp)
			*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		v = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		v = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		v = c & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && v < 0x800) || (len == 4 && (v < 0x10000 || v > 0x10ffff)) || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	if (cp)
		*cp = v;
	return len;
}

size_t gs_utf8_first_bad(const char *text, size_t len)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t i = 0, n;
	while (i < len) {
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if ((n = gs_utf8_seq_len(s + i, len - i, NULL)) == 0)
			return i;
		i += n;
	}
	return (size_t)-1;
}

size_t gs_utf8_codepoints(const char *text, size_t len)
{
	size_t count = 0;
	for (size_t i = 0; i < len; i++)
		if (((unsigned char)text[i] & 0xc0) != 0x80)
			count++;
	return count;
}
