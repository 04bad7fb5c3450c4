/* vs-rename-call: perform exactly one rename-family call and print "ret=<n> errno=<NAME>".
 *
 * Usage: vs-rename-call [--as UID:GID] [--chdir DIR] [--olddir DIR] [--newdir DIR]
 *                       [--umask OCTAL] [--nofile N] rename|renameat|renameat2 OLD NEW [FLAGS]
 *
 * --olddir/--newdir open real directory fds for renameat/renameat2 (default AT_FDCWD).
 * --umask and --nofile set the caller's umask and RLIMIT_NOFILE: rename(2) cares for neither.
 * FLAGS for renameat2: 0, noreplace, exchange, whiteout, names joined by '|', or a number.
 * --as drops to that uid/gid (no supplementary groups) before any path is touched, so the
 * kernel checks every lookup as that user.  errno is set to a sentinel before the call and
 * printed after it even on success: a correct rename leaves the caller's errno alone.
 * A call that leaves more or fewer file descriptors open than before appends " fds=+N".
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vs-test-util.h"

#define ERRNO_SENTINEL ENOTUNIQ

struct call_args {
        const char *as_user;
        const char *chdir_to;
        const char *old_dir;
        const char *new_dir;
        const char *umask;
        const char *nofile;
        const char *call;
        const char *old_path;
        const char *new_path;
        const char *flags;
};

static void usage(void)
{
        fprintf(stderr,
                "usage: vs-rename-call [--as UID:GID] [--chdir DIR] [--olddir DIR] [--newdir DIR]\n"
                "                      [--umask OCTAL] [--nofile N] rename|renameat|renameat2 OLD "
                "NEW [FLAGS]\n");
        exit(2);
}

static int parse_args(int argc, char **argv, struct call_args *out)
{
        struct call_args args = { 0 };
        int i = 1;

        for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
                if (strcmp(argv[i], "--as") == 0)
                        args.as_user = argv[i + 1];
                else if (strcmp(argv[i], "--chdir") == 0)
                        args.chdir_to = argv[i + 1];
                else if (strcmp(argv[i], "--olddir") == 0)
                        args.old_dir = argv[i + 1];
                else if (strcmp(argv[i], "--newdir") == 0)
                        args.new_dir = argv[i + 1];
                else if (strcmp(argv[i], "--umask") == 0)
                        args.umask = argv[i + 1];
                else if (strcmp(argv[i], "--nofile") == 0)
                        args.nofile = argv[i + 1];
                else
                        return -EINVAL;
        }
        if (argc - i < 3 || argc - i > 4)
                return -EINVAL;
        args.call = argv[i];
        args.old_path = argv[i + 1];
        args.new_path = argv[i + 2];
        args.flags = argc - i == 4 ? argv[i + 3] : "0";
        *out = args;
        return 0;
}

static int open_dirfd(const char *dir, int *fd_out)
{
        int fd;

        if (dir == NULL) {
                *fd_out = AT_FDCWD;
                return 0;
        }
        fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        *fd_out = fd;
        return 0;
}

/* Open descriptors of this process, not counting the one used to list them. */
static int count_open_fds(void)
{
        DIR *dir = opendir("/proc/self/fd");
        int count = 0;

        if (dir == NULL)
                return -1;
        while (readdir(dir) != NULL)
                count++;
        closedir(dir);
        return count - 3; /* ".", ".." and the listing's own descriptor */
}

int main(int argc, char **argv)
{
        struct call_args args;
        unsigned int flags = 0;
        int old_fd, new_fd, ret, saved_errno, r, fds_before;

        if (parse_args(argc, argv, &args) < 0)
                usage();
        r = vs_parse_rename_flags(args.flags, &flags);
        if (r < 0) {
                fprintf(stderr, "vs-rename-call: bad flags '%s'\n", args.flags);
                return 2;
        }
        if (args.umask != NULL)
                umask((mode_t)strtoul(args.umask, NULL, 8));
        if (args.nofile != NULL) {
                struct rlimit limit = { strtoul(args.nofile, NULL, 10),
                                        strtoul(args.nofile, NULL, 10) };

                if (setrlimit(RLIMIT_NOFILE, &limit) < 0) {
                        fprintf(stderr, "vs-rename-call: RLIMIT_NOFILE %s: %s\n", args.nofile,
                                strerror(errno));
                        return 2;
                }
        }
        if (args.as_user != NULL) {
                r = vs_drop_privileges(args.as_user);
                if (r < 0) {
                        fprintf(stderr, "vs-rename-call: cannot become %s: %s\n", args.as_user,
                                strerror(-r));
                        return 2;
                }
        }
        if (args.chdir_to != NULL && chdir(args.chdir_to) < 0) {
                fprintf(stderr, "vs-rename-call: chdir %s: %s\n", args.chdir_to, strerror(errno));
                return 2;
        }
        r = open_dirfd(args.old_dir, &old_fd);
        if (r == 0)
                r = open_dirfd(args.new_dir, &new_fd);
        if (r < 0) {
                fprintf(stderr, "vs-rename-call: open directory: %s\n", strerror(-r));
                return 2;
        }

        fds_before = count_open_fds();
        errno = ERRNO_SENTINEL;
        if (strcmp(args.call, "rename") == 0 && old_fd == AT_FDCWD && new_fd == AT_FDCWD &&
            flags == 0)
                ret = rename(args.old_path, args.new_path);
        else if (strcmp(args.call, "renameat") == 0 && flags == 0)
                ret = renameat(old_fd, args.old_path, new_fd, args.new_path);
        else if (strcmp(args.call, "renameat2") == 0)
                ret = renameat2(old_fd, args.old_path, new_fd, args.new_path, flags);
        else
                usage();
        saved_errno = errno;

        /* success that left errno alone prints errno=0; a clobbered errno shows its name */
        if (ret == 0 && saved_errno == ERRNO_SENTINEL)
                saved_errno = 0;
        printf("ret=%d errno=%s", ret, vs_errno_name(saved_errno));
        if (count_open_fds() != fds_before)
                printf(" fds=%+d", count_open_fds() - fds_before);
        printf("\n");
        return 0;
}
