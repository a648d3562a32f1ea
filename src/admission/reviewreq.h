/*
 * admission/reviewreq.h -- the JSON input form of the dry-run review
 * (POST /api/v1/admission/review): a Kubernetes-shaped AdmissionReview
 * request turned into what the file form takes (pure: no I/O).
 *
 *   {"apiVersion": "admission.gitstore.dev/v1", "kind": "AdmissionReview",
 *    "request": {"uid": "...", "operation": "CREATE|UPDATE|DELETE",
 *                "object": {...}, "oldObject": {...}, "dryRun": true}}
 *
 * request.object is rendered back into a resource file,
 *   ---\n<object without "body", as JSON>\n---\n<object.body>
 * (JSON is YAML), so the caller runs the very parse and admission the
 * file form runs and the verdicts are the file's. The JSON is laid out
 * as jq prints it (two-space indent, one member or element per line,
 * empty containers as {} and []), so records keep document order and
 * line N of the rendering is line N-1 of `jq 'del(.body)'` on the
 * object. Numbers keep their value (integers exactly; reals in the
 * shortest form that reads back the same, so 9.90 is 9.9); strings are
 * escaped where YAML would not read them back verbatim (C0/C1
 * controls, DEL, U+2028/2029, U+FEFF, U+FFFE/FFFF); other UTF-8 is
 * copied. DELETE needs only an identity: that of request.oldObject,
 * else request.object (kind, metadata.name, and metadata.namespace when
 * given). Other members of request are ignored.
 *
 * Ownership: gs_reviewreq is embedded by the caller; gs_reviewreq_parse
 *   fills it (also on error, so release is always safe after parse);
 *   release with gs_reviewreq_release. The body is not retained.
 * Threads: no state.
 * Errors: GS_EINVALID with err->rule one of invalid_json,
 *   invalid_review (envelope, uid, dryRun), invalid_operation,
 *   invalid_object (object missing or not an object, spec/metadata not
 *   objects, body not a string, identity mismatch or unusable);
 *   GS_ELIMIT with rule file_too_large when the rendering exceeds
 *   GS_MAX_RESOURCE_FILE_BYTES. Messages name the JSON field.
 */
#ifndef GS_REVIEWREQ_H
#define GS_REVIEWREQ_H

#include <jansson.h>
#include <stddef.h>

#include "admission/admission.h"
#include "util/buf.h"
#include "limits.h"
#include "util/error.h"

#define GS_REVIEWREQ_API_VERSION "admission.gitstore.dev/v1"
#define GS_REVIEWREQ_KIND "AdmissionReview"
/* request.uid and the renderer's nesting bound: see src/limits.h */
#define GS_REVIEWREQ_MAX_UID GS_MAX_REVIEW_UID_BYTES
#define GS_REVIEWREQ_MAX_DEPTH GS_MAX_REVIEW_DEPTH

typedef struct gs_reviewreq {
	char uid[GS_REVIEWREQ_MAX_UID + 1]; /* request.uid; "" when absent */
	gs_adm_op operation;                /* 0 when absent: the caller derives CREATE/UPDATE */
	int dry_run;                        /* request.dryRun as given; 1 when absent */
	gs_buf file;                        /* CREATE/UPDATE: the rendered resource file; empty for DELETE */
	/* identity as given (DELETE: oldObject, else object); "" when absent
	 * or not a string that fits. Only DELETE guarantees them valid. */
	char kind[32];
	char name[64];
	char ns[64];
} gs_reviewreq;

/* 1 when a review body is the JSON form: Content-Type application/json
 * (parameters allowed; content_type may be NULL), or a body whose first
 * byte other than JSON whitespace is `{`. */
int gs_reviewreq_is_json(const char *content_type, const char *body, size_t len);

/* Parses body (len bytes, need not be NUL-terminated). repo_ns is the
 * repository's namespace: a DELETE identity naming another namespace is
 * invalid_object (CREATE/UPDATE leave that to the schema check). */
int gs_reviewreq_parse(gs_reviewreq *out, const char *repo_ns, const char *body, size_t len, gs_error *err);
void gs_reviewreq_release(gs_reviewreq *r);

/* Appends the resource file for object (a JSON object) to out: members
 * other than a top-level "body" as front-matter, a string "body" as the
 * Markdown body. Errors: GS_ELIMIT (out's maximum; rule file_too_large),
 * GS_EINVALID (nesting over GS_REVIEWREQ_MAX_DEPTH, a string that is not
 * UTF-8; rule invalid_object). On error out holds a partial rendering. */
int gs_reviewreq_render(gs_buf *out, const json_t *object, gs_error *err);

#endif
