/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "lock.h"
#include "policy/policy.h"

int orch_lock_take(const char *path, int *ret, char why[LOCK_WHY_MAX])
{
        char holder[256] = "", started[VS_TIME_BUF], line[300];
        int r, fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW, 0600);
        if (fd < 0) {
                r = -errno;
                snprintf(why, LOCK_WHY_MAX, "%s: %s", path, strerror(errno));
                return r;
        }
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                r = -errno;
                ssize_t n = pread(fd, holder, sizeof(holder) - 1, 0);
                holder[n > 0 ? n : 0] = '\0';
                holder[strcspn(holder, "\n")] = '\0';
                if (r == -EWOULDBLOCK)
                        snprintf(why, LOCK_WHY_MAX,
                                 "%s is held by another vault-orchestrator (%s); two would "
                                 "fight over the same groups",
                                 path, holder[0] ? holder : "its pid is not recorded yet");
                else
                        snprintf(why, LOCK_WHY_MAX, "%s: %s", path, strerror(-r));
                close(fd);
                return r == -EWOULDBLOCK ? -EBUSY : r;
        }
        vs_time_format((int64_t)time(NULL), started);
        int n = snprintf(line, sizeof(line), "pid %ld, since %s\n", (long)getpid(), started);
        if (ftruncate(fd, 0) < 0 || pwrite(fd, line, (size_t)n, 0) != n) {
                r = errno ? -errno : -EIO;
                snprintf(why, LOCK_WHY_MAX, "%s: %s", path, strerror(-r));
                close(fd);
                return r;
        }
        *ret = fd;
        return 0;
}
