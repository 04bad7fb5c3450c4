/* SPDX-License-Identifier: MIT */
/*
 * Recovery: finish or roll back one interrupted move of this user, from a record of this
 * user's private journal.  Every object is looked up beneath the recorded mount, after
 * proving that the mount there now is the same folder; nothing is followed (no symlink,
 * "..", or other mount), and nothing is deleted that is not proven to be the recorded
 * object (inode and generation, proof.c):
 *   the target is the complete staging -> installed: remove the set-aside source if it is
 *   copy, proven                          the recorded source, unchanged (else keep it);
 *   the target has the staging copy's  -> not proven installed: the source goes back to
 *   inode number, and nothing more        its name, the target is kept, and it is reported;
 *   otherwise                          -> not installed: remove the staging object if it is
 *                                         proven ours, and put the set-aside source back;
 *   a mount that is not the recorded one -> nothing is touched; the record waits for a
 *                                       session that has that folder again.
 * Nothing is ever deleted for being byte-equal to something: equal bytes prove nothing
 * about whose file it is.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/file.h"
#include "base/install-back.h"
#include "base/path.h"
#include "base/remove.h"
#include "base/syscall.h"
#include "fmt/fmt.h"
#include "journal/journal.h"
#include "journal/proof.h"
#include "journal/tree.h"

static void set_detail(struct vs_recovery_result *r, const char *head, const char *value,
                       const char *tail)
{
        struct vs_buf b;
        vs_buf_init(&b, r->detail, sizeof(r->detail));
        vs_buf_puts(&b, head);
        vs_buf_puts(&b, value ? value : "");
        vs_buf_puts(&b, tail ? tail : "");
}

static void set_record(struct vs_recovery_result *r, const char *dir, const char *name)
{
        struct vs_buf b;
        vs_buf_init(&b, r->record, sizeof(r->record));
        vs_buf_puts(&b, dir ? dir : ".");
        vs_buf_puts(&b, "/");
        vs_buf_puts(&b, name);
}

static bool has_suffix(const char *s, const char *suffix)
{
        size_t n = strlen(s), m = strlen(suffix);
        return n >= m && strcmp(s + n - m, suffix) == 0;
}

bool vs_journal_dir_has_entries(int dirfd)
{
        /* getdents64 on a fresh descriptor: no allocation, and an empty dir is one call. */
        char buf[512] __attribute__((aligned(8)));
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

/* One side of the move: a directory beneath a verified mount, and the names in it. */
struct side {
        int dirfd; /* -1 when the directory is gone */
        char base[NAME_MAX + 1];   /* the source or target name */
        char hidden[NAME_MAX + 1]; /* the set-aside source or the staging object */
        bool base_exists, hidden_exists;
        struct vs_identity base_id, hidden_id;
};

static int lookup(int dirfd, const char *name, bool *exists, struct vs_identity *id)
{
        *exists = false;
        int r = vs_identity_at(dirfd, name, id);
        if (r == 0)
                *exists = true;
        return r == -ENOENT ? 0 : r;
}

/* Open the directory of rel beneath the verified mount and look up base and hidden. */
static int side_open(struct side *s, const struct vs_mount_identity *m, const char *rel,
                     const char *hidden)
{
        s->dirfd = -1;
        s->base_exists = s->hidden_exists = false;
        int mnt = vs_mount_open_verified(m);
        if (mnt < 0)
                return mnt;
        struct vs_path_split split;
        int r = vs_path_split(rel, &split);
        if (r == 0 && (strlen(split.last) > NAME_MAX || strlen(hidden) > NAME_MAX))
                r = -ENAMETOOLONG;
        if (r < 0) {
                close(mnt);
                return r;
        }
        strcpy(s->base, split.last);
        strcpy(s->hidden, hidden);
        int fd = vs_open_beneath(mnt, split.parent, O_RDONLY | O_DIRECTORY);
        if (fd == -EACCES)
                fd = vs_open_beneath(mnt, split.parent, O_PATH | O_DIRECTORY);
        close(mnt);
        if (fd == -ENOENT || fd == -ENOTDIR)
                return 0; /* the directory is gone: so is everything in it */
        if (fd < 0)
                return fd;
        s->dirfd = fd;
        r = lookup(fd, s->base, &s->base_exists, &s->base_id);
        if (r == 0)
                r = lookup(fd, s->hidden, &s->hidden_exists, &s->hidden_id);
        return r;
}

static void side_close(struct side *s)
{
        if (s->dirfd >= 0) {
                (void)fsync(s->dirfd); /* make what recovery did durable; EBADF for O_PATH */
                close(s->dirfd);
        }
        s->dirfd = -1;
}

static void keep_after_error(struct vs_recovery_result *r, int err, const char *what)
{
        r->error = err;
        r->outcome = VS_RECOVERY_KEPT;
        set_detail(r, what, ": ", strerror(-err));
}

/* Put the set-aside source back at its name, never over anything; when another file took
 * the name, under its visible kept name: never left hidden. */
static int restore_aside(struct vs_recovery_result *r, struct side *src, bool dry_run)
{
        if (dry_run)
                return 0;
        /* Also where rename has no flags (FUSE: rclone, sshfs, bindfs), never over a name. */
        bool is_dir = src->hidden_exists && S_ISDIR(src->hidden_id.mode);
        int e = vs_install_back(src->dirfd, src->hidden, src->base, is_dir);
        if (e != -EEXIST)
                return e;
        char home[NAME_MAX + 1], kept[NAME_MAX + 1];
        e = vs_aside_leftover_names(src->hidden, home, kept, sizeof(kept));
        if (e == 0)
                e = vs_install_back(src->dirfd, src->hidden, kept, is_dir);
        r->outcome = VS_RECOVERY_KEPT;
        if (e == 0)
                set_detail(r, "the source's name now holds another file: both kept, the source as ",
                           kept, NULL);
        else
                set_detail(r, "the source was set aside as ", src->hidden,
                           " and its name now holds another file: both kept");
        return 1;
}

/* restore_aside(), its failures settling the outcome: true when there is no more to do. */
static bool put_source_back(struct vs_recovery_result *r, struct side *src, bool dry_run)
{
        int e = restore_aside(r, src, dry_run);
        if (e < 0)
                keep_after_error(r, e, "could not put the set-aside source back");
        return e != 0;
}

static void roll_back(struct vs_recovery_result *r, struct side *src, struct side *dst,
                      bool staged, bool aside, bool dry_run)
{
        unsigned long kept = 0;
        if (staged) {
                int e = vs_remove_tree(dst->dirfd, dst->hidden, dry_run, &r->staging_removed,
                                       &kept);
                if (e < 0) {
                        keep_after_error(r, e, "could not remove the staging copy");
                        return;
                }
        }
        if (aside && put_source_back(r, src, dry_run))
                return;
        if (kept) {
                r->outcome = VS_RECOVERY_KEPT;
                set_detail(r, "not installed; part of the staging copy was too deep to remove",
                           NULL, NULL);
                return;
        }
        r->outcome = staged || aside ? VS_RECOVERY_ROLLED_BACK : VS_RECOVERY_CLOSED;
        set_detail(r, staged || aside ? "not installed: the staging copy is gone and the source "
                                        "is back at its name"
                                      : "nothing was installed and nothing of the move is left",
                   NULL, NULL);
}

/* Installed: the source may go if it is provably the one copied. */
static void roll_forward(struct vs_recovery_result *r, struct side *src, struct side *dst,
                         bool dry_run)
{
        const struct vs_journal_entry *e = &r->entry;
        bool aside = src->hidden_exists && vs_identity_same_object(&e->source_id, &src->hidden_id);
        bool named = !aside && src->base_exists &&
                     vs_identity_same_object(&e->source_id, &src->base_id);
        if (!aside && !named && src->hidden_exists) {
                /* At this move's set-aside name, but not the recorded inode number: FUSE makes
                 * numbers up per name (rclone: a hash of it), so there the source itself looks
                 * like another object once set aside.  Putting it back deletes nothing;
                 * closing the record would leave it hidden (vault-fsck's search for leftovers
                 * finds it, the lazy recovery of the next move does not look). */
                if (put_source_back(r, src, dry_run))
                        return;
                r->source_kept++;
                r->outcome = VS_RECOVERY_KEPT;
                set_detail(r, "installed, but what was set aside is not provably the source "
                              "copied (another inode number): it was put back at its name",
                           NULL, NULL);
                return;
        }
        if (!aside && !named) {
                r->outcome = VS_RECOVERY_CLOSED;
                set_detail(r, "installed, and the source is already gone", NULL, NULL);
                return;
        }
        const char *name = aside ? src->hidden : src->base;
        const struct vs_identity *now = aside ? &src->hidden_id : &src->base_id;
        /* Only the recorded source, by generation, never another file with its number. */
        bool proven = vs_proof_source(e, now);
        int err = 0;
        if (!proven) {
                r->source_kept++;
        } else if (e->kind == VS_JOURNAL_TREE) {
                err = vs_journal_remove_copied(src->dirfd, name, dst->dirfd, dst->base, dry_run,
                                               &r->source_removed, &r->source_kept);
        } else {
                /* Set aside, its ctime moved: the aside identity proves it exactly when it
                 * made it into the record, else size and mtime of the planned source do. */
                bool unchanged =
                        aside ? (e->aside_id.known ? vs_identity_unchanged(&e->aside_id, now)
                                                   : vs_identity_same_content(&e->source_id, now))
                              : vs_identity_unchanged(&e->source_id, now) ||
                                        /* put back by the mover, as it recorded */
                                        (e->aside_id.known &&
                                         vs_identity_unchanged(&e->aside_id, now));
                if (!unchanged)
                        r->source_kept++;
                else if (!dry_run && unlinkat(src->dirfd, name, 0) < 0 && errno != ENOENT)
                        err = -errno;
                else
                        r->source_removed++;
        }
        if (err < 0) {
                keep_after_error(r, err, "installed, but removing the source failed");
                return;
        }
        if (r->source_kept) {
                /* Changed since its copy: back where it was, next to the moved copy. */
                if (aside && restore_aside(r, src, dry_run) == 1)
                        return;
                r->outcome = VS_RECOVERY_KEPT;
                set_detail(r, proven ? "installed, but the source changed after it was copied: "
                                       "it was kept"
                                     : "installed, but nothing proves that the source found is "
                                       "the one copied (no generation to compare): it was kept",
                           aside ? " at its name" : "", NULL);
                return;
        }
        r->outcome = VS_RECOVERY_ROLLED_FORWARD;
        set_detail(r, "installed: removed the source, which the target holds", NULL, NULL);
}

/*
 * The target has the inode number of this move's staging copy and nothing more is proven:
 * the copy never completed (someone renamed it there), or another file was given the
 * number.  Deleting the source on that would lose the only whole copy: it goes back to its
 * name, the target is kept, and a person is told.
 */
static void keep_unproven_target(struct vs_recovery_result *r, struct side *src,
                                 enum vs_target_proof proof, bool aside, bool dry_run)
{
        if (aside) {
                if (put_source_back(r, src, dry_run))
                        return;
                r->source_kept++;
        } else if (src->base_exists &&
                   vs_identity_same_object(&r->entry.source_id, &src->base_id)) {
                r->source_kept++;
        }
        r->outcome = VS_RECOVERY_KEPT;
        struct vs_buf b;
        vs_buf_init(&b, r->detail, sizeof(r->detail));
        vs_buf_puts(&b, "not proven installed: the target has the inode number of this move's "
                        "staging copy, ");
        vs_buf_puts(&b, vs_proof_target_why(proof));
        vs_buf_puts(&b, r->source_kept ? "; the source is at its name" : "; no copy of the "
                                                                          "source is left");
        vs_buf_puts(&b, ", the target was kept");
}

/* The lock file a killed mover left beside the object (named after the object's device, which
 * is its directory's, and inode), unless someone holds it. */
static void clear_stale_lock(const struct side *s, const struct vs_identity *id)
{
        struct stat dir;
        if (s->dirfd < 0 || !id->known || fstat(s->dirfd, &dir) < 0)
                return;
        char name[64];
        struct vs_buf b;
        vs_buf_init(&b, name, sizeof(name));
        vs_buf_puts(&b, VS_LOCK_PREFIX);
        vs_buf_putx(&b, (uint64_t)dir.st_dev, 0);
        vs_buf_puts(&b, "-");
        vs_buf_putx(&b, id->ino, 0);
        (void)vs_journal_remove_stale_lock(s->dirfd, name);
}

static void decide(struct vs_recovery_result *r, bool dry_run)
{
        const struct vs_journal_entry *e = &r->entry;
        struct side src = { .dirfd = -1 }, dst = { .dirfd = -1 };
        char aside[NAME_MAX + 1], staging[NAME_MAX + 1];
        int err = vs_journal_aside_name(e, aside, sizeof(aside));
        if (err == 0)
                err = vs_journal_staging_name(e, staging, sizeof(staging));
        if (err == 0)
                err = side_open(&src, &e->source_mount, e->source, aside);
        if (err == 0 && src.dirfd >= 0 && !src.hidden_exists &&
            vs_journal_aside_legacy_name(e, aside, sizeof(aside)) == 0) {
                /* Set aside by an older version, under the id alone. */
                err = lookup(src.dirfd, aside, &src.hidden_exists, &src.hidden_id);
                if (err == 0 && src.hidden_exists)
                        strcpy(src.hidden, aside);
        }
        if (err == 0)
                err = side_open(&dst, &e->target_mount, e->target, staging);
        if (err == -ESTALE) {
                r->outcome = VS_RECOVERY_DEFERRED;
                set_detail(r, "a folder of this move is not mounted as it was: the record waits "
                              "for a session that has it",
                           NULL, NULL);
                goto out;
        }
        if (err < 0) {
                keep_after_error(r, err, "cannot inspect the move's folders");
                goto out;
        }

        enum vs_target_proof target = dst.base_exists ? vs_proof_target(e, &dst.base_id)
                                                      : VS_TARGET_OTHER;
        bool installed = target == VS_TARGET_COMPLETE;
        /* The staging object is removed only when it is provably ours (proof.c); it is
         * installed only after its identity is durable. */
        bool staged = dst.hidden_exists && vs_proof_staging(e, &dst.hidden_id) &&
                      (e->staging_id.known || !installed);
        /* Putting the source back (never over anything) deletes nothing: no proof needed,
         * nor the inode number, which FUSE changes with the name. */
        bool aside_ours = src.hidden_exists;
        if (target != VS_TARGET_OTHER && !installed) {
                keep_unproven_target(r, &src, target, aside_ours, dry_run);
                goto out;
        }
        if (dst.hidden_exists && !staged) {
                if (!installed && aside_ours && put_source_back(r, &src, dry_run))
                        goto out;
                r->outcome = VS_RECOVERY_KEPT;
                set_detail(r, dst.hidden, " is not provably this move's staging copy: kept",
                           !installed && aside_ours ? "; the source is back at its name" : NULL);
                goto out;
        }
        if (installed)
                roll_forward(r, &src, &dst, dry_run);
        else
                roll_back(r, &src, &dst, staged, aside_ours, dry_run);
out:
        if (dry_run) {
                if (src.dirfd >= 0)
                        close(src.dirfd);
                if (dst.dirfd >= 0)
                        close(dst.dirfd);
                return;
        }
        if (r->outcome != VS_RECOVERY_DEFERRED) {
                clear_stale_lock(&src, &e->source_id);
                clear_stale_lock(&dst, &e->target_prev_id);
        }
        side_close(&src);
        side_close(&dst);
}

int vs_journal_recover_record(int dirfd, const char *name, const char *dir_path,
                              enum vs_recovery_mode mode, struct vs_recovery_result *r)
{
        bool dry_run = mode == VS_RECOVER_DRY_RUN;
        memset(r, 0, sizeof(*r));
        set_record(r, dir_path, name);

        int fd = vs_open_regular(dirfd, name, VS_OPEN_NOFOLLOW);
        if (fd == -EISDIR)
                fd = -EINVAL; /* reported as anything else that is not a record file */
        if (fd < 0)
                return fd;
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
        struct stat st;
        int err = fstat(fd, &st) < 0 ? -errno : st.st_nlink == 0 ? -ENOENT : 0;
        if (err == 0)
                err = vs_read_fd(fd, VS_JOURNAL_RECORD_MAX, &text, &len);
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
        if (dry_run || r->outcome == VS_RECOVERY_DEFERRED) {
                /* kept as it is */
        } else if (r->outcome == VS_RECOVERY_KEPT) {
                char kept[NAME_MAX + 1];
                struct vs_buf b;
                vs_buf_init(&b, kept, sizeof(kept));
                vs_buf_puts(&b, name);
                vs_buf_puts(&b, VS_JOURNAL_KEPT_SUFFIX);
                if (!has_suffix(name, VS_JOURNAL_KEPT_SUFFIX) && !b.overflow &&
                    vs_sys_renameat2(dirfd, name, dirfd, kept, RENAME_NOREPLACE) == 0)
                        set_record(r, dir_path, kept);
        } else if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT && !r->error) {
                r->error = -errno;
        }
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
                int e = vs_journal_recover_record(dirfd, de->d_name, dir_path, mode, r);
                if (e == -ENOENT)
                        continue;
                if (e < 0) {
                        memset(r, 0, sizeof(*r));
                        set_record(r, dir_path, de->d_name);
                        r->outcome = VS_RECOVERY_KEPT;
                        r->error = e;
                        set_detail(r, "cannot read the record: ", strerror(-e), NULL);
                }
                if (r->outcome != VS_RECOVERY_LIVE && r->outcome != VS_RECOVERY_DEFERRED)
                        acted++;
                if (report)
                        report(r, userdata);
        }
        free(r);
        closedir(d);
        return acted;
}
