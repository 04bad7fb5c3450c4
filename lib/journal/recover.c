/* SPDX-License-Identifier: MIT */
/*
 * Recovery: finish or roll back one interrupted move so that it ends whole on one side.
 * Decisions rest on what is on disk, checked against the record's identities:
 *   staging still there            -> not installed: remove it, the source is untouched;
 *   target is the staging object   -> installed: remove the source entries that are the
 *                                     recorded, unchanged source or byte-identical copies;
 *   neither                        -> nothing of this move is left to finish.
 * Anything that cannot be proved a copy is kept and reported.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h> /* renameat() only: the preload library uses no stdio */
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fmt/fmt.h"
#include "journal/journal.h"
#include "journal/paths.h"
#include "journal/tree.h"

#define RECORD_SIZE_MAX (1024 * 1024)

/* The detail is head, then value and tail when given; truncated to fit. */
static void set_detail(struct vs_recovery_result *r, const char *head, const char *value,
                       const char *tail)
{
        struct vs_buf b;
        vs_buf_init(&b, r->detail, sizeof(r->detail));
        vs_buf_puts(&b, head);
        vs_buf_puts(&b, value ? value : "");
        vs_buf_puts(&b, tail ? tail : "");
}

static void set_record(struct vs_recovery_result *r, const char *path)
{
        struct vs_buf b;
        vs_buf_init(&b, r->record, sizeof(r->record));
        vs_buf_puts(&b, path);
}

static bool has_prefix(const char *s, const char *prefix)
{
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool has_suffix(const char *s, const char *suffix)
{
        size_t n = strlen(s), m = strlen(suffix);
        return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Set the record aside as kept (once): lazy recovery passes it by from now on. */
static void mark_kept(int dirfd, const char *name, struct vs_recovery_result *r)
{
        char kept[NAME_MAX + 1];
        struct vs_buf b;
        vs_buf_init(&b, kept, sizeof(kept));
        vs_buf_puts(&b, name);
        vs_buf_puts(&b, VS_JOURNAL_KEPT_SUFFIX);
        if (has_suffix(name, VS_JOURNAL_KEPT_SUFFIX) || b.overflow)
                return;
        if (renameat(dirfd, name, dirfd, kept) == 0 &&
            strlen(r->record) + strlen(VS_JOURNAL_KEPT_SUFFIX) < sizeof(r->record))
                strcat(r->record, VS_JOURNAL_KEPT_SUFFIX);
}

bool vs_journal_is_staging_name(const char *name)
{
        return (has_prefix(name, VS_STAGING_FILE_PREFIX) && name[strlen(VS_STAGING_FILE_PREFIX)]) ||
               (has_prefix(name, VS_STAGING_TREE_PREFIX) && name[strlen(VS_STAGING_TREE_PREFIX)]);
}

bool vs_journal_is_beside_record_name(const char *name)
{
        return has_prefix(name, VS_JOURNAL_BESIDE_PREFIX) && name[strlen(VS_JOURNAL_BESIDE_PREFIX)];
}

const char *vs_journal_id_of_name(const char *name)
{
        static const char *const prefixes[] = { VS_STAGING_FILE_PREFIX, VS_STAGING_TREE_PREFIX,
                                                VS_JOURNAL_BESIDE_PREFIX };
        for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
                if (has_prefix(name, prefixes[i]) && name[strlen(prefixes[i])])
                        return name + strlen(prefixes[i]);
        return NULL;
}

bool vs_journal_dir_has_entries(int dirfd)
{
        /* getdents64 on a fresh descriptor: no allocation, and an empty dir is one call. */
        char buf[512];
        int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return false;
        bool found = false;
        long n;
        while (!found && (n = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0) {
                for (long off = 0; off < n;) {
                        struct {
                                uint64_t ino;
                                int64_t off;
                                unsigned short reclen;
                                unsigned char type;
                                char name[];
                        } *de = (void *)(buf + off);
                        if (strcmp(de->name, ".") != 0 && strcmp(de->name, "..") != 0) {
                                found = true;
                                break;
                        }
                        off += de->reclen;
                }
        }
        close(fd);
        return found;
}

/* The parent directory and last component of each path in a record, opened lazily. */
struct place {
        int dirfd; /* -1 when the parent is gone */
        const char *base;
        bool exists;
        struct stat st;
};

static int place_open(struct place *p, const char *path)
{
        p->exists = false;
        p->dirfd = vs_journal_open_parent(path, &p->base);
        if (p->dirfd < 0) {
                if (p->dirfd == -ENOENT || p->dirfd == -ENOTDIR) {
                        p->dirfd = -1;
                        return 0;
                }
                return p->dirfd;
        }
        if (fstatat(p->dirfd, p->base, &p->st, AT_SYMLINK_NOFOLLOW) == 0)
                p->exists = true;
        else if (errno != ENOENT)
                return -errno;
        return 0;
}

static void place_close(struct place *p)
{
        if (p->dirfd >= 0)
                close(p->dirfd);
        p->dirfd = -1;
}

/* A step of the repair failed: what is left stays, and the record with it. */
static void keep_after_error(struct vs_recovery_result *r, int err, const char *what)
{
        r->error = err;
        r->outcome = VS_RECOVERY_KEPT;
        set_detail(r, what, ": ", strerror(-err));
}

static void roll_back(struct vs_recovery_result *r, struct place *staging, bool dry_run)
{
        int e = vs_journal_tree_remove(staging->dirfd, staging->base, dry_run, &r->staging_removed);
        if (e < 0) {
                keep_after_error(r, e, "could not remove the staging copy");
                return;
        }
        if (!dry_run)
                fsync(staging->dirfd);
        r->outcome = VS_RECOVERY_ROLLED_BACK;
        set_detail(r, "not installed: removed the staging copy; the source is whole", NULL, NULL);
}

static void roll_forward(struct vs_recovery_result *r, struct place *source,
                         struct place *target, bool dry_run)
{
        const struct vs_journal_entry *e = &r->entry;
        struct vs_identity now;
        int err = 0;

        if (!source->exists) {
                r->outcome = VS_RECOVERY_CLOSED;
                set_detail(r, "installed and the source is already gone", NULL, NULL);
                return;
        }
        vs_identity_from_stat(&now, &source->st);
        if (e->kind != VS_JOURNAL_TREE && vs_identity_unchanged(&e->source_id, &now)) {
                /* The very source that was copied, untouched since: no need to read it. */
                if (!dry_run && unlinkat(source->dirfd, source->base, 0) < 0 && errno != ENOENT)
                        err = -errno;
                else
                        r->source_removed++;
        } else {
                err = vs_journal_remove_copied(source->dirfd, source->base, target->dirfd,
                                            target->base, dry_run, &r->source_removed,
                                            &r->source_kept);
        }
        if (err < 0) {
                keep_after_error(r, err, "installed, but removing the source failed");
                return;
        }
        if (!dry_run)
                fsync(source->dirfd);
        if (r->source_kept) {
                r->outcome = VS_RECOVERY_KEPT;
                char count[24];
                struct vs_buf b;
                vs_buf_init(&b, count, sizeof(count));
                vs_buf_putu(&b, r->source_kept, 0);
                set_detail(r, "installed; ", count,
                           " source entries differ from the target and were kept");
                return;
        }
        r->outcome = VS_RECOVERY_ROLLED_FORWARD;
        set_detail(r, "installed: removed the source entries that the target holds", NULL, NULL);
}

static void decide(struct vs_recovery_result *r, bool dry_run)
{
        const struct vs_journal_entry *e = &r->entry;
        struct place source = { .dirfd = -1 }, target = { .dirfd = -1 }, staging = { .dirfd = -1 };
        int err;

        if ((err = place_open(&staging, e->staging)) < 0 ||
            (err = place_open(&target, e->target)) < 0 ||
            (err = place_open(&source, e->source)) < 0) {
                keep_after_error(r, err, "cannot inspect the move's paths");
                goto out;
        }

        if (staging.exists) {
                struct vs_identity sid;
                vs_identity_from_stat(&sid, &staging.st);
                if (e->staging_id.known && !vs_identity_same_object(&e->staging_id, &sid)) {
                        r->outcome = VS_RECOVERY_KEPT;
                        set_detail(r, e->staging, " is not the recorded staging object; kept", NULL);
                } else if (!source.exists) {
                        r->outcome = VS_RECOVERY_KEPT;
                        set_detail(r, "the source vanished; the staging copy ", e->staging,
                                   " was kept");
                } else {
                        roll_back(r, &staging, dry_run);
                }
                goto out;
        }

        struct vs_identity tid;
        if (target.exists)
                vs_identity_from_stat(&tid, &target.st);
        if (target.exists && e->staging_id.known && vs_identity_same_object(&e->staging_id, &tid)) {
                roll_forward(r, &source, &target, dry_run);
                goto out;
        }
        r->outcome = VS_RECOVERY_CLOSED;
        set_detail(r, "nothing was installed and no staging is left; the source is ",
                   source.exists ? "whole" : "gone", NULL);
out:
        place_close(&source);
        place_close(&target);
        place_close(&staging);
}

static int read_record(int fd, char **text, size_t *len)
{
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (st.st_nlink == 0)
                return -ENOENT; /* its move finished while we waited */
        if (st.st_size > RECORD_SIZE_MAX)
                return -EFBIG;
        char *buf = malloc((size_t)st.st_size + 1);
        if (!buf)
                return -ENOMEM;
        ssize_t n = pread(fd, buf, (size_t)st.st_size, 0);
        if (n < 0) {
                int e = -errno;
                free(buf);
                return e;
        }
        *text = buf;
        *len = (size_t)n;
        return 0;
}

int vs_journal_recover_record(int dirfd, const char *name, const char *record_path,
                              bool dry_run, struct vs_recovery_result *r)
{
        memset(r, 0, sizeof(*r));
        set_record(r, record_path ? record_path : name);

        int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        /* A live move holds its record locked; a crashed one's lock died with it. */
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                int e = errno;
                close(fd);
                if (e != EWOULDBLOCK)
                        return -e;
                r->outcome = VS_RECOVERY_LIVE;
                set_detail(r, "the move is still running", NULL, NULL);
                return 0;
        }
        char *text = NULL;
        size_t len = 0;
        int err = read_record(fd, &text, &len);
        if (err < 0) {
                close(fd);
                return err;
        }
        err = vs_journal_parse(text, len, &r->entry);
        free(text);
        if (err == -ENODATA) {
                r->outcome = VS_RECOVERY_EMPTY;
                set_detail(r, "the move never got past its first record", NULL, NULL);
        } else if (err < 0) {
                close(fd);
                return err;
        } else {
                r->parsed = true;
                decide(r, dry_run);
        }
        if (!dry_run && r->outcome == VS_RECOVERY_KEPT)
                mark_kept(dirfd, name, r);
        else if (!dry_run && unlinkat(dirfd, name, 0) < 0 && errno != ENOENT && !r->error)
                r->error = -errno;
        close(fd);
        return 0;
}

int vs_journal_recover_dir(int dirfd, const char *dir_path, enum vs_recovery_mode mode,
                           vs_recovery_report_fn report, void *userdata)
{
        int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        DIR *d = fdopendir(fd);
        if (!d) {
                int e = -errno;
                close(fd);
                return e;
        }
        struct vs_recovery_result *r = malloc(sizeof(*r));
        if (!r) {
                closedir(d);
                return -ENOMEM;
        }
        int acted = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue; /* ., .. and nothing of ours: records are named by id */
                if (mode == VS_RECOVER_LAZY && has_suffix(de->d_name, VS_JOURNAL_KEPT_SUFFIX))
                        continue;
                char path[PATH_MAX];
                struct vs_buf b;
                vs_buf_init(&b, path, sizeof(path));
                vs_buf_puts(&b, dir_path ? dir_path : ".");
                vs_buf_puts(&b, "/");
                vs_buf_puts(&b, de->d_name);
                int e = vs_journal_recover_record(dirfd, de->d_name, path,
                                                  mode == VS_RECOVER_DRY_RUN, r);
                if (e == -ENOENT)
                        continue;
                if (e < 0) {
                        memset(r, 0, sizeof(*r));
                        set_record(r, path);
                        r->outcome = VS_RECOVERY_KEPT;
                        r->error = e;
                        set_detail(r, "cannot read the record: ", strerror(-e), NULL);
                }
                if (r->outcome != VS_RECOVERY_LIVE)
                        acted++;
                if (report)
                        report(r, userdata);
        }
        free(r);
        closedir(d);
        return acted;
}
