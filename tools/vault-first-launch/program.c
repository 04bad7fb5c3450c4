/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "program.h"

extern char **environ;

char *fl_find_program(const char *name)
{
        if (strchr(name, '/'))
                return access(name, X_OK) == 0 ? strdup(name) : NULL;
        const char *path = getenv("PATH");
        char *copy = strdup(path ? path : "/usr/local/bin:/usr/bin:/bin"), *save = NULL;
        char *found = NULL;
        for (char *dir = strtok_r(copy, ":", &save); dir && !found;
             dir = strtok_r(NULL, ":", &save)) {
                char *candidate = NULL;
                if (asprintf(&candidate, "%s/%s", dir, name) < 0)
                        break;
                if (access(candidate, X_OK) == 0)
                        found = candidate;
                else
                        free(candidate);
        }
        free(copy);
        return found;
}

static char **build_env(const char *const extra[])
{
        size_t n = 0, k = 0;
        while (environ[n])
                n++;
        while (extra && extra[k])
                k++;
        char **env = calloc(n + k + 1, sizeof(*env));
        if (!env)
                return NULL;
        memcpy(env, extra, k * sizeof(*env));
        memcpy(env + k, environ, n * sizeof(*env));
        return env;
}

int fl_run(const char *const argv[], const char *const extra_env[], char **output)
{
        return fl_run_deadline(argv, extra_env, output, 0);
}

int fl_run_deadline(const char *const argv[], const char *const extra_env[], char **output,
                    unsigned timeout_ms)
{
        posix_spawn_file_actions_t actions;
        char **env = build_env(extra_env);
        char *buf = NULL;
        size_t len = 0;
        int pipefd[2] = {-1, -1}, status, r;
        pid_t pid;

        if (!env)
                return -ENOMEM;
        if (pipe2(pipefd, O_CLOEXEC) < 0) {
                free(env);
                return -errno;
        }
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_adddup2(&actions, pipefd[1], 1);
        posix_spawn_file_actions_adddup2(&actions, pipefd[1], 2);
        r = posix_spawn(&pid, argv[0], &actions, NULL, (char *const *)argv, env);
        posix_spawn_file_actions_destroy(&actions);
        free(env);
        close(pipefd[1]);
        if (r != 0) {
                close(pipefd[0]);
                return -r;
        }
        FILE *mem = open_memstream(&buf, &len);
        char chunk[4096];
        int64_t deadline = timeout_ms ? (int64_t)vs_now_ms() + timeout_ms : 0;
        bool timed_out = false;
        for (;;) {
                if (deadline) {
                        int64_t left = deadline - (int64_t)vs_now_ms();
                        struct pollfd p = { .fd = pipefd[0], .events = POLLIN };
                        int ready = left > 0 ? poll(&p, 1, (int)left) : 0;
                        if (ready < 0 && errno == EINTR)
                                continue;
                        if (ready == 0) {
                                /* Never wait without bound on a child: stop it, say so. */
                                timed_out = true;
                                kill(pid, SIGKILL);
                                break;
                        }
                }
                ssize_t n = read(pipefd[0], chunk, sizeof(chunk));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                if (mem)
                        fwrite(chunk, 1, (size_t)n, mem);
        }
        close(pipefd[0]);
        if (mem)
                fclose(mem);
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR) {
                        free(buf);
                        return -errno;
                }
        if (output)
                *output = buf;
        else
                free(buf);
        if (timed_out)
                return -ETIMEDOUT;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -EINTR;
}
