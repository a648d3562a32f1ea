/* tests/fuzz/fuzz_labelsel.c -- libFuzzer target: label selectors from
 * the labelSelector query parameter, parsed and matched. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/labelsel.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	gs_labelsel *sel = NULL;
	gs_error err = GS_ERROR_INIT;
	json_t *labels = json_pack("{s:s, s:s}", "tier", "gold", "app.kubernetes.io/name", "shop");
	memcpy(s, data, size);
	s[size] = 0;
	if (gs_labelsel_parse(&sel, s, &err) == 0)
		gs_labelsel_match(sel, labels);
	gs_labelsel_free(sel);
	json_decref(labels);
	free(s);
	return 0;
}
