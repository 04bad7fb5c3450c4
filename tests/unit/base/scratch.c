/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "vs-test-util.h"

#include "scratch.h"

char scratch_top[256];
int scratch_fd = -1;

int scratch_setup(void **state)
{
        if (vs_scratch_create(scratch_top, sizeof(scratch_top), "base") < 0)
                return -1;
        scratch_fd = open(scratch_top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return scratch_fd < 0 ? -1 : 0;
}

int scratch_teardown(void **state)
{
        close(scratch_fd);
        return vs_scratch_remove(scratch_top);
}

void scratch_make(const char *rel, bool dir)
{
        if (dir) {
                assert_int_equal(mkdirat(scratch_fd, rel, 0755), 0);
                return;
        }
        int fd = openat(scratch_fd, rel, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        close(fd);
}

bool scratch_exists(const char *rel)
{
        struct stat st;
        return fstatat(scratch_fd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

void scratch_in_child(int (*fn)(void))
{
        pid_t pid = fork();
        if (pid == 0)
                _exit(fn());
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        if (WEXITSTATUS(status) == 77)
                skip();
        assert_int_equal(WEXITSTATUS(status), 0);
}
