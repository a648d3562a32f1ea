/*
 * util/hash.h -- SHA-256 (OpenSSL libcrypto), randomness, constant-time compare.
 *
 * Threads: safe. Errors: gs_random_hex returns GS_ERROR if the kernel has
 * no entropy to give (never silently weak).
 */
#ifndef GS_HASH_H
#define GS_HASH_H

#include <stddef.h>

#include "util/error.h"

#define GS_SHA256_HEX 65 /* 64 hex digits + NUL */

/* SHA-256 of the concatenation of the parts, each followed by a 0x1f
 * separator so that ("ab","c") and ("a","bc") differ. */
void gs_sha256_parts_hex(char out[GS_SHA256_HEX], const char *const *parts, size_t n);
void gs_sha256_hex(char out[GS_SHA256_HEX], const void *data, size_t len);
/* nbytes random bytes as 2*nbytes lowercase hex + NUL. */
int gs_random_hex(char *out, size_t nbytes, gs_error *err);
/* A random RFC 4122 version-4 UUID string (37 bytes with NUL). */
int gs_uuid_v4(char out[37], gs_error *err);
/* A time-ordered RFC 9562 version-7 UUID (48-bit ms timestamp + random). */
int gs_uuid_v7(char out[37], gs_error *err);
int gs_ct_equal(const char *a, const char *b, size_t n);

#endif
