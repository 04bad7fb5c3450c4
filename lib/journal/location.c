/* SPDX-License-Identifier: MIT */
/*
 * Where a session keeps its records: a directory only this session's user can reach.  The
 * image says where (VAULTSHIM_JOURNAL, normally inside the personal folder, which only its
 * owner mounts); otherwise the XDG state directory.  A shared folder would let every other
 * user of it forge, read or block records, so nothing here ever falls back to one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/canonical.h"
#include "fmt/fmt.h"
#include "journal/journal.h"

int vs_journal_location(char *out, size_t size)
{
        struct vs_buf b;
        const char *dir = secure_getenv("VAULTSHIM_JOURNAL");
        vs_buf_init(&b, out, size);
        if (dir && *dir) {
                vs_buf_puts(&b, dir);
        } else if ((dir = secure_getenv("XDG_STATE_HOME")) && *dir) {
                vs_buf_puts(&b, dir);
                vs_buf_puts(&b, "/vaultshim/journal");
        } else if ((dir = secure_getenv("HOME")) && *dir) {
                vs_buf_puts(&b, dir);
                vs_buf_puts(&b, "/.local/state/vaultshim/journal");
        } else {
                return -ENOENT;
        }
        if (b.overflow)
                return -ENAMETOOLONG;
        if (out[0] != '/')
                return -EINVAL; /* a relative journal would move with the working directory */
        while (b.len > 1 && out[b.len - 1] == '/')
                out[--b.len] = '\0';
        return 0;
}

/* The deepest existing ancestor of path (path itself if it exists) resolved, plus the rest
 * as written: where the journal is, or will be once its first move makes it. */
int vs_journal_resolve(const char *dir, char *out, size_t size)
{
        char head[PATH_MAX], real[PATH_MAX];
        size_t len = strlen(dir);
        if (dir[0] != '/' || len >= sizeof(head))
                return -EINVAL;
        memcpy(head, dir, len + 1);
        int r;
        while ((r = vs_canonical_path(head, real)) < 0) {
                char *slash = strrchr(head, '/');
                if ((r != -ENOENT && r != -ENOTDIR) || !slash || strcmp(head, "/") == 0)
                        return r;
                if (slash == head)
                        slash[1] = '\0';
                else
                        *slash = '\0';
        }
        size_t head_len = strcmp(head, "/") == 0 ? 0 : strlen(head);
        struct vs_buf b;
        vs_buf_init(&b, out, size);
        vs_buf_puts(&b, strcmp(real, "/") == 0 && dir[head_len] ? "" : real);
        vs_buf_puts(&b, dir + head_len);
        if (b.overflow)
                return -ENAMETOOLONG;
        return 0;
}

/* The mount of the deepest existing ancestor of path (path itself if it exists). */
static int nearest_mount_id(const char *path, uint64_t *id)
{
        char head[PATH_MAX];
        if (strlen(path) >= sizeof(head))
                return -ENAMETOOLONG;
        strcpy(head, path);
        for (;;) {
                int r = vs_mount_id(AT_FDCWD, head, id);
                char *slash = strrchr(head, '/');
                if (r != -ENOENT || !slash || strcmp(head, "/") == 0)
                        return r;
                if (slash == head)
                        slash[1] = '\0';
                else
                        *slash = '\0';
        }
}

static bool strictly_inside(const char *path, const char *dir)
{
        size_t n = strlen(dir);
        return n > 1 ? strncmp(path, dir, n) == 0 && path[n] == '/' && path[n + 1]
                     : path[0] == '/' && path[1];
}

int vs_journal_check_place(const char *resolved, bool in_vault, const char **why)
{
        if (!in_vault)
                return 0; /* the user's own state directory: checked as it is opened */
        const char *personal = secure_getenv("VAULTSHIM_PERSONAL");
        char folder[PATH_MAX];
        if (!personal || personal[0] != '/' || vs_canonical_path(personal, folder) < 0) {
                *why = VS_JOURNAL_PERSONAL_UNKNOWN;
                return -EPERM;
        }
        if (!strictly_inside(resolved, folder)) {
                *why = VS_JOURNAL_OUTSIDE_PERSONAL;
                return -EPERM;
        }
        /* A folder mounted inside the personal one (a shared folder, say) is not private. */
        uint64_t a, b;
        if (vs_mount_id(AT_FDCWD, folder, &a) < 0 || nearest_mount_id(resolved, &b) < 0 || a != b) {
                *why = VS_JOURNAL_OTHER_MOUNT;
                return -EPERM;
        }
        return 0;
}

/* Ours alone: a real directory, owned by us, writable by nobody else. */
static int check_private(int fd)
{
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH)))
                return -EPERM;
        return 0;
}

/* A directory entry made by make_dir() reaches the disk with its parent's fsync. */
static void sync_dir(const char *path)
{
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0) {
                (void)fsync(fd);
                close(fd);
        }
}

/*
 * mkdir path (mode 0700), and up to levels - 1 missing ancestors first.  Iterative: the
 * default location may lack every level below $HOME, and this runs on an application's
 * thread.  The entries of the ancestors made here are synced (once per machine); the
 * journal directory's own is synced with the first record (vs_journal_sync), as always.
 */
static int make_dir(const char *path, unsigned levels)
{
        char p[PATH_MAX];
        size_t len = strlen(path);
        if (len >= sizeof(p))
                return -ENAMETOOLONG;
        memcpy(p, path, len + 1);
        unsigned cut = 0;
        while (mkdir(p, 0700) < 0 && errno != EEXIST) {
                char *slash = strrchr(p, '/');
                if (errno != ENOENT || cut + 1 >= levels || !slash || slash == p)
                        return -errno;
                *slash = '\0';
                cut++;
        }
        for (; cut > 0; cut--) {
                char *end = p + strlen(p);
                *end = '/';
                if (mkdir(p, 0700) < 0 && errno != EEXIST)
                        return -errno;
                if (cut > 1) { /* an ancestor made here: its entry, in its parent */
                        *end = '\0';
                        sync_dir(p);
                        *end = '/';
                }
        }
        return 0;
}

/*
 * How many missing levels vs_journal_dir_open() makes.  The XDG Base Directory spec asks
 * for every missing one of $XDG_STATE_HOME (mode 0700), so the default location works on a
 * fresh machine without ~/.local; a VAULTSHIM_JOURNAL that is set belongs to the image,
 * which lays it out: the directory and at most two missing ancestors.
 */
static unsigned levels_to_make(const char *path)
{
        const char *set = secure_getenv("VAULTSHIM_JOURNAL");
        char fallback[PATH_MAX];
        if ((!set || !*set) && vs_journal_location(fallback, sizeof(fallback)) == 0 &&
            strcmp(fallback, path) == 0)
                return PATH_MAX / 2;
        return 3;
}

int vs_journal_dir_open(const char *path, bool create, bool *created)
{
        *created = false;
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT && create) {
                int r = make_dir(path, levels_to_make(path));
                if (r < 0)
                        return r;
                *created = true;
                fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        if (fd < 0)
                return -errno;
        int r = check_private(fd);
        if (r == 0 && faccessat(fd, ".", W_OK | X_OK, AT_EACCESS) < 0)
                r = -errno;
        if (r < 0) {
                close(fd);
                return r;
        }
        return fd;
}

void vs_journal_dir_remove_if_empty(const char *path)
{
        (void)rmdir(path); /* ENOTEMPTY: another move's record, or one kept for a person */
}
