/*
 * cli/cli.h -- the gitstore subcommands. Each returns the process exit
 * code (0 ok, 1 error/refusal, 2 usage).
 */
#ifndef GS_CLI_H
#define GS_CLI_H

#include "util/buf.h"
#include "util/error.h"

int gs_cli_serve(int argc, char **argv);
int gs_cli_namespace(int argc, char **argv);
int gs_cli_repo(int argc, char **argv);
int gs_cli_token(int argc, char **argv);
int gs_cli_hook(int argc, char **argv);
int gs_cli_events(int argc, char **argv);
int gs_cli_validate(int argc, char **argv);
int gs_cli_policy(int argc, char **argv);
int gs_cli_cel(int argc, char **argv);
/* Reads at most out->max bytes of path; *size is the file's size
 * (validate.c). */
int gs_cli_read_file(const char *path, gs_buf *out, long long *size, gs_error *err);
/* Finds "--name VALUE" / "--name=VALUE" at argv[*i]; advances *i. */
int gs_cli_opt(int argc, char **argv, int *i, const char *name, const char **value);

#endif
