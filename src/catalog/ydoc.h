/*
 * catalog/ydoc.h -- a bounded YAML node tree with line numbers, built
 * with libyaml (pure: parses a buffer, no I/O).
 *
 * Strict: one document whose root is a mapping; duplicate keys in a
 * mapping, anchors, aliases and merge keys (`<<`), explicit tags other
 * than the core schema's, invalid UTF-8, nesting deeper than
 * GS_MAX_YAML_DEPTH, more than GS_MAX_YAML_NODES nodes and scalars over
 * GS_MAX_YAML_SCALAR_BYTES are errors. Keys must be scalars. Keys are
 * compared byte-exactly (case-sensitive).
 *
 * Ownership: gs_ydoc_parse gives the caller a document (all nodes live in
 *   it); free with gs_ydoc_free. Node pointers are borrowed and valid until
 *   then.
 * Threads: a document is used by one thread at a time.
 * Errors: GS_EINVALID with one or more records in errs (codes:
 *   yaml_syntax, yaml_duplicate_key, yaml_alias, yaml_anchor, yaml_tag,
 *   yaml_not_mapping, yaml_multiple_documents, yaml_too_deep,
 *   yaml_too_many_nodes, yaml_scalar_too_large, invalid_utf8); line
 *   numbers are file lines (first_line = file line of the YAML's line 1).
 */
#ifndef GS_YDOC_H
#define GS_YDOC_H

#include <stddef.h>

#include "catalog/caterr.h"

typedef enum { GS_YNODE_SCALAR = 1, GS_YNODE_MAP, GS_YNODE_SEQ } gs_ynode_kind;

typedef enum {
	GS_YSTYLE_PLAIN = 1, /* may be typed: null, true/false, numbers */
	GS_YSTYLE_QUOTED,    /* 'single' or "double": always a string */
	GS_YSTYLE_BLOCK      /* | or >: always a string */
} gs_ystyle;

typedef struct gs_ynode gs_ynode;
struct gs_ynode {
	gs_ynode_kind kind;
	unsigned line;   /* file line of the node's start */
	/* GS_YNODE_SCALAR */
	const char *str; /* NUL-terminated, valid UTF-8 */
	size_t len;
	gs_ystyle style;
	/* GS_YNODE_MAP: keys[i] -> vals[i] (keys are scalars);
	 * GS_YNODE_SEQ: vals[i] */
	gs_ynode **keys;
	gs_ynode **vals;
	size_t n;
};

typedef struct gs_ydoc gs_ydoc;

int gs_ydoc_parse(gs_ydoc **out, const char *yaml, size_t len, unsigned first_line, gs_cat_errors *errs);
void gs_ydoc_free(gs_ydoc *doc);
/* The root mapping (never NULL for a parsed document). */
const gs_ynode *gs_ydoc_root(const gs_ydoc *doc);
/* Value for key in a mapping node, or NULL (also when m is not a map). */
const gs_ynode *gs_ynode_get(const gs_ynode *m, const char *key);
/* Key node for key (for its line), or NULL. */
const gs_ynode *gs_ynode_key(const gs_ynode *m, const char *key);
/* A plain scalar `null`, `Null`, `NULL`, `~` or an empty plain scalar. */
int gs_ynode_is_null(const gs_ynode *n);

#endif
