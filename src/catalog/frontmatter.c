/*
 * catalog/frontmatter.c -- resource detection and the front-matter/body
 * split (pure: no I/O, no allocation).
 *
 * Owns nothing: the result points into the caller's buffer. Checks run in
 * a fixed order, each fail-fast: size (GS_MAX_RESOURCE_FILE_BYTES), UTF-8
 * of the whole file, opening line, closing line. Lines are '\n'-terminated
 * and numbered from 1; a '\r' before the '\n' belongs to the line.
 * SPDX-License-Identifier: MIT
 */
#include "catalog/frontmatter.h"

#include <string.h>

#include "limits.h"
#include "util/error.h"
#include "util/utf8.h"


/* Records the first ill-formed UTF-8 byte, by file line and column. */
static int frontmatter_check_utf8(const char *file, size_t len, gs_cat_errors *errs)
{
	const unsigned char *s = (const unsigned char *)file;
	size_t i = 0, bol = 0, n;
	unsigned line = 1;

	while (i < len) {
		if (s[i] < 0x80) {
			if (s[i] == '\n') {
				line++;
				bol = i + 1;
			}
			i++;
			continue;
		}
		n = gs_utf8_seq_len(s + i, len - i, NULL);
		if (n == 0) {
			gs_cat_errors_add(errs, line, "", "invalid_utf8",
			                  "file is not valid utf-8: byte 0x%02x at line %u, column %zu", s[i], line,
			                  i - bol + 1);
			return GS_EINVALID;
		}
		i += n;
	}
	return 0;
}

/* 1 when line[0..n) (without its '\n') is a delimiter: `---` or `---\r`. */
static int frontmatter_is_delim(const char *line, size_t n)
{
	return (n == 3 || (n == 4 && line[3] == '\r')) && memcmp(line, "---", 3) == 0;
}

int gs_frontmatter_is_resource(const char *file, size_t len)
{
	return file != NULL && len >= 3 && memcmp(file, "---", 3) == 0;
}

int gs_frontmatter_split(const char *file, size_t len, gs_frontmatter *out, gs_cat_errors *errs)
{
	const char *p, *end = file + len, *nl;
	size_t n;
	unsigned line;

	memset(out, 0, sizeof(*out));
	if (!gs_frontmatter_is_resource(file, len))
		return GS_ENOTFOUND;
	if (len > GS_MAX_RESOURCE_FILE_BYTES) {
		gs_cat_errors_add(errs, 0, "", "file_too_large",
		                  "resource file is %zu bytes, over the limit of %d bytes", len,
		                  GS_MAX_RESOURCE_FILE_BYTES);
		return GS_EINVALID;
	}
	if (frontmatter_check_utf8(file, len, errs) < 0)
		return GS_EINVALID;

	nl = memchr(file, '\n', len);
	n = nl ? (size_t)(nl - file) : len;
	if (!frontmatter_is_delim(file, n)) {
		gs_cat_errors_add(errs, 1, "", "invalid_frontmatter_delimiter",
		                  "opening front-matter line must be exactly \"---\", got \"%.*s%s\"",
		                  (int)(n > 40 ? 40 : n), file, n > 40 ? "..." : "");
		return GS_EINVALID;
	}
	if (!nl) {
		gs_cat_errors_add(errs, 1, "", "unclosed_frontmatter",
		                  "front-matter opened at line 1 has no closing \"---\" line");
		return GS_EINVALID;
	}

	p = nl + 1;
	line = 2;
	out->yaml = p;
	out->yaml_line = 2;
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (frontmatter_is_delim(p, n)) {
			out->yaml_len = (size_t)(p - out->yaml);
			out->body = nl ? nl + 1 : end;
			out->body_len = (size_t)(end - out->body);
			out->body_line = line + 1;
			return 0;
		}
		if (!nl)
			break;
		p = nl + 1;
		line++;
	}
	memset(out, 0, sizeof(*out));
	gs_cat_errors_add(errs, 1, "", "unclosed_frontmatter",
	                  "front-matter opened at line 1 has no closing \"---\" line");
	return GS_EINVALID;
}
