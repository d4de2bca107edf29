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
int kz_cmd_alliance(int argc, char **argv);
int kz_cmd_readiness(int argc, char **argv);
int kz_cmd_plan(int argc, char **argv);
int kz_cmd_fed(int argc, char **argv);

int kz_cmd_ca(int argc, char **argv);
int kz_cmd_cert(int argc, char **argv);
int kz_cmd_user(int argc, char **argv);
int kz_cmd_audit(int argc, char **argv);
int kz_cmd_backup(int argc, char **argv);
int kz_cmd_restore(int argc, char **argv);
int kz_cmd_store(int argc, char **argv); /* store_copy.c */

/* `backup` and `restore` (backup.c, restore.c): their options. */
#include <stdbool.h>
#include <stdio.h>
struct kz__cli_backup_args {
    const char *config, *data, *file; /* point into argv */
    bool allow_force;                 /* restore: --force is an option */
    bool force;
};
/* 0, -1 after --help, or 2 after printing a usage error with `help`. */
int kz__cli_backup_args(const char *cmd, int argc, char **argv, struct kz__cli_backup_args *a,
                        void (*help)(FILE *));
/* Copy the store file `from` to `to` (progress on stderr): 0, or 1 after printing why. */
int kz__cli_copy_store(const char *cmd, const char *from, const char *to);
/*
 * Copy the files of the content-addressed tree `from` (DATA/files layout:
 * one level of subdirectories) into `to`, skipping names `to` already
 * has and temporaries; *n counts the files copied.  A missing `from` is an
 * empty tree.  0, or 1 after printing why.
 */
int kz__cli_copy_files(const char *cmd, const char *from, const char *to, unsigned *n);
/* Copy the file `from` to `to` (mode 0600) when `from` exists: 0, or 1 after printing why. */
int kz__cli_copy_optional(const char *cmd, const char *from, const char *to);

/* Identity options shared by `user add` and `cert issue` (user.c). */
#include "core/core.h"
#include <getopt.h>

enum {
    KZ__OPT_NATION = 200,
    KZ__OPT_CLEARANCE,
    KZ__OPT_COMMAND,
    KZ__OPT_GROUPS,
    KZ__OPT_GROUPS_IN,
    KZ__OPT_GROUPS_OUT,
    KZ__OPT_ROLES
};
#define KZ__CLI_IDOPTS                                                                             \
    {"nation", required_argument, NULL, KZ__OPT_NATION},                                           \
        {"clearance", required_argument, NULL, KZ__OPT_CLEARANCE},                                 \
        {"command", required_argument, NULL, KZ__OPT_COMMAND},                                     \
        {"groups", required_argument, NULL, KZ__OPT_GROUPS},                                       \
        {"groups-in", required_argument, NULL, KZ__OPT_GROUPS_IN},                                 \
        {"groups-out", required_argument, NULL, KZ__OPT_GROUPS_OUT},                               \
    {                                                                                              \
        "roles", required_argument, NULL, KZ__OPT_ROLES                                            \
    }

/* id.user/nation/clearance/command point into argv; the lists are owned. */
struct kz__cli_idopts {
    struct kz_identity id;
};
bool kz__cli_idopt(struct kz__cli_idopts *o, int c, const char *arg);
/*
 * 0, or 2 after printing a usage error for `cmd`.  Without --roles the
 * identity gets viewer and operator (a device reads and sends; docs/devices.md).
 */
int kz__cli_idopts_check(const char *cmd, struct kz__cli_idopts *o);
void kz__cli_idopts_release(struct kz__cli_idopts *o);

/*
 * The database file as `kizuna serve -c CONFIG --data DATA` would open it
 * (store.path of CONFIG, or of the built-in defaults when NULL).  0, or the
 * exit code (2 bad configuration, 1 otherwise) after printing why for `cmd`.
 */
int kz__cli_db_path(const char *cmd, const char *config, const char *data, char *buf, size_t len);
/* Create DATA if needed and open (creating, migrating) that database: 0 or an exit code. */
struct kz_userdb;
int kz__cli_userdb_open(const char *cmd, const char *config, const char *data,
                        struct kz_userdb **db);

/*
 * The marking policy of configuration `config` (its labels: section), or the
 * built-in default policy when NULL (label.c).  0, or 2 after printing why.
 */
struct kz_label_policy;
int kz__cli_policy(const char *cmd, const char *config, struct kz_label_policy *p);

/*
 * Identities have one namespace: 0 when no input identity of `config` (the
 * built-in configuration when NULL) has the name id->user, else 2 after
 * printing which input holds it (user.c).
 */
int kz__cli_name_free(const char *cmd, const char *config, const struct kz_identity *id);

#endif
