/*
 * util/utf8.h -- UTF-8 well-formedness (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF).
 * Threads: no state. Errors: none (predicates).
 */
#ifndef GS_UTF8_H
#define GS_UTF8_H

#include <stddef.h>

/* Length of the well-formed sequence at s[0..n) (1-4), or 0 when it is
 * ill-formed; *cp (if not NULL) receives the code point. */
size_t gs_utf8_seq_len(const unsigned char *s, size_t n, unsigned *cp);
/* Offset of the first ill-formed byte, or (size_t)-1 when all is valid. */
size_t gs_utf8_first_bad(const char *text, size_t len);
/* Code points in valid UTF-8 text. */
size_t gs_utf8_codepoints(const char *text, size_t len);

#endif
