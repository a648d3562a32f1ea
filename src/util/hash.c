/*
 * util/hash.c -- hashing and randomness.
 * SPDX-License-Identifier: MIT
 */
#include "util/hash.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <stdint.h>
#include <sys/random.h>
#include <time.h>

static void hash_to_hex(char *out, const unsigned char *md, size_t n)
{
	static const char hx[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[md[i] >> 4];
		out[2 * i + 1] = hx[md[i] & 15];
	}
	out[2 * n] = 0;
}

void gs_sha256_parts_hex(char out[GS_SHA256_HEX], const char *const *parts, size_t n)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	GS_ASSERT(ctx != NULL);
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	for (size_t i = 0; i < n; i++) {
		const char *p = parts[i] ? parts[i] : "";
		EVP_DigestUpdate(ctx, p, strlen(p));
		EVP_DigestUpdate(ctx, "\x1f", 1);
	}
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	hash_to_hex(out, md, mdlen);
}

void gs_sha256_hex(char out[GS_SHA256_HEX], const void *data, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
	hash_to_hex(out, md, mdlen);
}

static int random_bytes(unsigned char *buf, size_t n, gs_error *err)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = getrandom(buf + got, n - got, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return gs_error_os(err, "getrandom");
		}
		got += (size_t)r;
	}
	return 0;
}

int gs_random_hex(char *out, size_t nbytes, gs_error *err)
{
	unsigned char buf[64];
	int error;
	GS_ASSERT(nbytes <= sizeof(buf));
	if ((error = random_bytes(buf, nbytes, err)) < 0)
		return error;
	hash_to_hex(out, buf, nbytes);
	return 0;
}

int gs_uuid_v4(char out[37], gs_error *err)
{
	unsigned char b[16];
	int error;
	if ((error = random_bytes(b, sizeof(b), err)) < 0)
		return error;
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
		 b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
		 b[15]);
	return 0;
}

int gs_uuid_v7(char out[37], gs_error *err)
{
	unsigned char b[16];
	struct timespec ts;
	uint64_t ms;
	int error;
	if ((error = random_bytes(b, sizeof(b), err)) < 0)
		return error;
	clock_gettime(CLOCK_REALTIME, &ts);
	ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	for (int i = 0; i < 6; i++)
		b[i] = (unsigned char)(ms >> (40 - 8 * i));
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x70);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
		 b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
		 b[15]);
	return 0;
}

int gs_ct_equal(const char *a, const char *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}
