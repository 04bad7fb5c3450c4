/* SPDX-License-Identifier: MIT */
/*
 * Design: libinotifytools keeps its inotify descriptor to itself, so we cannot poll() it
 * together with a signalfd or a self-pipe.  Instead SIGTERM/SIGINT/SIGHUP get handlers
 * installed without SA_RESTART: a signal interrupts the library's select() (next_events
 * then returns NULL with error EINTR) and we see the flag at once.  A signal that lands
 * between our flag check and that select() is caught by the 1 s timeout, so a stop takes
 * at most a second and usually none.  The library is not thread-safe; we use it from the
 * main thread only.
 *
 * The manifest is usually replaced atomically (temp file + rename), which kills a watch on
 * the file itself, so we watch its directory and filter on the name: MOVED_TO is the
 * atomic replace, CLOSE_WRITE an in-place write, Q_OVERFLOW (wd -1) means events were
 * lost, so we re-render to be safe.
 */
#include <errno.h>
#include <libgen.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <inotifytools/inotify.h>
#include <inotifytools/inotifytools.h>

#include "watch.h"

#define DEBOUNCE_MS 200
#define QUIET_POLL_MS 20
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

static int64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct watcher {
        char *dir;
        char *base;
        int wd;        /* -1 while the directory is not watched */
};

static bool relevant(const struct watcher *w, const struct inotify_event *ev)
{
        if (ev->mask & IN_Q_OVERFLOW)
                return true;
        return ev->wd == w->wd && ev->len > 0 && strcmp(ev->name, w->base) == 0 &&
               (ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO));
}

/* (Re)establish the directory watch; a directory that vanished is retried every pass. */
static bool ensure_watch(struct watcher *w)
{
        if (w->wd >= 0)
                return true;
        if (!inotifytools_watch_file(w->dir, WATCH_MASK))
                return false;
        /* Directory watches are stored with a trailing slash. */
        char *key = NULL;
        if (asprintf(&key, "%s/", w->dir) < 0)
                return false;
        w->wd = inotifytools_wd_from_filename(key);
        free(key);
        return w->wd >= 0;
}

/* Note a lost watch (directory removed or unmounted): the kernel sends IN_IGNORED. */
static void track_watch(struct watcher *w, const struct inotify_event *ev)
{
        if (ev->wd == w->wd && (ev->mask & IN_IGNORED))
                w->wd = -1;
}

/* After a change, wait until the manifest has been quiet for DEBOUNCE_MS. */
static void debounce(struct watcher *w)
{
        int64_t deadline = now_ms() + DEBOUNCE_MS;
        while (!stop_requested) {
                int64_t left = deadline - now_ms();
                if (left <= 0)
                        return;
                if (left > QUIET_POLL_MS)
                        left = QUIET_POLL_MS;
                struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)left * 1000000};
                nanosleep(&ts, NULL);
                /* next_events(0, ...) polls without blocking (next_event(0) would block). */
                struct inotify_event *ev;
                while ((ev = inotifytools_next_events(0, 1))) {
                        track_watch(w, ev);
                        if (relevant(w, ev))
                                deadline = now_ms() + DEBOUNCE_MS;
                }
        }
}

int fl_watch(const char *manifest_path, void (*render)(void *ctx), void *ctx, char *error,
             unsigned long error_len)
{
        struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: interrupt select() */
        char *dir_copy = strdup(manifest_path), *base_copy = strdup(manifest_path);
        struct watcher w = {.wd = -1};
        int r = 0;

        if (!dir_copy || !base_copy) {
                r = -ENOMEM;
                goto out;
        }
        w.dir = dirname(dir_copy);
        w.base = basename(base_copy);
        sigemptyset(&sa.sa_mask);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);

        if (!inotifytools_initialize()) {
                r = -inotifytools_error();
                snprintf(error, error_len, "cannot start inotify: %s", strerror(-r));
                goto out;
        }
        /* Watch first, then render: a change made during the first render is not missed. */
        if (!ensure_watch(&w)) {
                r = -inotifytools_error();
                snprintf(error, error_len, "cannot watch %s: %s", w.dir, strerror(-r));
                goto cleanup;
        }
        render(ctx);

        while (!stop_requested) {
                struct inotify_event *ev = inotifytools_next_events(1, 1);
                if (stop_requested)
                        break;
                bool changed = render_requested;
                render_requested = 0;
                if (ev) {
                        track_watch(&w, ev);
                        changed |= relevant(&w, ev);
                } else if (inotifytools_error() != 0 && inotifytools_error() != EINTR) {
                        r = -inotifytools_error();
                        snprintf(error, error_len, "inotify: %s", strerror(-r));
                        break;
                }
                if (w.wd < 0 && ensure_watch(&w))
                        changed = true;   /* the directory came back: the manifest may be new */
                if (!changed)
                        continue;
                debounce(&w);
                if (!stop_requested)
                        render(ctx);
        }
cleanup:
        inotifytools_cleanup();
out:
        free(dir_copy);
        free(base_copy);
        return r;
}
