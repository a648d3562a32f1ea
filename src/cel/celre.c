/*
 * cel/celre.c -- matches() on PCRE2 (Debian libpcre2-8), configured to
 * behave as close to RE2 as it can: UTF-8 mode with ASCII-only \d \w \s
 * (no UCP, as RE2), `$` only at the very end (DOLLAR_ENDONLY), no \C, and
 * the constructs RE2 rejects (backreferences, lookaround, atomic and
 * possessive groups, recursion, conditionals, callouts) rejected before
 * compiling. Backtracking is bounded by GS_CEL_REGEX_MATCH_LIMIT and a
 * depth limit, so a pathological pattern fails instead of hanging.
 * Differences that remain: docs/cel.md.
 *
 * Owns compiled patterns (freed with gs_cel__re_free) and the per-
 * evaluation match data. pcre2_code is read-only after compiling and
 * shared between threads; match data is per evaluation.
 * SPDX-License-Identifier: MIT
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <string.h>

#include "cel/internal.h"

/* The RE2-incompatible construct at pat[i], or NULL. */
static const char *re2_unsupported(const char *p, size_t n)
{
	size_t i = 0;
	int in_class = 0;
	for (; i < n; i++) {
		char ch = p[i], nx = i + 1 < n ? p[i + 1] : 0;
		if (ch == '\\') {
			if ((nx >= '1' && nx <= '9') || nx == 'g' || nx == 'k')
				return "backreferences";
			if (nx == 'C')
				return "\\C";
			i++;
			continue;
		}
		if (in_class) {
			if (ch == ']')
				in_class = 0;
			continue;
		}
		if (ch == '[') {
			in_class = 1;
			if (nx == '^')
				i++;
			if (i + 1 < n && p[i + 1] == ']')
				i++; /* a leading ] is literal */
			continue;
		}
		if (ch == '(' && nx == '?') {
			char a = i + 2 < n ? p[i + 2] : 0, b = i + 3 < n ? p[i + 3] : 0;
			if (a == '=' || a == '!' || (a == '<' && (b == '=' || b == '!')))
				return "lookaround assertions";
			if (a == '>' || a == '|')
				return "atomic and branch-reset groups";
			if (a == 'R' || a == '&' || (a >= '0' && a <= '9') || a == '+' || (a == 'P' && (b == '>' || b == '=')))
				return "recursion and backreferences";
			if (a == '(' || a == 'C')
				return "conditionals and callouts";
		}
		if (ch == '(' && nx == '*')
			return "backtracking control verbs";
		if ((ch == '*' || ch == '+' || ch == '?' || ch == '}') && nx == '+')
			return "possessive quantifiers";
	}
	return NULL;
}

void *gs_cel__re_compile(const char *pat, size_t n, char *msg, size_t msgsz)
{
	int errcode;
	PCRE2_SIZE off;
	PCRE2_UCHAR buf[120];
	pcre2_code *re;
	const char *bad;
	if (n > GS_CEL_MAX_REGEX_BYTES) {
		snprintf(msg, msgsz, "regular expression too long (%zu bytes, limit %d)", n, GS_CEL_MAX_REGEX_BYTES);
		return NULL;
	}
	if ((bad = re2_unsupported(pat, n))) {
		snprintf(msg, msgsz, "invalid regular expression: %s are not supported (RE2 syntax)", bad);
		return NULL;
	}
	re = pcre2_compile((PCRE2_SPTR)pat, n, PCRE2_UTF | PCRE2_DOLLAR_ENDONLY | PCRE2_NEVER_BACKSLASH_C | PCRE2_NO_UTF_CHECK,
			   &errcode, &off, NULL);
	if (!re) {
		pcre2_get_error_message(errcode, buf, sizeof(buf));
		snprintf(msg, msgsz, "invalid regular expression at offset %zu: %s", (size_t)off, (const char *)buf);
		return NULL;
	}
	return re;
}

void gs_cel__re_free(void *re)
{
	pcre2_code_free(re);
}

void gs_cel__re_match_data_free(void *md)
{
	pcre2_match_data_free(md);
}

int gs_cel__re_match(gs_cel_ctx *c, void *re, const char *s, size_t n)
{
	pcre2_match_context *mc;
	int rc;
	if (gs_cel__charge(c, 10 + (int64_t)(n / 16)) < 0)
		return -1;
	if (!c->match_data && !(c->match_data = pcre2_match_data_create(1, NULL)))
		return gs_cel__fail_fatal(c, "memory limit exceeded");
	mc = pcre2_match_context_create(NULL);
	if (!mc)
		return gs_cel__fail_fatal(c, "memory limit exceeded");
	pcre2_set_match_limit(mc, GS_CEL_REGEX_MATCH_LIMIT);
	pcre2_set_depth_limit(mc, GS_CEL_REGEX_MATCH_LIMIT / 10);
	pcre2_set_heap_limit(mc, 4096); /* KiB */
	rc = pcre2_match(re, (PCRE2_SPTR)s, n, 0, PCRE2_NO_UTF_CHECK, c->match_data, mc);
	pcre2_match_context_free(mc);
	if (rc >= 0)
		return 1;
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT || rc == PCRE2_ERROR_HEAPLIMIT)
		return gs_cel__fail_fatal(c, "regular expression match limit exceeded");
	return gs_cel__fail(c, "regular expression match error %d", rc);
}
