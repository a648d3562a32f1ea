/*
 * tests/unit/cel/bench_cel.c -- evaluations per second of a typical
 * three-rule policy against a Product resource, on one core. Not a test
 * (no test_ prefix, so `make check` does not run it); build and run:
 *
 *   make build/libgitstore.a
 *   cc -O2 -Isrc tests/unit/cel/bench_cel.c build/libgitstore.a \
 *      $(pkg-config --libs jansson libpcre2-8 libcrypto) -o build/bench_cel
 *   build/bench_cel [SECONDS]
 *
 * Prints one line: "cel-bench: N policy evaluations/s (3 rules each)".
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cel/cel.h"

static const char *const RULES[] = {
	"has(object.spec.title) && object.spec.title.size() <= 80",
	"object.spec.price >= 0",
	"object.metadata.labels.all(k, k.startsWith('app'))",
};

static const char PRODUCT[] =
	"{\"apiVersion\":\"catalog.gitstore.dev/v1beta1\",\"kind\":\"Product\","
	"\"metadata\":{\"name\":\"mug\",\"namespace\":\"default\",\"labels\":{\"app\":\"shop\","
	"\"app.kubernetes.io/name\":\"mug\",\"app.tier\":\"gold\"},\"generation\":3},"
	"\"spec\":{\"title\":\"Enamel mug\",\"price\":12.5,\"currency\":\"EUR\",\"sku\":\"MUG-001\","
	"\"tags\":[\"kitchen\",\"enamel\"],\"variants\":[{\"name\":\"blue\"},{\"name\":\"red\"}]},"
	"\"body\":\"A sturdy enamel mug.\\n\"}";

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts); /* CPU time: one core, whatever the load */
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? strtod(argv[1], NULL) : 2.0, t0, t;
	gs_cel_program *p[3];
	gs_cel_error err;
	const char *names[] = {"object"};
	json_t *obj = json_loads(PRODUCT, 0, NULL);
	long n = 0;
	size_t i;
	bool ok;
	for (i = 0; i < 3; i++) {
		if (gs_cel_compile(RULES[i], strlen(RULES[i]), &p[i], &err) < 0) {
			fprintf(stderr, "cel-bench: %s: %s\n", RULES[i], err.message);
			return 1;
		}
	}
	t0 = now();
	do {
		for (int k = 0; k < 1000; k++, n++)
			for (i = 0; i < 3; i++)
				if (gs_cel_eval_bool(p[i], names, &obj, 1, &ok, &err) < 0 || !ok) {
					fprintf(stderr, "cel-bench: rule %zu: %s\n", i, ok ? err.message : "false");
					return 1;
				}
		t = now() - t0;
	} while (t < secs);
	printf("cel-bench: %.0f policy evaluations/s (3 rules each, %.0f ns per rule)\n", n / t, t / n / 3 * 1e9);
	for (i = 0; i < 3; i++)
		gs_cel_program_free(p[i]);
	json_decref(obj);
	return 0;
}
