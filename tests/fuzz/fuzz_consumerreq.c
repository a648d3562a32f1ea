/* tests/fuzz/fuzz_consumerreq.c -- libFuzzer target: the request bodies
 * of the durable-consumer API (events/consumerreq.c) on arbitrary bytes.
 * Beyond the absence of crashes and leaks it checks what the parsers
 * promise: an accepted body yields types that are taxonomy names, values
 * in their ranges and a repository that splits as "ns/name"; a refused
 * one yields an error code and leaves no allocation behind. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "events/consumerreq.h"
#include "events/evlog.h"
#include "limits.h"
#include "util/str.h"

#define CHECK(c)                  \
	do {                      \
		if (!(c))         \
			abort();  \
	} while (0)

static void check_put(const uint8_t *data, size_t size)
{
	gs_consumer_cfg cfg;
	char repo[130];
	const char *code = NULL;
	gs_error err = GS_ERROR_INIT;
	memset(&cfg, 0, sizeof(cfg));
	if (gs_consumerreq_put((const char *)data, size, &cfg, repo, &code, &err) < 0) {
		CHECK(code && err.code == GS_EINVALID && err.msg[0]);
		return;
	}
	CHECK(cfg.ntypes >= 0 && cfg.ntypes <= GS_MAX_CONSUMER_TYPES && cfg.types[cfg.ntypes] == NULL);
	for (int i = 0; i < cfg.ntypes; i++)
		CHECK(gs_evlog_type_canonical(cfg.types[i]) == cfg.types[i]);
	CHECK(cfg.ack_wait_ms >= 1000 && cfg.ack_wait_ms <= (int64_t)GS_MAX_CONSUMER_ACK_WAIT_S * 1000);
	CHECK(cfg.max_deliver >= 0 && cfg.max_deliver <= GS_MAX_CONSUMER_DELIVER);
	CHECK(cfg.start_after >= 0);
	if (repo[0]) {
		char ns[64], name[64];
		gs_error e2 = GS_ERROR_INIT;
		CHECK(gs_str_split_repo(repo, ns, name, &e2) == 0);
	}
}

static void check_settle(const uint8_t *data, size_t size, int nak)
{
	int64_t *seqs = NULL, delay = -1;
	size_t n = 0;
	const char *code = NULL;
	gs_error err = GS_ERROR_INIT;
	if (gs_consumerreq_settle((const char *)data, size, nak, &seqs, &n, &delay, &code, &err) < 0) {
		CHECK(!seqs && n == 0 && code && err.code == GS_EINVALID);
		return;
	}
	CHECK(seqs && n >= 1 && n <= GS_MAX_CONSUMER_SETTLE);
	for (size_t i = 0; i < n; i++)
		CHECK(seqs[i] >= 1);
	CHECK(delay >= 0 && delay <= GS_MAX_CONSUMER_NAK_DELAY_S && (nak || delay == 0));
	free(seqs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > GS_MAX_CONSUMER_BODY)
		return 0;
	check_put(data, size);
	check_settle(data, size, 0);
	check_settle(data, size, 1);
	return 0;
}
