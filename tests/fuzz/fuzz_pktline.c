/* tests/fuzz/fuzz_pktline.c -- libFuzzer target: pkt-line framing and the
 * receive-pack command parser, fed in random-sized slices. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "git/pktline.h"

static int ignore_cb(int kind, const char *d, size_t l, void *p, gs_error *e)
{
	(void)kind;
	(void)d;
	(void)l;
	(void)p;
	(void)e;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	gs_pkt_reader r;
	gs_push_cmds c;
	gs_error err = GS_ERROR_INIT;
	size_t off = 0, used;
	unsigned step = size ? data[0] % 7 + 1 : 1;

	gs_pkt_reader_init(&r);
	gs_pkt_feed(&r, (const char *)data, size, NULL, ignore_cb, NULL, &err);
	gs_pkt_reader_release(&r);

	gs_push_cmds_init(&c);
	while (off < size) {
		size_t n = size - off < step ? size - off : step;
		gs_error_clear(&err);
		if (gs_push_cmds_feed(&c, (const char *)data + off, n, &used, &err) < 0 || c.done)
			break;
		off += n;
	}
	gs_push_cmds_release(&c);
	return 0;
}
