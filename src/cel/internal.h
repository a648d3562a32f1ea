/*
 * cel/internal.h -- what the files of src/cel share: values, the per-
 * evaluation arena and context, AST nodes, the program, and the
 * gs_cel__* functions between lexer, parser, evaluator and converters.
 *
 * Ownership: AST nodes, literal strings and compiled regexes belong to
 *   the program (freed by gs_cel_program_free). Values made during an
 *   evaluation live in its arena and die with it; values wrapping json_t
 *   borrow the caller's JSON for the duration of the call.
 * Threads: a gs_cel_ctx is used by one thread; programs are read-only.
 * Errors: evaluator functions return 0 or -1; on -1 the reason is in the
 *   context (gs_cel__fail). Parser functions fill a gs_cel_error.
 */
#ifndef GS_CEL_INTERNAL_H
#define GS_CEL_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cel/cel.h"
#include "limits.h"

/* ---- values ---- */

/* Value kinds; 0 marks an unbound slot. Type values carry the kind they
 * denote in v.i (GS_CEL_TYPE for `type` itself). */
enum {
	GS_CEL_UNSET = 0,
	GS_CEL_NULL,
	GS_CEL_BOOL,
	GS_CEL_INT,
	GS_CEL_UINT,
	GS_CEL_DOUBLE,
	GS_CEL_STRING,
	GS_CEL_BYTES,
	GS_CEL_LIST,
	GS_CEL_MAP,
	GS_CEL_TIMESTAMP,
	GS_CEL_DURATION,
	GS_CEL_TYPE,
	GS_CEL_KIND_COUNT
};

typedef struct gs_cel_list gs_cel_list;
typedef struct gs_cel_map gs_cel_map;

typedef struct gs_cel_value {
	uint8_t kind;
	uint8_t json;  /* list/map: v.j is a borrowed json_t array/object */
	int32_t nanos; /* timestamp: [0, 1e9); duration: same sign as v.i */
	union {
		bool b;
		int64_t i; /* int; timestamp/duration seconds; type: kind */
		uint64_t u;
		double d;
		struct {
			const char *p;
			size_t n;
		} s; /* string (valid UTF-8) or bytes; not NUL-terminated */
		const gs_cel_list *l;
		const gs_cel_map *m;
		json_t *j;
	} v;
} gs_cel_value;

struct gs_cel_list {
	size_t n;
	gs_cel_value *items;
};

/* Literal and computed maps: insertion order kept, keys unique under
 * CEL equality (1 == 1u == 1.0). */
struct gs_cel_map {
	size_t n;
	gs_cel_value *keys;
	gs_cel_value *vals;
};

/* Iteration over either representation of a map. */
typedef struct gs_cel_map_iter {
	size_t i;
	void *it;
} gs_cel_map_iter;

/* ---- per-evaluation arena ---- */

typedef struct gs_cel_chunk gs_cel_chunk;

typedef struct gs_cel_arena {
	char *cur;
	size_t left;
	size_t used;         /* bytes handed out, for the limit */
	gs_cel_chunk *chunks;
	char first[2048] __attribute__((aligned(16)));
} gs_cel_arena;

/* ---- AST ---- */

enum {
	GS_CEL_N_LIT = 1,
	GS_CEL_N_IDENT,   /* unresolved name (parser output only) */
	GS_CEL_N_LOCAL,   /* comprehension variable: idx */
	GS_CEL_N_QIDENT,  /* (qualified) global name, longest bound prefix */
	GS_CEL_N_SELECT,  /* kids[0].name */
	GS_CEL_N_HAS,     /* has(kids[0].name) */
	GS_CEL_N_INDEX,   /* kids[0][kids[1]] */
	GS_CEL_N_CALL,    /* fn(kids...); receiver first when flags & RECEIVER */
	GS_CEL_N_AND,
	GS_CEL_N_OR,
	GS_CEL_N_COND,
	GS_CEL_N_LIST,
	GS_CEL_N_MAP,     /* kids: k0, v0, k1, v1, ... */
	GS_CEL_N_MSG,     /* message construction: parsed, not evaluated */
	GS_CEL_N_COMP     /* comprehension: fn = GS_CEL_C_*, see below */
};

/* node flags */
#define GS_CEL_F_RECEIVER 0x01 /* call written as x.f(...) */
#define GS_CEL_F_ROOTED 0x02   /* name written with a leading dot */
#define GS_CEL_F_PAREN 0x04    /* parenthesized: (a.b).c selects c from a.b */

/* Comprehensions: kids[0] range, then (filter/predicate), (transform);
 * var1/var2 are local indices (var2 -1 for one-variable forms). */
enum {
	GS_CEL_C_ALL = 1,
	GS_CEL_C_EXISTS,
	GS_CEL_C_EXISTS_ONE,
	GS_CEL_C_MAP,      /* kids: range, transform */
	GS_CEL_C_MAP_FILTER, /* kids: range, filter, transform */
	GS_CEL_C_FILTER,   /* kids: range, predicate */
	GS_CEL_C_TLIST,    /* transformList: range, [filter,] transform */
	GS_CEL_C_TMAP      /* transformMap: range, [filter,] transform */
};

/* Builtin functions and operators. */
enum {
	GS_CEL_FN_UNKNOWN = 0,
	GS_CEL_FN_ADD,
	GS_CEL_FN_SUB,
	GS_CEL_FN_MUL,
	GS_CEL_FN_DIV,
	GS_CEL_FN_MOD,
	GS_CEL_FN_NEG,
	GS_CEL_FN_NOT,
	GS_CEL_FN_EQ,
	GS_CEL_FN_NE,
	GS_CEL_FN_LT,
	GS_CEL_FN_LE,
	GS_CEL_FN_GT,
	GS_CEL_FN_GE,
	GS_CEL_FN_IN,
	GS_CEL_FN_SIZE,
	GS_CEL_FN_CONTAINS,
	GS_CEL_FN_STARTS_WITH,
	GS_CEL_FN_ENDS_WITH,
	GS_CEL_FN_MATCHES,
	GS_CEL_FN_INT,
	GS_CEL_FN_UINT,
	GS_CEL_FN_DOUBLE,
	GS_CEL_FN_STRING,
	GS_CEL_FN_BYTES,
	GS_CEL_FN_BOOL,
	GS_CEL_FN_DYN,
	GS_CEL_FN_TYPE,
	GS_CEL_FN_TIMESTAMP,
	GS_CEL_FN_DURATION,
	GS_CEL_FN_GET_FULL_YEAR,
	GS_CEL_FN_GET_MONTH,
	GS_CEL_FN_GET_DATE,
	GS_CEL_FN_GET_DAY_OF_MONTH,
	GS_CEL_FN_GET_DAY_OF_YEAR,
	GS_CEL_FN_GET_DAY_OF_WEEK,
	GS_CEL_FN_GET_HOURS,
	GS_CEL_FN_GET_MINUTES,
	GS_CEL_FN_GET_SECONDS,
	GS_CEL_FN_GET_MILLISECONDS,
	GS_CEL_FN_LOWER_ASCII,
	GS_CEL_FN_UPPER_ASCII,
	GS_CEL_FN_TRIM,
	GS_CEL_FN_COUNT
};

typedef struct gs_cel_node gs_cel_node;

struct gs_cel_node {
	uint8_t kind;
	uint8_t fn;     /* GS_CEL_FN_* (calls) or GS_CEL_C_* (comprehensions) */
	uint8_t flags;
	uint16_t depth; /* 1 + deepest child */
	uint32_t n;     /* kids */
	uint32_t pos;   /* byte offset in the source, for messages */
	gs_cel_node **kids;
	const char *name; /* ident, field, function name (NUL-terminated) */
	size_t name_len;
	gs_cel_value lit; /* N_LIT */
	int32_t var1, var2; /* N_LOCAL: var1; N_COMP: iteration variables */
	/* N_QIDENT: parts[0..nparts) of a dotted name; cands[k] lists the
	 * slots (-1 terminated, most qualified container first) that bind
	 * the name made of parts[0..k]; tried for k = nparts-1 down to 0. */
	uint32_t nparts;
	const char **parts;
	const int32_t **cands;
	void *re; /* matches() with a literal pattern: compiled once */
};

struct gs_cel_program {
	gs_cel_node *root;
	char **slots; /* global names the program may read */
	size_t nslots;
	size_t nlocals;
	char *src; /* copy of the expression, for positions */
	size_t src_len;
	/* compile-time storage: every node, name and literal */
	struct gs_cel_pchunk *mem;
	void **regexes; /* compiled patterns to free */
	size_t nregexes;
};

/* ---- evaluation context ---- */

typedef struct gs_cel_ctx {
	const gs_cel_program *prog;
	gs_cel_arena arena;
	int64_t cost;
	gs_cel_value *slots;
	gs_cel_value *locals;
	const char *msg; /* set on error */
	uint32_t pos;
	bool fatal;      /* cost/size limit: never absorbed by && || */
	void *match_data; /* pcre2 match data, made on first use */
} gs_cel_ctx;

/* ---- celmem.c: arena and program storage ---- */
void gs_cel__arena_init(gs_cel_arena *a);
void gs_cel__arena_release(gs_cel_arena *a);
/* NULL past GS_CEL_MAX_EVAL_BYTES (the caller reports the limit). */
void *gs_cel__arena_alloc(gs_cel_arena *a, size_t n);
void *gs_cel__palloc(gs_cel_program *p, size_t n); /* zeroed; aborts on OOM */
char *gs_cel__pstrndup(gs_cel_program *p, const char *s, size_t n);

/* ---- cellex.c ---- */
enum {
	GS_CEL_T_EOF = 0,
	GS_CEL_T_IDENT,
	GS_CEL_T_QIDENT, /* `quoted.field` */
	GS_CEL_T_RESERVED,
	GS_CEL_T_INT,    /* magnitude in u (a leading '-' is the parser's) */
	GS_CEL_T_UINT,
	GS_CEL_T_DOUBLE,
	GS_CEL_T_STRING,
	GS_CEL_T_BYTES,
	GS_CEL_T_TRUE,
	GS_CEL_T_FALSE,
	GS_CEL_T_NULL,
	GS_CEL_T_IN,
	GS_CEL_T_LPAREN,
	GS_CEL_T_RPAREN,
	GS_CEL_T_LBRACKET,
	GS_CEL_T_RBRACKET,
	GS_CEL_T_LBRACE,
	GS_CEL_T_RBRACE,
	GS_CEL_T_DOT,
	GS_CEL_T_COMMA,
	GS_CEL_T_COLON,
	GS_CEL_T_QUESTION,
	GS_CEL_T_PLUS,
	GS_CEL_T_MINUS,
	GS_CEL_T_STAR,
	GS_CEL_T_SLASH,
	GS_CEL_T_PERCENT,
	GS_CEL_T_NOT,
	GS_CEL_T_EQ,
	GS_CEL_T_NE,
	GS_CEL_T_LT,
	GS_CEL_T_LE,
	GS_CEL_T_GT,
	GS_CEL_T_GE,
	GS_CEL_T_AND,
	GS_CEL_T_OR
};

typedef struct gs_cel_token {
	int type;
	uint32_t pos, len; /* source bytes */
	uint64_t u;        /* INT/UINT magnitude */
	double d;
	char *str;         /* STRING/BYTES/QIDENT: decoded (program-owned) */
	size_t str_len;
} gs_cel_token;

typedef struct gs_cel_lexer {
	const char *src;
	size_t len, pos;
	gs_cel_program *prog; /* owns decoded literals */
} gs_cel_lexer;

/* Next token; GS_EINVALID with err set on a lexical error. */
int gs_cel__lex(gs_cel_lexer *lx, gs_cel_token *tok, gs_cel_error *err);
/* Sets err's line/column for byte offset pos and formats the message. */
int gs_cel__syntax_error(gs_cel_error *err, const char *src, size_t len, size_t pos, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
void gs_cel__position(const char *src, size_t len, size_t pos, int *line, int *column);

/* ---- celparse.c ---- */
int gs_cel__parse(gs_cel_program *p, const gs_cel_options *opts, gs_cel_error *err);

/* ---- celval.c: values ---- */
const char *gs_cel__type_name(int kind);
int gs_cel__type_from_name(const char *name, size_t n); /* kind or 0 */
void gs_cel__from_json(json_t *j, gs_cel_value *out);
size_t gs_cel__list_len(const gs_cel_value *v);
void gs_cel__list_at(const gs_cel_value *v, size_t i, gs_cel_value *out);
size_t gs_cel__map_len(const gs_cel_value *v);
/* 1 found (out set), 0 absent; keys of unsupported types are absent. */
int gs_cel__map_find(gs_cel_ctx *c, const gs_cel_value *m, const gs_cel_value *key, gs_cel_value *out);
int gs_cel__map_find_str(const gs_cel_value *m, const char *key, size_t n, gs_cel_value *out);
void gs_cel__map_iter_init(const gs_cel_value *m, gs_cel_map_iter *it);
/* 1 while entries remain; key/val may be NULL. */
int gs_cel__map_next(const gs_cel_value *m, gs_cel_map_iter *it, gs_cel_value *key, gs_cel_value *val);
bool gs_cel__equal(gs_cel_ctx *c, const gs_cel_value *a, const gs_cel_value *b);
/* -1/0/1, 2 unordered (NaN); -1 return with error set for bad types. */
int gs_cel__compare(gs_cel_ctx *c, const gs_cel_value *a, const gs_cel_value *b, int *cmp);
size_t gs_cel__utf8_len(const char *s, size_t n);
/* Shortest round-trip form, as Go's %g (what cel-go's string() gives). */
void gs_cel__fmt_double(double d, char *buf, size_t n);

/* ---- celeval.c ---- */
void gs_cel__ctx_init(gs_cel_ctx *c, const gs_cel_program *p);
void gs_cel__ctx_release(gs_cel_ctx *c);
int gs_cel__eval(gs_cel_ctx *c, const gs_cel_node *n, gs_cel_value *out);
/* Records an error (kept if one is already set) and returns -1. */
int gs_cel__fail(gs_cel_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int gs_cel__fail_fatal(gs_cel_ctx *c, const char *msg);
int gs_cel__charge(gs_cel_ctx *c, int64_t units);
void *gs_cel__alloc(gs_cel_ctx *c, size_t n); /* NULL after failing */
int gs_cel__no_overload(gs_cel_ctx *c, const char *fn, const gs_cel_value *a, const gs_cel_value *b);

/* ---- celfn.c: functions ---- */
int gs_cel__fn_lookup(const char *name, size_t n);
const char *gs_cel__fn_name(int fn);
int gs_cel__call(gs_cel_ctx *c, const gs_cel_node *n, gs_cel_value *args, gs_cel_value *out);
int gs_cel__add(gs_cel_ctx *c, const gs_cel_value *a, const gs_cel_value *b, gs_cel_value *out);
int gs_cel__make_string(gs_cel_ctx *c, int kind, const char *a, size_t an, const char *b, size_t bn,
			gs_cel_value *out);

/* ---- celtime.c: timestamps and durations ---- */
#define GS_CEL_TS_MIN (-62135596800LL) /* 0001-01-01T00:00:00Z */
#define GS_CEL_TS_MAX 253402300799LL   /* 9999-12-31T23:59:59Z */
int gs_cel__ts_parse(const char *s, size_t n, int64_t *sec, int32_t *nanos);
int gs_cel__dur_parse(const char *s, size_t n, int64_t *sec, int32_t *nanos);
/* out must hold 40 bytes */
void gs_cel__ts_format(int64_t sec, int32_t nanos, char *out, size_t n);
void gs_cel__dur_format(int64_t sec, int32_t nanos, char *out, size_t n);
int gs_cel__ts_make(gs_cel_ctx *c, int64_t sec, int64_t nanos, gs_cel_value *out);
int gs_cel__dur_make(gs_cel_ctx *c, int64_t sec, int64_t nanos, gs_cel_value *out);
int gs_cel__time_field(gs_cel_ctx *c, int fn, const gs_cel_value *v, const gs_cel_value *tz, gs_cel_value *out);

/* ---- celre.c: matches() on PCRE2 in an RE2-like mode ---- */
/* Compiles; NULL with msg filled on a bad or unsupported pattern. */
void *gs_cel__re_compile(const char *pat, size_t n, char *msg, size_t msgsz);
void gs_cel__re_free(void *re);
void gs_cel__re_match_data_free(void *md);
/* 1 match, 0 no match, -1 error (context set). */
int gs_cel__re_match(gs_cel_ctx *c, void *re, const char *s, size_t n);

/* ---- celjson.c: conversions to and from JSON ---- */
json_t *gs_cel__to_json(gs_cel_ctx *c, const gs_cel_value *v, int depth);
json_t *gs_cel__to_typed(gs_cel_ctx *c, const gs_cel_value *v, int depth);
int gs_cel__from_typed(gs_cel_ctx *c, json_t *j, gs_cel_value *out, int depth);

#endif
