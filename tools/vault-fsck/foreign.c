/* SPDX-License-Identifier: MIT */
/*
 * Vaultshim once kept its journal in the shared folders themselves.  Anything found there
 * may have been written by any user of the folder, so it is never acted on: it is listed,
 * and removed with --purge-foreign only where this user could remove it anyway (the
 * kernel decides: no privilege is used, nothing outside the walked root is reached).
 * Lock files of movers that died are removed by the lock protocol's own rule.  A set-aside
 * source that no live move holds is put back at the name it carries (or a visible kept
 * name): whoever's move left it, a note in a shared folder must not stay hidden from the
 * others (vaultshim(7)); nothing is deleted, so the worst case is a visible duplicate.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/syscall.h"
#include "fmt/fmt.h"
#include "foreign.h"
#include "journal/journal.h"

#define WALK_DEPTH_MAX 256u
#define WALK_FD_RESERVE 32u

struct level {
        DIR *dir;
        size_t path_len; /* of the path buffer while this level is walked */
};

struct walk {
        const struct foreign_options *o;
        const struct foreign_sink *sink;
        char path[PATH_MAX * 2];
};

static unsigned depth_limit(void)
{
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur <= 2 * WALK_FD_RESERVE)
                return 8;
        rlim_t levels = rl.rlim_cur - WALK_FD_RESERVE;
        return levels < WALK_DEPTH_MAX ? (unsigned)levels : WALK_DEPTH_MAX;
}

/* path + "/" + name in w->path; false when it does not fit (then the path stays). */
static bool push_name(struct walk *w, size_t len, const char *name)
{
        int n = snprintf(w->path + len, sizeof(w->path) - len, "%s%s",
                         len && w->path[len - 1] == '/' ? "" : "/", name);
        return n > 0 && (size_t)n < sizeof(w->path) - len;
}

static void old_record(struct walk *w, int dirfd, const char *name)
{
        int err = 0;
        if (w->o->purge && !w->o->dry_run && unlinkat(dirfd, name, 0) < 0)
                err = -errno;
        w->sink->record(w->path, w->o->purge, err, w->sink->userdata);
}

/* <dir>/.vaultshim: the old journal directory's records, and the lock directory. */
static void vaultshim_dir(struct walk *w, int parentfd, size_t len)
{
        int top = openat(parentfd, ".vaultshim", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (top < 0)
                return;
        static const char *const subdirs[] = { "journal", "locks" };
        for (size_t i = 0; i < 2; i++) {
                int fd = openat(top, subdirs[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                DIR *d = fd < 0 ? NULL : fdopendir(fd);
                if (!d) {
                        if (fd >= 0)
                                close(fd);
                        continue;
                }
                size_t sub_len = strlen(w->path);
                if (!push_name(w, sub_len, subdirs[i])) {
                        closedir(d);
                        continue;
                }
                size_t entry_len = strlen(w->path);
                struct dirent *de;
                while ((de = readdir(d))) {
                        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
                            !push_name(w, entry_len, de->d_name))
                                continue;
                        if (i == 0) {
                                old_record(w, dirfd(d), de->d_name);
                        } else if (!w->o->dry_run) {
                                int r = vs_journal_remove_stale_lock(dirfd(d), de->d_name);
                                if (r != 0)
                                        w->sink->stale_lock(w->path, r < 0 ? r : 0,
                                                            w->sink->userdata);
                        }
                        w->path[entry_len] = '\0';
                }
                closedir(d);
                w->path[sub_len] = '\0';
                if (!w->o->dry_run)
                        (void)unlinkat(top, subdirs[i], AT_REMOVEDIR); /* when empty */
        }
        close(top);
        if (!w->o->dry_run)
                (void)unlinkat(parentfd, ".vaultshim", AT_REMOVEDIR);
        w->path[len] = '\0';
}

/* A live move holds the lock file named after its source (lock.c), which is the set-aside
 * object: its directory's device and its inode. */
static bool held_by_a_live_move(int dirfd, const struct stat *st)
{
        char name[64];
        struct vs_buf b;
        vs_buf_init(&b, name, sizeof(name));
        vs_buf_puts(&b, VS_LOCK_PREFIX);
        vs_buf_putx(&b, (uint64_t)st->st_dev, 0);
        vs_buf_puts(&b, "-");
        vs_buf_putx(&b, (uint64_t)st->st_ino, 0);
        int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return false;
        bool held = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
        close(fd);
        return held;
}

/* Never over anything: RENAME_NOREPLACE, or where the filesystem lacks it a hard link
 * (which fails on an existing name) for a file; a folder waits for a filesystem that has it. */
static int put_back(int dirfd, const char *name, const char *to, bool is_dir)
{
        int r = vs_sys_renameat2(dirfd, name, dirfd, to, RENAME_NOREPLACE);
        if (r != -EINVAL || is_dir)
                return r;
        if (linkat(dirfd, name, dirfd, to, 0) < 0)
                return -errno;
        return unlinkat(dirfd, name, 0) < 0 ? -errno : 0;
}

static void aside_leftover(struct walk *w, int dirfd, const char *name, const struct stat *st)
{
        char home[NAME_MAX + 1], kept[NAME_MAX + 1];
        if (vs_aside_leftover_names(name, home, kept, sizeof(home)) < 0 ||
            held_by_a_live_move(dirfd, st))
                return;
        const char *as = home;
        int err = 0;
        if (!w->o->dry_run) {
                err = put_back(dirfd, name, home, S_ISDIR(st->st_mode));
                if (err == -EEXIST && strcmp(home, kept) != 0) {
                        as = kept;
                        err = put_back(dirfd, name, kept, S_ISDIR(st->st_mode));
                }
        }
        w->sink->leftover(w->path, as, err, w->sink->userdata);
}

static bool is_skipped(const struct walk *w, const struct stat *st)
{
        return st->st_dev == w->o->skip_dev && st->st_ino == w->o->skip_ino;
}

int foreign_scan(const char *root, const struct foreign_options *o, const struct foreign_sink *sink)
{
        struct walk w = { .o = o, .sink = sink };
        if (strlen(root) >= sizeof(w.path))
                return -ENAMETOOLONG;
        strcpy(w.path, root);
        unsigned max_depth = depth_limit();
        struct level *stack = calloc(max_depth, sizeof(*stack));
        if (!stack)
                return -ENOMEM;
        int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = fd < 0 ? NULL : fdopendir(fd);
        if (!d) {
                int e = -errno;
                if (fd >= 0)
                        close(fd);
                free(stack);
                return e;
        }
        size_t n = 0;
        stack[n++] = (struct level){ d, strlen(w.path) };
        while (n > 0) {
                struct level *top = &stack[n - 1];
                w.path[top->path_len] = '\0';
                errno = 0;
                struct dirent *de = readdir(top->dir);
                if (!de) {
                        if (errno)
                                sink->error(w.path, -errno, sink->userdata);
                        closedir(top->dir);
                        n--;
                        continue;
                }
                const char *name = de->d_name;
                if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
                        continue;
                int here = dirfd(top->dir);
                if (strcmp(name, ".vaultshim") == 0) {
                        vaultshim_dir(&w, here, top->path_len);
                        continue;
                }
                if (!push_name(&w, top->path_len, name)) {
                        sink->error(w.path, -ENAMETOOLONG, sink->userdata);
                        continue;
                }
                struct stat st;
                if (fstatat(here, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                if (strncmp(name, VS_JOURNAL_OLD_BESIDE_PREFIX,
                            strlen(VS_JOURNAL_OLD_BESIDE_PREFIX)) == 0 &&
                    !S_ISDIR(st.st_mode)) {
                        old_record(&w, here, name);
                        continue;
                }
                if (strncmp(name, VS_LOCK_PREFIX, strlen(VS_LOCK_PREFIX)) == 0 &&
                    S_ISREG(st.st_mode)) {
                        int r = o->dry_run ? 0 : vs_journal_remove_stale_lock(here, name);
                        if (r != 0)
                                sink->stale_lock(w.path, r < 0 ? r : 0, sink->userdata);
                        continue;
                }
                if (strncmp(name, VS_TEMP_ASIDE_PREFIX, strlen(VS_TEMP_ASIDE_PREFIX)) == 0) {
                        aside_leftover(&w, here, name, &st);
                        continue;
                }
                /* Never into a staging copy: a move's own object. */
                if (!S_ISDIR(st.st_mode) || is_skipped(&w, &st) ||
                    strncmp(name, VS_TEMP_STAGE_PREFIX, strlen(VS_TEMP_STAGE_PREFIX)) == 0)
                        continue;
                if (n >= max_depth) {
                        sink->error(w.path, -ELOOP, sink->userdata); /* too deep: not searched */
                        continue;
                }
                int sub = openat(here, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                DIR *sd = sub < 0 ? NULL : fdopendir(sub);
                if (!sd) {
                        if (sub >= 0)
                                close(sub);
                        sink->error(w.path, -errno, sink->userdata);
                        continue;
                }
                stack[n++] = (struct level){ sd, strlen(w.path) };
        }
        free(stack);
        return 0;
}
