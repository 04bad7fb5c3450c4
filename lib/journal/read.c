/* SPDX-License-Identifier: MIT */
/*
 * Reading a file that another user may have put there: never block (a FIFO named like a
 * record would hang open() and read()), never follow a symlink, never read a device, and
 * never more than the caller's bound.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal/journal.h"

int vs_journal_open_regular(int dirfd, const char *name)
{
        int fd = openat(dirfd, name, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        struct stat st;
        int r = fstat(fd, &st) < 0 ? -errno : S_ISREG(st.st_mode) ? 0 : -EINVAL;
        if (r < 0) {
                close(fd);
                return r;
        }
        return fd;
}

int vs_journal_read_fd(int fd, size_t max, char **text, size_t *len)
{
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EINVAL;
        if ((uint64_t)st.st_size > max)
                return -EFBIG;
        char *buf = malloc((size_t)st.st_size + 1);
        if (!buf)
                return -ENOMEM;
        size_t n = 0;
        while (n < (size_t)st.st_size) {
                ssize_t got = pread(fd, buf + n, (size_t)st.st_size - n, (off_t)n);
                if (got < 0 && errno == EINTR)
                        continue;
                if (got < 0) {
                        int r = -errno;
                        free(buf);
                        return r;
                }
                if (got == 0)
                        break; /* shrank meanwhile: what is there */
                n += (size_t)got;
        }
        buf[n] = '\0';
        *text = buf;
        *len = n;
        return 0;
}

int vs_journal_read_file(int dirfd, const char *name, size_t max, char **text, size_t *len)
{
        int fd = vs_journal_open_regular(dirfd, name);
        if (fd < 0)
                return fd;
        int r = vs_journal_read_fd(fd, max, text, len);
        close(fd);
        return r;
}
