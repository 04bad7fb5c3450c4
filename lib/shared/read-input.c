/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "shared/read-input.h"

static int read_all(int fd, size_t max, size_t hint, char **ret, size_t *len)
{
        /* st_size is only a hint: /proc files say 0, and a file may grow while it is read. */
        size_t cap = hint < 4096 ? 4096 : hint + 1, size = 0;
        char *buf = malloc(cap + 1);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                if (size == cap) {
                        if (cap > max) {
                                free(buf);
                                return -EFBIG;
                        }
                        size_t bigger = cap * 2 > max + 1 ? max + 1 : cap * 2;
                        char *more = realloc(buf, bigger + 1);
                        if (!more) {
                                free(buf);
                                return -ENOMEM;
                        }
                        buf = more;
                        cap = bigger;
                }
                ssize_t n = read(fd, buf + size, cap - size);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        int err = -errno;
                        free(buf);
                        return err;
                }
                if (n == 0)
                        break;
                size += (size_t)n;
        }
        if (size > max) {
                free(buf);
                return -EFBIG;
        }
        buf[size] = '\0';
        *ret = buf;
        *len = size;
        return 0;
}

int vs_read_input(const char *path, size_t max, char **ret, size_t *len)
{
        struct stat st;
        int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        int r = 0;
        if (fstat(fd, &st) < 0)
                r = -errno;
        else if (S_ISDIR(st.st_mode))
                r = -EISDIR;
        else if (!S_ISREG(st.st_mode))
                r = -EINVAL;
        else if (st.st_size < 0 || (unsigned long long)st.st_size > max)
                r = -EFBIG;
        /* A regular file never blocks; clear the flag anyway so reads behave as documented. */
        else if (fcntl(fd, F_SETFL, 0) < 0)
                r = -errno;
        else
                r = read_all(fd, max, (size_t)st.st_size, ret, len);
        close(fd);
        return r;
}

const char *vs_read_input_error(int err, size_t max, char *buf, size_t size)
{
        if (err == -EINVAL)
                snprintf(buf, size, "not a regular file (a FIFO, socket or device)");
        else if (err == -EISDIR)
                snprintf(buf, size, "a directory, not a regular file");
        else if (err == -EFBIG && max % ((size_t)1 << 20) == 0)
                snprintf(buf, size, "larger than %zu MiB", max >> 20);
        else if (err == -EFBIG)
                snprintf(buf, size, "larger than %zu bytes", max);
        else
                snprintf(buf, size, "%s", strerror(-err));
        return buf;
}
