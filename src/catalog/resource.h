/*
 * catalog/resource.h -- catalog files to validated, typed resources (pure).
 *
 * gs_catalog_parse turns one file into a gs_resource and collects every
 * error it finds (never just the first). Two depths:
 *   GS_CATALOG_STRUCTURAL  (pre-receive): YAML syntax and limits, the
 *       envelope (apiVersion, a known kind, metadata.name), no `status`
 *       (catalog kinds), no system-managed metadata;
 *   GS_CATALOG_FULL: plus every rule of catalog-format.md for the kind,
 *       metadata.name a DNS label, metadata.namespace equal to the
 *       repository's namespace, the Namespace-manifest location rule.
 * gs_catalog_check_tree adds the rules that need the whole tree: no two
 * files with the same identity (kind, namespace, name).
 *
 * Kinds: Product, ProductVariant, CategoryTaxonomy, Collection
 * (catalog.gitstore.dev/v1beta1) and Namespace (gitstore.dev/v1beta1).
 * The resource keeps spec as JSON with schema types (strings, integers,
 * booleans, RFC 3339 timestamps as strings) and unknown keys dropped, and
 * the body byte-exact.
 *
 * Ownership: gs_catalog_parse gives the caller a resource (or NULL when
 *   the file has errors that prevent building one); free with
 *   gs_resource_free. Inputs are copied.
 * Threads: no state.
 * Errors: GS_ENOTFOUND (not a resource document), GS_EINVALID (errors
 *   recorded in errs; *out may still be set for a resource that parsed but
 *   failed validation, so callers can report its identity).
 */
#ifndef GS_RESOURCE_H
#define GS_RESOURCE_H

#include <jansson.h>
#include <stddef.h>

#include "catalog/caterr.h"

#define GS_CATALOG_API_VERSION "catalog.gitstore.dev/v1beta1"
#define GS_CORE_API_VERSION "gitstore.dev/v1beta1"
#define GS_ADMISSION_API_VERSION "admission.gitstore.dev/v1beta1"

typedef enum { GS_CATALOG_STRUCTURAL = 1, GS_CATALOG_FULL = 2 } gs_catalog_depth;

typedef struct gs_catalog_ctx {
	const char *repo_ns;   /* the repository's namespace */
	const char *repo_name; /* the repository's name */
	const char *path;      /* path in the tree (provenance, location rules) */
	gs_catalog_depth depth;
} gs_catalog_ctx;

typedef struct gs_resource {
	char api_version[64];
	char kind[32];         /* "" when unknown */
	char name[64];         /* "" when missing or invalid */
	char ns[64];           /* metadata.namespace, else the repository's */
	int ns_from_metadata;  /* 1 when metadata.namespace was set */
	json_t *labels;        /* object of strings (never NULL) */
	json_t *annotations;   /* object of strings (never NULL) */
	json_t *spec;          /* object (never NULL) */
	char *body;            /* byte-exact, NUL-terminated */
	size_t body_len;
	unsigned name_line;    /* line of metadata.name (for messages) */
} gs_resource;

typedef struct gs_catalog_file {
	const char *path;
	const gs_resource *res; /* may be NULL */
} gs_catalog_file;

int gs_catalog_parse(const gs_catalog_ctx *ctx, const char *file, size_t len, gs_resource **out, gs_cat_errors *errs);
void gs_resource_free(gs_resource *r);
/* Plural API name of a kind ("products", ...), or NULL. */
const char *gs_catalog_plural(const char *kind);
/* Identity clash check over a whole tree: for each file that repeats an
 * earlier file's identity, calls report(index, earlier_index). */
void gs_catalog_check_tree(const gs_catalog_file *files, size_t n,
			   void (*report)(size_t idx, size_t earlier, void *payload), void *payload);

#endif
