/* tests/fuzz/fuzz_relay.c -- libFuzzer target: the relay's reading of a
 * stored event (the text fast path for evlog's layout, the full parse for
 * anything else), on input that is not NUL-terminated, and --nats URLs.
 * A subject it builds must be gitstore. followed by three tokens. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "events/relay.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char subject[GS_RELAY_MAX_SUBJECT], id[GS_RELAY_MAX_ID], host[GS_RELAY_MAX_HOST];
	char *copy = malloc(size ? size : 1), *url = malloc(size + 1);
	gs_error err = GS_ERROR_INIT;
	int port = 0;
	/* exact-size copy: ASan catches a read past the end */
	memcpy(copy, data, size);
	if (gs_relay_subject(copy, size, subject, id, &err) == 0) {
		int dots = 0;
		for (const char *p = subject; *p; p++)
			dots += *p == '.';
		if (strncmp(subject, "gitstore.", 9) != 0 || dots != 3 || !id[0])
			abort();
	}
	memcpy(url, data, size);
	url[size] = 0;
	gs_error_clear(&err);
	if (gs_relay_parse_url(url, host, &port, &err) == 0 && (port < 1 || port > 65535 || !host[0]))
		abort();
	free(copy);
	free(url);
	return 0;
}
