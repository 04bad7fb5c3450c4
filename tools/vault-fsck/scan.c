/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal/paths.h"
#include "journal/tree.h"
#include "scan.h"

/* Staging residue found on the way, judged after the records are recovered. */
struct residue {
        char **paths;
        size_t n, cap;
};

static int push(struct residue *r, const char *s)
{
        if (r->n == r->cap) {
                size_t c = r->cap ? r->cap * 2 : 16;
                char **l = realloc(r->paths, c * sizeof(*l));
                if (!l)
                        return -ENOMEM;
                r->paths = l;
                r->cap = c;
        }
        char *copy = strdup(s);
        if (!copy)
                return -ENOMEM;
        r->paths[r->n++] = copy;
        return 0;
}

struct scan {
        bool dry_run;
        const struct fsck_sink *sink;
        struct residue residue;
};

static void forward_record(const struct vs_recovery_result *r, void *userdata)
{
        struct scan *s = userdata;
        s->sink->record(r, s->sink->userdata);
}

static int join(char *out, size_t size, const char *dir, const char *name)
{
        int n = snprintf(out, size, "%s%s%s", dir, strcmp(dir, "/") == 0 ? "" : "/", name);
        return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* Lock files of moves whose mover died: empty, harmless, removed unless held. */
static void scan_lock_dir(struct scan *s, int vaultshim_fd, const char *path)
{
        char locks_path[PATH_MAX], lock_path[PATH_MAX];
        int fd = openat(vaultshim_fd, "locks", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        DIR *d = fd < 0 ? NULL : fdopendir(fd);
        if (!d) {
                if (fd >= 0)
                        close(fd);
                return;
        }
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.' || join(locks_path, sizeof(locks_path), path, "locks") < 0 ||
                    join(lock_path, sizeof(lock_path), locks_path, de->d_name) < 0)
                        continue;
                int r = s->dry_run ? 0 : vs_journal_remove_stale_lock(fd, de->d_name);
                if (r < 0)
                        s->sink->error(lock_path, r, s->sink->userdata);
        }
        closedir(d);
}

static void scan_journal_dir(struct scan *s, int vaultshim_fd, const char *path)
{
        scan_lock_dir(s, vaultshim_fd, path);
        char journal_path[PATH_MAX];
        if (join(journal_path, sizeof(journal_path), path, "journal") < 0) {
                s->sink->error(path, -ENAMETOOLONG, s->sink->userdata);
                return;
        }
        int fd = openat(vaultshim_fd, "journal", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
                if (errno != ENOENT)
                        s->sink->error(journal_path, -errno, s->sink->userdata);
                return;
        }
        int r = vs_journal_recover_dir(fd, journal_path,
                                       s->dry_run ? VS_RECOVER_DRY_RUN : VS_RECOVER_REPAIR,
                                       forward_record, s);
        if (r < 0)
                s->sink->error(journal_path, r, s->sink->userdata);
        close(fd);
}

static void scan_dir(struct scan *s, int dirfd, const char *path)
{
        int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = fd < 0 ? NULL : fdopendir(fd);
        if (!d) {
                s->sink->error(path, -errno, s->sink->userdata);
                if (fd >= 0)
                        close(fd);
                return;
        }
        struct dirent *de;
        while ((de = readdir(d))) {
                const char *name = de->d_name;
                if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
                        continue;
                char child[PATH_MAX];
                if (join(child, sizeof(child), path, name) < 0) {
                        s->sink->error(path, -ENAMETOOLONG, s->sink->userdata);
                        continue;
                }

                if (vs_journal_is_beside_record_name(name)) {
                        struct vs_recovery_result *r = malloc(sizeof(*r));
                        if (!r)
                                continue;
                        int e = vs_journal_recover_record(dirfd, name, child, s->dry_run, r);
                        if (e < 0 && e != -ENOENT)
                                s->sink->error(child, e, s->sink->userdata);
                        else if (e == 0)
                                forward_record(r, s);
                        free(r);
                        continue;
                }
                if (vs_journal_is_staging_name(name)) {
                        if (push(&s->residue, child) < 0)
                                s->sink->error(child, -ENOMEM, s->sink->userdata);
                        continue; /* never walk into a staging copy */
                }
                struct stat st;
                if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
                        continue;
                int sub = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sub < 0) {
                        s->sink->error(child, -errno, s->sink->userdata);
                        continue;
                }
                if (strcmp(name, ".vaultshim") == 0)
                        scan_journal_dir(s, sub, child);
                else
                        scan_dir(s, sub, child);
                close(sub);
        }
        closedir(d);
}

/*
 * Staging residue without a record: the engine makes the record durable before it
 * installs, and the install removes the staging name, so this copy was never installed and
 * its source was never touched.  A live move always has its record first, so it is never
 * mistaken for one.
 */
static void remove_orphan(struct scan *s, const char *path)
{
        struct stat st;
        if (lstat(path, &st) < 0 || vs_journal_record_exists(path))
                return;
        unsigned long removed = 0;
        const char *base;
        int dirfd = vs_journal_open_parent(path, &base);
        int r = dirfd < 0 ? dirfd : vs_journal_tree_remove(dirfd, base, s->dry_run, &removed);
        if (dirfd >= 0) {
                if (r == 0 && !s->dry_run)
                        fsync(dirfd);
                close(dirfd);
        }
        s->sink->orphan(path, removed, r, s->sink->userdata);
}

int fsck_scan_root(const char *root, bool dry_run, const struct fsck_sink *sink)
{
        struct scan s = { .dry_run = dry_run, .sink = sink };
        int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        scan_dir(&s, fd, root);
        close(fd);

        for (size_t i = 0; i < s.residue.n; i++) {
                remove_orphan(&s, s.residue.paths[i]);
                free(s.residue.paths[i]);
        }
        free(s.residue.paths);
        return 0;
}
