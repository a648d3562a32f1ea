/*
 * util/str.h -- small string checks shared by the CLI, HTTP and refs code.
 * Threads: safe. Errors: predicates return 0/1; parsers return gs_code.
 */
#ifndef GS_STR_H
#define GS_STR_H

#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

#define GS_ZERO_OID "0000000000000000000000000000000000000000"

/* A DNS label: 1-63 of [a-z0-9-], starting and ending alphanumeric. */
int gs_str_is_dns_label(const char *s);
/* Exactly 40 lowercase hex digits. */
int gs_str_is_oid(const char *s);
int gs_str_is_zero_oid(const char *s);
int gs_str_has_prefix(const char *s, const char *prefix);
/* fnmatch-style glob where '*' matches any run of characters (also '/'). */
int gs_str_glob_match(const char *pattern, const char *s);
/* Decimal uint64 with range check; rejects signs, spaces, empty. */
int gs_str_parse_u64(const char *s, uint64_t max, uint64_t *out, gs_error *err);
/* An If-Match header value naming one resourceVersion: "N", N or W/"N"
 * gives N; "*" gives -1. GS_EINVALID for anything else (lists included). */
int gs_str_parse_if_match(const char *v, int64_t *out, gs_error *err);
/* Splits "ns/name" into two DNS labels. */
int gs_str_split_repo(const char *s, char ns[64], char name[64], gs_error *err);

#endif
