/*
 * main.c -- argv dispatch to src/cli/; nothing else.
 * SPDX-License-Identifier: MIT
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const char USAGE[] =
	"usage: gitstore <command> [options]\n"
	"\n"
	"  serve [--data DIR] [--listen HOST:PORT]      run the daemon\n"
	"  namespace create NAME --data DIR             create a namespace (and NAME/gitstore-system)\n"
	"  repo create NS/NAME --data DIR               create a repository\n"
	"  token create --user NAME --role ROLE:NS... --data DIR\n"
	"                                               create a token (printed once)\n"
	"  validate [--namespace NS] [--repo NAME] FILE...\n"
	"                                               check catalog files offline\n"
	"  events [--server URL] [--token T] [--after N] [--follow]\n"
	"                                               print events as JSON lines\n"
	"  policy test [--namespace NS] POLICY.md RESOURCE.md...\n"
	"                                               run an admission policy offline\n"
	"  cel eval [--typed] [--json NAME=JSON]... EXPR | --batch\n"
	"                                               evaluate a CEL expression (docs/cel.md)\n"
	"  hook pre-receive|reference-transaction|post-receive\n"
	"                                               (run by git; not for people)\n";

int main(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(USAGE, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "serve") == 0)
		return gs_cli_serve(argc - 1, argv + 1);
	if (strcmp(argv[1], "namespace") == 0)
		return gs_cli_namespace(argc - 1, argv + 1);
	if (strcmp(argv[1], "repo") == 0)
		return gs_cli_repo(argc - 1, argv + 1);
	if (strcmp(argv[1], "token") == 0)
		return gs_cli_token(argc - 1, argv + 1);
	if (strcmp(argv[1], "hook") == 0)
		return gs_cli_hook(argc - 1, argv + 1);
	if (strcmp(argv[1], "events") == 0)
		return gs_cli_events(argc - 1, argv + 1);
	if (strcmp(argv[1], "policy") == 0)
		return gs_cli_policy(argc - 1, argv + 1);
	if (strcmp(argv[1], "cel") == 0)
		return gs_cli_cel(argc - 1, argv + 1);
	if (strcmp(argv[1], "validate") == 0)
		return gs_cli_validate(argc - 1, argv + 1);
	fprintf(stderr, "gitstore: unknown command '%s'\n%s", argv[1], USAGE);
	return 2;
}
