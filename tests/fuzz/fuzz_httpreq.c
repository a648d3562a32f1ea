/* tests/fuzz/fuzz_httpreq.c -- libFuzzer target: the request metadata the
 * HTTP layer parses before authentication (http/reqparse.c): the
 * Authorization header and the Git smart-HTTP URL. Checks that an
 * accepted token is non-empty and fits, that Bearer round-trips, and that
 * an accepted URL names DNS-label ns/repo and a known route. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/reqparse.h"
#include "util/str.h"

#define CHECK(c)                                                                                                       \
	do {                                                                                                           \
		if (!(c)) {                                                                                            \
			fprintf(stderr, "fuzz_httpreq: check failed at line %d: %s\n", __LINE__, #c);                  \
			abort();                                                                                       \
		}                                                                                                      \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), tok[256], small[8], ns[64], name[64];
	gs_gitroute route;
	memcpy(s, data, size);
	s[size] = 0;
	if (gs_reqparse_credentials(s, tok, sizeof(tok)) == 0)
		CHECK(tok[0] && strlen(tok) < sizeof(tok));
	if (gs_reqparse_credentials(s, small, sizeof(small)) == 0)
		CHECK(small[0] && strlen(small) < sizeof(small));
	{
		/* the token as a Bearer header comes back unchanged */
		char *h = malloc(size + 8);
		memcpy(h, "Bearer ", 7);
		memcpy(h + 7, s, strlen(s) + 1);
		if (gs_reqparse_credentials(h, tok, sizeof(tok)) == 0)
			CHECK(strcmp(tok, s + strspn(s, " ")) == 0);
		free(h);
	}
	if (gs_reqparse_git_url(s, ns, name, &route) == 0) {
		CHECK(gs_str_is_dns_label(ns) && gs_str_is_dns_label(name));
		CHECK(route >= GS_GITROUTE_INFO_REFS && route <= GS_GITROUTE_RECEIVE);
		CHECK(strstr(s, "/../") == NULL && strstr(s, "//") == NULL);
	}
	free(s);
	return 0;
}
