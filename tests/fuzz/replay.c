/* SPDX-License-Identifier: MIT */
/*
 * The driver a fuzz harness links when the build has no libFuzzer (gcc, or clang without
 * -Dfuzz=true): it runs LLVMFuzzerTestOneInput once over every file named on the command
 * line, and over every regular file of every directory named.  The seed corpus thus stays
 * a regression test of every build, sanitizers included.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Inputs are seeds of a few KiB; a larger file is not a seed. */
#define REPLAY_MAX_BYTES (1u << 20)

static int replay_fd(int fd, const char *name)
{
        struct stat st;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > REPLAY_MAX_BYTES) {
                fprintf(stderr, "replay: %s: not a regular file of at most 1 MiB\n", name);
                return -1;
        }
        uint8_t *data = malloc((size_t)st.st_size + 1);
        if (!data)
                return -1;
        size_t len = 0;
        for (;;) {
                ssize_t n = read(fd, data + len, (size_t)st.st_size + 1 - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                len += (size_t)n;
                if (len > (size_t)st.st_size)
                        break;
        }
        LLVMFuzzerTestOneInput(data, len);
        free(data);
        printf("replayed %s (%zu bytes)\n", name, len);
        return 0;
}

static int replay_path(const char *path)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
                return -1;
        }
        struct stat st;
        if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
                DIR *dir = fdopendir(fd);
                if (!dir) {
                        close(fd);
                        return -1;
                }
                int r = 0;
                for (struct dirent *e; (e = readdir(dir));) {
                        int entry = openat(dirfd(dir), e->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
                        struct stat est;
                        if (entry < 0)
                                continue;
                        if (fstat(entry, &est) == 0 && S_ISREG(est.st_mode)) {
                                char name[4096];
                                snprintf(name, sizeof(name), "%s/%s", path, e->d_name);
                                if (replay_fd(entry, name) < 0)
                                        r = -1;
                        }
                        close(entry);
                }
                closedir(dir);
                return r;
        }
        int r = replay_fd(fd, path);
        close(fd);
        return r;
}

int main(int argc, char **argv)
{
        if (argc < 2) {
                fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
                return 2;
        }
        int status = 0;
        for (int i = 1; i < argc; i++)
                if (replay_path(argv[i]) < 0)
                        status = 1;
        return status;
}
