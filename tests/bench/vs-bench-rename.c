/* vs-bench-rename DIR ROUNDS BATCH: the cost of a successful same-mount rename(2) through
 * the shim's wrapper against libc's own rename, side by side in one process.
 *
 * Run with the shim preloaded: `rename` then binds to the wrapper, while the pointer taken
 * from libc.so.6 itself bypasses it.  Batches of BATCH calls alternate between the two for
 * ROUNDS rounds, so load on the machine hits both alike; the medians of the per-call times
 * are printed as "<through rename> <libc direct>" in nanoseconds.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vs-test-util.h"

typedef int rename_fn(const char *, const char *);

static int time_batch(rename_fn *fn, const char *a, const char *b, long batch, uint64_t *ns_out)
{
        uint64_t start = vs_now_ns();

        for (long i = 0; i < batch; i++)
                if (fn(a, b) < 0 || fn(b, a) < 0)
                        return -errno;
        *ns_out = (vs_now_ns() - start) / (uint64_t)(2 * batch);
        return 0;
}

int main(int argc, char **argv)
{
        char a[4096], b[4096];
        long rounds, batch;
        uint64_t *wrapped, *direct;
        rename_fn *libc_rename;
        void *libc;
        int fd, r = 0;

        if (argc != 4 || (rounds = strtol(argv[2], NULL, 10)) <= 0 ||
            (batch = strtol(argv[3], NULL, 10)) <= 0) {
                fprintf(stderr, "usage: vs-bench-rename DIR ROUNDS BATCH\n");
                return 2;
        }
        libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
        libc_rename = NULL;
        if (libc != NULL) {
                void *symbol = dlsym(libc, "rename");

                /* POSIX dlsym: a data pointer that holds a function's address */
                memcpy(&libc_rename, &symbol, sizeof(libc_rename));
        }
        wrapped = calloc((size_t)rounds, sizeof(*wrapped));
        direct = calloc((size_t)rounds, sizeof(*direct));
        if (libc_rename == NULL || wrapped == NULL || direct == NULL) {
                fprintf(stderr, "vs-bench-rename: cannot find libc's rename\n");
                return 1;
        }
        snprintf(a, sizeof(a), "%s/bench-a", argv[1]);
        snprintf(b, sizeof(b), "%s/bench-b", argv[1]);
        fd = open(a, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) {
                fprintf(stderr, "vs-bench-rename: %s: %s\n", a, strerror(errno));
                return 1;
        }
        close(fd);
        /* warm up both paths: the shim resolves the real function on first use */
        r = time_batch(rename, a, b, 1, &wrapped[0]);
        if (r == 0)
                r = time_batch(libc_rename, a, b, 1, &direct[0]);
        for (long i = 0; i < rounds && r == 0; i++) {
                rename_fn *first = i % 2 ? rename : libc_rename,
                          *second = i % 2 ? libc_rename : rename;

                r = time_batch(first, a, b, batch, i % 2 ? &wrapped[i] : &direct[i]);
                if (r == 0)
                        r = time_batch(second, a, b, batch, i % 2 ? &direct[i] : &wrapped[i]);
        }
        unlink(a);
        if (r < 0) {
                fprintf(stderr, "vs-bench-rename: rename: %s\n", strerror(-r));
                return 1;
        }
        vs_print_medians_and_free(wrapped, direct, (size_t)rounds);
        return 0;
}
