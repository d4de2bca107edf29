/*
 * cli.h - one entry point per subcommand.  Each takes argv with argv[0] set
 * to the subcommand name and returns the process exit code: 0 ok, 1 runtime
 * error, 2 usage error.
 */
#ifndef KZ_CLI_H
#define KZ_CLI_H

int kz_cmd_serve(int argc, char **argv);
int kz_cmd_send(int argc, char **argv);
int kz_cmd_tail(int argc, char **argv);
int kz_cmd_sim(int argc, char **argv);
int kz_cmd_version(int argc, char **argv);
int kz_cmd_label(int argc, char **argv);

#endif
