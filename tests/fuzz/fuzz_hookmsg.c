/* tests/fuzz/fuzz_hookmsg.c -- libFuzzer target: a hook socket message
 * (JSON, as read by the daemon) and its ref-update list parser. */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "refs/push.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t jerr;
	json_t *req = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &jerr);
	gs_ref_update *u = NULL;
	size_t n = 0;
	gs_error err = GS_ERROR_INIT;
	if (!req)
		return 0;
	if (gs_refs_parse_updates(json_object_get(req, "updates"), GS_UPD_EVENTS_ONLY | GS_UPD_KEEP_ZERO, &u, &n, &err) == 0)
		free(u);
	gs_error_clear(&err);
	u = NULL;
	if (gs_refs_parse_updates(json_object_get(req, "updates"), 0, &u, &n, &err) == 0)
		free(u);
	json_decref(req);
	return 0;
}
