/* tests/unit/git/test_pktline.c -- pkt-line framing and push commands. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "git/pktline.h"
#include "limits.h"

#define OLD "0000000000000000000000000000000000000000"
#define NEW "1111111111111111111111111111111111111111"

typedef struct {
	int data, flush, delim;
	char last[128];
} counts;

static int count_cb(int kind, const char *d, size_t l, void *p, gs_error *e)
{
	counts *c = p;
	(void)e;
	if (kind == GS_PKT_DATA) {
		c->data++;
		snprintf(c->last, sizeof(c->last), "%.*s", (int)l, d);
	} else if (kind == GS_PKT_FLUSH) {
		c->flush++;
	} else if (kind == GS_PKT_DELIM) {
		c->delim++;
	}
	return 0;
}

static void test_pktline__byte_by_byte(void **state)
{
	const char *in = "000ahello\n00010000";
	gs_pkt_reader r;
	counts c = {0};
	gs_error err = GS_ERROR_INIT;
	(void)state;
	gs_pkt_reader_init(&r);
	for (size_t i = 0; i < strlen(in); i++)
		assert_int_equal(gs_pkt_feed(&r, in + i, 1, NULL, count_cb, &c, &err), 0);
	assert_int_equal(c.data, 1);
	assert_int_equal(c.delim, 1);
	assert_int_equal(c.flush, 1);
	assert_string_equal(c.last, "hello\n");
	assert_true(gs_pkt_at_boundary(&r));
	gs_pkt_reader_release(&r);
}

static void test_pktline__rejects_bad_length(void **state)
{
	const char *bad[] = {"zzzz", "0003", "fff5xxxx", "00-1"};
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		gs_pkt_reader r;
		counts c = {0};
		gs_error err = GS_ERROR_INIT;
		gs_pkt_reader_init(&r);
		assert_int_equal(gs_pkt_feed(&r, bad[i], strlen(bad[i]), NULL, count_cb, &c, &err), GS_EINVALID);
		assert_non_null(strstr(err.msg, "malformed pkt-line"));
		gs_pkt_reader_release(&r);
	}
}

static void test_pktline__partial_packet_is_not_boundary(void **state)
{
	gs_pkt_reader r;
	counts c = {0};
	gs_error err = GS_ERROR_INIT;
	(void)state;
	gs_pkt_reader_init(&r);
	assert_int_equal(gs_pkt_feed(&r, "0009ab", 6, NULL, count_cb, &c, &err), 0);
	assert_false(gs_pkt_at_boundary(&r));
	gs_pkt_reader_release(&r);
}

static size_t pkt(char *out, const char *payload, size_t len)
{
	snprintf(out, 5, "%04zx", len + 4);
	memcpy(out + 4, payload, len);
	return len + 4;
}

static void test_pktline__push_commands(void **state)
{
	char body[1024], line[256];
	size_t n = 0, used = 0;
	int l;
	gs_push_cmds c;
	gs_error err = GS_ERROR_INIT;
	(void)state;
	l = snprintf(line, sizeof(line), OLD " " NEW " refs/heads/main%creport-status atomic push-options", 0);
	n += pkt(body + n, line, (size_t)l);
	l = snprintf(line, sizeof(line), NEW " " OLD " refs/tags/v1\n");
	n += pkt(body + n, line, (size_t)l);
	memcpy(body + n, "0000PACKdata", 12);
	n += 12;
	gs_push_cmds_init(&c);
	assert_int_equal(gs_push_cmds_feed(&c, body, n, &used, &err), 0);
	assert_true(c.done);
	assert_int_equal(used, n - 8); /* stops right after the flush */
	assert_int_equal(c.n, 2);
	assert_true(c.atomic);
	assert_true(c.push_options);
	assert_string_equal(c.cmds[0].ref, "refs/heads/main");
	assert_string_equal(c.cmds[1].ref, "refs/tags/v1");
	assert_string_equal(c.cmds[1].new_sha, OLD);
	gs_push_cmds_release(&c);
}

static void test_pktline__push_command_garbage(void **state)
{
	char body[256];
	size_t n, used;
	gs_push_cmds c;
	gs_error err = GS_ERROR_INIT;
	(void)state;
	n = pkt(body, "this is not a command at all, not even close to one........................", 76);
	gs_push_cmds_init(&c);
	assert_int_equal(gs_push_cmds_feed(&c, body, n, &used, &err), GS_EINVALID);
	gs_push_cmds_release(&c);
}

static void test_pktline__push_command_ref_not_utf8(void **state)
{
	char body[256], line[128];
	size_t n, used;
	int l;
	gs_push_cmds c;
	gs_error err = GS_ERROR_INIT;
	(void)state;
	l = snprintf(line, sizeof(line), OLD " " NEW " refs/heads/bad\xff\xfename\n");
	n = pkt(body, line, (size_t)l);
	memcpy(body + n, "0000", 4);
	gs_push_cmds_init(&c);
	assert_int_equal(gs_push_cmds_feed(&c, body, n + 4, &used, &err), GS_EINVALID);
	assert_non_null(strstr(err.msg, "UTF-8"));
	gs_push_cmds_release(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pktline__byte_by_byte),
		cmocka_unit_test(test_pktline__rejects_bad_length),
		cmocka_unit_test(test_pktline__partial_packet_is_not_boundary),
		cmocka_unit_test(test_pktline__push_commands),
		cmocka_unit_test(test_pktline__push_command_garbage),
		cmocka_unit_test(test_pktline__push_command_ref_not_utf8),
	};
	return cmocka_run_group_tests_name("pktline", tests, NULL, NULL);
}
