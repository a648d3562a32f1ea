/*
 * cel/cellex.c -- the CEL lexer: tokens, number literals, and string and
 * bytes literals with every quoting and escape form of the spec (single,
 * double and triple quotes, r"" raw, b"" bytes, \x \X \u \U and octal
 * escapes). Runs at compile time only.
 *
 * Owns nothing: decoded literals go to the program's storage. Never reads
 * past src[len) (the source need not be NUL-terminated).
 * SPDX-License-Identifier: MIT
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cel/internal.h"
#include "util/error.h"
#include "util/utf8.h"

static const char *const RESERVED[] = {"as",	 "break", "const",     "continue", "else",   "for",
				       "function", "if",    "import",    "let",	   "loop",   "package",
				       "namespace", "return", "var",	   "void",     "while",  NULL};

void gs_cel__position(const char *src, size_t len, size_t pos, int *line, int *column)
{
	size_t i;
	int l = 1, col = 1;
	if (pos > len)
		pos = len;
	for (i = 0; i < pos; i++) {
		if (src[i] == '\n' || (src[i] == '\r' && (i + 1 >= len || src[i + 1] != '\n'))) {
			l++;
			col = 1;
		} else if (((unsigned char)src[i] & 0xC0) != 0x80 && src[i] != '\r') {
			col++; /* columns count code points */
		}
	}
	*line = l;
	*column = col;
}

int gs_cel__syntax_error(gs_cel_error *err, const char *src, size_t len, size_t pos, const char *fmt, ...)
{
	va_list ap;
	if (err) {
		gs_cel__position(src, len, pos, &err->line, &err->column);
		va_start(ap, fmt);
		vsnprintf(err->message, sizeof(err->message), fmt, ap);
		va_end(ap);
	}
	return GS_EINVALID;
}

static int is_ident_start(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static size_t put_utf8(char *out, unsigned cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xE0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	out[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* One escape after the backslash at s[*i]; appends to out. Returns 0 or
 * an error message. */
static const char *lex_escape(const char *s, size_t end, size_t *i, int bytes, char *out, size_t *o)
{
	int c = (unsigned char)s[*i + 1], k, ndig = 0, h;
	unsigned cp = 0;
	const char *simple = "abfnrtv\\?\"'`", *rep = "\a\b\f\n\r\t\v\\?\"'`";
	const char *hit;
	if (*i + 1 >= end)
		return "unterminated escape sequence";
	hit = c ? strchr(simple, c) : NULL;
	if (hit) {
		out[(*o)++] = rep[hit - simple];
		*i += 2;
		return NULL;
	}
	if (c == 'x' || c == 'X')
		ndig = 2;
	else if (c == 'u')
		ndig = 4;
	else if (c == 'U')
		ndig = 8;
	if (ndig) {
		if (bytes && ndig > 2)
			return "\\u and \\U escapes are not allowed in bytes literals";
		if (*i + 2 + (size_t)ndig > end)
			return "invalid escape sequence";
		for (k = 0; k < ndig; k++) {
			h = hexval((unsigned char)s[*i + 2 + k]);
			if (h < 0)
				return "invalid hex digit in escape sequence";
			cp = cp * 16 + (unsigned)h;
		}
		*i += 2 + (size_t)ndig;
	} else if (c >= '0' && c <= '3') {
		if (*i + 4 > end)
			return "invalid octal escape";
		for (k = 1; k <= 3; k++) {
			h = (unsigned char)s[*i + k];
			if (h < '0' || h > '7')
				return "invalid octal escape";
			cp = cp * 8 + (unsigned)(h - '0');
		}
		*i += 4;
	} else {
		return "invalid escape sequence";
	}
	if (bytes && ndig <= 2) {
		out[(*o)++] = (char)cp;
		return NULL;
	}
	if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return "invalid unicode code point in escape";
	*o += put_utf8(out + *o, cp);
	return NULL;
}

/* A string or bytes literal whose prefix (r/b) ends at s[start]. */
static int lex_string(gs_cel_lexer *lx, size_t start, int raw, int bytes, gs_cel_token *tok, gs_cel_error *err)
{
	const char *s = lx->src;
	char q = s[start], *out;
	int triple = start + 2 < lx->len && s[start + 1] == q && s[start + 2] == q;
	size_t i = start + (triple ? 3 : 1), o = 0;
	const char *msg;
	/* decoded text is never longer than the source text */
	out = gs_cel__palloc(lx->prog, lx->len - start + 1);
	for (;;) {
		if (i >= lx->len)
			return gs_cel__syntax_error(err, s, lx->len, tok->pos, "unterminated string literal");
		if (s[i] == q && (!triple || (i + 2 < lx->len && s[i + 1] == q && s[i + 2] == q)))
			break;
		if (!triple && (s[i] == '\n' || s[i] == '\r'))
			return gs_cel__syntax_error(err, s, lx->len, i, "newline in string literal");
		if (s[i] == '\\' && !raw) {
			msg = lex_escape(s, lx->len, &i, bytes, out, &o);
			if (msg)
				return gs_cel__syntax_error(err, s, lx->len, i, "%s", msg);
			continue;
		}
		out[o++] = s[i++];
	}
	i += triple ? 3 : 1;
	tok->type = bytes ? GS_CEL_T_BYTES : GS_CEL_T_STRING;
	tok->str = out;
	tok->str_len = o;
	tok->len = (uint32_t)(i - tok->pos);
	lx->pos = i;
	return 0;
}

static int lex_number(gs_cel_lexer *lx, gs_cel_token *tok, gs_cel_error *err)
{
	const char *s = lx->src;
	size_t i = lx->pos, end = lx->len, j;
	uint64_t v = 0;
	int is_float = 0, d, overflow = 0;
	char buf[128];
	if (i + 1 < end && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
		i += 2;
		if (i >= end || hexval((unsigned char)s[i]) < 0)
			return gs_cel__syntax_error(err, s, end, tok->pos, "invalid hex literal");
		for (; i < end && (d = hexval((unsigned char)s[i])) >= 0; i++) {
			if (v > (UINT64_MAX >> 4))
				overflow = 1;
			v = v * 16 + (uint64_t)d;
		}
	} else {
		for (j = i; j < end && is_digit((unsigned char)s[j]); j++)
			;
		if (j + 1 < end && s[j] == '.' && is_digit((unsigned char)s[j + 1])) {
			is_float = 1;
			for (j++; j < end && is_digit((unsigned char)s[j]); j++)
				;
		}
		if (j < end && (s[j] == 'e' || s[j] == 'E')) {
			size_t k = j + 1;
			if (k < end && (s[k] == '+' || s[k] == '-'))
				k++;
			if (k < end && is_digit((unsigned char)s[k])) {
				is_float = 1;
				for (j = k; j < end && is_digit((unsigned char)s[j]); j++)
					;
			}
		}
		if (is_float) {
			if (j - i >= sizeof(buf))
				return gs_cel__syntax_error(err, s, end, tok->pos, "number literal too long");
			memcpy(buf, s + i, j - i);
			buf[j - i] = 0;
			tok->type = GS_CEL_T_DOUBLE;
			tok->d = strtod(buf, NULL);
			tok->len = (uint32_t)(j - tok->pos);
			lx->pos = j;
			return 0;
		}
		for (; i < j; i++) {
			d = s[i] - '0';
			if (v > (UINT64_MAX - (uint64_t)d) / 10)
				overflow = 1;
			v = v * 10 + (uint64_t)d;
		}
	}
	tok->type = GS_CEL_T_INT;
	if (i < end && (s[i] == 'u' || s[i] == 'U')) {
		tok->type = GS_CEL_T_UINT;
		i++;
	}
	if (overflow)
		return gs_cel__syntax_error(err, s, end, tok->pos, "integer literal out of range");
	if (i < end && (is_ident_start((unsigned char)s[i]) || is_digit((unsigned char)s[i])))
		return gs_cel__syntax_error(err, s, end, i, "invalid number literal");
	tok->u = v;
	tok->len = (uint32_t)(i - tok->pos);
	lx->pos = i;
	return 0;
}

static int lex_ident(gs_cel_lexer *lx, gs_cel_token *tok, gs_cel_error *err)
{
	const char *s = lx->src, *w;
	size_t i = lx->pos, n, k;
	int raw = 0, bytes = 0;
	while (i < lx->len && (is_ident_start((unsigned char)s[i]) || is_digit((unsigned char)s[i])))
		i++;
	n = i - lx->pos;
	w = s + lx->pos;
	/* string prefixes: r, b, br, rb in either case, right before a quote */
	if (n <= 2 && i < lx->len && (s[i] == '"' || s[i] == '\'')) {
		for (k = 0; k < n; k++) {
			if (w[k] == 'r' || w[k] == 'R')
				raw++;
			else if (w[k] == 'b' || w[k] == 'B')
				bytes++;
			else
				raw = 9;
		}
		if (raw <= 1 && bytes <= 1)
			return lex_string(lx, i, raw, bytes, tok, err);
	}
	tok->len = (uint32_t)n;
	lx->pos = i;
	tok->type = GS_CEL_T_IDENT;
	if (n == 4 && !memcmp(w, "true", 4))
		tok->type = GS_CEL_T_TRUE;
	else if (n == 5 && !memcmp(w, "false", 5))
		tok->type = GS_CEL_T_FALSE;
	else if (n == 4 && !memcmp(w, "null", 4))
		tok->type = GS_CEL_T_NULL;
	else if (n == 2 && !memcmp(w, "in", 2))
		tok->type = GS_CEL_T_IN;
	for (k = 0; RESERVED[k] && tok->type == GS_CEL_T_IDENT; k++)
		if (strlen(RESERVED[k]) == n && !memcmp(RESERVED[k], w, n))
			tok->type = GS_CEL_T_RESERVED;
	return 0;
}

static int lex_quoted_ident(gs_cel_lexer *lx, gs_cel_token *tok, gs_cel_error *err)
{
	const char *s = lx->src;
	size_t i = lx->pos + 1, start = i;
	int c;
	for (; i < lx->len && s[i] != '`'; i++) {
		c = (unsigned char)s[i];
		if (!is_ident_start(c) && !is_digit(c) && c != '.' && c != '-' && c != '/' && c != '~' &&
		    c != ' ')
			return gs_cel__syntax_error(err, s, lx->len, i, "invalid character in quoted identifier");
	}
	if (i >= lx->len || i == start)
		return gs_cel__syntax_error(err, s, lx->len, tok->pos, "invalid quoted identifier");
	tok->type = GS_CEL_T_QIDENT;
	tok->str = gs_cel__pstrndup(lx->prog, s + start, i - start);
	tok->str_len = i - start;
	lx->pos = i + 1;
	tok->len = (uint32_t)(lx->pos - tok->pos);
	return 0;
}

static void skip_space(gs_cel_lexer *lx)
{
	const char *s = lx->src;
	for (;;) {
		while (lx->pos < lx->len && (s[lx->pos] == ' ' || s[lx->pos] == '\t' || s[lx->pos] == '\n' ||
					     s[lx->pos] == '\r' || s[lx->pos] == '\f'))
			lx->pos++;
		if (lx->pos + 1 < lx->len && s[lx->pos] == '/' && s[lx->pos + 1] == '/') {
			/* a comment runs to a line feed (a lone CR does not end it) */
			while (lx->pos < lx->len && s[lx->pos] != '\n')
				lx->pos++;
			continue;
		}
		return;
	}
}

static int lex_punct(gs_cel_lexer *lx, gs_cel_token *tok, gs_cel_error *err)
{
	static const struct {
		const char *text;
		int type;
	} P[] = {{"==", GS_CEL_T_EQ},	  {"!=", GS_CEL_T_NE},	   {"<=", GS_CEL_T_LE},	    {">=", GS_CEL_T_GE},
		 {"&&", GS_CEL_T_AND},	  {"||", GS_CEL_T_OR},	   {"(", GS_CEL_T_LPAREN},  {")", GS_CEL_T_RPAREN},
		 {"[", GS_CEL_T_LBRACKET}, {"]", GS_CEL_T_RBRACKET}, {"{", GS_CEL_T_LBRACE},  {"}", GS_CEL_T_RBRACE},
		 {".", GS_CEL_T_DOT},	  {",", GS_CEL_T_COMMA},   {":", GS_CEL_T_COLON},   {"?", GS_CEL_T_QUESTION},
		 {"+", GS_CEL_T_PLUS},	  {"-", GS_CEL_T_MINUS},   {"*", GS_CEL_T_STAR},    {"/", GS_CEL_T_SLASH},
		 {"%", GS_CEL_T_PERCENT}, {"!", GS_CEL_T_NOT},	   {"<", GS_CEL_T_LT},	    {">", GS_CEL_T_GT}};
	size_t k, n;
	for (k = 0; k < sizeof(P) / sizeof(P[0]); k++) {
		n = strlen(P[k].text);
		if (lx->pos + n <= lx->len && !memcmp(lx->src + lx->pos, P[k].text, n)) {
			tok->type = P[k].type;
			tok->len = (uint32_t)n;
			lx->pos += n;
			return 0;
		}
	}
	return gs_cel__syntax_error(err, lx->src, lx->len, lx->pos, "unexpected character '%c'",
				    lx->src[lx->pos] >= 0x20 && lx->src[lx->pos] < 0x7f ? lx->src[lx->pos] : '?');
}

int gs_cel__lex(gs_cel_lexer *lx, gs_cel_token *tok, gs_cel_error *err)
{
	int c;
	memset(tok, 0, sizeof(*tok));
	skip_space(lx);
	tok->pos = (uint32_t)lx->pos;
	if (lx->pos >= lx->len) {
		tok->type = GS_CEL_T_EOF;
		return 0;
	}
	c = (unsigned char)lx->src[lx->pos];
	if (is_ident_start(c))
		return lex_ident(lx, tok, err);
	if (is_digit(c) || (c == '.' && lx->pos + 1 < lx->len && is_digit((unsigned char)lx->src[lx->pos + 1])))
		return lex_number(lx, tok, err);
	if (c == '"' || c == '\'')
		return lex_string(lx, lx->pos, 0, 0, tok, err);
	if (c == '`')
		return lex_quoted_ident(lx, tok, err);
	return lex_punct(lx, tok, err);
}
