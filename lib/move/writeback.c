/* SPDX-License-Identifier: MIT */
/*
 * A staged tree's files made durable before its install by their own writeback, never by a
 * syncfs(), which would also write back and wait for every other program's dirty data on
 * that filesystem: the move's time must not depend on what others have written.
 *
 * Writing a small file back costs about as much CPU as copying it (the filesystem allocates
 * its blocks then), so it runs beside the copy: the copying thread hands each staged file,
 * still open, to one helper thread, which starts the writeback of every file it was handed
 * (sync_file_range) and then waits for each (or, where the order is not proven, fsyncs it)
 * and closes it.  On a filesystem in memory (tmpfs) nothing survives a power cut and the
 * files are closed at once.  Where no thread can be made, or the tree is small, the copying
 * thread does the same itself, a batch at a time.  At most VS_WRITEBACK_QUEUE descriptors are
 * held (inside walk.c's reserve); the helper blocks every signal, and cancellation of the
 * caller is off while it runs, so the caller cannot leave it behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include "base/syscall.h"
#include "move/internal.h"

/* The helper is woken when this many files wait (or when the caller must wait): one wake
 * per batch, not one per file. */
#define VS_WRITEBACK_BATCH 8
#define VS_WRITEBACK_STACK (64 * 1024)

/* Starts the writeback of each of fds[0..n), then waits for each (or flushes it) and closes
 * it; *flushes counts the fsync calls.  Returns 0 or the first failure. */
static int write_back(enum vs_writeback_mode mode, const int *fds, unsigned n,
                      unsigned *flushes)
{
        int r = 0;
        for (unsigned i = 0; i < n; i++)
                if (sync_file_range(fds[i], 0, 0, SYNC_FILE_RANGE_WRITE) < 0 && r == 0)
                        r = -errno;
        for (unsigned i = 0; i < n; i++) {
                int done;
                if (mode == VS_WRITEBACK_FLUSH) {
                        (*flushes)++;
                        done = fsync(fds[i]) < 0 ? -errno : 0;
                } else {
                        done = vs_sys_writeback(fds[i]);
                }
                if (done < 0 && r == 0)
                        r = done;
                close(fds[i]);
        }
        return r;
}

/* Moves the queued descriptors to batch (the lock held): how many. */
static unsigned take_queued(struct vs_writeback *w, int *batch)
{
        unsigned n = w->queued;
        for (unsigned i = 0; i < n; i++)
                batch[i] = w->fds[(w->head + i) % VS_WRITEBACK_QUEUE];
        w->head = (w->head + n) % VS_WRITEBACK_QUEUE;
        w->queued = 0;
        return n;
}

static void finished(struct vs_writeback *w, unsigned n, int r, unsigned flushes)
{
        w->outstanding -= n;
        w->flushes += flushes;
        if (r < 0 && w->error == 0)
                w->error = r;
}

static void *helper(void *arg)
{
        struct vs_writeback *w = arg;
        int batch[VS_WRITEBACK_QUEUE];
        pthread_mutex_lock(&w->lock);
        for (;;) {
                while (w->queued == 0 && !w->closing) {
                        w->helper_waiting = true;
                        pthread_cond_wait(&w->wake, &w->lock);
                        w->helper_waiting = false;
                }
                if (w->queued == 0)
                        break;
                unsigned n = take_queued(w, batch), flushes = 0;
                pthread_mutex_unlock(&w->lock);
                int r = write_back(w->mode, batch, n, &flushes);
                pthread_mutex_lock(&w->lock);
                finished(w, n, r, flushes);
                if (w->caller_waiting)
                        pthread_cond_broadcast(&w->wake);
        }
        pthread_mutex_unlock(&w->lock);
        return NULL;
}

/* The helper, made with every signal blocked (the caller's own handlers must run in the
 * caller's threads) and a small stack; false when it could not be made. */
static bool start_helper(struct vs_writeback *w)
{
        sigset_t all, old;
        pthread_attr_t attr;
        if (pthread_attr_init(&attr) != 0)
                return false;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        bool made = pthread_attr_setstacksize(&attr, VS_WRITEBACK_STACK) == 0 &&
                    pthread_create(&w->thread, &attr, helper, w) == 0;
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        pthread_attr_destroy(&attr);
        return made;
}

void vs_writeback_start(struct vs_writeback *w, enum vs_writeback_mode mode)
{
        *w = (struct vs_writeback){ .mode = mode };
        pthread_mutex_init(&w->lock, NULL);
        pthread_cond_init(&w->wake, NULL);
        pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &w->cancel_state);
}

/* Without a helper: the caller writes the queued files back itself (no lock needed). */
static void write_back_here(struct vs_writeback *w)
{
        int batch[VS_WRITEBACK_QUEUE];
        unsigned flushes = 0, n = take_queued(w, batch);
        int r = write_back(w->mode, batch, n, &flushes);
        finished(w, n, r, flushes);
}

void vs_writeback_add(struct vs_writeback *w, int fd)
{
        if (w->mode == VS_WRITEBACK_NONE) {
                close(fd);
                return;
        }
        if (!w->threaded && !w->no_helper && w->queued + 1 >= VS_WRITEBACK_BATCH) {
                w->threaded = start_helper(w);
                w->no_helper = !w->threaded;
        }
        if (!w->threaded) {
                if (w->outstanding == VS_WRITEBACK_QUEUE)
                        write_back_here(w);
        } else {
                pthread_mutex_lock(&w->lock);
                while (w->outstanding == VS_WRITEBACK_QUEUE) {
                        pthread_cond_broadcast(&w->wake);
                        w->caller_waiting = true;
                        pthread_cond_wait(&w->wake, &w->lock);
                        w->caller_waiting = false;
                }
        }
        w->fds[(w->head + w->queued) % VS_WRITEBACK_QUEUE] = fd;
        w->queued++;
        w->outstanding++;
        if (w->threaded) {
                if (w->helper_waiting && w->queued >= VS_WRITEBACK_BATCH)
                        pthread_cond_signal(&w->wake);
                pthread_mutex_unlock(&w->lock);
        }
}

int vs_writeback_drain(struct vs_writeback *w)
{
        if (w->threaded) {
                pthread_mutex_lock(&w->lock);
                w->closing = true;
                pthread_cond_broadcast(&w->wake);
                pthread_mutex_unlock(&w->lock);
                pthread_join(w->thread, NULL);
                w->threaded = false;
        }
        if (w->queued > 0)
                write_back_here(w);
        pthread_cond_destroy(&w->wake);
        pthread_mutex_destroy(&w->lock);
        int ignored;
        pthread_setcancelstate(w->cancel_state, &ignored);
        return w->error;
}
