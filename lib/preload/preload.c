/* SPDX-License-Identifier: MIT */
/*
 * LD_PRELOAD wrappers.  The hot path is the real function plus one errno test; only an
 * EXDEV between two paths under a vault root reaches the move engine.  No constructor, no
 * stdio, nothing printed: the configuration is read on the first EXDEV.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <vaultshim/export.h>
#include <vaultshim/move.h>

#include "base/clock.h"
#include "base/syscall.h"
#include "preload/config.h"

/* Declared here rather than through <stdio.h>, which this library never includes. */
VS_EXPORT int rename(const char *oldpath, const char *newpath);
VS_EXPORT int renameat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath);
VS_EXPORT int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath,
                        unsigned int flags);

static struct {
        int (*rename)(const char *, const char *);
        int (*renameat)(int, const char *, int, const char *);
        int (*renameat2)(int, const char *, int, const char *, unsigned int);
} real;
static pthread_once_t real_once = PTHREAD_ONCE_INIT;

static struct vs_shim_config config;
static pthread_once_t config_once = PTHREAD_ONCE_INIT;

/* Set while this thread is inside the engine: anything it renames goes straight through. */
static __thread int in_shim __attribute__((tls_model("initial-exec")));

static void resolve_one(void *slot, const char *name)
{
        void *sym = dlsym(RTLD_NEXT, name);
        memcpy(slot, &sym, sizeof(sym));
}

static void resolve_real(void)
{
        resolve_one(&real.rename, "rename");
        resolve_one(&real.renameat, "renameat");
        resolve_one(&real.renameat2, "renameat2");
}

static void load_config(void)
{
        vs_shim_config_load(&config);
}

/* Where dlsym found no real function (a static libc?): the system call, as libc returns. */
static int raw_renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath,
                         unsigned int flags)
{
        int r = vs_sys_renameat2(olddirfd, oldpath, newdirfd, newpath, flags);
        if (r < 0) {
                errno = -r;
                return -1;
        }
        return 0;
}

/*
 * The entry into rename(), for the move's one deadline (vs_move_opts.started_ms).  The
 * coarse clock (a read of the vDSO page, no system call) keeps the hot path cheap; it lags
 * the precise one by at most a tick, which only makes the deadline earlier.
 */
#define ENTRY_CLOCK CLOCK_MONOTONIC_COARSE

/* The kernel's EXDEV stands for a move under the roots that is not emulated: the audit log
 * says why, since the library itself never prints. */
static int not_emulated(const char *src, const char *dst, const char *why)
{
        if (config.log_path[0]) {
                struct vs_move_stats stats = { .not_emulated = why };
                const struct vs_log_record rec = {
                        .src = src, .dst = dst, .stats = &stats, .result = -EXDEV,
                };
                (void)vs_log_append(config.log_path, &rec);
        }
        errno = EXDEV;
        return -1;
}

/* Called with errno == EXDEV from the real function. */
static int emulate(int olddirfd, const char *oldpath, int newdirfd, const char *newpath,
                   unsigned int flags, int caller_errno, uint64_t started_ms)
{
        pthread_once(&config_once, load_config);
        char src[PATH_MAX], dst[PATH_MAX];
        if (config.disabled || !vs_roots_resolve(&config.roots, olddirfd, oldpath, src) ||
            !vs_roots_resolve(&config.roots, newdirfd, newpath, dst)) {
                errno = EXDEV;
                return -1; /* not the vault's: the kernel's answer stands, unremarked */
        }
        /* RENAME_EXCHANGE and RENAME_WHITEOUT only the kernel can do.  Without a private
         * journal a crash could not be recovered safely, and a journal that others can reach
         * would let them forge or hide records. */
        if (flags & ~(unsigned int)RENAME_NOREPLACE)
                return not_emulated(src, dst, VS_NOT_EMULATED_FLAGS);
        if (!config.journal_dir[0])
                return not_emulated(src, dst, VS_NOT_EMULATED_NO_JOURNAL);
        if (config.journal_refused)
                return not_emulated(src, dst, config.journal_refused);

        in_shim = 1;
        int64_t start_ns = vs_clock_ns(CLOCK_MONOTONIC);
        struct vs_move_stats stats;
        const struct vs_move_opts opts = {
                .stats = &stats, .source_path = src, .target_path = dst,
                .journal_dir = config.journal_dir,
                .journal_transient = config.journal_in_vault,
                .started_ms = started_ms,
                .durable_at_return = config.durable_at_return,
        };
        int r = vs_move(olddirfd, oldpath, newdirfd, newpath, flags, &opts);
        if (config.log_path[0]) {
                const struct vs_log_record rec = {
                        .src = src, .dst = dst, .stats = &stats, .result = r,
                        .duration_ns = (uint64_t)(vs_clock_ns(CLOCK_MONOTONIC) - start_ns),
                };
                (void)vs_log_append(config.log_path, &rec);
        }
        in_shim = 0;

        if (r < 0) {
                errno = -r;
                return -1;
        }
        errno = caller_errno;
        return 0;
}

int rename(const char *oldpath, const char *newpath)
{
        int caller_errno = errno;
        uint64_t started_ms = vs_clock_ms(ENTRY_CLOCK);
        pthread_once(&real_once, resolve_real);
        int r = real.rename ? real.rename(oldpath, newpath)
                            : raw_renameat2(AT_FDCWD, oldpath, AT_FDCWD, newpath, 0);
        if (r == 0 || errno != EXDEV || in_shim)
                return r;
        return emulate(AT_FDCWD, oldpath, AT_FDCWD, newpath, 0, caller_errno, started_ms);
}

int renameat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath)
{
        int caller_errno = errno;
        uint64_t started_ms = vs_clock_ms(ENTRY_CLOCK);
        pthread_once(&real_once, resolve_real);
        int r = real.renameat ? real.renameat(olddirfd, oldpath, newdirfd, newpath)
                              : raw_renameat2(olddirfd, oldpath, newdirfd, newpath, 0);
        if (r == 0 || errno != EXDEV || in_shim)
                return r;
        return emulate(olddirfd, oldpath, newdirfd, newpath, 0, caller_errno, started_ms);
}

int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath,
              unsigned int flags)
{
        int caller_errno = errno;
        uint64_t started_ms = vs_clock_ms(ENTRY_CLOCK);
        pthread_once(&real_once, resolve_real);
        int r = real.renameat2 ? real.renameat2(olddirfd, oldpath, newdirfd, newpath, flags)
                               : raw_renameat2(olddirfd, oldpath, newdirfd, newpath, flags);
        if (r == 0 || errno != EXDEV || in_shim)
                return r;
        return emulate(olddirfd, oldpath, newdirfd, newpath, flags, caller_errno,
                       started_ms);
}
