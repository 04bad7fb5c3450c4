/* SPDX-License-Identifier: MIT */
/*
 * Where a session keeps its records: a directory only this session's user can reach.  The
 * image says where (VAULTSHIM_JOURNAL, normally inside the personal folder, which only its
 * owner mounts); otherwise the XDG state directory.  A shared folder would let every other
 * user of it forge, read or block records, so nothing here ever falls back to one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* mkdir path, and once its parent if that is missing too (XDG's ~/.local/state/...). */
static int make_dir(const char *path, int depth)
{
        if (mkdir(path, 0700) == 0 || errno == EEXIST)
                return 0;
        if (errno != ENOENT || depth == 0)
                return -errno;
        char parent[PATH_MAX];
        const char *slash = strrchr(path, '/');
        size_t len = slash ? (size_t)(slash - path) : 0;
        if (len == 0 || len >= sizeof(parent))
                return -ENOENT;
        memcpy(parent, path, len);
        parent[len] = '\0';
        int r = make_dir(parent, depth - 1);
        if (r < 0)
                return r;
        return mkdir(path, 0700) == 0 || errno == EEXIST ? 0 : -errno;
}

int vs_journal_dir_open(const char *path, bool create, bool *created)
{
        *created = false;
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT && create) {
                int r = make_dir(path, 2);
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
