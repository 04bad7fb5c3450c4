/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/file.h"

int vs_open_regular(int dirfd, const char *path, unsigned flags)
{
        int oflags = O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
        if (flags & VS_OPEN_NOFOLLOW)
                oflags |= O_NOFOLLOW;
        int fd = openat(dirfd, path, oflags);
        if (fd < 0)
                return -errno;
        struct stat st;
        int r = 0;
        if (fstat(fd, &st) < 0)
                r = -errno;
        else if (S_ISDIR(st.st_mode))
                r = -EISDIR;
        else if (!S_ISREG(st.st_mode))
                r = -EINVAL;
        /* A regular file never blocks; the flag goes so that reads behave as documented. */
        else if (fcntl(fd, F_SETFL, 0) < 0)
                r = -errno;
        if (r < 0) {
                close(fd);
                return r;
        }
        return fd;
}

int vs_read_fd(int fd, size_t max, char **text, size_t *len)
{
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (st.st_size < 0 || (unsigned long long)st.st_size > max)
                return -EFBIG;
        /* st_size is only a hint: /proc files say 0, and a file may grow while it is read. */
        size_t hint = (size_t)st.st_size;
        size_t cap = hint < 4096 ? 4096 : hint + 1, n = 0;
        if (cap > max + 1)
                cap = max + 1;
        char *buf = malloc(cap + 1);
        if (!buf)
                return -ENOMEM;
        int r = 0;
        for (;;) {
                if (n == cap) {
                        if (cap > max) {
                                r = -EFBIG;
                                break;
                        }
                        size_t bigger = cap * 2 > max + 1 ? max + 1 : cap * 2;
                        char *more = realloc(buf, bigger + 1);
                        if (!more) {
                                r = -ENOMEM;
                                break;
                        }
                        buf = more;
                        cap = bigger;
                }
                ssize_t got = pread(fd, buf + n, cap - n, (off_t)n);
                if (got < 0 && errno == EINTR)
                        continue;
                if (got < 0)
                        r = -errno;
                if (got <= 0)
                        break;
                n += (size_t)got;
        }
        if (r == 0 && n > max)
                r = -EFBIG;
        if (r < 0) {
                free(buf);
                return r;
        }
        buf[n] = '\0';
        *text = buf;
        *len = n;
        return 0;
}

int vs_read_file(int dirfd, const char *path, unsigned flags, size_t max, char **text,
                 size_t *len)
{
        int fd = vs_open_regular(dirfd, path, flags);
        if (fd < 0)
                return fd;
        int r = vs_read_fd(fd, max, text, len);
        close(fd);
        return r;
}
