/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal/paths.h"

int vs_journal_path_split(const char *path, char *dir, size_t size, const char **base)
{
        const char *slash = strrchr(path, '/');
        size_t len = strlen(path);
        if (path[0] != '/' || !slash || slash[1] == '\0')
                return -EINVAL;
        size_t dir_len = slash == path ? 1 : (size_t)(slash - path);
        if (dir_len >= size || len >= PATH_MAX)
                return -ENAMETOOLONG;
        memcpy(dir, path, dir_len);
        dir[dir_len] = '\0';
        *base = slash + 1;
        return 0;
}

int vs_journal_open_parent(const char *path, const char **base)
{
        char dir[PATH_MAX];
        int r = vs_journal_path_split(path, dir, sizeof(dir), base);
        if (r < 0)
                return r;
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

int vs_journal_mkdir_durable(int parentfd, const char *name)
{
        if (mkdirat(parentfd, name, 0700) < 0)
                return errno == EEXIST ? 0 : -errno;
        /* A new directory entry is durable only once its parent is synced. */
        return fsync(parentfd) < 0 ? -errno : 0;
}
