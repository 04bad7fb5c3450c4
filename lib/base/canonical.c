/* SPDX-License-Identifier: MIT */
/*
 * A path the kernel walks without following a symlink names what it says: each ".." goes
 * back to the directory the component before it named (a mount point's parent too), so
 * taking out ".", empty components and each ".." with the component before it gives what
 * realpath(3) gives.  Only such a path is answered here; every other goes to realpath(3),
 * which reads a link per component.  Nothing is kept between calls: each answer is the
 * kernel's walk of that moment, as realpath(3)'s is.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/canonical.h"

/* path (absolute, shorter than PATH_MAX) without ".", empty components and "..": out is
 * never longer than path. */
static void lexical(const char *path, char *out)
{
        size_t len = 0;
        for (const char *p = path; *p;) {
                while (*p == '/')
                        p++;
                const char *end = strchrnul(p, '/');
                size_t n = (size_t)(end - p);
                if (n == 2 && p[0] == '.' && p[1] == '.') {
                        while (len > 0 && out[len - 1] != '/')
                                len--;
                        if (len > 0)
                                len--; /* and its slash; at "/" it stays "/" */
                } else if (n > 0 && !(n == 1 && p[0] == '.')) {
                        out[len++] = '/';
                        memcpy(out + len, p, n);
                        len += n;
                }
                p = end;
        }
        if (len == 0)
                out[len++] = '/';
        out[len] = '\0';
}

/* 0: path is an absolute path to a directory without a symlink on the way; else -errno. */
static int walks_without_symlinks(const char *path)
{
        if (path[0] != '/')
                return -EINVAL; /* from the working directory, which only getcwd(3) names */
        struct open_how how = {
                .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
                .resolve = RESOLVE_NO_SYMLINKS,
        };
        long fd = syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));
        if (fd < 0)
                return -errno; /* ELOOP: a symlink on the way; ENOSYS, EPERM: no openat2 */
        close((int)fd);
        return 0;
}

int vs_canonical_path(const char *path, char *out)
{
        int saved = errno;
        int r = walks_without_symlinks(path);
        if (r == 0)
                lexical(path, out);
        else if (r != -ENOENT) { /* realpath(3) would stop at the same missing component */
                char resolved[PATH_MAX];
                r = realpath(path, resolved) ? 0 : -errno;
                if (r == 0)
                        memcpy(out, resolved, strlen(resolved) + 1);
        }
        errno = saved;
        return r;
}
