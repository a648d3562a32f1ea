/*
 * catalog/resource.c -- catalog files to typed, validated resources (pure:
 * no I/O, no global state).
 *
 * Owns: the gs_resource objects it hands out (spec/labels/annotations as
 * jansson objects, the body copied byte-exact).
 * Pipeline per file: detect (`---` first bytes) -> split front-matter and
 * body (frontmatter.c) -> YAML node tree (ydoc.c) -> envelope -> schema
 * conversion to JSON driven by the field tables below (redis config.c
 * style: one row per field: name, type, flags, members, allowed values)
 * -> kind rules -> labels -> identity/location rules.
 * Invariants: every problem is recorded (no first-error-only); each record
 * carries a file line, a camelCase field path and a stable code (the list
 * is in docs/catalog.md); records added by one parse are sorted by line.
 * At GS_CATALOG_STRUCTURAL only envelope records are kept; the spec is
 * still converted (best effort) so callers get a resource either way.
 * Threads: any; nothing is shared.
 * SPDX-License-Identifier: MIT
 */
#include "catalog/resource.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog/frontmatter.h"
#include "catalog/ydoc.h"
#include "cel/cel.h"
#include "limits.h"
#include "util/alloc.h"
#include "util/error.h"
#include "util/str.h"
#include "util/utf8.h"

/* Longest author datum quoted inside a message, in bytes. */
#define RESOURCE_QUOTE_MAX 64
/* spec.title limit (code points) for Product and Namespace. */
#define RESOURCE_TITLE_MAX 200
/* Label limits (bytes), Kubernetes-style. */
#define RESOURCE_LABEL_PREFIX_MAX 253
#define RESOURCE_LABEL_NAME_MAX 63
#define RESOURCE_LABEL_VALUE_MAX 63

#define RESOURCE_SYSTEM_REPO "gitstore-system"

/* ---- schema tables ------------------------------------------------------ */

typedef enum {
	FT_STR = 1, /* any scalar, kept as its literal text */
	FT_BOOL,    /* plain true / false only */
	FT_INT32,
	FT_INT64,
	FT_TIME,    /* RFC 3339 date-time, kept as its text */
	FT_MAP,     /* mapping with the members in `sub` (unknown keys dropped) */
	FT_LIST,    /* sequence of sub[0] */
	FT_STRMAP   /* mapping string -> string (labels) */
} field_type;

#define F_REQUIRED 1u /* missing, null or "" is an error */
#define F_TITLE 2u    /* at most RESOURCE_TITLE_MAX code points */

typedef struct field_spec {
	const char *name;
	field_type type;
	unsigned flags;
	const struct field_spec *sub; /* FT_MAP: members ({0}-ended); FT_LIST: the element */
	const char *const *oneof;     /* FT_STR: allowed values (NULL-ended); "" always allowed */
} field_spec;

static const char *const POLICY_ONEOF[] = {"deny", "backorder", NULL};
static const char *const STRATEGY_ONEOF[] = {"fixed", "fixedUnitPrice", "percentage", "tiered", NULL};
static const char *const ELIG_OP_ONEOF[] = {"All", "Any", NULL};
static const char *const SELECTOR_OP_ONEOF[] = {"In", "NotIn", "Exists", "DoesNotExist", NULL};
static const char *const TIER_ONEOF[] = {"USER", "ORGANIZATION", NULL};
static const char *const VISIBILITY_ONEOF[] = {"PUBLIC", "PRIVATE", "INTERNAL", NULL};

static const field_spec STR_ELEM[] = {{NULL, FT_STR, 0, NULL, NULL}};

static const field_spec OBJREF_FIELDS[] = {
	{"apiVersion", FT_STR, 0, NULL, NULL},
	{"kind", FT_STR, 0, NULL, NULL},
	{"name", FT_STR, F_REQUIRED, NULL, NULL},
	{"namespace", FT_STR, 0, NULL, NULL},
	{"uid", FT_STR, 0, NULL, NULL},
	{"resourceVersion", FT_STR, 0, NULL, NULL},
	{"fieldPath", FT_STR, 0, NULL, NULL},
	{0},
};
static const field_spec OBJREF_ELEM[] = {{NULL, FT_MAP, 0, OBJREF_FIELDS, NULL}};

static const field_spec FILEREF_FIELDS[] = {
	{"name", FT_STR, F_REQUIRED, NULL, NULL},
	{"kind", FT_STR, F_REQUIRED, NULL, NULL},
	{"optional", FT_BOOL, 0, NULL, NULL},
	{0},
};
static const field_spec MEDIA_FIELDS[] = {
	{"fileRef", FT_MAP, F_REQUIRED, FILEREF_FIELDS, NULL},
	{0},
};
static const field_spec MEDIA_ELEM[] = {{NULL, FT_MAP, 0, MEDIA_FIELDS, NULL}};

static const field_spec OPTION_FIELDS[] = {
	{"name", FT_STR, F_REQUIRED, NULL, NULL},
	{"title", FT_STR, 0, NULL, NULL},
	{"values", FT_LIST, 0, STR_ELEM, NULL},
	{0},
};
static const field_spec OPTION_ELEM[] = {{NULL, FT_MAP, 0, OPTION_FIELDS, NULL}};

static const field_spec PRODUCT_SPEC[] = {
	{"title", FT_STR, F_TITLE, NULL, NULL},
	{"categoryRef", FT_MAP, 0, OBJREF_FIELDS, NULL},
	{"tags", FT_LIST, 0, STR_ELEM, NULL},
	{"media", FT_LIST, 0, MEDIA_ELEM, NULL},
	{"options", FT_LIST, 0, OPTION_ELEM, NULL},
	{0},
};

static const field_spec SELOPT_FIELDS[] = {
	{"name", FT_STR, F_REQUIRED, NULL, NULL},
	{"value", FT_STR, F_REQUIRED, NULL, NULL},
	{0},
};
static const field_spec SELOPT_ELEM[] = {{NULL, FT_MAP, 0, SELOPT_FIELDS, NULL}};
static const field_spec STRATEGY_FIELDS[] = {
	{"type", FT_STR, F_REQUIRED, NULL, STRATEGY_ONEOF},
	{0},
};
static const field_spec QUANTITY_FIELDS[] = {
	{"min", FT_INT32, 0, NULL, NULL},
	{"max", FT_INT32, 0, NULL, NULL},
	{0},
};
static const field_spec CONSTRAINT_FIELDS[] = {
	{"name", FT_STR, 0, NULL, NULL},
	{"expression", FT_STR, F_REQUIRED, NULL, NULL},
	{0},
};
static const field_spec CONSTRAINT_ELEM[] = {{NULL, FT_MAP, 0, CONSTRAINT_FIELDS, NULL}};
static const field_spec ELIGIBILITY_FIELDS[] = {
	{"operator", FT_STR, F_REQUIRED, NULL, ELIG_OP_ONEOF},
	{"constraints", FT_LIST, 0, CONSTRAINT_ELEM, NULL},
	{0},
};
static const field_spec PRICE_FIELDS[] = {
	{"name", FT_STR, 0, NULL, NULL},
	{"currencyCode", FT_STR, F_REQUIRED, NULL, NULL},
	{"amount", FT_STR, F_REQUIRED, NULL, NULL},
	{"strategy", FT_MAP, F_REQUIRED, STRATEGY_FIELDS, NULL},
	{"priority", FT_INT32, 0, NULL, NULL},
	{"validFromTime", FT_TIME, 0, NULL, NULL},
	{"validUntilTime", FT_TIME, 0, NULL, NULL},
	{"quantity", FT_MAP, 0, QUANTITY_FIELDS, NULL},
	{"eligibility", FT_MAP, 0, ELIGIBILITY_FIELDS, NULL},
	{0},
};
static const field_spec PRICE_ELEM[] = {{NULL, FT_MAP, 0, PRICE_FIELDS, NULL}};
static const field_spec PRICESET_FIELDS[] = {
	{"name", FT_STR, F_REQUIRED, NULL, NULL},
	{"prices", FT_LIST, 0, PRICE_ELEM, NULL},
	{0},
};
static const field_spec PRICING_FIELDS[] = {
	{"priceSet", FT_MAP, 0, PRICESET_FIELDS, NULL},
	{0},
};
static const field_spec INVENTORY_FIELDS[] = {
	{"managed", FT_BOOL, 0, NULL, NULL},
	{"policy", FT_STR, 0, NULL, POLICY_ONEOF},
	{"stockLocationRefs", FT_LIST, 0, OBJREF_ELEM, NULL},
	{0},
};
static const field_spec VARIANT_SPEC[] = {
	{"title", FT_STR, F_REQUIRED, NULL, NULL},
	{"sku", FT_STR, F_REQUIRED, NULL, NULL},
	{"productRef", FT_MAP, F_REQUIRED, OBJREF_FIELDS, NULL},
	{"selectedOptions", FT_LIST, 0, SELOPT_ELEM, NULL},
	{"pricing", FT_MAP, 0, PRICING_FIELDS, NULL},
	{"inventory", FT_MAP, 0, INVENTORY_FIELDS, NULL},
	{"media", FT_LIST, 0, MEDIA_ELEM, NULL},
	{0},
};

static const field_spec CATEGORY_SPEC[] = {
	{"title", FT_STR, F_REQUIRED, NULL, NULL},
	{"parentRef", FT_MAP, 0, OBJREF_FIELDS, NULL},
	{"media", FT_LIST, 0, MEDIA_ELEM, NULL},
	{0},
};

static const field_spec MATCHEXPR_FIELDS[] = {
	{"key", FT_STR, F_REQUIRED, NULL, NULL},
	{"operator", FT_STR, F_REQUIRED, NULL, SELECTOR_OP_ONEOF},
	{"values", FT_LIST, 0, STR_ELEM, NULL},
	{0},
};
static const field_spec MATCHEXPR_ELEM[] = {{NULL, FT_MAP, 0, MATCHEXPR_FIELDS, NULL}};
static const field_spec SELECTOR_FIELDS[] = {
	{"matchLabels", FT_STRMAP, 0, NULL, NULL},
	{"matchExpressions", FT_LIST, 0, MATCHEXPR_ELEM, NULL},
	{0},
};
static const field_spec COLLECTION_SPEC[] = {
	{"title", FT_STR, F_REQUIRED, NULL, NULL},
	{"selector", FT_MAP, 0, SELECTOR_FIELDS, NULL},
	{"targetRef", FT_MAP, 0, OBJREF_FIELDS, NULL},
	{"media", FT_LIST, 0, MEDIA_ELEM, NULL},
	{0},
};

static const field_spec REPODEFAULTS_FIELDS[] = {
	{"visibility", FT_STR, 0, NULL, VISIBILITY_ONEOF},
	{"defaultBranch", FT_STR, 0, NULL, NULL},
	{0},
};
static const field_spec PUSHPOLICY_FIELDS[] = {
	{"maxPackSizeBytes", FT_INT64, 0, NULL, NULL},
	{"maxFileSizeBytes", FT_INT64, 0, NULL, NULL},
	{0},
};
static const field_spec NAMESPACE_SPEC[] = {
	{"title", FT_STR, F_TITLE, NULL, NULL},
	{"tier", FT_STR, F_REQUIRED, NULL, TIER_ONEOF},
	{"repositoryDefaults", FT_MAP, 0, REPODEFAULTS_FIELDS, NULL},
	{"pushPolicyDefaults", FT_MAP, 0, PUSHPOLICY_FIELDS, NULL},
	{0},
};

/* ValidatingAdmissionPolicy (admission.gitstore.dev/v1beta1). */
static const char *const FAILURE_ONEOF[] = {"Fail", "Ignore", NULL};
static const char *const OPERATION_ONEOF[] = {"CREATE", "UPDATE", "DELETE", NULL};
static const char *const ACTION_ONEOF[] = {"Deny", "Warn", "Audit", NULL};
static const char *const REASON_ONEOF[] = {"Unauthorized", "Forbidden", "Invalid", "RequestEntityTooLarge", NULL};
static const char *const MATCHKIND_ONEOF[] = {"Product", "ProductVariant", "CategoryTaxonomy", "Collection", NULL};
static const field_spec MATCHKIND_ELEM[] = {{NULL, FT_STR, F_REQUIRED, NULL, MATCHKIND_ONEOF}};
static const field_spec OPERATION_ELEM[] = {{NULL, FT_STR, F_REQUIRED, NULL, OPERATION_ONEOF}};
static const field_spec ACTION_ELEM[] = {{NULL, FT_STR, F_REQUIRED, NULL, ACTION_ONEOF}};
static const field_spec MATCHCONSTRAINTS_FIELDS[] = {
	{"kinds", FT_LIST, F_REQUIRED, MATCHKIND_ELEM, NULL},
	{"operations", FT_LIST, 0, OPERATION_ELEM, NULL},
	{0},
};
static const field_spec MATCHCOND_FIELDS[] = {
	{"name", FT_STR, F_REQUIRED, NULL, NULL},
	{"expression", FT_STR, F_REQUIRED, NULL, NULL},
	{0},
};
static const field_spec MATCHCOND_ELEM[] = {{NULL, FT_MAP, 0, MATCHCOND_FIELDS, NULL}};
static const field_spec VALIDATION_FIELDS[] = {
	{"expression", FT_STR, F_REQUIRED, NULL, NULL},
	{"message", FT_STR, 0, NULL, NULL},
	{"messageExpression", FT_STR, 0, NULL, NULL},
	{"reason", FT_STR, 0, NULL, REASON_ONEOF},
	{0},
};
static const field_spec VALIDATION_ELEM[] = {{NULL, FT_MAP, 0, VALIDATION_FIELDS, NULL}};
static const field_spec POLICY_SPEC[] = {
	{"failurePolicy", FT_STR, 0, NULL, FAILURE_ONEOF},
	{"matchConstraints", FT_MAP, F_REQUIRED, MATCHCONSTRAINTS_FIELDS, NULL},
	{"matchConditions", FT_LIST, 0, MATCHCOND_ELEM, NULL},
	{"validations", FT_LIST, F_REQUIRED, VALIDATION_ELEM, NULL},
	{"validationActions", FT_LIST, F_REQUIRED, ACTION_ELEM, NULL},
	{0},
};

/* System-managed metadata, in the order they are reported. */
static const char *const READONLY_METADATA[] = {
	"uid", "resourceVersion", "generation", "creationTimestamp", "revision", "ownerReferences", "finalizers", NULL,
};

/* ---- validation state --------------------------------------------------- */

typedef struct resource_val {
	const gs_catalog_ctx *ctx;
	gs_cat_errors *errs;
	int full;     /* GS_CATALOG_FULL: report every rule */
	int mute;     /* > 0: drop records (spec conversion at STRUCTURAL depth) */
	char path[256];
	size_t plen;
} resource_val;

typedef struct kind_spec {
	const char *kind;
	const char *api_version;
	const char *plural;
	const field_spec *spec;
	void (*check)(resource_val *v, const gs_ynode *root, const gs_ynode *spec, const gs_resource *r);
	int spec_structural; /* spec rules also at STRUCTURAL depth (pre-receive) */
} kind_spec;

static void resource_err(resource_val *v, unsigned line, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void resource_err(resource_val *v, unsigned line, const char *code, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (v->mute)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	gs_cat_errors_add(v->errs, line, v->path, code, "%s", msg);
}

/* Appends ".name" (or "name" at the root) to the field path; returns the
 * length to restore with resource_pop. Overlong paths are cut (the
 * record's field is bounded anyway). */
static size_t resource_push(resource_val *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static size_t resource_push(resource_val *v, const char *fmt, ...)
{
	size_t old = v->plen;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(v->path + v->plen, sizeof(v->path) - v->plen, fmt, ap);
	va_end(ap);
	if (n > 0)
		v->plen += (size_t)n < sizeof(v->path) - v->plen ? (size_t)n : sizeof(v->path) - v->plen - 1;
	return old;
}

static size_t resource_push_name(resource_val *v, const char *name)
{
	return resource_push(v, v->plen ? ".%s" : "%s", name);
}

static void resource_pop(resource_val *v, size_t old)
{
	v->plen = old;
	v->path[old] = 0;
}

/* ---- small helpers ------------------------------------------------------ */

/* Bytes of s[0..n) to quote so that at most RESOURCE_QUOTE_MAX bytes are
 * shown and no UTF-8 sequence is cut. */
static int resource_quote_len(const char *s, size_t n)
{
	size_t k;
	if (n <= RESOURCE_QUOTE_MAX)
		return (int)n;
	k = RESOURCE_QUOTE_MAX;
	while (k > 0 && ((unsigned char)s[k] & 0xc0) == 0x80)
		k--;
	return (int)k;
}

#define QUOTE(s, n) resource_quote_len((s), (n)), (s), ((n) > RESOURCE_QUOTE_MAX ? "..." : "")

static size_t resource_codepoints(const char *s, size_t n)
{
	return gs_utf8_codepoints(s, n);
}

static const char *resource_node_what(const gs_ynode *n)
{
	if (n->kind == GS_YNODE_MAP)
		return "a mapping";
	if (n->kind == GS_YNODE_SEQ)
		return "a sequence";
	return n->style == GS_YSTYLE_PLAIN ? "a scalar" : "a string";
}

/* Value for key, or NULL when absent or null. */
static const gs_ynode *resource_get(const gs_ynode *m, const char *key)
{
	const gs_ynode *n = m ? gs_ynode_get(m, key) : NULL;
	return n && !gs_ynode_is_null(n) ? n : NULL;
}

/* A non-null scalar's text, else NULL. */
static const char *resource_scalar(const gs_ynode *n)
{
	return n && n->kind == GS_YNODE_SCALAR && !gs_ynode_is_null(n) ? n->str : NULL;
}

/* Line of a key in m, else fallback. */
static unsigned resource_key_line(const gs_ynode *m, const char *key, unsigned fallback)
{
	const gs_ynode *k = m ? gs_ynode_key(m, key) : NULL;
	return k ? k->line : fallback;
}

static int resource_oneof(const char *const *list, const char *s)
{
	for (size_t i = 0; list[i]; i++)
		if (strcmp(list[i], s) == 0)
			return 1;
	return 0;
}

static void resource_join(char *out, size_t cap, const char *const *list)
{
	size_t o = 0;
	out[0] = 0;
	for (size_t i = 0; list[i] && o < cap; i++) {
		int n = snprintf(out + o, cap - o, "%s%s", i ? ", " : "", list[i]);
		if (n < 0)
			break;
		o += (size_t)n;
	}
}

/* Copies s into dst[cap] only if it fits; else dst = "". */
static void resource_copy_fit(char *dst, size_t cap, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n >= cap)
		n = 0;
	if (n)
		memcpy(dst, s, n);
	dst[n] = 0;
}

/*
 * Integers: optional sign and decimal digits (no leading zeros, which
 * YAML 1.1 readers take as octal), or 0x<hex> / 0o<octal> (YAML 1.2 core).
 * Returns 0, -1 (not an integer) or -2 (outside [min, max]).
 */
static int resource_parse_int(const char *s, size_t n, int64_t min, int64_t max, int64_t *out)
{
	uint64_t acc = 0, limit;
	unsigned base = 10;
	int neg = 0;
	size_t i = 0;

	if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o')) {
		base = s[1] == 'x' ? 16 : 8;
		i = 2;
	} else if (n > 0 && (s[0] == '-' || s[0] == '+')) {
		neg = s[0] == '-';
		i = 1;
	}
	if (i == n)
		return -1;
	if (base == 10 && s[i] == '0' && n - i > 1)
		return -1;
	limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; i < n; i++) {
		unsigned d;
		char c = s[i];
		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return -1;
		if (d >= base)
			return -1;
		if (acc > (limit - d) / base) {
			/* keep scanning: a non-digit later makes it "not an integer" */
			for (i++; i < n; i++)
				if (!((s[i] >= '0' && s[i] <= '9') || (base == 16 && ((s[i] >= 'a' && s[i] <= 'f') ||
										    (s[i] >= 'A' && s[i] <= 'F')))))
					return -1;
			return -2;
		}
		acc = acc * base + d;
	}
	if (neg) {
		int64_t vv = acc == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)acc;
		if (vv < min)
			return -2;
		*out = vv;
		return 0;
	}
	if ((int64_t)acc > max)
		return -2;
	*out = (int64_t)acc;
	return 0;
}

static int64_t resource_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;
	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int resource_digits(const char *s, size_t n, unsigned *out)
{
	unsigned v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*out = v;
	return 0;
}

/*
 * RFC 3339 date-time (section 5.6): YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM),
 * upper-case T and Z (as Go's time.RFC3339 reads it). Outputs are UTC seconds and nanoseconds.
 */
static int resource_parse_time(const char *s, size_t n, int64_t *sec, long *nsec)
{
	static const unsigned mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	unsigned y, mo, d, h, mi, se, oh = 0, om = 0, dim;
	size_t i = 19;
	long frac = 0;
	int sign = 0;

	if (n < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':')
		return -1;
	if (resource_digits(s, 4, &y) < 0 || resource_digits(s + 5, 2, &mo) < 0 || resource_digits(s + 8, 2, &d) < 0 ||
	    resource_digits(s + 11, 2, &h) < 0 || resource_digits(s + 14, 2, &mi) < 0 ||
	    resource_digits(s + 17, 2, &se) < 0)
		return -1;
	if (i < n && s[i] == '.') {
		size_t k = 0;
		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, k++)
			if (k < 9)
				frac = frac * 10 + (s[i] - '0');
		if (k == 0)
			return -1;
		for (; k < 9; k++)
			frac *= 10;
	}
	if (i == n - 1 && s[i] == 'Z') {
		sign = 0;
	} else if (i + 6 == n && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
		sign = s[i] == '+' ? 1 : -1;
		if (resource_digits(s + i + 1, 2, &oh) < 0 || resource_digits(s + i + 4, 2, &om) < 0)
			return -1;
	} else {
		return -1;
	}
	if (mo < 1 || mo > 12 || h > 23 || mi > 59 || se > 59 || oh > 23 || om > 59)
		return -1;
	dim = mdays[mo - 1] + (mo == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
	if (d < 1 || d > dim)
		return -1;
	*sec = resource_days_from_civil(y, mo, d) * 86400 + (int64_t)h * 3600 + mi * 60 + se -
	       sign * ((int64_t)oh * 3600 + om * 60);
	*nsec = frac;
	return 0;
}

/* ---- schema conversion -------------------------------------------------- */

static json_t *resource_conv_map(resource_val *v, const field_spec *fields, const gs_ynode *m, unsigned line);

static json_t *resource_string(const gs_ynode *n)
{
	json_t *j = json_stringn(n->str, n->len);
	return j ? j : json_string("");
}

/* A mapping string -> string; values are scalars (null -> ""). */
static json_t *resource_conv_strmap(resource_val *v, const gs_ynode *n)
{
	json_t *obj;
	if (n->kind != GS_YNODE_MAP) {
		resource_err(v, n->line, "invalid_type", "expected a mapping of strings, got %s", resource_node_what(n));
		return NULL;
	}
	obj = json_object();
	for (size_t i = 0; i < n->n; i++) {
		const gs_ynode *k = n->keys[i], *val = n->vals[i];
		size_t old = resource_push(v, "[%s]", k->str);
		if (val->kind != GS_YNODE_SCALAR)
			resource_err(v, val->line, "invalid_type", "expected a string, got %s", resource_node_what(val));
		else
			json_object_setn_new(obj, k->str, k->len,
					     gs_ynode_is_null(val) ? json_string("") : resource_string(val));
		resource_pop(v, old);
	}
	return obj;
}

static json_t *resource_conv_scalar(resource_val *v, const field_spec *f, const gs_ynode *n)
{
	int64_t iv, sec;
	long nsec;
	int rc;

	if (n->kind != GS_YNODE_SCALAR) {
		static const char *const what[] = {"", "a string", "true or false", "an integer", "an integer",
						   "an RFC 3339 date-time"};
		resource_err(v, n->line, "invalid_type", "expected %s, got %s", what[f->type], resource_node_what(n));
		return NULL;
	}
	switch (f->type) {
	case FT_STR:
		if (n->len == 0 && (f->flags & F_REQUIRED)) {
			resource_err(v, n->line, "required", "required field is empty");
			return NULL;
		}
		if ((f->flags & F_TITLE) && resource_codepoints(n->str, n->len) > RESOURCE_TITLE_MAX)
			resource_err(v, n->line, "too_long", "must be at most %d characters, got %zu", RESOURCE_TITLE_MAX,
				     resource_codepoints(n->str, n->len));
		if (f->oneof && n->len > 0 && !resource_oneof(f->oneof, n->str)) {
			char list[128];
			resource_join(list, sizeof(list), f->oneof);
			resource_err(v, n->line, "invalid_enum", "must be one of %s; got \"%.*s%s\"", list,
				     QUOTE(n->str, n->len));
		}
		return resource_string(n);
	case FT_BOOL:
		if (n->style == GS_YSTYLE_PLAIN && strcmp(n->str, "true") == 0)
			return json_true();
		if (n->style == GS_YSTYLE_PLAIN && strcmp(n->str, "false") == 0)
			return json_false();
		resource_err(v, n->line, "invalid_type", "expected true or false, got %s\"%.*s%s\"",
			     n->style == GS_YSTYLE_PLAIN ? "" : "the quoted string ", QUOTE(n->str, n->len));
		return NULL;
	case FT_INT32:
	case FT_INT64:
		if (n->style != GS_YSTYLE_PLAIN) {
			resource_err(v, n->line, "invalid_type", "expected an integer, got the quoted string \"%.*s%s\"",
				     QUOTE(n->str, n->len));
			return NULL;
		}
		rc = f->type == FT_INT32 ? resource_parse_int(n->str, n->len, INT32_MIN, INT32_MAX, &iv)
					 : resource_parse_int(n->str, n->len, INT64_MIN, INT64_MAX, &iv);
		if (rc == -1) {
			resource_err(v, n->line, "invalid_type", "expected an integer, got \"%.*s%s\"", QUOTE(n->str, n->len));
			return NULL;
		}
		if (rc == -2) {
			resource_err(v, n->line, "out_of_range", "%.*s%s is out of range for a %s integer",
				     QUOTE(n->str, n->len), f->type == FT_INT32 ? "32-bit" : "64-bit");
			return NULL;
		}
		return json_integer((json_int_t)iv);
	case FT_TIME:
		if (n->style == GS_YSTYLE_BLOCK || resource_parse_time(n->str, n->len, &sec, &nsec) < 0) {
			resource_err(v, n->line, "invalid_timestamp",
				     "\"%.*s%s\" is not an RFC 3339 date-time such as 2026-03-01T00:00:00Z",
				     QUOTE(n->str, n->len));
			return NULL;
		}
		return resource_string(n);
	default:
		return NULL;
	}
}

/* Converts node n (not null) of field f; NULL when it has the wrong type. */
static json_t *resource_conv(resource_val *v, const field_spec *f, const gs_ynode *n, unsigned line)
{
	json_t *arr;

	switch (f->type) {
	case FT_MAP:
		if (n->kind != GS_YNODE_MAP) {
			resource_err(v, n->line, "invalid_type", "expected a mapping, got %s", resource_node_what(n));
			return NULL;
		}
		return resource_conv_map(v, f->sub, n, line);
	case FT_LIST:
		if (n->kind != GS_YNODE_SEQ) {
			resource_err(v, n->line, "invalid_type", "expected a sequence, got %s", resource_node_what(n));
			return NULL;
		}
		arr = json_array();
		for (size_t i = 0; i < n->n; i++) {
			const gs_ynode *item = n->vals[i];
			size_t old = resource_push(v, "[%zu]", i);
			json_t *j;
			if (gs_ynode_is_null(item))
				/* a null item is the element's zero value */
				j = f->sub->type == FT_MAP ? resource_conv_map(v, f->sub->sub, NULL, item->line)
				  : f->sub->type == FT_STR ? json_string("")
							   : NULL;
			else
				j = resource_conv(v, f->sub, item, item->line);
			json_array_append_new(arr, j ? j : json_null());
			resource_pop(v, old);
		}
		return arr;
	case FT_STRMAP:
		return resource_conv_strmap(v, n);
	default:
		return resource_conv_scalar(v, f, n);
	}
}

/* Members of a mapping; m NULL means an empty mapping introduced at line. */
static json_t *resource_conv_map(resource_val *v, const field_spec *fields, const gs_ynode *m, unsigned line)
{
	json_t *obj = json_object();

	for (const field_spec *f = fields; f->name; f++) {
		const gs_ynode *key = m ? gs_ynode_key(m, f->name) : NULL;
		const gs_ynode *val = m ? gs_ynode_get(m, f->name) : NULL;
		size_t old = resource_push_name(v, f->name);
		json_t *j;

		if (!val || gs_ynode_is_null(val)) {
			if (f->flags & F_REQUIRED)
				resource_err(v, key ? key->line : line, "required", "required field is missing");
			resource_pop(v, old);
			continue;
		}
		j = resource_conv(v, f, val, key ? key->line : val->line);
		if (j)
			json_object_set_new(obj, f->name, j);
		resource_pop(v, old);
	}
	return obj;
}

/* ---- kind rules (FULL depth) -------------------------------------------- */

static void resource_check_product(resource_val *v, const gs_ynode *root, const gs_ynode *spec, const gs_resource *r)
{
	const gs_ynode *opts = resource_get(spec, "options");
	(void)root;
	(void)r;
	if (!opts || opts->kind != GS_YNODE_SEQ)
		return;
	for (size_t i = 0; i < opts->n; i++) {
		const gs_ynode *ni = resource_get(opts->vals[i], "name");
		const char *name = resource_scalar(ni);
		if (!name || !*name || opts->vals[i]->kind != GS_YNODE_MAP)
			continue;
		for (size_t j = 0; j < i; j++) {
			const char *prev = opts->vals[j]->kind == GS_YNODE_MAP
						   ? resource_scalar(resource_get(opts->vals[j], "name"))
						   : NULL;
			if (prev && strcmp(prev, name) == 0) {
				size_t old = resource_push(v, "spec.options[%zu].name", i);
				resource_err(v, ni->line, "duplicate_option",
					     "duplicate option name \"%.*s%s\" (first at spec.options[%zu])",
					     QUOTE(name, ni->len), j);
				resource_pop(v, old);
				break;
			}
		}
	}
}

/* The int32 at key in m, when it is a valid one. */
static int resource_get_int(const gs_ynode *m, const char *key, int64_t *out)
{
	const gs_ynode *n = resource_get(m, key);
	return n && n->kind == GS_YNODE_SCALAR && n->style == GS_YSTYLE_PLAIN &&
	       resource_parse_int(n->str, n->len, INT32_MIN, INT32_MAX, out) == 0;
}

static int resource_get_time(const gs_ynode *m, const char *key, int64_t *sec, long *nsec)
{
	const gs_ynode *n = resource_get(m, key);
	return n && n->kind == GS_YNODE_SCALAR && n->style != GS_YSTYLE_BLOCK &&
	       resource_parse_time(n->str, n->len, sec, nsec) == 0;
}

static void resource_check_variant(resource_val *v, const gs_ynode *root, const gs_ynode *spec, const gs_resource *r)
{
	const gs_ynode *prices = resource_get(resource_get(resource_get(spec, "pricing"), "priceSet"), "prices");
	(void)root;
	(void)r;
	if (!prices || prices->kind != GS_YNODE_SEQ)
		return;
	for (size_t i = 0; i < prices->n; i++) {
		const gs_ynode *p = prices->vals[i], *q;
		int64_t from, until, min = 0, max;
		long from_ns, until_ns;
		if (p->kind != GS_YNODE_MAP)
			continue;
		if (resource_get_time(p, "validFromTime", &from, &from_ns) &&
		    resource_get_time(p, "validUntilTime", &until, &until_ns) &&
		    (until < from || (until == from && until_ns <= from_ns))) {
			size_t old = resource_push(v, "spec.pricing.priceSet.prices[%zu].validUntilTime", i);
			resource_err(v, resource_get(p, "validUntilTime")->line, "invalid_time_window",
				     "validUntilTime must be after validFromTime");
			resource_pop(v, old);
		}
		q = resource_get(p, "quantity");
		if (q && q->kind == GS_YNODE_MAP && resource_get_int(q, "max", &max) &&
		    (!resource_get(q, "min") || resource_get_int(q, "min", &min)) && max < min) {
			size_t old = resource_push(v, "spec.pricing.priceSet.prices[%zu].quantity.max", i);
			resource_err(v, resource_get(q, "max")->line, "invalid_quantity_range",
				     "quantity.max (%lld) must be >= quantity.min (%lld)", (long long)max, (long long)min);
			resource_pop(v, old);
		}
	}
}

static void resource_check_category(resource_val *v, const gs_ynode *root, const gs_ynode *spec, const gs_resource *r)
{
	const gs_ynode *pn = resource_get(resource_get(spec, "parentRef"), "name");
	const char *parent = resource_scalar(pn);
	const char *self = resource_scalar(resource_get(resource_get(root, "metadata"), "name"));
	(void)r;
	if (parent && self && *parent && strcmp(parent, self) == 0) {
		size_t old = resource_push(v, "spec.parentRef.name");
		resource_err(v, pn->line, "self_parent", "category \"%.*s%s\" must not be its own parent",
			     QUOTE(parent, pn->len));
		resource_pop(v, old);
	}
}

static void resource_check_collection(resource_val *v, const gs_ynode *root, const gs_ynode *spec,
				      const gs_resource *r)
{
	const gs_ynode *tr = resource_get(spec, "targetRef");
	const gs_ynode *exprs = resource_get(resource_get(spec, "selector"), "matchExpressions");
	(void)root;
	(void)r;
	if (tr && tr->kind == GS_YNODE_MAP) {
		const gs_ynode *kn = resource_get(tr, "kind");
		const char *k = resource_scalar(kn);
		if (!kn || (k && strcmp(k, "Product") != 0)) {
			size_t old = resource_push(v, "spec.targetRef.kind");
			resource_err(v, kn ? kn->line : resource_key_line(spec, "targetRef", tr->line),
				     "invalid_target_kind", "must be \"Product\", got \"%.*s%s\"",
				     QUOTE(k ? k : "", k ? kn->len : 0));
			resource_pop(v, old);
		}
	}
	if (!exprs || exprs->kind != GS_YNODE_SEQ)
		return;
	for (size_t i = 0; i < exprs->n; i++) {
		const gs_ynode *e = exprs->vals[i], *on, *vals;
		const char *op;
		if (e->kind != GS_YNODE_MAP)
			continue;
		on = resource_get(e, "operator");
		op = resource_scalar(on);
		vals = resource_get(e, "values");
		if (!op || (strcmp(op, "In") != 0 && strcmp(op, "NotIn") != 0))
			continue;
		if (vals && (vals->kind != GS_YNODE_SEQ || vals->n > 0))
			continue; /* a wrong type is reported by the conversion */
		{
			size_t old = resource_push(v, "spec.selector.matchExpressions[%zu].values", i);
			resource_err(v, vals ? vals->line : on->line, "selector_values_required",
				     "operator \"%s\" requires at least one value", op);
			resource_pop(v, old);
		}
	}
}

static void resource_check_namespace(resource_val *v, const gs_ynode *root, const gs_ynode *spec,
				     const gs_resource *r)
{
	const gs_catalog_ctx *ctx = v->ctx;
	const gs_ynode *meta = resource_get(root, "metadata");
	const gs_ynode *nsn = meta && meta->kind == GS_YNODE_MAP ? resource_get(meta, "namespace") : NULL;
	char want[GS_MAX_NAME + 32];
	(void)spec;

	if (nsn && !(nsn->kind == GS_YNODE_SCALAR && nsn->len == 0)) {
		size_t old = resource_push(v, "metadata.namespace");
		resource_err(v, nsn->line, "namespace_forbidden",
			     "must not be set for Namespace resources (they are cluster-scoped)");
		resource_pop(v, old);
	}
	if (!ctx->repo_ns || !ctx->repo_name || strcmp(ctx->repo_ns, RESOURCE_SYSTEM_REPO) != 0 ||
	    strcmp(ctx->repo_name, RESOURCE_SYSTEM_REPO) != 0) {
		resource_err(v, resource_get(root, "kind")->line, "namespace_manifest_location",
			     "namespace manifests are accepted only in repository %s/%s", RESOURCE_SYSTEM_REPO,
			     RESOURCE_SYSTEM_REPO);
		return;
	}
	if (!r->name[0])
		return; /* the name itself is already reported */
	snprintf(want, sizeof(want), "namespaces/%s.md", r->name);
	if (!ctx->path || strcmp(ctx->path, want) != 0) {
		size_t old = resource_push(v, "metadata.name");
		resource_err(v, r->name_line, "namespace_manifest_location", "namespace \"%s\" must be stored at %s",
			     r->name, want);
		resource_pop(v, old);
	}
}

/* Compiles the CEL expression at node n (field: its path below spec). */
static void resource_check_cel(resource_val *v, const gs_ynode *n, const char *field)
{
	gs_cel_program *prog = NULL;
	gs_cel_error cerr;
	size_t old;
	if (!n || n->kind != GS_YNODE_SCALAR || n->len == 0)
		return; /* missing or mistyped: reported by the field table */
	memset(&cerr, 0, sizeof(cerr));
	if (gs_cel_compile(n->str, n->len, &prog, &cerr) == 0) {
		gs_cel_program_free(prog);
		return;
	}
	old = resource_push(v, "%s", field);
	resource_err(v, n->line, "invalid_expression", "%d:%d: %s", cerr.line, cerr.column, cerr.message);
	resource_pop(v, old);
}

/* Every expression of list[*].key. */
static void resource_check_cel_list(resource_val *v, const gs_ynode *spec, const char *list, const char *key)
{
	const gs_ynode *seq = resource_get(spec, list);
	char field[96];
	for (size_t i = 0; seq && seq->kind == GS_YNODE_SEQ && i < seq->n; i++) {
		snprintf(field, sizeof(field), "spec.%s[%zu].%s", list, i, key);
		resource_check_cel(v, resource_get(seq->vals[i], key), field);
	}
}

/* A list field that, when present, must have at least one element. */
static void resource_check_nonempty(resource_val *v, const gs_ynode *m, const char *key, const char *field)
{
	const gs_ynode *n = resource_get(m, key);
	if (n && n->kind == GS_YNODE_SEQ && n->n == 0) {
		size_t old = resource_push(v, "%s", field);
		resource_err(v, n->line, "required", "must list at least one value");
		resource_pop(v, old);
	}
}

static void resource_check_actions(resource_val *v, const gs_ynode *spec)
{
	const gs_ynode *seq = resource_get(spec, "validationActions");
	int deny = 0, warn = 0;
	for (size_t i = 0; seq && seq->kind == GS_YNODE_SEQ && i < seq->n; i++) {
		const char *a = resource_scalar(seq->vals[i]);
		deny |= a && strcmp(a, "Deny") == 0;
		warn |= a && strcmp(a, "Warn") == 0;
	}
	if (deny && warn) {
		size_t old = resource_push(v, "spec.validationActions");
		resource_err(v, seq->line, "invalid_value", "Deny and Warn together are not allowed (Deny already reports)");
		resource_pop(v, old);
	}
}

static void resource_check_policy(resource_val *v, const gs_ynode *root, const gs_ynode *spec, const gs_resource *r)
{
	const gs_catalog_ctx *ctx = v->ctx;
	(void)r;
	if (!ctx->repo_name || strcmp(ctx->repo_name, RESOURCE_SYSTEM_REPO) != 0 || !ctx->path ||
	    strncmp(ctx->path, "policies/", 9) != 0) {
		resource_err(v, resource_get(root, "kind")->line, "policy_location",
			     "admission policies are accepted only under policies/ in the namespace's %s repository",
			     RESOURCE_SYSTEM_REPO);
	}
	if (!spec)
		return;
	resource_check_nonempty(v, resource_get(spec, "matchConstraints"), "kinds", "spec.matchConstraints.kinds");
	resource_check_nonempty(v, resource_get(spec, "matchConstraints"), "operations",
				"spec.matchConstraints.operations");
	resource_check_nonempty(v, spec, "validations", "spec.validations");
	resource_check_nonempty(v, spec, "validationActions", "spec.validationActions");
	resource_check_actions(v, spec);
	resource_check_cel_list(v, spec, "matchConditions", "expression");
	resource_check_cel_list(v, spec, "validations", "expression");
	resource_check_cel_list(v, spec, "validations", "messageExpression");
}

static const kind_spec KINDS[] = {
	{"Product", GS_CATALOG_API_VERSION, "products", PRODUCT_SPEC, resource_check_product},
	{"ProductVariant", GS_CATALOG_API_VERSION, "productvariants", VARIANT_SPEC, resource_check_variant},
	{"CategoryTaxonomy", GS_CATALOG_API_VERSION, "categorytaxonomies", CATEGORY_SPEC, resource_check_category},
	{"Collection", GS_CATALOG_API_VERSION, "collections", COLLECTION_SPEC, resource_check_collection},
	{"Namespace", GS_CORE_API_VERSION, "namespaces", NAMESPACE_SPEC, resource_check_namespace},
	{"ValidatingAdmissionPolicy", GS_ADMISSION_API_VERSION, "validatingadmissionpolicies", POLICY_SPEC,
	 resource_check_policy, 1},
};

static const kind_spec *resource_kind(const char *kind)
{
	for (size_t i = 0; i < sizeof(KINDS) / sizeof(KINDS[0]); i++)
		if (kind && strcmp(KINDS[i].kind, kind) == 0)
			return &KINDS[i];
	return NULL;
}

const char *gs_catalog_plural(const char *kind)
{
	const kind_spec *k = resource_kind(kind);
	return k ? k->plural : NULL;
}

/* ---- labels (FULL depth; lengths in bytes) ------------------------------ */

static void resource_check_labels(resource_val *v, const gs_ynode *labels)
{
	if (!labels || labels->kind != GS_YNODE_MAP)
		return;
	for (size_t i = 0; i < labels->n; i++) {
		const gs_ynode *k = labels->keys[i], *val = labels->vals[i];
		const char *slash = memchr(k->str, '/', k->len);
		size_t old = resource_push(v, "metadata.labels[%s]", k->str);
		if (slash) {
			size_t plen = (size_t)(slash - k->str), nlen = k->len - plen - 1;
			if (plen > RESOURCE_LABEL_PREFIX_MAX)
				resource_err(v, k->line, "label_key_too_long",
					     "label key prefix \"%.*s%s\" is %zu bytes, over the limit of %d", QUOTE(k->str, plen),
					     plen, RESOURCE_LABEL_PREFIX_MAX);
			if (nlen > RESOURCE_LABEL_NAME_MAX)
				resource_err(v, k->line, "label_key_too_long",
					     "label key name segment \"%.*s%s\" is %zu bytes, over the limit of %d",
					     QUOTE(slash + 1, nlen), nlen, RESOURCE_LABEL_NAME_MAX);
		} else if (k->len > RESOURCE_LABEL_NAME_MAX) {
			resource_err(v, k->line, "label_key_too_long", "label key \"%.*s%s\" is %zu bytes, over the limit of %d",
				     QUOTE(k->str, k->len), k->len, RESOURCE_LABEL_NAME_MAX);
		}
		if (val->kind == GS_YNODE_SCALAR && !gs_ynode_is_null(val) && val->len > RESOURCE_LABEL_VALUE_MAX)
			resource_err(v, val->line, "label_value_too_long",
				     "label value is %zu bytes, over the limit of %d", val->len, RESOURCE_LABEL_VALUE_MAX);
		resource_pop(v, old);
	}
}

/* ---- envelope ----------------------------------------------------------- */

/* Records an error at an absolute field path. */
static void resource_err_at(resource_val *v, const char *field, unsigned line, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void resource_err_at(resource_val *v, const char *field, unsigned line, const char *code, const char *fmt, ...)
{
	char msg[256];
	size_t old;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	old = resource_push(v, "%s", field);
	resource_err(v, line, code, "%s", msg);
	resource_pop(v, old);
}

/* kind: required, a scalar, one of the five. Returns the kind or NULL. */
static const kind_spec *resource_envelope_kind(resource_val *v, const gs_ynode *root)
{
	const gs_ynode *kn = resource_get(root, "kind");
	const kind_spec *k;

	if (!kn) {
		resource_err_at(v, "kind", resource_key_line(root, "kind", 1), "required", "%s",
				"required field is missing");
		return NULL;
	}
	if (kn->kind != GS_YNODE_SCALAR) {
		resource_err_at(v, "kind", kn->line, "invalid_type", "expected a string, got %s", resource_node_what(kn));
		return NULL;
	}
	if (kn->len == 0) {
		resource_err_at(v, "kind", kn->line, "required", "%s", "required field is empty");
		return NULL;
	}
	k = resource_kind(kn->str);
	if (!k) {
		size_t old = resource_push(v, "kind");
		resource_err(v, kn->line, "unknown_kind",
			     "\"%.*s%s\" is not a recognized kind; expected Product, ProductVariant, "
			     "CategoryTaxonomy, Collection or Namespace",
			     QUOTE(kn->str, kn->len));
		resource_pop(v, old);
	}
	return k;
}

static void resource_envelope_api_version(resource_val *v, const gs_ynode *root, const kind_spec *k,
					  gs_resource *r)
{
	const gs_ynode *an = resource_get(root, "apiVersion");
	size_t old;

	if (!an || (an->kind == GS_YNODE_SCALAR && an->len == 0)) {
		resource_err_at(v, "apiVersion", resource_key_line(root, "apiVersion", 1), "required", "%s",
				an ? "required field is empty" : "required field is missing");
		return;
	}
	if (an->kind != GS_YNODE_SCALAR) {
		resource_err_at(v, "apiVersion", an->line, "invalid_type", "expected a string, got %s",
				resource_node_what(an));
		return;
	}
	resource_copy_fit(r->api_version, sizeof(r->api_version), an->str);
	old = resource_push(v, "apiVersion");
	if (k && strcmp(an->str, k->api_version) != 0)
		resource_err(v, an->line, "unsupported_api_version", "apiVersion must be \"%s\" for kind %s, got \"%.*s%s\"",
			     k->api_version, k->kind, QUOTE(an->str, an->len));
	else if (!k && strcmp(an->str, GS_CATALOG_API_VERSION) != 0 && strcmp(an->str, GS_CORE_API_VERSION) != 0 &&
		 strcmp(an->str, GS_ADMISSION_API_VERSION) != 0)
		resource_err(v, an->line, "unsupported_api_version",
			     "apiVersion \"%.*s%s\" is not supported (%s, %s or %s)", QUOTE(an->str, an->len),
			     GS_CATALOG_API_VERSION, GS_CORE_API_VERSION, GS_ADMISSION_API_VERSION);
	resource_pop(v, old);
}

/* metadata: a mapping with a name; no system-managed keys. Fills r's
 * name, namespace, labels and annotations. */
static void resource_envelope_metadata(resource_val *v, const gs_ynode *root, const kind_spec *k, gs_resource *r)
{
	const gs_ynode *meta = resource_get(root, "metadata");
	unsigned mline = resource_key_line(root, "metadata", 1);
	const gs_ynode *nn, *nsn, *ln, *an;
	const char *repo_ns = v->ctx->repo_ns ? v->ctx->repo_ns : "";
	int is_namespace = k && strcmp(k->kind, "Namespace") == 0;

	if (!is_namespace)
		resource_copy_fit(r->ns, sizeof(r->ns), repo_ns);
	if (!meta) {
		resource_err_at(v, "metadata", mline, "required", "%s", "required field is missing");
		return;
	}
	if (meta->kind != GS_YNODE_MAP) {
		resource_err_at(v, "metadata", meta->line, "invalid_type", "expected a mapping, got %s",
				resource_node_what(meta));
		return;
	}

	/* name */
	nn = resource_get(meta, "name");
	if (!nn) {
		resource_err_at(v, "metadata.name", resource_key_line(meta, "name", mline), "required", "%s",
				"required field is missing");
	} else if (nn->kind != GS_YNODE_SCALAR) {
		resource_err_at(v, "metadata.name", nn->line, "invalid_type", "expected a string, got %s",
				resource_node_what(nn));
	} else if (nn->len == 0) {
		resource_err_at(v, "metadata.name", nn->line, "required", "%s", "required field is empty");
	} else {
		r->name_line = nn->line;
		if (gs_str_is_dns_label(nn->str) && strlen(nn->str) == nn->len) {
			resource_copy_fit(r->name, sizeof(r->name), nn->str);
		} else if (v->full) {
			size_t old = resource_push(v, "metadata.name");
			resource_err(v, nn->line, "invalid_name",
				     "\"%.*s%s\" is not a DNS label (1-63 characters of a-z, 0-9 and '-', starting and "
				     "ending with a letter or digit)",
				     QUOTE(nn->str, nn->len));
			resource_pop(v, old);
		}
	}

	/* system-managed keys, in the documented order */
	for (size_t i = 0; READONLY_METADATA[i]; i++) {
		const gs_ynode *key = gs_ynode_key(meta, READONLY_METADATA[i]);
		if (key) {
			size_t old = resource_push(v, "metadata.%s", READONLY_METADATA[i]);
			resource_err(v, key->line, "readonly_metadata", "%s",
				     "system-managed; must not be set by authors");
			resource_pop(v, old);
		}
	}

	/* namespace (the Namespace kind's rule is in its kind check) */
	nsn = resource_get(meta, "namespace");
	if (nsn && !is_namespace) {
		if (nsn->kind != GS_YNODE_SCALAR) {
			if (v->full)
				resource_err_at(v, "metadata.namespace", nsn->line, "invalid_type",
						"expected a string, got %s", resource_node_what(nsn));
		} else if (nsn->len > 0) {
			r->ns_from_metadata = 1;
			resource_copy_fit(r->ns, sizeof(r->ns), strlen(nsn->str) == nsn->len ? nsn->str : "");
			if (v->full && v->ctx->repo_ns && strcmp(nsn->str, repo_ns) != 0) {
				size_t old = resource_push(v, "metadata.namespace");
				resource_err(v, nsn->line, "namespace_mismatch",
					     "namespace \"%.*s%s\" does not match the repository's namespace \"%s\"",
					     QUOTE(nsn->str, nsn->len), repo_ns);
				resource_pop(v, old);
			}
		}
	}

	/* labels and annotations: maps of strings */
	v->mute += !v->full;
	ln = resource_get(meta, "labels");
	if (ln) {
		size_t old = resource_push(v, "metadata.labels");
		json_t *j = resource_conv_strmap(v, ln);
		resource_pop(v, old);
		if (j)
			json_object_update(r->labels, j);
		json_decref(j);
		resource_check_labels(v, ln);
	}
	an = resource_get(meta, "annotations");
	if (an) {
		size_t old = resource_push(v, "metadata.annotations");
		json_t *j = resource_conv_strmap(v, an);
		resource_pop(v, old);
		if (j)
			json_object_update(r->annotations, j);
		json_decref(j);
	}
	v->mute -= !v->full;
}

static gs_resource *resource_new(const gs_frontmatter *fm)
{
	gs_resource *r = gs_xcalloc(1, sizeof(*r));
	r->labels = json_object();
	r->annotations = json_object();
	r->spec = json_object();
	r->body = gs_xmalloc(fm->body_len + 1);
	if (fm->body_len)
		memcpy(r->body, fm->body, fm->body_len);
	r->body[fm->body_len] = 0;
	r->body_len = fm->body_len;
	return r;
}

void gs_resource_free(gs_resource *r)
{
	if (!r)
		return;
	json_decref(r->labels);
	json_decref(r->annotations);
	json_decref(r->spec);
	free(r->body);
	free(r);
}

/* Stable sort (by line) of the records from index `from` on. */
static void resource_sort_errors(gs_cat_errors *errs, size_t from)
{
	for (size_t i = from + 1; i < errs->n; i++) {
		gs_cat_error tmp = errs->v[i];
		size_t j = i;
		while (j > from && errs->v[j - 1].line > tmp.line) {
			errs->v[j] = errs->v[j - 1];
			j--;
		}
		errs->v[j] = tmp;
	}
}

static int resource_blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
			return 0;
	return 1;
}

/* Everything after a parsed YAML root: envelope, spec, kind rules. */
static void resource_validate(resource_val *v, const gs_ynode *root, gs_resource *r)
{
	const kind_spec *k;
	const gs_ynode *spec, *status;
	unsigned sline;

	k = resource_envelope_kind(v, root);
	if (k)
		resource_copy_fit(r->kind, sizeof(r->kind), k->kind);
	resource_envelope_api_version(v, root, k, r);
	resource_envelope_metadata(v, root, k, r);

	status = gs_ynode_key(root, "status");
	if (status && !(k && strcmp(k->kind, "Namespace") == 0))
		resource_err_at(v, "status", status->line, "status_forbidden", "%s",
				"system-managed; must not be set by authors (only Namespace tolerates it)");

	sline = resource_key_line(root, "spec", 1);
	spec = gs_ynode_get(root, "spec");
	if (!spec) {
		resource_err_at(v, "spec", 1, "required", "%s", "required field is missing (it may be {})");
		spec = NULL;
	} else if (gs_ynode_is_null(spec)) {
		spec = NULL;
	} else if (spec->kind != GS_YNODE_MAP) {
		resource_err_at(v, "spec", spec->line, "invalid_type", "expected a mapping, got %s",
				resource_node_what(spec));
		spec = NULL;
	}
	if (!k)
		return;

	/* policies are checked whole even in pre-receive: an expression that
	 * does not compile must refuse the push that brings it */
	v->mute += !v->full && !k->spec_structural;
	{
		size_t old = resource_push(v, "spec");
		json_t *j = resource_conv_map(v, k->spec, spec, sline);
		resource_pop(v, old);
		json_decref(r->spec);
		r->spec = j;
	}
	k->check(v, root, spec, r);
	v->mute -= !v->full && !k->spec_structural;
}

int gs_catalog_parse(const gs_catalog_ctx *ctx, const char *file, size_t len, gs_resource **out, gs_cat_errors *errs)
{
	resource_val v;
	gs_frontmatter fm;
	gs_ydoc *doc = NULL;
	gs_resource *r = NULL;
	size_t first = errs->n, count = gs_cat_errors_count(errs);
	int error;

	GS_ASSERT(ctx != NULL && out != NULL && errs != NULL);
	*out = NULL;
	if (!gs_frontmatter_is_resource(file, len))
		return GS_ENOTFOUND;

	memset(&v, 0, sizeof(v));
	v.ctx = ctx;
	v.errs = errs;
	v.full = ctx->depth == GS_CATALOG_FULL;

	if ((error = gs_frontmatter_split(file, len, &fm, errs)) < 0)
		goto out;
	if (resource_blank(fm.yaml, fm.yaml_len)) {
		/* an empty front-matter has no apiVersion: the legacy rule */
		gs_cat_errors_add(errs, 1, "", "legacy_frontmatter",
				  "front-matter has no apiVersion (legacy format); migration is not supported");
		error = GS_EINVALID;
		goto out;
	}
	if ((error = gs_ydoc_parse(&doc, fm.yaml, fm.yaml_len, fm.yaml_line, errs)) < 0)
		goto out;
	if (!gs_ynode_key(gs_ydoc_root(doc), "apiVersion")) {
		gs_cat_errors_add(errs, 1, "", "legacy_frontmatter",
				  "front-matter has no apiVersion (legacy format); migration is not supported");
		error = GS_EINVALID;
		goto out;
	}
	r = resource_new(&fm);
	resource_validate(&v, gs_ydoc_root(doc), r);
	error = 0;

out:
	if (error < 0 && error != GS_EINVALID && error != GS_ENOTFOUND)
		error = GS_EINVALID;
	if (error == GS_EINVALID && gs_cat_errors_count(errs) == count)
		/* a lower layer failed without saying why: never pass silently */
		gs_cat_errors_add(errs, 1, "", "yaml_syntax", "front-matter could not be parsed");
	if (error == 0 && gs_cat_errors_count(errs) != count)
		error = GS_EINVALID;
	resource_sort_errors(errs, first);
	gs_ydoc_free(doc);
	if (error == GS_ENOTFOUND) {
		gs_resource_free(r);
		return error;
	}
	*out = r;
	return error;
}

/* ---- whole-tree rules --------------------------------------------------- */

typedef struct resource_ident {
	size_t idx;
	const gs_resource *r;
} resource_ident;

static int resource_ident_cmp(const void *a, const void *b)
{
	const resource_ident *x = a, *y = b;
	int c = strcmp(x->r->kind, y->r->kind);
	if (c == 0)
		c = strcmp(x->r->ns, y->r->ns);
	if (c == 0)
		c = strcmp(x->r->name, y->r->name);
	if (c == 0)
		c = x->idx < y->idx ? -1 : x->idx > y->idx;
	return c;
}

typedef struct resource_dup {
	size_t idx, earlier;
} resource_dup;

static int resource_dup_cmp(const void *a, const void *b)
{
	const resource_dup *x = a, *y = b;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

void gs_catalog_check_tree(const gs_catalog_file *files, size_t n,
			   void (*report)(size_t idx, size_t earlier, void *payload), void *payload)
{
	resource_ident *ids;
	resource_dup *dups;
	size_t m = 0, nd = 0;

	if (n < 2)
		return;
	ids = gs_xcalloc(n, sizeof(*ids));
	dups = gs_xcalloc(n, sizeof(*dups));
	for (size_t i = 0; i < n; i++)
		if (files[i].res && files[i].res->kind[0] && files[i].res->name[0]) {
			ids[m].idx = i;
			ids[m++].r = files[i].res;
		}
	qsort(ids, m, sizeof(*ids), resource_ident_cmp);
	for (size_t i = 1, g = 0; i < m; i++) {
		const gs_resource *a = ids[g].r, *b = ids[i].r;
		if (strcmp(a->kind, b->kind) == 0 && strcmp(a->ns, b->ns) == 0 && strcmp(a->name, b->name) == 0) {
			dups[nd].idx = ids[i].idx;
			dups[nd++].earlier = ids[g].idx;
		} else {
			g = i;
		}
	}
	qsort(dups, nd, sizeof(*dups), resource_dup_cmp);
	for (size_t i = 0; i < nd; i++)
		report(dups[i].idx, dups[i].earlier, payload);
	free(dups);
	free(ids);
}
