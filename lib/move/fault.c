/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "move/internal.h"

static const char *const step_names[VS_STEP_COUNT] = {
#define VS_STEP_NAME(id, name) [VS_STEP_##id] = name,
        VS_STEPS(VS_STEP_NAME)
#undef VS_STEP_NAME
};

const char *vs_step_name(enum vs_step step)
{
        return (unsigned)step < VS_STEP_COUNT ? step_names[step] : "unknown";
}

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

/* Reads the digits after '@' anywhere in spec (default 1). */
static unsigned wanted_hit(const char *spec)
{
        const char *at = strchr(spec, '@');
        unsigned long n = at ? strtoul(at + 1, NULL, 10) : 1;
        return n ? (unsigned)n : 1;
}

int vs_fault_at(enum vs_step step)
{
        static unsigned hits[VS_STEP_COUNT];
        const char *spec = getenv("VAULTSHIM_FAULT");
        if (!spec || !*spec)
                return 0;
        const char *name = vs_step_name(step);
        size_t name_len = strlen(name);
        if (strncmp(spec, name, name_len) != 0 ||
            (spec[name_len] != '\0' && spec[name_len] != ':' && spec[name_len] != '@'))
                return 0;
        unsigned hit = __atomic_add_fetch(&hits[step], 1, __ATOMIC_RELAXED);
        if (hit != wanted_hit(spec))
                return 0;

        /* The action follows ':' and ends at '@' or the end. */
        const char *action = strchr(spec + name_len, ':');
        if (!action)
                _exit(VS_FAULT_CRASH_STATUS);
        action++;
        const char *at = strchr(action, '@');
        size_t len = at ? (size_t)(at - action) : strlen(action);
        if (len == 0 || (len == 4 && strncmp(action, "exit", 4) == 0))
                _exit(VS_FAULT_CRASH_STATUS);
        if (len > 6 && strncmp(action, "sleep=", 6) == 0) {
                unsigned long ms = strtoul(action + 6, NULL, 10);
                struct timespec pause = { .tv_sec = (time_t)(ms / 1000),
                                          .tv_nsec = (long)(ms % 1000) * 1000000 };
                while (nanosleep(&pause, &pause) < 0 && errno == EINTR)
                        ;
                return 0;
        }
        return -parse_errno(action, len);
}
#endif
