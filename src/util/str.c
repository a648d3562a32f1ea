/*
 * util/str.c -- string checks.
 * SPDX-License-Identifier: MIT
 */
#include "util/str.h"

#include <string.h>

#include "limits.h"

static int is_alnum_lower(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

int gs_str_is_dns_label(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n < 1 || n > GS_MAX_NAME)
		return 0;
	if (!is_alnum_lower(s[0]) || !is_alnum_lower(s[n - 1]))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!is_alnum_lower(s[i]) && s[i] != '-')
			return 0;
	return 1;
}

int gs_str_is_oid(const char *s)
{
	size_t i;
	for (i = 0; s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return i == 40;
}

int gs_str_is_zero_oid(const char *s) { return strcmp(s, GS_ZERO_OID) == 0; }

int gs_str_has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

int gs_str_glob_match(const char *p, const char *s)
{
	/* iterative matcher with single backtrack point: linear for one '*',
	 * O(n*m) worst case, fine for the short patterns we configure */
	const char *star = NULL, *ss = NULL;
	while (*s) {
		if (*p == '*') {
			star = p++;
			ss = s;
		} else if (*p == *s) {
			p++;
			s++;
		} else if (star) {
			p = star + 1;
			s = ++ss;
		} else {
			return 0;
		}
	}
	while (*p == '*')
		p++;
	return *p == 0;
}

int gs_str_parse_u64(const char *s, uint64_t max, uint64_t *out, gs_error *err)
{
	uint64_t v = 0;
	if (!s || !*s)
		return gs_error_set(err, GS_EINVALID, "parse", "empty number");
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return gs_error_set(err, GS_EINVALID, "parse", "not a number: '%.32s'", s);
		if (v > (max - (uint64_t)(*p - '0')) / 10)
			return gs_error_set(err, GS_EINVALID, "parse", "number out of range: '%.32s'", s);
		v = v * 10 + (uint64_t)(*p - '0');
	}
	*out = v;
	return 0;
}

int gs_str_split_repo(const char *s, char ns[64], char name[64], gs_error *err)
{
	const char *slash = strchr(s, '/');
	size_t nl;
	if (!slash)
		return gs_error_set(err, GS_EINVALID, "name", "repository must be NAMESPACE/NAME: '%.80s'", s);
	nl = (size_t)(slash - s);
	if (nl == 0 || nl > GS_MAX_NAME || strlen(slash + 1) > GS_MAX_NAME)
		return gs_error_set(err, GS_EINVALID, "name", "invalid repository name '%.80s'", s);
	memcpy(ns, s, nl);
	ns[nl] = 0;
	memcpy(name, slash + 1, strlen(slash + 1) + 1);
	if (!gs_str_is_dns_label(ns) || !gs_str_is_dns_label(name))
		return gs_error_set(err, GS_EINVALID, "name",
				    "invalid repository name '%.80s': names are DNS labels (a-z, 0-9, '-', 1-63)", s);
	return 0;
}

int gs_str_parse_if_match(const char *v, int64_t *out, gs_error *err)
{
	char buf[32];
	size_t len;
	uint64_t n;
	while (*v == ' ')
		v++;
	len = strlen(v);
	while (len && v[len - 1] == ' ')
		len--;
	if (len == 1 && v[0] == '*') {
		*out = -1;
		return 0;
	}
	if (len >= 2 && strncmp(v, "W/", 2) == 0) {
		v += 2;
		len -= 2;
	}
	if (len >= 2 && v[0] == '"' && v[len - 1] == '"') {
		v++;
		len -= 2;
	}
	if (len == 0 || len >= sizeof(buf))
		return gs_error_set(err, GS_EINVALID, "http", "If-Match must be a resourceVersion (\"12\") or *");
	memcpy(buf, v, len);
	buf[len] = 0;
	if (gs_str_parse_u64(buf, INT64_MAX, &n, err) < 0)
		return GS_EINVALID;
	*out = (int64_t)n;
	return 0;
}
