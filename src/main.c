/* main.c - CLI dispatch only. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const struct kz_cmd {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"serve", kz_cmd_serve, "run the server"},
    {"send", kz_cmd_send, "send CoT events from a file or stdin"},
    {"tail", kz_cmd_tail, "print the live CoT stream"},
    {"sim", kz_cmd_sim, "simulate allied units moving around bases in Japan"},
    {"version", kz_cmd_version, "print the version"},
    {"label", kz_cmd_label, "check a classification/releasability label"},
    {"alliance", kz_cmd_alliance, "alliance model: check, show, chain, can-task, path"},
    {"readiness", kz_cmd_readiness, "report and query unit readiness (C-levels)"},
    {"plan", kz_cmd_plan, "joint plans: create, approve, consult, stage, timeline, .ics"},
    {"fed", kz_cmd_fed, "federation: the peers' link states and counters"},
    {"ca", kz_cmd_ca, "create the certificate authority and server certificate"},
    {"cert", kz_cmd_cert, "issue, revoke or package client certificates"},
    {"user", kz_cmd_user, "add, delete, list users (identities and passwords)"},
    {"audit", kz_cmd_audit, "list or verify the audit log"},
    {"backup", kz_cmd_backup, "copy the store and uploaded files while the server runs"},
    {"restore", kz_cmd_restore, "check a backup and restore it into a data directory"},
    {"store", kz_cmd_store, "copy a node's SQLite store into PostgreSQL"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: kizuna <command> [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nRun 'kizuna <command> --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0)
        return kz_cmd_version(argc - 1, argv + 1);
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "kizuna: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
