/* SPDX-License-Identifier: MIT */
/*
 * Two things can change what the vault should look like: the manifest file, and (with
 * --discover) the mount table itself.
 *
 * The manifest is watched with libinotifytools.  The library keeps its inotify descriptor
 * to itself, so it cannot be poll()ed together with a signalfd or a self-pipe.  Instead
 * SIGTERM/SIGINT/SIGHUP get handlers installed without SA_RESTART: a signal interrupts
 * the library's select() (next_events returns NULL with error EINTR) and we see the flag at
 * once.  A signal landing between our flag check and that select() is caught by the 1 s
 * timeout, so a stop takes at most a second and usually none.  The library is not
 * thread-safe; we use it from the main thread only.  Manifests are usually replaced
 * atomically (temp file + rename), which kills a watch on the file itself, so we watch its
 * directory and filter on the name: MOVED_TO is the atomic replace, CLOSE_WRITE an
 * in-place write, Q_OVERFLOW (wd -1) means events were lost, so we re-render to be safe.
 *
 * The mount table is watched by poll()ing /proc/self/mountinfo: the kernel reports
 * POLLERR|POLLPRI once per change of the namespace's mounts.  That descriptor is ours, so
 * signals stay blocked and ppoll() unblocks them atomically: no race at all.
 *
 * Either way a burst of changes is debounced into one render, DEBOUNCE_MS after the last.
 * A third thing changes the outcome without touching any file: time.  Each render returns
 * the next instant its verdict expires (the manifest's valid_until); the loop wakes at most
 * IDLE_MS after it and renders again, which then reports the expired access.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <inotifytools/inotify.h>
#include <inotifytools/inotifytools.h>

#include "base/clock.h"
#include "watch.h"

#define DEBOUNCE_MS 200
#define QUIET_POLL_MS 20
#define IDLE_MS 1000
#define WATCH_MASK (IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_MOVED_FROM)

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t render_requested;

static void on_signal(int sig)
{
        if (sig == SIGHUP)
                render_requested = 1;
        else
                stop_requested = 1;
}

/* A source of changes: wait up to about timeout_ms; > 0 changed, 0 not, < 0 -errno. */
struct source {
        int (*next)(struct source *s, int timeout_ms);
        /* the manifest's directory (inotify) */
        char *dir;
        char *base;
        int wd;
        /* /proc/self/mountinfo (poll) */
        int fd;
        sigset_t unblocked;
};

static bool relevant(const struct source *s, const struct inotify_event *ev)
{
        if (ev->mask & IN_Q_OVERFLOW)
                return true;
        return ev->wd == s->wd && ev->len > 0 && strcmp(ev->name, s->base) == 0 &&
               (ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO));
}

/* (Re)establish the directory watch; a directory that vanished is retried every pass. */
static bool ensure_watch(struct source *s)
{
        if (s->wd >= 0)
                return true;
        if (!inotifytools_watch_file(s->dir, WATCH_MASK))
                return false;
        /* Directory watches are stored with a trailing slash. */
        char *key = NULL;
        if (asprintf(&key, "%s/", s->dir) < 0)
                return false;
        s->wd = inotifytools_wd_from_filename(key);
        free(key);
        return s->wd >= 0;
}

static int handle_event(struct source *s, const struct inotify_event *ev)
{
        /* IN_IGNORED: the directory was removed or unmounted; the watch is gone. */
        if (ev->wd == s->wd && (ev->mask & IN_IGNORED))
                s->wd = -1;
        return relevant(s, ev);
}

static int next_manifest_change(struct source *s, int timeout_ms)
{
        struct inotify_event *ev;
        int changed = 0;
        if (timeout_ms >= IDLE_MS) {
                /* Whole seconds only; a signal cuts it short (EINTR). */
                ev = inotifytools_next_events(timeout_ms / 1000, 1);
                if (ev)
                        changed |= handle_event(s, ev);
                else if (inotifytools_error() != 0 && inotifytools_error() != EINTR)
                        return -inotifytools_error();
        } else {
                struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)timeout_ms * 1000000};
                nanosleep(&ts, NULL);
        }
        /* next_events(0, ...) polls without blocking (next_event(0) would block forever). */
        while ((ev = inotifytools_next_events(0, 1)))
                changed |= handle_event(s, ev);
        if (s->wd < 0 && ensure_watch(s))
                changed = 1; /* the directory came back: the manifest may be new */
        return changed;
}

static int next_mount_change(struct source *s, int timeout_ms)
{
        struct pollfd pfd = {.fd = s->fd, .events = POLLPRI};
        struct timespec ts = { .tv_sec = timeout_ms / 1000,
                               .tv_nsec = (long)(timeout_ms % 1000) * 1000000 };
        int n = ppoll(&pfd, 1, &ts, &s->unblocked);
        if (n < 0)
                return errno == EINTR ? 0 : -errno;
        return n > 0 && (pfd.revents & (POLLPRI | POLLERR));
}

static int loop(struct source *s, fl_render_fn render, void *ctx)
{
        int64_t wake_at = render(ctx);
        while (!stop_requested) {
                int changed = s->next(s, IDLE_MS);
                if (changed < 0)
                        return changed;
                if (stop_requested)
                        break;
                if (render_requested) {
                        render_requested = 0;
                        changed = 1;
                }
                /* The manifest's valid_until passed: the same files now verify differently. */
                if (wake_at != FL_WAKE_NEVER && (int64_t)time(NULL) >= wake_at) {
                        render_requested = 0;
                        wake_at = render(ctx);
                        continue;
                }
                if (!changed)
                        continue;
                for (int64_t deadline = (int64_t)vs_now_ms() + DEBOUNCE_MS, left;
                     !stop_requested && (left = deadline - (int64_t)vs_now_ms()) > 0;) {
                        int r = s->next(s, left < QUIET_POLL_MS ? (int)left : QUIET_POLL_MS);
                        if (r < 0)
                                return r;
                        if (r > 0)
                                deadline = (int64_t)vs_now_ms() + DEBOUNCE_MS;
                }
                if (!stop_requested)
                        wake_at = render(ctx);
        }
        return 0;
}

static void install_handlers(void)
{
        struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: interrupt waits */
        sigemptyset(&sa.sa_mask);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);
}

int fl_watch(const char *manifest_path, fl_render_fn render, void *ctx, char *error,
             unsigned long error_len)
{
        char *dir_copy = strdup(manifest_path), *base_copy = strdup(manifest_path);
        struct source s = {.next = next_manifest_change, .wd = -1, .fd = -1};
        int r;

        if (!dir_copy || !base_copy) {
                r = -ENOMEM;
                goto out;
        }
        s.dir = dirname(dir_copy);
        s.base = basename(base_copy);
        install_handlers();
        if (!inotifytools_initialize()) {
                r = -inotifytools_error();
                snprintf(error, error_len, "cannot start inotify: %s", strerror(-r));
                goto out;
        }
        /* Watch first, then render: a change made during the first render is not missed. */
        if (!ensure_watch(&s)) {
                r = -inotifytools_error();
                snprintf(error, error_len, "cannot watch %s: %s", s.dir, strerror(-r));
        } else if ((r = loop(&s, render, ctx)) < 0) {
                snprintf(error, error_len, "inotify: %s", strerror(-r));
        }
        inotifytools_cleanup();
out:
        free(dir_copy);
        free(base_copy);
        return r;
}

int fl_watch_mounts(fl_render_fn render, void *ctx, char *error, unsigned long error_len)
{
        struct source s = {.next = next_mount_change, .wd = -1};
        sigset_t blocked;
        int r;

        s.fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
        if (s.fd < 0) {
                r = -errno;
                snprintf(error, error_len, "cannot open /proc/self/mountinfo: %s", strerror(-r));
                return r;
        }
        /* Blocked except inside ppoll(): a signal can only arrive while we wait. */
        sigemptyset(&blocked);
        sigaddset(&blocked, SIGTERM);
        sigaddset(&blocked, SIGINT);
        sigaddset(&blocked, SIGHUP);
        sigprocmask(SIG_BLOCK, &blocked, &s.unblocked);
        sigdelset(&s.unblocked, SIGTERM);
        sigdelset(&s.unblocked, SIGINT);
        sigdelset(&s.unblocked, SIGHUP);
        install_handlers();
        r = loop(&s, render, ctx);
        if (r < 0)
                snprintf(error, error_len, "poll /proc/self/mountinfo: %s", strerror(-r));
        close(s.fd);
        return r;
}
