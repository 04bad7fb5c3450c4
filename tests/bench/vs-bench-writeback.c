/* vs-bench-writeback: what it costs to make a freshly written tree of notes durable, by
 * each way a move could: the notes' own writeback in windows (sync_file_range) in the
 * writing thread or by the move engine's helper thread (writeback.c, what a tree move does on
 * ext4 and xfs), an fdatasync per note, or one syncfs of the filesystem (which
 * also writes back every other program's dirty data there), against writing them only.
 *
 *   vs-bench-writeback DIR NOTES ROUNDS [WAY...]
 *
 * Each round writes NOTES notes of 300 bytes in folders of 100 below DIR once per way named
 * (none, window-16, window-256, helper, fdatasync, syncfs; default all; the order rotates),
 * timing the writing and the durability together, as a move's copy and its
 * writeback overlap; between runs (untimed) the notes are removed, which also drops what
 * "none" left dirty (no later way writes it back).  Output: one line per way,
 * "<way> <median ns>".
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "move/internal.h"
#include "vs-test-util.h"

#define NOTES_PER_FOLDER 100
#define NOTE_BYTES 300
#define MAX_WINDOW 256

enum way { WAY_NONE, WAY_WINDOW_16, WAY_WINDOW_256, WAY_HELPER, WAY_FDATASYNC, WAY_SYNCFS, WAYS };
static const char *const way_names[WAYS] = {
        "none", "window-16", "window-256", "helper", "fdatasync", "syncfs",
};

struct window {
        int fds[MAX_WINDOW];
        unsigned size, count, next;
};

static int wait_and_close(int fd)
{
        unsigned all = SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
                       SYNC_FILE_RANGE_WAIT_AFTER;
        int r = sync_file_range(fd, 0, 0, all) < 0 ? -errno : 0;
        close(fd);
        return r;
}

/* Starts fd's writeback; waits for the oldest once the window is full. */
static int window_add(struct window *w, int fd)
{
        int r = sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE) < 0 ? -errno : 0;
        if (w->count == w->size) {
                int waited = wait_and_close(w->fds[w->next]);
                r = r < 0 ? r : waited;
                w->count--;
        }
        w->fds[w->next] = fd;
        w->next = (w->next + 1) % w->size;
        w->count++;
        return r;
}

static int window_drain(struct window *w)
{
        int r = 0;
        for (; w->count > 0; w->count--) {
                int waited = wait_and_close(w->fds[(w->next + w->size - w->count) % w->size]);
                r = r < 0 ? r : waited;
        }
        return r;
}

static int write_note(const char *path, enum way way, struct window *w,
                      struct vs_writeback *helper)
{
        static const char text[NOTE_BYTES] = { 'n' };
        int fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        int r = write(fd, text, sizeof(text)) == (ssize_t)sizeof(text) ? 0 : -EIO;
        if (r == 0 && (way == WAY_WINDOW_16 || way == WAY_WINDOW_256))
                return window_add(w, fd);
        if (r == 0 && way == WAY_HELPER) {
                vs_writeback_add(helper, fd);
                return 0;
        }
        if (r == 0 && way == WAY_FDATASYNC && fdatasync(fd) < 0)
                r = -errno;
        close(fd);
        return r;
}

static int write_tree(const char *root, size_t notes, enum way way)
{
        struct window w = { .size = way == WAY_WINDOW_16 ? 16 : MAX_WINDOW };
        struct vs_writeback helper;
        vs_writeback_start(&helper, VS_WRITEBACK_ORDERED);
        char path[8192];
        int r = mkdir(root, 0755) < 0 ? -errno : 0;
        for (size_t i = 0; i < notes && r == 0; i++) {
                snprintf(path, sizeof(path), "%s/folder-%03zu", root, i / NOTES_PER_FOLDER);
                if (i % NOTES_PER_FOLDER == 0 && mkdir(path, 0755) < 0)
                        r = -errno;
                snprintf(path, sizeof(path), "%s/folder-%03zu/note-%05zu.md", root,
                         i / NOTES_PER_FOLDER, i);
                if (r == 0)
                        r = write_note(path, way, &w, &helper);
        }
        int drained = window_drain(&w), helped = vs_writeback_drain(&helper);
        r = r < 0 ? r : drained < 0 ? drained : helped;
        if (r == 0 && way == WAY_SYNCFS) {
                int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                r = fd < 0 || syncfs(fd) < 0 ? -errno : 0;
                if (fd >= 0)
                        close(fd);
        }
        return r;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
        (void)st, (void)type, (void)ftw;
        return remove(path) < 0 ? -1 : 0;
}

/* Untimed: the last run's notes gone, with any of their pages still dirty. */
static int clean(const char *root)
{
        struct stat st;
        if (lstat(root, &st) == 0 && nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
                return -errno;
        return 0;
}

static int compare_u64(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
        bool chosen[WAYS] = { false };
        int named = 0;
        for (int i = 4; i < argc; i++)
                for (int way = 0; way < WAYS; way++)
                        if (strcmp(argv[i], way_names[way]) == 0 && !chosen[way]) {
                                chosen[way] = true;
                                named++;
                        }
        if (argc < 4 || named != argc - 4) {
                fprintf(stderr, "usage: vs-bench-writeback DIR NOTES ROUNDS [WAY...]\n");
                return 2;
        }
        for (int way = 0; way < WAYS && named == 0; way++)
                chosen[way] = true;
        const char *dir = argv[1];
        size_t notes = strtoul(argv[2], NULL, 10);
        long rounds = strtol(argv[3], NULL, 10);
        char root[4096];
        if (strlen(dir) > 2048)
                return 2;
        snprintf(root, sizeof(root), "%s/vs-bench-writeback", dir);
        struct rlimit nofile;
        if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < 1024 &&
            nofile.rlim_max >= 1024) {
                nofile.rlim_cur = 1024; /* the widest window's descriptors */
                setrlimit(RLIMIT_NOFILE, &nofile);
        }
        uint64_t *times = calloc((size_t)rounds * WAYS, sizeof(*times));
        if (rounds <= 0 || !times)
                return 1;
        for (long i = 0; i < rounds; i++) {
                for (int k = 0; k < WAYS; k++) {
                        enum way way = (enum way)((k + i) % WAYS);
                        if (!chosen[way])
                                continue;
                        int r = clean(root);
                        uint64_t start = vs_now_ns();
                        if (r == 0)
                                r = write_tree(root, notes, way);
                        times[way * rounds + i] = vs_now_ns() - start;
                        if (r < 0) {
                                fprintf(stderr, "vs-bench-writeback: %s: %s\n", way_names[way],
                                        strerror(-r));
                                return 1;
                        }
                }
        }
        clean(root);
        for (int way = 0; way < WAYS; way++) {
                if (!chosen[way])
                        continue;
                qsort(&times[way * rounds], (size_t)rounds, sizeof(*times), compare_u64);
                printf("%s %llu\n", way_names[way],
                       (unsigned long long)times[way * rounds + rounds / 2]);
        }
        free(times);
        return 0;
}
