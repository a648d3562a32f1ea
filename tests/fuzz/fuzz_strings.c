/* tests/fuzz/fuzz_strings.c -- libFuzzer target: the small parsers of
 * untrusted query/CLI/hook input (numbers, repo names, roles, globs, If-Match). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/principal.h"
#include "refs/refpolicy.h"
#include "util/str.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), ns[64], name[64];
	gs_error err = GS_ERROR_INIT;
	gs_grant g;
	uint64_t v;
	gs_refpolicy p = {NULL, NULL, 0};
	size_t half = size / 2;
	memcpy(s, data, size);
	s[size] = 0;
	gs_str_parse_u64(s, UINT64_MAX, &v, &err);
	gs_error_clear(&err);
	{
		int64_t rv;
		gs_str_parse_if_match(s, &rv, &err);
		gs_error_clear(&err);
	}
	gs_str_split_repo(s, ns, name, &err);
	gs_error_clear(&err);
	gs_grant_parse(&g, s, &err);
	gs_str_is_dns_label(s);
	gs_refpolicy_is_release(&p, s);
	s[half] = 0;
	gs_str_glob_match(s, size > half ? s + half + 1 : s + half);
	free(s);
	return 0;
}
