/*
 * cli/cli.h -- the gitstore subcommands. Each returns the process exit
 * code (0 ok, 1 error/refusal, 2 usage).
 */
#ifndef GS_CLI_H
#define GS_CLI_H

int gs_cli_serve(int argc, char **argv);
int gs_cli_namespace(int argc, char **argv);
int gs_cli_repo(int argc, char **argv);
int gs_cli_token(int argc, char **argv);
int gs_cli_hook(int argc, char **argv);
int gs_cli_events(int argc, char **argv);
int gs_cli_validate(int argc, char **argv);
/* Finds "--name VALUE" / "--name=VALUE" at argv[*i]; advances *i. */
int gs_cli_opt(int argc, char **argv, int *i, const char *name, const char **value);

#endif
