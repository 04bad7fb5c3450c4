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
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "base/install-back.h"
#include "base/walk.h"
#include "fmt/fmt.h"
#include "foreign.h"
#include "journal/journal.h"

struct walk {
        const struct foreign_options *o;
        const struct foreign_sink *sink;
        size_t *lens; /* by depth: the length of the path of the directory walked there */
        char path[PATH_MAX * 2];
};

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
static bool held_by_a_live_move(int dirfd, const struct statx *st)
{
        char name[64];
        struct vs_buf b;
        vs_buf_init(&b, name, sizeof(name));
        vs_buf_puts(&b, VS_LOCK_PREFIX);
        vs_buf_putx(&b, (uint64_t)makedev(st->stx_dev_major, st->stx_dev_minor), 0);
        vs_buf_puts(&b, "-");
        vs_buf_putx(&b, (uint64_t)st->stx_ino, 0);
        int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return false;
        bool held = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
        close(fd);
        return held;
}

/* Put back never over anything, also where rename has no flags (vs_install_back()). */
static void aside_leftover(struct walk *w, int dirfd, const char *name, const struct statx *st)
{
        char home[NAME_MAX + 1], kept[NAME_MAX + 1];
        if (vs_aside_leftover_names(name, home, kept, sizeof(home)) < 0 ||
            held_by_a_live_move(dirfd, st))
                return;
        const char *as = home;
        int err = 0;
        if (!w->o->dry_run) {
                err = vs_install_back(dirfd, name, home, S_ISDIR(st->stx_mode));
                if (err == -EEXIST && strcmp(home, kept) != 0) {
                        as = kept;
                        err = vs_install_back(dirfd, name, kept, S_ISDIR(st->stx_mode));
                }
        }
        w->sink->leftover(w->path, as, err, w->sink->userdata);
}

static bool is_skipped(const struct walk *w, const struct statx *st)
{
        return makedev(st->stx_dev_major, st->stx_dev_minor) == w->o->skip_dev &&
               st->stx_ino == w->o->skip_ino;
}

static bool has_prefix(const char *name, const char *prefix)
{
        return strncmp(name, prefix, strlen(prefix)) == 0;
}

/* An entry of the walk: handled here (VS_WALK_SKIP), or a directory to search (0). */
static int visit(void *ctx, const struct vs_walk_entry *e)
{
        struct walk *w = ctx;
        const char *name = e->name;
        const struct statx *st = e->st;
        size_t len = w->lens[e->depth - 1];
        w->path[len] = '\0';
        if (strcmp(name, ".vaultshim") == 0) {
                vaultshim_dir(w, e->dirfd, len);
                return VS_WALK_SKIP;
        }
        if (!push_name(w, len, name)) {
                w->sink->error(w->path, -ENAMETOOLONG, w->sink->userdata);
                return VS_WALK_SKIP;
        }
        if (has_prefix(name, VS_JOURNAL_OLD_BESIDE_PREFIX) && !S_ISDIR(st->stx_mode)) {
                old_record(w, e->dirfd, name);
        } else if (has_prefix(name, VS_LOCK_PREFIX) && S_ISREG(st->stx_mode)) {
                int r = w->o->dry_run ? 0 : vs_journal_remove_stale_lock(e->dirfd, name);
                if (r != 0)
                        w->sink->stale_lock(w->path, r < 0 ? r : 0, w->sink->userdata);
        } else if (has_prefix(name, VS_TEMP_ASIDE_PREFIX)) {
                aside_leftover(w, e->dirfd, name, st);
        } else if (S_ISDIR(st->stx_mode) && !is_skipped(w, st) &&
                   !has_prefix(name, VS_TEMP_STAGE_PREFIX)) { /* never into a staging copy */
                w->lens[e->depth] = strlen(w->path);
                return 0;
        }
        return VS_WALK_SKIP;
}

static int leaf(void *ctx, const struct vs_walk_entry *e)
{
        (void)visit(ctx, e);
        return 0;
}

static int too_deep(void *ctx, const struct vs_walk_entry *e)
{
        struct walk *w = ctx;
        w->sink->error(w->path, -ELOOP, w->sink->userdata); /* too deep: not searched */
        return 0;
}

/* A directory that could not be opened or read is reported, the walk goes on; an entry
 * gone before its statx is passed by. */
static int failed(void *ctx, const struct vs_walk_entry *e, int err)
{
        struct walk *w = ctx;
        if (!e->st)
                return 0;
        w->path[w->lens[e->depth]] = '\0';
        w->sink->error(w->path, err, w->sink->userdata);
        return 0;
}

int foreign_scan(const char *root, const struct foreign_options *o, const struct foreign_sink *sink)
{
        static const struct vs_walk_ops ops = {
                .enter = visit, .leaf = leaf, .too_deep = too_deep, .failed = failed,
        };
        struct walk w = { .o = o, .sink = sink };
        if (strlen(root) >= sizeof(w.path))
                return -ENAMETOOLONG;
        strcpy(w.path, root);
        int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        struct statx st;
        int r = vs_statx(fd, "", &st);
        w.lens = calloc(vs_walk_depth() + 2, sizeof(*w.lens));
        if (r == 0 && !w.lens)
                r = -ENOMEM;
        if (r == 0) {
                w.lens[0] = strlen(w.path);
                (void)vs_walk_tree(fd, &st, &ops, &w); /* every failure went to the sink */
        }
        free(w.lens);
        close(fd);
        return r;
}
