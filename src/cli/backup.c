/*
 * backup.c - `kizuna backup`: a consistent copy of the store while the
 * server runs (store/backup.c), plus the uploaded files beside it, and the
 * file-tree copy `kizuna restore` shares.
 *
 * FILE is the store; FILE.files/ holds the content-addressed files of
 * DATA/files/ (mission/files.h), copied after the store: a file's bytes are
 * on disk before its row commits and are never changed, so every row of the
 * copy finds its file (a file uploaded during the backup is one extra).
 * FILE.audit.key is DATA/audit.key, the key of the store's audit chain
 * (store/audit.c), and FILE.audit.head the chain's head anchor made for
 * the copy (DATA/audit.head may already name records committed after the
 * snapshot): with both the restored chain verifies to its end.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "store/store.h"

struct progress {
    const char *cmd;
    bool shown;
};

/* Only a store that takes more than one step shows its progress. */
static void on_progress(void *ud, int64_t done, int64_t total)
{
    struct progress *p = ud;

    if (done >= total && !p->shown)
        return;
    p->shown = true;
    fprintf(stderr, "kizuna %s: %lld of %lld pages (%lld%%)\n", p->cmd, (long long)done,
            (long long)total, total > 0 ? (long long)(done * 100 / total) : 100LL);
}

int kz__cli_copy_store(const char *cmd, const char *from, const char *to)
{
    struct progress p = {.cmd = cmd};
    char err[1024];

    if (kz_store_backup(from, to, on_progress, &p, err, sizeof(err)) != KZ_OK) {
        fprintf(stderr, "kizuna %s: %s\n", cmd, err);
        return 1;
    }
    return 0;
}

static int copy_fd(int in, int out)
{
    char buf[65536];
    ssize_t n;

    while ((n = read(in, buf, sizeof(buf))) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || kz_write_all(out, buf, (size_t)n) != 0)
            return -1;
    }
    return fsync(out);
}

/*
 * from -> to via a dot-named temporary beside it: a crash leaves the old
 * file or the whole new one, and a leftover temporary is never copied on.
 */
static int copy_file(const char *from, const char *to)
{
    const char *base = strrchr(to, '/');
    char tmp[PATH_MAX];
    int in = -1, out = -1, rc = -1, saved, n;

    base = base ? base + 1 : to;
    n = snprintf(tmp, sizeof(tmp), "%.*s.%s.tmp", (int)(base - to), to, base);
    if (n < 0 || (size_t)n >= sizeof(tmp)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if ((in = open(from, O_RDONLY | O_CLOEXEC)) < 0 ||
        (out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
        goto out;
    if (copy_fd(in, out) == 0 && close(out) == 0 && rename(tmp, to) == 0)
        rc = 0;
    out = -1;
out:
    saved = errno;
    if (in >= 0)
        close(in);
    if (out >= 0)
        close(out);
    if (rc != 0)
        unlink(tmp);
    errno = saved;
    return rc;
}

int kz__cli_copy_optional(const char *cmd, const char *from, const char *to)
{
    if (access(from, F_OK) != 0 && errno == ENOENT)
        return 0;
    if (copy_file(from, to) == 0)
        return 0;
    fprintf(stderr, "kizuna %s: cannot copy %s to %s: %s\n", cmd, from, to, strerror(errno));
    return 1;
}

/* dir/name into buf; false (errno ENAMETOOLONG) when it does not fit. */
static bool join(char *buf, size_t len, const char *dir, const char *name)
{
    int n = snprintf(buf, len, "%s/%s", dir, name);

    if (n >= 0 && (size_t)n < len)
        return true;
    errno = ENAMETOOLONG;
    return false;
}

/* Copy the regular files of one directory; same name, same bytes: skipped. */
static int copy_dir(const char *cmd, const char *from, const char *to, unsigned *n)
{
    DIR *d = opendir(from);
    struct dirent *e;
    char src[PATH_MAX], dst[PATH_MAX];
    struct stat st;
    int rc = 0;

    if (!d || (mkdir(to, 0700) != 0 && errno != EEXIST)) {
        fprintf(stderr, "kizuna %s: cannot copy %s to %s: %s\n", cmd, from, to, strerror(errno));
        if (d)
            closedir(d);
        return 1;
    }
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') /* ., .., and uploads still being written */
            continue;
        if (!join(src, sizeof(src), from, e->d_name) || !join(dst, sizeof(dst), to, e->d_name))
            rc = 1;
        else if (stat(src, &st) != 0 || !S_ISREG(st.st_mode) || access(dst, F_OK) == 0)
            continue;
        if (rc == 0 && copy_file(src, dst) == 0) {
            (*n)++;
        } else {
            fprintf(stderr, "kizuna %s: cannot copy %s: %s\n", cmd, src, strerror(errno));
            rc = 1;
        }
    }
    closedir(d);
    return rc;
}

int kz__cli_copy_files(const char *cmd, const char *from, const char *to, unsigned *n)
{
    DIR *d = opendir(from);
    struct dirent *e;
    char src[PATH_MAX], dst[PATH_MAX];
    int rc = 0;

    *n = 0;
    if (!d && errno == ENOENT)
        return 0; /* nothing was ever uploaded */
    if (!d) {
        fprintf(stderr, "kizuna %s: cannot read %s: %s\n", cmd, from, strerror(errno));
        return 1;
    }
    if (mkdir(to, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "kizuna %s: cannot create %s: %s\n", cmd, to, strerror(errno));
        closedir(d);
        return 1;
    }
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || e->d_type != DT_DIR)
            continue;
        if (!join(src, sizeof(src), from, e->d_name) || !join(dst, sizeof(dst), to, e->d_name)) {
            fprintf(stderr, "kizuna %s: a path under %s is too long\n", cmd, from);
            rc = 1;
        } else {
            rc = copy_dir(cmd, src, dst, n);
        }
    }
    closedir(d);
    return rc;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: kizuna backup [-c FILE] --data DIR BACKUP\n"
            "\n"
            "Copy the store of DIR into BACKUP while the server runs (a consistent\n"
            "snapshot), DIR/files/ (uploaded files) into BACKUP.files/, and the audit\n"
            "chain's key and head anchor into BACKUP.audit.key and BACKUP.audit.head.\n"
            "\n"
            "  -c, --config FILE    configuration (YAML) whose store.path to copy\n"
            "  -d, --data DIR       data directory, as given to kizuna serve (default ./data)\n");
}

int kz__cli_backup_args(const char *cmd, int argc, char **argv, struct kz__cli_backup_args *a,
                        void (*help)(FILE *))
{
    enum { OPT_FORCE = 256 };
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"data", required_argument, NULL, 'd'},
        {"force", no_argument, NULL, OPT_FORCE},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "c:d:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            a->config = optarg;
            break;
        case 'd':
            a->data = optarg;
            break;
        case OPT_FORCE:
            if (!a->allow_force)
                goto bad;
            a->force = true;
            break;
        case 'h':
            help(stdout);
            return -1;
        default:
            goto bad;
        }
    }
    if (optind + 1 == argc) {
        a->file = argv[optind];
        return 0;
    }
    fprintf(stderr, "kizuna %s: expected one FILE argument\n", cmd);
bad:
    help(stderr);
    return 2;
}

static int backup_audit(const struct kz__cli_backup_args *a)
{
    char key[4096 + 16], out[4096 + 16], err[1024];

    snprintf(key, sizeof(key), "%s/audit.key", a->data);
    snprintf(out, sizeof(out), "%s.audit.head", a->file);
    if (kz_store_backup_anchor(a->file, key, out, err, sizeof(err)) != KZ_OK) {
        fprintf(stderr, "kizuna backup: %s\n", err);
        return 1;
    }
    snprintf(out, sizeof(out), "%s.audit.key", a->file);
    return kz__cli_copy_optional("backup", key, out);
}

int kz_cmd_backup(int argc, char **argv)
{
    struct kz__cli_backup_args a = {.data = "data"};
    char db[4096], files[4096 + 16], out[4096 + 16];
    unsigned n = 0;
    int rc = kz__cli_backup_args("backup", argc, argv, &a, usage);

    if (rc)
        return rc < 0 ? 0 : rc;
    if ((rc = kz__cli_db_path("backup", a.config, a.data, db, sizeof(db))) != 0)
        return rc;
    if (kz_store_pg_dsn(db)) {
        fprintf(stderr, "kizuna backup: the store is on PostgreSQL (store.backend postgres):"
                        " back it up with pg_dump\n");
        return 1;
    }
    if ((rc = kz__cli_copy_store("backup", db, a.file)) != 0)
        return rc;
    snprintf(files, sizeof(files), "%s/files", a.data);
    snprintf(out, sizeof(out), "%s.files", a.file);
    if ((rc = kz__cli_copy_files("backup", files, out, &n)) != 0)
        return rc;
    if ((rc = backup_audit(&a)) != 0)
        return rc;
    printf("kizuna backup: %s written from %s, %u uploaded file(s) in %s\n", a.file, db, n, out);
    return 0;
}
