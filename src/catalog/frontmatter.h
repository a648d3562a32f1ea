/*
 * catalog/frontmatter.h -- splits a resource file into YAML front-matter
 * and a byte-exact Markdown body (pure).
 *
 * A file is a resource document iff its first three bytes are `---`
 * (no BOM or whitespace tolerance; one rule for every phase). The opening
 * line must be exactly `---` (optionally `---\r`); the block ends at the
 * next line that is exactly `---` (or `---\r`); the body is every byte
 * after that closing line, kept verbatim.
 *
 * Ownership: the output points into the caller's buffer (no copies).
 * Threads: no state.
 * Errors: GS_ENOTFOUND (not a resource document: not an error),
 *   GS_EINVALID with a record added to errs (codes: file_too_large,
 *   invalid_utf8, unclosed_frontmatter, invalid_frontmatter_delimiter).
 */
#ifndef GS_FRONTMATTER_H
#define GS_FRONTMATTER_H

#include <stddef.h>

#include "catalog/caterr.h"

typedef struct gs_frontmatter {
	const char *yaml;       /* between the delimiter lines */
	size_t yaml_len;
	unsigned yaml_line;     /* file line number of the first YAML line (2) */
	const char *body;       /* after the closing delimiter line */
	size_t body_len;
	unsigned body_line;     /* file line number where the body starts */
} gs_frontmatter;

int gs_frontmatter_is_resource(const char *file, size_t len);
int gs_frontmatter_split(const char *file, size_t len, gs_frontmatter *out, gs_cat_errors *errs);

#endif
