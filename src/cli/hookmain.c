/*
 * cli/hookmain.c -- main() of build/gitstore-hook, the small binary git
 * runs for every hook invocation of a push (symlinked from the daemon's
 * hooks directory). It links only what `gitstore hook` needs (no libgit2,
 * SQLite, curl or microhttpd), because git starts it three times per push
 * and dynamic loading dominates its cost. `gitstore hook NAME` does the
 * same thing.
 * SPDX-License-Identifier: MIT
 */
#include <string.h>

#include "cli/cli.h"

int main(int argc, char **argv)
{
	const char *base = strrchr(argv[0], '/');
	char *args[4];
	base = base ? base + 1 : argv[0];
	if (strcmp(base, "gitstore-hook") == 0)
		return gs_cli_hook(argc, argv); /* gitstore-hook NAME [PHASE] */
	/* invoked through a symlink named after the hook */
	args[0] = argv[0];
	args[1] = (char *)base;
	args[2] = argc > 1 ? argv[1] : NULL;
	args[3] = NULL;
	return gs_cli_hook(argc > 1 ? 3 : 2, args);
}
