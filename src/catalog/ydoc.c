/*
 * catalog/ydoc.c -- strict, bounded YAML node tree from libyaml events
 * (pure: parses a caller's buffer, no I/O).
 *
 * Owns: each gs_ydoc's arena (every node, string and child array of the
 * document lives in it; gs_ydoc_free releases it in one sweep). While
 * parsing, a stack of frames (one per open mapping/sequence, at most
 * GS_MAX_YAML_DEPTH) collects children, and one hash table of
 * (mapping, key) pairs finds duplicate keys in O(1).
 *
 * Events are checked as they arrive, so no limit can be exceeded before it
 * is noticed: input size (GS_MAX_RESOURCE_FILE_BYTES), UTF-8, node count,
 * depth, scalar size. Anchors, aliases and merge keys are never expanded,
 * so an alias bomb costs one event per alias.
 *
 * Line numbers: libyaml's mark.line is 0-based and also counts a lone
 * '\r', NEL, LS and PS as line breaks; file lines count '\n' only, so a
 * map from libyaml lines to file lines is built for inputs holding those.
 * SPDX-License-Identifier: MIT
 */
#include "catalog/ydoc.h"

#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "limits.h"
#include "util/alloc.h"
#include "util/error.h"
#include "util/utf8.h"

#define YDOC_CHUNK (32 * 1024)
#define YDOC_CORE_TAG "tag:yaml.org,2002:"

typedef struct ydoc_chunk {
	struct ydoc_chunk *next;
	size_t used, cap;
	max_align_t data[];
} ydoc_chunk;

struct gs_ydoc {
	ydoc_chunk *chunks; /* newest with free space first */
	gs_ynode *root;
};

/* An open mapping or sequence. A mapping's items alternate key, value. */
typedef struct ydoc_frame {
	gs_ynode *node;
	size_t map_id; /* identity of this mapping in the key table */
	gs_ynode **items;
	size_t n, cap; /* items storage is reused by later frames at this depth */
} ydoc_frame;

typedef struct ydoc_keyslot {
	const gs_ynode *key; /* NULL: free slot */
	size_t map_id;
} ydoc_keyslot;

typedef struct ydoc_parser {
	gs_ydoc *doc;
	const char *yaml;
	size_t len;
	unsigned first_line;
	unsigned *linemap; /* libyaml line -> 0-based yaml line; NULL: identity */
	size_t nlinemap;
	gs_cat_errors *errs;
	size_t errs_before;
	ydoc_frame frames[GS_MAX_YAML_DEPTH];
	size_t depth;
	size_t nodes;
	size_t ndocs;
	size_t next_map_id;
	ydoc_keyslot *keys; /* open addressing, power-of-two size */
	size_t nkeys, keys_cap;
	int stop; /* a fatal problem was recorded */
} ydoc_parser;

/* ---- arena ---- */

static void *ydoc_alloc(gs_ydoc *d, size_t n)
{
	const size_t a = alignof(max_align_t);
	ydoc_chunk *c = d->chunks;
	void *p;

	n = (n + a - 1) / a * a;
	if (n > YDOC_CHUNK / 4) {
		/* large: own chunk, kept behind the current one */
		c = gs_xmalloc(sizeof(*c) + n);
		c->cap = c->used = n;
		if (d->chunks) {
			c->next = d->chunks->next;
			d->chunks->next = c;
		} else {
			c->next = NULL;
			d->chunks = c;
		}
		return c->data;
	}
	if (!c || c->cap - c->used < n) {
		c = gs_xmalloc(sizeof(*c) + YDOC_CHUNK);
		c->cap = YDOC_CHUNK;
		c->used = 0;
		c->next = d->chunks;
		d->chunks = c;
	}
	p = (char *)c->data + c->used;
	c->used += n;
	return p;
}

void gs_ydoc_free(gs_ydoc *doc)
{
	ydoc_chunk *c, *next;

	if (!doc)
		return;
	for (c = doc->chunks; c; c = next) {
		next = c->next;
		free(c);
	}
	free(doc);
}

const gs_ynode *gs_ydoc_root(const gs_ydoc *doc)
{
	return doc->root;
}

/* ---- lookups ---- */

static size_t ydoc_find(const gs_ynode *m, const char *key)
{
	size_t i, n;

	if (!m || m->kind != GS_YNODE_MAP || !key)
		return SIZE_MAX;
	n = strlen(key);
	for (i = 0; i < m->n; i++) {
		const gs_ynode *k = m->keys[i];
		if (k->kind == GS_YNODE_SCALAR && k->len == n && memcmp(k->str, key, n) == 0)
			return i;
	}
	return SIZE_MAX;
}

const gs_ynode *gs_ynode_get(const gs_ynode *m, const char *key)
{
	size_t i = ydoc_find(m, key);
	return i == SIZE_MAX ? NULL : m->vals[i];
}

const gs_ynode *gs_ynode_key(const gs_ynode *m, const char *key)
{
	size_t i = ydoc_find(m, key);
	return i == SIZE_MAX ? NULL : m->keys[i];
}

static int ydoc_is_null_text(const char *s, size_t n)
{
	return n == 0 || (n == 1 && s[0] == '~') ||
	       (n == 4 && (memcmp(s, "null", 4) == 0 || memcmp(s, "Null", 4) == 0 || memcmp(s, "NULL", 4) == 0));
}

int gs_ynode_is_null(const gs_ynode *n)
{
	return n && n->kind == GS_YNODE_SCALAR && n->style == GS_YSTYLE_PLAIN && ydoc_is_null_text(n->str, n->len);
}

/* ---- text checks ---- */


/* Offset of the first ill-formed byte, or SIZE_MAX. */
static size_t ydoc_utf8_bad(const char *text, size_t len)
{
	return gs_utf8_first_bad(text, len);
}

static int ydoc_all(const char *s, size_t n, const char *set)
{
	size_t i;
	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (!memchr(set, s[i], strlen(set)))
			return 0;
	return 1;
}

/* YAML 1.2 core schema resolution of a scalar's text. */
static int ydoc_is_bool_text(const char *s, size_t n)
{
	static const char *const words[] = {"true", "True", "TRUE", "false", "False", "FALSE"};
	size_t i;
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strlen(words[i]) == n && memcmp(words[i], s, n) == 0)
			return 1;
	return 0;
}

static int ydoc_is_int_text(const char *s, size_t n)
{
	if (n > 2 && s[0] == '0' && s[1] == 'o')
		return ydoc_all(s + 2, n - 2, "01234567");
	if (n > 2 && s[0] == '0' && s[1] == 'x')
		return ydoc_all(s + 2, n - 2, "0123456789abcdefABCDEF");
	if (n > 0 && (s[0] == '-' || s[0] == '+')) {
		s++;
		n--;
	}
	return ydoc_all(s, n, "0123456789");
}

static int ydoc_is_float_text(const char *s, size_t n)
{
	size_t i = 0, d = 0;

	if (n == 4 && (memcmp(s, ".nan", 4) == 0 || memcmp(s, ".NaN", 4) == 0 || memcmp(s, ".NAN", 4) == 0))
		return 1;
	if (n > 0 && (s[0] == '-' || s[0] == '+'))
		i++;
	if (n - i == 4 &&
	    (memcmp(s + i, ".inf", 4) == 0 || memcmp(s + i, ".Inf", 4) == 0 || memcmp(s + i, ".INF", 4) == 0))
		return 1;
	while (i < n && s[i] >= '0' && s[i] <= '9') {
		i++;
		d++;
	}
	if (i < n && s[i] == '.') {
		i++;
		while (i < n && s[i] >= '0' && s[i] <= '9') {
			i++;
			d++;
		}
	}
	if (d == 0)
		return 0;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '-' || s[i] == '+'))
			i++;
		if (i == n)
			return 0;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	return i == n;
}

/* ---- lines, paths, records ---- */

static unsigned ydoc_line(const ydoc_parser *p, size_t yline)
{
	if (p->linemap)
		yline = p->linemap[yline < p->nlinemap ? yline : p->nlinemap - 1];
	else if (yline > p->len)
		yline = p->len;
	return p->first_line + (unsigned)yline;
}

/* File line of a byte offset into the YAML. */
static unsigned ydoc_offset_line(const ydoc_parser *p, size_t off)
{
	size_t i, lines = 0;

	if (off > p->len)
		off = p->len;
	for (i = 0; i < off; i++)
		if (p->yaml[i] == '\n')
			lines++;
	return p->first_line + (unsigned)lines;
}

static int ydoc_is_odd_break(const unsigned char *s, size_t i, size_t len, size_t *width)
{
	if (s[i] == '\r' && (i + 1 == len || s[i + 1] != '\n')) {
		*width = 1;
		return 1;
	}
	if (s[i] == 0xc2 && i + 1 < len && s[i + 1] == 0x85) {
		*width = 2;
		return 1;
	}
	if (s[i] == 0xe2 && i + 2 < len && s[i + 1] == 0x80 && (s[i + 2] == 0xa8 || s[i + 2] == 0xa9)) {
		*width = 3;
		return 1;
	}
	return 0;
}

/* Builds p->linemap when the YAML holds breaks that libyaml counts and a
 * file does not (lone '\r', NEL, LS, PS). */
static void ydoc_build_linemap(ydoc_parser *p)
{
	const unsigned char *s = (const unsigned char *)p->yaml;
	size_t i, w, odd = 0, lf = 0, yl = 0;
	unsigned fl = 0;

	for (i = 0; i < p->len; i++) {
		if (s[i] == '\n')
			lf++;
		else if (ydoc_is_odd_break(s, i, p->len, &w))
			odd++;
	}
	if (odd == 0)
		return;
	p->nlinemap = lf + odd + 1;
	p->linemap = gs_xcalloc(p->nlinemap, sizeof(*p->linemap));
	for (i = 0; i < p->len;) {
		if (s[i] == '\n') {
			p->linemap[++yl] = ++fl;
			i++;
		} else if (ydoc_is_odd_break(s, i, p->len, &w)) {
			p->linemap[++yl] = fl;
			i += w;
		} else {
			i++;
		}
	}
}

static void ydoc_path_put(char *buf, size_t cap, const char *s, size_t n)
{
	size_t o = strlen(buf);

	if (o + 1 >= cap)
		return;
	if (n > cap - 1 - o)
		n = cap - 1 - o;
	memcpy(buf + o, s, n);
	buf[o + n] = 0;
}

static void ydoc_path_key(char *buf, size_t cap, const gs_ynode *k)
{
	if (buf[0])
		ydoc_path_put(buf, cap, ".", 1);
	if (k->kind == GS_YNODE_SCALAR)
		ydoc_path_put(buf, cap, k->str, k->len);
	else
		ydoc_path_put(buf, cap, "?", 1);
}

static void ydoc_path_index(char *buf, size_t cap, size_t i)
{
	char tmp[32];
	int n = snprintf(tmp, sizeof(tmp), "[%zu]", i);
	ydoc_path_put(buf, cap, tmp, (size_t)n);
}

/* The field path (`spec.media[0].fileRef`) of the node about to be added
 * to the innermost open collection; `key` is that node when it is a key. */
static void ydoc_path(const ydoc_parser *p, const gs_ynode *key, char *buf, size_t cap)
{
	size_t i;

	buf[0] = 0;
	for (i = 0; i < p->depth; i++) {
		const ydoc_frame *f = &p->frames[i];
		int top = i + 1 == p->depth;
		/* in an ancestor the open child is the last item; at the top the
		 * new node comes after the items */
		size_t n = top ? f->n + 1 : f->n;
		if (n == 0)
			continue;
		if (f->node->kind == GS_YNODE_SEQ)
			ydoc_path_index(buf, cap, n - 1);
		else if (n % 2 == 0)
			ydoc_path_key(buf, cap, f->items[n - 2]);
	}
	if (key)
		ydoc_path_key(buf, cap, key);
}

static int ydoc_too_many_errors(const ydoc_parser *p)
{
	return gs_cat_errors_count(p->errs) - p->errs_before > GS_MAX_CATALOG_ERRORS;
}

/* ---- building ---- */

static gs_ynode *ydoc_node(ydoc_parser *p, gs_ynode_kind kind, const yaml_mark_t *m)
{
	gs_ynode *n;

	if (p->nodes >= GS_MAX_YAML_NODES) {
		gs_cat_errors_add(p->errs, ydoc_line(p, m->line), "", "yaml_too_many_nodes",
		                  "front-matter has more than %d yaml nodes", GS_MAX_YAML_NODES);
		p->stop = 1;
		return NULL;
	}
	p->nodes++;
	n = ydoc_alloc(p->doc, sizeof(*n));
	memset(n, 0, sizeof(*n));
	n->kind = kind;
	n->line = ydoc_line(p, m->line);
	n->str = "";
	n->style = GS_YSTYLE_PLAIN;
	return n;
}

static size_t ydoc_key_hash(const gs_ynode *k, size_t map_id)
{
	uint64_t h = 14695981039346656037ULL ^ (uint64_t)map_id * 0x9e3779b97f4a7c15ULL;
	size_t i;
	for (i = 0; i < k->len; i++) {
		h ^= (unsigned char)k->str[i];
		h *= 1099511628211ULL;
	}
	return (size_t)(h ^ h >> 29);
}

/* Returns the earlier key equal to k in the same mapping, or inserts k. */
static const gs_ynode *ydoc_key_seen(ydoc_parser *p, const gs_ynode *k, size_t map_id)
{
	size_t i, mask;

	if ((p->nkeys + 1) * 2 > p->keys_cap) {
		ydoc_keyslot *old = p->keys;
		size_t oldcap = p->keys_cap;
		p->keys_cap = oldcap ? oldcap * 2 : 64;
		p->keys = gs_xcalloc(p->keys_cap, sizeof(*p->keys));
		mask = p->keys_cap - 1;
		for (i = 0; i < oldcap; i++) {
			size_t j;
			if (!old[i].key)
				continue;
			for (j = ydoc_key_hash(old[i].key, old[i].map_id) & mask; p->keys[j].key; j = (j + 1) & mask)
				;
			p->keys[j] = old[i];
		}
		free(old);
	}
	mask = p->keys_cap - 1;
	for (i = ydoc_key_hash(k, map_id) & mask; p->keys[i].key; i = (i + 1) & mask) {
		const gs_ynode *e = p->keys[i].key;
		if (p->keys[i].map_id == map_id && e->len == k->len && memcmp(e->str, k->str, k->len) == 0)
			return e;
	}
	p->keys[i].key = k;
	p->keys[i].map_id = map_id;
	p->nkeys++;
	return NULL;
}

static void ydoc_check_key(ydoc_parser *p, ydoc_frame *f, const gs_ynode *k)
{
	char path[sizeof(((gs_cat_error *)0)->field)];
	const gs_ynode *prev;

	if (k->kind != GS_YNODE_SCALAR) {
		ydoc_path(p, NULL, path, sizeof(path));
		gs_cat_errors_add(p->errs, k->line, path, "yaml_syntax", "mapping key must be a scalar, got a %s",
		                  k->kind == GS_YNODE_MAP ? "mapping" : "sequence");
		return;
	}
	ydoc_path(p, k, path, sizeof(path));
	if (k->style == GS_YSTYLE_PLAIN && k->len == 2 && memcmp(k->str, "<<", 2) == 0) {
		gs_cat_errors_add(p->errs, k->line, path, "yaml_alias",
		                  "merge key \"<<\" is not allowed; anchors, aliases and merges are not supported");
		return;
	}
	prev = ydoc_key_seen(p, k, f->map_id);
	if (prev)
		gs_cat_errors_add(p->errs, k->line, path, "yaml_duplicate_key",
		                  "mapping key \"%.*s\" already defined at line %u", (int)(k->len > 64 ? 64 : k->len),
		                  k->str, prev->line);
}

/* Adds a new node to the innermost open collection (or makes it the root). */
static void ydoc_attach(ydoc_parser *p, gs_ynode *node)
{
	ydoc_frame *f;

	if (p->depth == 0) {
		if (p->doc->root)
			return; /* a second document: already reported */
		p->doc->root = node;
		if (node->kind != GS_YNODE_MAP)
			gs_cat_errors_add(p->errs, node->line, "", "yaml_not_mapping",
			                  "front-matter must be a yaml mapping, got %s",
			                  node->kind == GS_YNODE_SEQ ? "a sequence"
			                  : gs_ynode_is_null(node)   ? "null"
			                                             : "a scalar");
		return;
	}
	f = &p->frames[p->depth - 1];
	if (f->node->kind == GS_YNODE_MAP && f->n % 2 == 0)
		ydoc_check_key(p, f, node);
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 16;
		f->items = gs_xrealloc(f->items, f->cap * sizeof(*f->items));
	}
	f->items[f->n++] = node;
}

static void ydoc_tag_name(const char *tag, char *buf, size_t cap)
{
	size_t pre = strlen(YDOC_CORE_TAG);
	if (strncmp(tag, YDOC_CORE_TAG, pre) == 0)
		snprintf(buf, cap, "!!%s", tag + pre);
	else
		snprintf(buf, cap, "%s", tag);
}

/* Checks an explicit tag; a scalar's style then says how it resolves. */
static void ydoc_check_tag(ydoc_parser *p, gs_ynode *n, const char *tag, const char *path)
{
	const char *t;
	char name[64];
	int ok;

	if (!tag)
		return;
	ydoc_tag_name(tag, name, sizeof(name));
	if (strncmp(tag, YDOC_CORE_TAG, strlen(YDOC_CORE_TAG)) != 0)
		goto bad;
	t = tag + strlen(YDOC_CORE_TAG);
	if (strcmp(t, "map") == 0 || strcmp(t, "seq") == 0) {
		if ((n->kind == GS_YNODE_MAP) == (t[0] == 'm') && n->kind != GS_YNODE_SCALAR)
			return;
		gs_cat_errors_add(p->errs, n->line, path, "yaml_tag", "tag \"%s\" does not fit a %s", name,
		                  n->kind == GS_YNODE_MAP   ? "mapping"
		                  : n->kind == GS_YNODE_SEQ ? "sequence"
		                                            : "scalar");
		return;
	}
	if (strcmp(t, "str") && strcmp(t, "null") && strcmp(t, "bool") && strcmp(t, "int") && strcmp(t, "float"))
		goto bad;
	if (n->kind != GS_YNODE_SCALAR) {
		gs_cat_errors_add(p->errs, n->line, path, "yaml_tag", "tag \"%s\" does not fit a %s", name,
		                  n->kind == GS_YNODE_MAP ? "mapping" : "sequence");
		return;
	}
	if (strcmp(t, "str") == 0) {
		if (n->style == GS_YSTYLE_PLAIN)
			n->style = GS_YSTYLE_QUOTED;
		return;
	}
	if (t[0] == 'n')
		ok = ydoc_is_null_text(n->str, n->len);
	else if (t[0] == 'b')
		ok = ydoc_is_bool_text(n->str, n->len);
	else if (t[0] == 'i')
		ok = ydoc_is_int_text(n->str, n->len);
	else
		ok = ydoc_is_float_text(n->str, n->len) || ydoc_is_int_text(n->str, n->len);
	if (!ok) {
		gs_cat_errors_add(p->errs, n->line, path, "yaml_tag", "value \"%.*s\" is not a valid %s",
		                  (int)(n->len > 64 ? 64 : n->len), n->str, name);
		return;
	}
	n->style = GS_YSTYLE_PLAIN;
	return;
bad:
	gs_cat_errors_add(p->errs, n->line, path, "yaml_tag",
	                  "tag \"%s\" is not allowed; only !!str, !!int, !!float, !!bool, !!null, !!map and !!seq",
	                  name);
}

static void ydoc_check_anchor(ydoc_parser *p, const gs_ynode *n, const yaml_char_t *anchor, const char *path)
{
	if (anchor)
		gs_cat_errors_add(p->errs, n->line, path, "yaml_anchor",
		                  "anchor \"&%.64s\" is not allowed; anchors, aliases and merges are not supported",
		                  (const char *)anchor);
}

static void ydoc_on_scalar(ydoc_parser *p, const yaml_event_t *ev)
{
	char path[sizeof(((gs_cat_error *)0)->field)];
	const char *v = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	gs_ynode *n = ydoc_node(p, GS_YNODE_SCALAR, &ev->start_mark);
	int is_key;
	char *s;

	if (!n)
		return;
	switch (ev->data.scalar.style) {
	case YAML_SINGLE_QUOTED_SCALAR_STYLE:
	case YAML_DOUBLE_QUOTED_SCALAR_STYLE:
		n->style = GS_YSTYLE_QUOTED;
		break;
	case YAML_LITERAL_SCALAR_STYLE:
	case YAML_FOLDED_SCALAR_STYLE:
		n->style = GS_YSTYLE_BLOCK;
		break;
	default:
		n->style = GS_YSTYLE_PLAIN;
		break;
	}
	if (len > GS_MAX_YAML_SCALAR_BYTES) {
		ydoc_path(p, NULL, path, sizeof(path));
		gs_cat_errors_add(p->errs, n->line, path, "yaml_scalar_too_large",
		                  "yaml scalar is %zu bytes, over the limit of %d bytes", len,
		                  GS_MAX_YAML_SCALAR_BYTES);
	} else {
		s = ydoc_alloc(p->doc, len + 1);
		memcpy(s, v, len);
		s[len] = 0;
		n->str = s;
		n->len = len;
	}
	/* the path of a key names the key itself */
	is_key = p->depth && p->frames[p->depth - 1].node->kind == GS_YNODE_MAP && p->frames[p->depth - 1].n % 2 == 0;
	ydoc_path(p, is_key ? n : NULL, path, sizeof(path));
	if (memchr(n->str, 0, n->len))
		gs_cat_errors_add(p->errs, n->line, path, "yaml_syntax", "yaml scalar holds a NUL character");
	else if (ydoc_utf8_bad(n->str, n->len) != SIZE_MAX)
		gs_cat_errors_add(p->errs, n->line, path, "invalid_utf8", "yaml scalar is not valid utf-8");
	ydoc_check_anchor(p, n, ev->data.scalar.anchor, path);
	ydoc_check_tag(p, n, (const char *)ev->data.scalar.tag, path);
	ydoc_attach(p, n);
}

static void ydoc_on_alias(ydoc_parser *p, const yaml_event_t *ev)
{
	char path[sizeof(((gs_cat_error *)0)->field)];
	gs_ynode *n = ydoc_node(p, GS_YNODE_SCALAR, &ev->start_mark);

	if (!n)
		return;
	ydoc_path(p, NULL, path, sizeof(path));
	gs_cat_errors_add(p->errs, n->line, path, "yaml_alias",
	                  "alias \"*%.64s\" is not allowed; anchors, aliases and merges are not supported",
	                  (const char *)ev->data.alias.anchor);
	ydoc_attach(p, n);
}

static void ydoc_on_start(ydoc_parser *p, const yaml_event_t *ev, gs_ynode_kind kind)
{
	char path[sizeof(((gs_cat_error *)0)->field)];
	const yaml_char_t *anchor, *tag;
	ydoc_frame *f;
	gs_ynode *n;

	if (p->depth >= GS_MAX_YAML_DEPTH) {
		gs_cat_errors_add(p->errs, ydoc_line(p, ev->start_mark.line), "", "yaml_too_deep",
		                  "yaml nesting is deeper than %d levels", GS_MAX_YAML_DEPTH);
		p->stop = 1;
		return;
	}
	n = ydoc_node(p, kind, &ev->start_mark);
	if (!n)
		return;
	if (kind == GS_YNODE_MAP) {
		anchor = ev->data.mapping_start.anchor;
		tag = ev->data.mapping_start.tag;
	} else {
		anchor = ev->data.sequence_start.anchor;
		tag = ev->data.sequence_start.tag;
	}
	ydoc_path(p, NULL, path, sizeof(path));
	ydoc_check_anchor(p, n, anchor, path);
	ydoc_check_tag(p, n, (const char *)tag, path);
	ydoc_attach(p, n);
	f = &p->frames[p->depth++];
	f->node = n;
	f->n = 0;
	f->map_id = kind == GS_YNODE_MAP ? p->next_map_id++ : 0;
}

static void ydoc_on_end(ydoc_parser *p)
{
	ydoc_frame *f;
	gs_ynode *n;
	size_t i;

	if (p->depth == 0)
		return;
	f = &p->frames[--p->depth];
	n = f->node;
	if (n->kind == GS_YNODE_MAP) {
		n->n = f->n / 2;
		if (n->n) {
			n->keys = ydoc_alloc(p->doc, n->n * sizeof(*n->keys));
			n->vals = ydoc_alloc(p->doc, n->n * sizeof(*n->vals));
		}
		for (i = 0; i < n->n; i++) {
			n->keys[i] = f->items[2 * i];
			n->vals[i] = f->items[2 * i + 1];
		}
	} else {
		n->n = f->n;
		if (n->n) {
			n->vals = ydoc_alloc(p->doc, n->n * sizeof(*n->vals));
			memcpy(n->vals, f->items, n->n * sizeof(*n->vals));
		}
	}
	f->n = 0;
}

static void ydoc_syntax_error(ydoc_parser *p, const yaml_parser_t *yp)
{
	const char *problem = yp->problem ? yp->problem : "unknown error";

	switch (yp->error) {
	case YAML_MEMORY_ERROR:
		gs_cat_errors_add(p->errs, p->first_line, "", "yaml_syntax", "yaml parser ran out of memory");
		break;
	case YAML_READER_ERROR:
		gs_cat_errors_add(p->errs, ydoc_offset_line(p, yp->problem_offset), "", "yaml_syntax",
		                  "invalid yaml input: %s", problem);
		break;
	default:
		if (yp->context && yp->context_mark.line != yp->problem_mark.line)
			gs_cat_errors_add(p->errs, ydoc_line(p, yp->problem_mark.line), "", "yaml_syntax",
			                  "invalid yaml: %s (%s at line %u)", problem, yp->context,
			                  ydoc_line(p, yp->context_mark.line));
		else
			gs_cat_errors_add(p->errs, ydoc_line(p, yp->problem_mark.line), "", "yaml_syntax",
			                  "invalid yaml: %s", problem);
		break;
	}
}

static void ydoc_on_event(ydoc_parser *p, const yaml_event_t *ev, int *done)
{
	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (++p->ndocs > 1) {
			gs_cat_errors_add(p->errs, ydoc_line(p, ev->start_mark.line), "", "yaml_multiple_documents",
			                  "front-matter must hold one yaml document, a second starts at line %u",
			                  ydoc_line(p, ev->start_mark.line));
			p->stop = 1;
		}
		break;
	case YAML_SCALAR_EVENT:
		ydoc_on_scalar(p, ev);
		break;
	case YAML_ALIAS_EVENT:
		ydoc_on_alias(p, ev);
		break;
	case YAML_MAPPING_START_EVENT:
		ydoc_on_start(p, ev, GS_YNODE_MAP);
		break;
	case YAML_SEQUENCE_START_EVENT:
		ydoc_on_start(p, ev, GS_YNODE_SEQ);
		break;
	case YAML_MAPPING_END_EVENT:
	case YAML_SEQUENCE_END_EVENT:
		ydoc_on_end(p);
		break;
	case YAML_STREAM_END_EVENT:
		*done = 1;
		break;
	default:
		break;
	}
}

int gs_ydoc_parse(gs_ydoc **out, const char *yaml, size_t len, unsigned first_line, gs_cat_errors *errs)
{
	ydoc_parser *p;
	yaml_parser_t yp;
	yaml_event_t ev;
	int error = GS_EINVALID, done = 0, inited = 0;
	size_t bad, i;

	*out = NULL;
	p = gs_xcalloc(1, sizeof(*p));
	p->yaml = yaml;
	p->len = len;
	p->first_line = first_line;
	p->errs = errs;
	p->errs_before = gs_cat_errors_count(errs);
	p->doc = gs_xcalloc(1, sizeof(*p->doc));

	if (len > GS_MAX_RESOURCE_FILE_BYTES) {
		gs_cat_errors_add(errs, first_line, "", "file_too_large",
		                  "front-matter is %zu bytes, over the resource file limit of %d bytes", len,
		                  GS_MAX_RESOURCE_FILE_BYTES);
		goto out;
	}
	bad = ydoc_utf8_bad(yaml, len);
	if (bad != SIZE_MAX) {
		gs_cat_errors_add(errs, ydoc_offset_line(p, bad), "", "invalid_utf8",
		                  "front-matter is not valid utf-8: byte 0x%02x at line %u", (unsigned char)yaml[bad],
		                  ydoc_offset_line(p, bad));
		goto out;
	}
	ydoc_build_linemap(p);

	inited = yaml_parser_initialize(&yp);
	GS_ASSERT(inited);
	yaml_parser_set_input_string(&yp, (const unsigned char *)yaml, len);
	yaml_parser_set_encoding(&yp, YAML_UTF8_ENCODING);
	while (!done && !p->stop && !ydoc_too_many_errors(p)) {
		if (!yaml_parser_parse(&yp, &ev)) {
			ydoc_syntax_error(p, &yp);
			break;
		}
		ydoc_on_event(p, &ev, &done);
		yaml_event_delete(&ev);
	}

	if (done && !p->doc->root && gs_cat_errors_count(errs) == p->errs_before)
		gs_cat_errors_add(errs, first_line, "", "yaml_not_mapping",
		                  "front-matter is empty; it must be a yaml mapping");
	if (done && gs_cat_errors_count(errs) == p->errs_before) {
		*out = p->doc;
		p->doc = NULL;
		error = 0;
	}

out:
	if (inited)
		yaml_parser_delete(&yp);
	for (i = 0; i < GS_MAX_YAML_DEPTH; i++)
		free(p->frames[i].items);
	free(p->keys);
	free(p->linemap);
	gs_ydoc_free(p->doc);
	free(p);
	return error;
}
