/* tests/fuzz/fuzz_cel.c -- libFuzzer target: CEL expressions compiled
 * and evaluated (plain and typed results) against a Product-like JSON
 * binding; every run must end in a value or an error, within the cost
 * budget, without leaks. */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "cel/cel.h"

static const char OBJECT[] =
	"{\"metadata\":{\"name\":\"mug\",\"labels\":{\"app\":\"shop\",\"tier\":\"gold\"}},"
	"\"spec\":{\"title\":\"Enamel mug\",\"price\":12.5,\"count\":3,\"tags\":[\"a\",\"b\",\"\\u00e9\"],"
	"\"nested\":{\"list\":[1,2.5,null,true,{\"k\":[]}]}}}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static json_t *object, *x;
	const char *names[] = {"object", "x"};
	json_t *vals[2], *out = NULL;
	gs_cel_program *p = NULL;
	gs_cel_error err;
	bool b;
	if (!object) {
		object = json_loads(OBJECT, 0, NULL);
		x = json_integer(7);
	}
	vals[0] = object;
	vals[1] = x;
	if (gs_cel_compile((const char *)data, size, &p, &err) != 0)
		return 0;
	if (gs_cel_eval_json(p, names, vals, 2, &out, &err) == 0)
		json_decref(out);
	out = NULL;
	if (gs_cel_eval_ex(p, names, vals, 2, GS_CEL_OUT_TYPED, &out, &err) == 0)
		json_decref(out);
	gs_cel_eval_bool(p, names, vals, 2, &b, &err);
	gs_cel_program_free(p);
	return 0;
}
