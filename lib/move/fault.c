/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "move/internal.h"

#ifdef VS_FAULT_INJECTION
static const struct {
        const char *name;
        int value;
} errno_names[] = {
        { "EIO", EIO },       { "ENOSPC", ENOSPC }, { "EDQUOT", EDQUOT }, { "EACCES", EACCES },
        { "EPERM", EPERM },   { "EROFS", EROFS },   { "ENOMEM", ENOMEM }, { "EINTR", EINTR },
        { "EAGAIN", EAGAIN }, { "EBUSY", EBUSY },   { "EXDEV", EXDEV },   { "ENOENT", ENOENT },
};

static int parse_errno(const char *s, size_t len)
{
        if (len == 0)
                return 0;
        for (size_t i = 0; i < sizeof(errno_names) / sizeof(errno_names[0]); i++)
                if (strlen(errno_names[i].name) == len && strncmp(errno_names[i].name, s, len) == 0)
                        return errno_names[i].value;
        int v = 0;
        for (size_t i = 0; i < len; i++) {
                if (s[i] < '0' || s[i] > '9' || v > 4095)
                        return EINVAL;
                v = v * 10 + (s[i] - '0');
        }
        return v ? v : EINVAL;
}

static __thread int watched[3] __attribute__((tls_model("initial-exec"))) = { -1, -1, -1 };

void vs_fault_watch(int journal_dirfd, int source_dirfd, int target_dirfd)
{
        watched[0] = journal_dirfd;
        watched[1] = source_dirfd;
        watched[2] = target_dirfd;
}

/* One commit per watched filesystem, in turn, forwards at even steps and backwards at odd
 * ones: a cut between two of them leaves one committed and not the other. */
static void commit_watched(enum vs_step step)
{
        int saved = errno;
        for (int i = 0; i < 3; i++) {
                int dirfd = watched[step % 2 ? 2 - i : i];
                if (dirfd < 0)
                        continue;
                int fd = openat(dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
                if (fd >= 0) {
                        (void)fsync(fd);
                        close(fd);
                }
        }
        errno = saved;
}

int vs_fault_at(enum vs_step step)
{
        static unsigned hits[VS_STEP_COUNT];
        vs_time_reached(VS_TIME_STEP0 + step);
        const char *commits = getenv("VAULTSHIM_FAULT_COMMITS");
        if (commits && strcmp(commits, "1") == 0)
                commit_watched(step);
        const char *spec = getenv("VAULTSHIM_FAULT");
        if (!spec || !*spec)
                return 0;
        const char *name = vs_step_name(step);
        size_t name_len = strlen(name);
        if (strncmp(spec, name, name_len) != 0 ||
            (spec[name_len] != '\0' && spec[name_len] != ':' && spec[name_len] != '@'))
                return 0;

        const char *rest = spec + name_len;
        const char *at = strchr(rest, '@');
        unsigned want = at ? (unsigned)strtoul(at + 1, NULL, 10) : 1;
        unsigned hit = __atomic_add_fetch(&hits[step], 1, __ATOMIC_RELAXED);
        if (hit != (want ? want : 1))
                return 0;
        /* Read on every call (not once): tests set it between moves of one process.
         * The action and @n may come in either order. */
        const char *colon = strchr(rest, ':');
        rest = colon ? colon + 1 : "";
        size_t len = strcspn(rest, "@");
        if (len > 6 && strncmp(rest, "sleep=", 6) == 0) {
                long ms = strtol(rest + 6, NULL, 10);
                int saved = errno;
                struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
                while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                        ;
                errno = saved;
                return 0;
        }
        int err = len == 4 && strncmp(rest, "exit", 4) == 0 ? 0 : parse_errno(rest, len);
        if (err == 0)
                _exit(137); /* what a kill -9 leaves: no cleanup, no atexit */
        return -err;
}
#endif
