/*
 * scripts/bench/bench_cel.c -- `make bench` step 8 (scripts/bench.sh builds
 * and runs it; docs/benchmarks.md): evaluations per second of a typical
 * three-rule ValidatingAdmissionPolicy against a typical Product, on one
 * core, with the baselines measured in the same run. Not a test (moved
 * here from tests/unit/cel/). By hand, after `make`:
 *
 *   make build/libgitstore.a
 *   cc -O2 -std=c11 -D_GNU_SOURCE -Isrc scripts/bench/bench_cel.c build/libgitstore.a \
 *      $(pkg-config --libs libgit2 libmicrohttpd jansson sqlite3 libcrypto libcurl zlib \
 *        yaml-0.1 libpcre2-8) -lpthread -o build/bench_cel
 *   taskset -c 0 build/bench_cel [SECONDS]
 *
 * (the pkg-config list is the Makefile's PKGS; `make` alone does not
 * refresh build/libgitstore.a.) SECONDS (default 1) is the CPU time each
 * of the four variants gets; they run interleaved in slices of 50 ms,
 * the order rotated every round, and each figure is the median of its
 * slices' rates, so a load change on a shared machine hits all four alike:
 *
 *   policy  gs_adm_policy_eval() of the policy below, compiled from its
 *           spec with gs_adm_policy_compile(), the way the catalog worker
 *           evaluates each policy for each resource (match constraints,
 *           three gs_cel_eval_bool calls, the result record) -- the figure;
 *   cel     the three rules alone through gs_cel_eval_bool with the same
 *           three bindings (what "policy" spends in the interpreter);
 *   floor   the expression `true`, three times per evaluation, through
 *           gs_cel_eval_bool with the same bindings: the interpreter's
 *           per-call floor (arena, bindings, result check);
 *   native  the same match and three rules as hand-written C over the
 *           same jansson objects (the baseline of the bench table: it does
 *           not depend on gitstore's code, only on the machine).
 *
 * The object and request have the shape src/admission/admission.c builds
 * (object {apiVersion, kind, metadata {name, namespace, labels}, spec},
 * oldObject null on CREATE, request {operation, user {name, roles},
 * origin, dryRun}). Time is CPU time of the process
 * (CLOCK_PROCESS_CPUTIME_ID), so being descheduled does not count.
 *
 * Output: key=value lines (cel.policy_per_s=..., cel.native_per_s=...,
 * ...); exit 1 when a rule does not compile or an evaluation is not the
 * expected pass.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admission/policy.h"
#include "cel/cel.h"

#define NRULES 3

static const char *const RULES[NRULES] = {
	"has(object.spec.title) && object.spec.title.size() <= 200",
	"'tier' in object.metadata.labels && object.metadata.labels.tier in ['gold', 'silver', 'bronze']",
	"object.metadata.labels.all(k, k.size() <= 63 && !k.startsWith('kubernetes.io/'))",
};

/* the policy's spec as the catalog stores it (the parsed YAML) */
static const char POLICY_SPEC[] =
	"{\"failurePolicy\":\"Fail\","
	"\"matchConstraints\":{\"kinds\":[\"Product\"],\"operations\":[\"CREATE\",\"UPDATE\"]},"
	"\"validations\":["
	"{\"expression\":\"has(object.spec.title) && object.spec.title.size() <= 200\",\"message\":\"title\"},"
	"{\"expression\":\"'tier' in object.metadata.labels && object.metadata.labels.tier in ['gold', 'silver', "
	"'bronze']\",\"message\":\"tier\"},"
	"{\"expression\":\"object.metadata.labels.all(k, k.size() <= 63 && !k.startsWith('kubernetes.io/'))\","
	"\"message\":\"labels\"}],"
	"\"validationActions\":[\"Deny\"]}";

/* a Product as the admission function binds it: the schema's fields only
 * (unknown keys such as spec.price are dropped by the parser) */
static const char PRODUCT[] =
	"{\"apiVersion\":\"catalog.gitstore.dev/v1beta1\",\"kind\":\"Product\","
	"\"metadata\":{\"name\":\"enamel-mug\",\"namespace\":\"default\",\"labels\":{\"tier\":\"gold\","
	"\"team\":\"kitchen\",\"app.kubernetes.io/name\":\"mug\"}},"
	"\"spec\":{\"title\":\"Enamel mug\",\"categoryRef\":{\"name\":\"kitchen\"},\"tags\":[\"kitchen\",\"enamel\"],"
	"\"options\":[{\"name\":\"colour\",\"values\":[\"blue\",\"red\"]}]}}";

static const char REQUEST[] = "{\"operation\":\"CREATE\",\"user\":{\"name\":\"alice\",\"roles\":[\"writer\"]},"
			      "\"origin\":\"git\",\"dryRun\":false}";

static const char *const NAMES[] = {"object", "oldObject", "request"};

enum { V_POLICY, V_CEL, V_FLOOR, V_NATIVE, NVARIANTS };
static const char *const VNAMES[NVARIANTS] = {"policy", "cel", "floor", "native"};

typedef struct bench {
	gs_adm_policy *policy;
	gs_cel_program *rules[NRULES];
	gs_cel_program *truth;
	json_t *vars[3]; /* object, oldObject (null), request */
} bench;

static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* code points of a UTF-8 string (CEL's string size()) */
static size_t utf8_len(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xC0) != 0x80;
	return n;
}

/* The match and the three rules in plain C. */
static bool native_eval(json_t *object, json_t *request)
{
	static const char *const tiers[] = {"gold", "silver", "bronze"};
	const char *kind = json_string_value(json_object_get(object, "kind"));
	const char *op = json_string_value(json_object_get(request, "operation"));
	json_t *meta = json_object_get(object, "metadata"), *labels = json_object_get(meta, "labels");
	json_t *title = json_object_get(json_object_get(object, "spec"), "title"), *v;
	const char *tier, *k;
	bool in = false;
	if (!kind || strcmp(kind, "Product") != 0 || !op || (strcmp(op, "CREATE") != 0 && strcmp(op, "UPDATE") != 0))
		return false;
	if (!json_is_string(title) || utf8_len(json_string_value(title)) > 200)
		return false;
	tier = json_string_value(json_object_get(labels, "tier"));
	for (size_t i = 0; tier && i < 3 && !in; i++)
		in = strcmp(tier, tiers[i]) == 0;
	if (!in)
		return false;
	json_object_foreach(labels, k, v) {
		if (utf8_len(k) > 63 || strncmp(k, "kubernetes.io/", 14) == 0)
			return false;
	}
	return true;
}

/* n evaluations of variant which; false on an unexpected result */
static bool run(const bench *b, int which, long n)
{
	gs_cel_error err;
	bool ok;
	for (long k = 0; k < n; k++) {
		switch (which) {
		case V_POLICY: {
			gs_adm_policy_result r;
			gs_adm_policy_eval(b->policy, "Product", "CREATE", b->vars[0], NULL, b->vars[2], &r);
			if (!r.matched || r.failed || r.errored) {
				fprintf(stderr, "cel-bench: policy: matched %d failed %d: %s\n", r.matched, r.failed,
					r.message);
				return false;
			}
			break;
		}
		case V_CEL:
		case V_FLOOR:
			for (int i = 0; i < NRULES; i++) {
				const gs_cel_program *p = which == V_CEL ? b->rules[i] : b->truth;
				ok = false;
				if (gs_cel_eval_bool(p, NAMES, b->vars, 3, &ok, &err) < 0 || !ok) {
					fprintf(stderr, "cel-bench: %s rule %d: %s\n", VNAMES[which], i,
						ok ? "false" : err.message);
					return false;
				}
			}
			break;
		default:
			if (!native_eval(b->vars[0], b->vars[2])) {
				fprintf(stderr, "cel-bench: native: false\n");
				return false;
			}
		}
	}
	return true;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static int compile(const char *text, gs_cel_program **out)
{
	gs_cel_error err;
	memset(&err, 0, sizeof(err));
	if (gs_cel_compile(text, strlen(text), out, &err) < 0) {
		fprintf(stderr, "cel-bench: %s: %d:%d: %s\n", text, err.line, err.column, err.message);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? strtod(argv[1], NULL) : 1.0, slice = 0.05;
	bench b;
	gs_error gerr = GS_ERROR_INIT;
	json_t *spec = json_loads(POLICY_SPEC, 0, NULL);
	long batch[NVARIANTS], evals[NVARIANTS] = {0};
	double used[NVARIANTS] = {0}, *rates[NVARIANTS];
	int nslices, status = 1;

	memset(&b, 0, sizeof(b));
	if (!(secs > 0))
		secs = 1.0;
	nslices = (int)(secs / slice + 0.5);
	if (nslices < 5)
		nslices = 5;
	b.vars[0] = json_loads(PRODUCT, 0, NULL);
	b.vars[1] = json_null();
	b.vars[2] = json_loads(REQUEST, 0, NULL);
	if (!spec || !b.vars[0] || !b.vars[2]) {
		fprintf(stderr, "cel-bench: bad built-in JSON\n");
		return 1;
	}
	if (gs_adm_policy_compile("typical", spec, &b.policy, &gerr) < 0) {
		fprintf(stderr, "cel-bench: policy: %s\n", gerr.msg);
		return 1;
	}
	for (int i = 0; i < NRULES; i++)
		if (compile(RULES[i], &b.rules[i]) < 0)
			return 1;
	if (compile("true", &b.truth) < 0)
		return 1;

	/* calibrate: evaluations per ~slice of CPU time, per variant (this
	 * also warms the caches) */
	for (int v = 0; v < NVARIANTS; v++) {
		long n = 100;
		double t0, dt;
		for (;;) {
			t0 = cpu_now();
			if (!run(&b, v, n))
				goto out;
			dt = cpu_now() - t0;
			if (dt >= slice / 4 || n > (1L << 40))
				break;
			n *= 4;
		}
		batch[v] = (long)(n * slice / dt) + 1;
		rates[v] = calloc((size_t)nslices, sizeof(double));
	}
	/* the measurement: nslices rounds, each runs every variant for one
	 * slice, the order rotated per round */
	for (int r = 0; r < nslices; r++) {
		for (int j = 0; j < NVARIANTS; j++) {
			int v = (r + j) % NVARIANTS;
			double t0 = cpu_now(), dt;
			if (!run(&b, v, batch[v]))
				goto out;
			dt = cpu_now() - t0;
			rates[v][r] = batch[v] / dt;
			used[v] += dt;
			evals[v] += batch[v];
		}
	}
	for (int v = 0; v < NVARIANTS; v++) {
		double med, lo, hi;
		qsort(rates[v], (size_t)nslices, sizeof(double), cmp_double);
		med = nslices % 2 ? rates[v][nslices / 2] : (rates[v][nslices / 2 - 1] + rates[v][nslices / 2]) / 2;
		lo = rates[v][0];
		hi = rates[v][nslices - 1];
		printf("cel.%s_per_s=%.0f\n", VNAMES[v], med);
		printf("cel.%s_ns=%.1f\n", VNAMES[v], 1e9 / med);
		printf("cel.%s_min_per_s=%.0f\n", VNAMES[v], lo);
		printf("cel.%s_max_per_s=%.0f\n", VNAMES[v], hi);
		printf("cel.%s_cpu_s=%.2f\n", VNAMES[v], used[v]);
		printf("cel.%s_evals=%ld\n", VNAMES[v], evals[v]);
	}
	printf("cel.slices=%d\n", nslices);
	printf("cel.rules=%d\n", NRULES);
	status = 0;
out:
	for (int v = 0; v < NVARIANTS; v++)
		if (status == 0)
			free(rates[v]);
	gs_adm_policy_free(b.policy);
	for (int i = 0; i < NRULES; i++)
		gs_cel_program_free(b.rules[i]);
	gs_cel_program_free(b.truth);
	json_decref(b.vars[0]);
	json_decref(b.vars[2]);
	json_decref(spec);
	return status;
}
