/*
 * restore.c - `kizuna restore`: check a backup (integrity, a schema this
 * build knows) and copy it into a data directory, with its uploaded files.
 * The server must not run on that directory meanwhile (docs/operations.md).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "store/store.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: kizuna restore [-c FILE] --data DIR [--force] BACKUP\n"
            "\n"
            "Check BACKUP (written by kizuna backup) and make it the store of DIR, with\n"
            "the uploaded files of BACKUP.files/ and the audit chain's BACKUP.audit.key\n"
            "and BACKUP.audit.head.\n"
            "Stop the server on DIR first.\n"
            "\n"
            "  -c, --config FILE    configuration (YAML) whose store.path to write\n"
            "  -d, --data DIR       data directory, as given to kizuna serve (default ./data)\n"
            "  --force              replace the store of a data directory that is not empty\n");
}

/* 1 when `dir` has an entry, 0 when empty or absent, -1 on error. */
static int dir_used(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int used = 0;

    if (!d)
        return errno == ENOENT ? 0 : -1;
    while (!used && (e = readdir(d)) != NULL)
        used = strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return used;
}

/* The audit chain's key and head anchor come with the store they vouch for. */
static int restore_audit(const struct kz__cli_backup_args *a)
{
    static const char *const names[] = {"audit.head", "audit.key"};
    char from[4096 + 16], to[4096 + 16];

    for (size_t i = 0; i < KZ_ARRAY_LEN(names); i++) {
        snprintf(to, sizeof(to), "%s/%s", a->data, names[i]);
        /* A replaced store's anchor would call the restored chain cut. */
        if (unlink(to) != 0 && errno != ENOENT) {
            fprintf(stderr, "kizuna restore: cannot remove %s: %s\n", to, strerror(errno));
            return 1;
        }
        snprintf(from, sizeof(from), "%s.%s", a->file, names[i]);
        if (kz__cli_copy_optional("restore", from, to) != 0)
            return 1;
    }
    return 0;
}

/* 0 when DATA may receive the store at `db`, else 1 after printing why. */
static int target_ok(const struct kz__cli_backup_args *a, const char *db)
{
    int used = dir_used(a->data);

    if (used < 0) {
        fprintf(stderr, "kizuna restore: cannot read %s: %s\n", a->data, strerror(errno));
        return 1;
    }
    if (!a->force && (used || access(db, F_OK) == 0)) {
        fprintf(stderr,
                "kizuna restore: %s is not empty; restore into a new data directory, or "
                "stop its server and pass --force to replace its store\n",
                used ? a->data : db);
        return 1;
    }
    if (mkdir(a->data, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "kizuna restore: cannot create %s: %s\n", a->data, strerror(errno));
        return 1;
    }
    return 0;
}

int kz_cmd_restore(int argc, char **argv)
{
    struct kz__cli_backup_args a = {.data = "data", .allow_force = true};
    char db[4096], err[1024], files[4096 + 8], from[4096 + 8];
    unsigned n = 0;
    int rc = kz__cli_backup_args("restore", argc, argv, &a, usage);

    if (rc)
        return rc < 0 ? 0 : rc;
    if ((rc = kz__cli_db_path("restore", a.config, a.data, db, sizeof(db))) != 0)
        return rc;
    if (kz_store_pg_dsn(db)) {
        fprintf(stderr, "kizuna restore: the store is on PostgreSQL (store.backend postgres):"
                        " restore it with pg_restore, or copy a SQLite backup in with"
                        " kizuna store copy\n");
        return 1;
    }
    if (kz_store_check(a.file, err, sizeof(err)) != KZ_OK) {
        fprintf(stderr, "kizuna restore: %s; nothing was changed\n", err);
        return 1;
    }
    if ((rc = target_ok(&a, db)) != 0 || (rc = kz__cli_copy_store("restore", a.file, db)) != 0 ||
        (rc = restore_audit(&a)) != 0)
        return rc;
    snprintf(from, sizeof(from), "%s.files", a.file);
    snprintf(files, sizeof(files), "%s/files", a.data);
    if ((rc = kz__cli_copy_files("restore", from, files, &n)) != 0)
        return rc;
    printf("kizuna restore: %s restored into %s, %u uploaded file(s) into %s\n", a.file, db, n,
           files);
    return 0;
}
