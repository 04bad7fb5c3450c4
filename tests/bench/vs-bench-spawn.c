/* vs-bench-spawn: time whole processes, alternating two variants, and print both medians.
 *
 *   vs-bench-spawn ROUNDS LIB [--file SRC SIZE DST | --tree SRC NOTES DST [--settle]]
 *                  -- CMD_A... -- CMD_B...
 *
 * CMD_A runs with LD_PRELOAD=LIB, CMD_B with LD_PRELOAD removed; each round times one of
 * each (the order alternates).  With --file, SRC is written with SIZE bytes and DST removed
 * before every run (outside the timing), and every run must leave DST in place of SRC: that
 * times a move by CMD_A (through the shim) against a move by CMD_B (e.g. GNU mv).  With
 * --tree, SRC is a directory of NOTES small notes in folders of 100 instead.  --settle writes
 * SRC's filesystem back (syncfs) before each timed run, as a note that was not written a
 * moment ago is: a move that syncs its filesystem then pays for its own writes only.
 * Output: "<median ns of A> <median ns of B>".
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vs-test-util.h"

extern char **environ;

struct move_files {
        const char *src;
        const char *dst;
        size_t size;  /* bytes of the file SRC, or ... */
        size_t notes; /* ... notes in the tree SRC when nonzero */
        bool settle;  /* SRC's filesystem written back before each run */
};

#define NOTES_PER_FOLDER 100

static char **environment_with_preload(const char *preload)
{
        size_t n = 0, out = 0;
        char **env;

        while (environ[n] != NULL)
                n++;
        env = calloc(n + 2, sizeof(*env));
        if (env == NULL)
                return NULL;
        for (size_t i = 0; i < n; i++)
                if (strncmp(environ[i], "LD_PRELOAD=", 11) != 0)
                        env[out++] = environ[i];
        if (preload != NULL) {
                size_t len = strlen(preload) + sizeof("LD_PRELOAD=");
                char *entry = malloc(len);

                if (entry == NULL) {
                        free(env);
                        return NULL;
                }
                snprintf(entry, len, "LD_PRELOAD=%s", preload);
                env[out++] = entry;
        }
        return env;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
        return remove(path) < 0 ? -1 : 0;
}

static int write_file(const char *path, size_t size)
{
        static char block[65536];
        size_t left = size;
        int fd;

        memset(block, 'n', sizeof(block));
        fd = open(path, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        while (left > 0) {
                size_t chunk = left < sizeof(block) ? left : sizeof(block);
                ssize_t written = write(fd, block, chunk);

                if (written <= 0) {
                        close(fd);
                        return written < 0 ? -errno : -EIO;
                }
                left -= (size_t)written;
        }
        return close(fd) < 0 ? -errno : 0;
}

static int write_tree(const char *root, size_t notes)
{
        char path[4096];
        int r = 0;

        if (mkdir(root, 0755) < 0)
                return -errno;
        for (size_t i = 0; i < notes && r == 0; i++) {
                snprintf(path, sizeof(path), "%s/folder-%03zu", root, i / NOTES_PER_FOLDER);
                if (i % NOTES_PER_FOLDER == 0 && mkdir(path, 0755) < 0)
                        return -errno;
                snprintf(path, sizeof(path), "%s/folder-%03zu/note-%05zu.md", root,
                         i / NOTES_PER_FOLDER, i);
                r = write_file(path, 300);
        }
        return r;
}

static int prepare_source(const struct move_files *files)
{
        struct stat st;

        if (lstat(files->dst, &st) == 0 &&
            nftw(files->dst, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
                return -errno;
        int r = files->notes ? write_tree(files->src, files->notes)
                             : write_file(files->src, files->size);
        if (r < 0 || !files->settle)
                return r;
        int fd = open(files->src, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        r = syncfs(fd) < 0 ? -errno : 0;
        close(fd);
        return r;
}

static int check_moved(const struct move_files *files)
{
        struct stat st;

        if (lstat(files->src, &st) == 0 || lstat(files->dst, &st) < 0)
                return -EIO;
        if (files->notes ? !S_ISDIR(st.st_mode) : (size_t)st.st_size != files->size)
                return -EIO;
        return 0;
}

static int time_one(char **argv, char **env, const struct move_files *files, uint64_t *ns_out)
{
        posix_spawn_file_actions_t quiet;
        pid_t pid;
        int status, r;
        uint64_t start;

        if (files->src != NULL && (r = prepare_source(files)) < 0)
                return r;
        /* the children's stdout would mix with our result line */
        posix_spawn_file_actions_init(&quiet);
        posix_spawn_file_actions_addopen(&quiet, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
        start = vs_now_ns();
        r = posix_spawn(&pid, argv[0], &quiet, NULL, argv, env);
        posix_spawn_file_actions_destroy(&quiet);
        if (r != 0)
                return -r;
        if (waitpid(pid, &status, 0) < 0)
                return -errno;
        *ns_out = vs_now_ns() - start;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return -ECHILD;
        return files->src != NULL ? check_moved(files) : 0;
}

static int split_commands(int argc, char **argv, int first, char ***a_out, char ***b_out)
{
        int sep = -1;

        if (first >= argc || strcmp(argv[first], "--") != 0)
                return -EINVAL;
        for (int i = first + 1; i < argc; i++) {
                if (strcmp(argv[i], "--") == 0) {
                        sep = i;
                        break;
                }
        }
        if (sep < 0 || sep == first + 1 || sep == argc - 1)
                return -EINVAL;
        argv[sep] = NULL;
        *a_out = &argv[first + 1];
        *b_out = &argv[sep + 1];
        return 0;
}

int main(int argc, char **argv)
{
        struct move_files files = { 0 };
        char **cmd_a, **cmd_b, **env_a, **env_b;
        uint64_t *times_a, *times_b;
        long rounds;
        int next = 3, r;

        if (argc < 4 || (rounds = strtol(argv[1], NULL, 10)) <= 0)
                goto usage;
        if (strcmp(argv[3], "--file") == 0 || strcmp(argv[3], "--tree") == 0) {
                if (argc < 8)
                        goto usage;
                files.src = argv[4];
                *(strcmp(argv[3], "--file") == 0 ? &files.size : &files.notes) =
                        strtoul(argv[5], NULL, 10);
                files.dst = argv[6];
                next = 7;
                if (next < argc && strcmp(argv[next], "--settle") == 0) {
                        files.settle = true;
                        next++;
                }
        }
        if (split_commands(argc, argv, next, &cmd_a, &cmd_b) < 0)
                goto usage;
        env_a = environment_with_preload(argv[2]);
        env_b = environment_with_preload(NULL);
        times_a = calloc((size_t)rounds, sizeof(*times_a));
        times_b = calloc((size_t)rounds, sizeof(*times_b));
        if (env_a == NULL || env_b == NULL || times_a == NULL || times_b == NULL)
                return 1;
        for (long i = 0; i < rounds; i++) {
                int a_first = i % 2 == 0;

                r = time_one(a_first ? cmd_a : cmd_b, a_first ? env_a : env_b, &files,
                             a_first ? &times_a[i] : &times_b[i]);
                if (r == 0)
                        r = time_one(a_first ? cmd_b : cmd_a, a_first ? env_b : env_a, &files,
                                     a_first ? &times_b[i] : &times_a[i]);
                if (r < 0) {
                        fprintf(stderr, "vs-bench-spawn: round %ld: %s\n", i, strerror(-r));
                        return 1;
                }
        }
        vs_print_medians_and_free(times_a, times_b, (size_t)rounds);
        return 0;
usage:
        fprintf(stderr, "usage: vs-bench-spawn ROUNDS LIB [--file SRC SIZE DST | --tree SRC NOTES "
                        "DST [--settle]]\n"
                        "                      -- CMD_A... -- CMD_B...\n");
        return 2;
}
