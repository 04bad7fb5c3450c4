/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal/tree.h"

#define COMPARE_CHUNK (64 * 1024)

static bool is_dot(const char *name)
{
        return name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

/* Open a directory entry for reading its entries, never following a symlink. */
static DIR *open_dir_at(int dirfd, const char *name)
{
        int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return NULL;
        DIR *d = fdopendir(fd);
        if (!d)
                close(fd);
        return d;
}

int vs_journal_tree_remove(int parentfd, const char *name, bool dry_run, unsigned long *removed)
{
        struct stat st;
        if (fstatat(parentfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (S_ISDIR(st.st_mode)) {
                DIR *d = open_dir_at(parentfd, name);
                if (!d)
                        return -errno;
                int r = 0;
                struct dirent *de;
                while ((de = readdir(d))) {
                        if (is_dot(de->d_name))
                                continue;
                        r = vs_journal_tree_remove(dirfd(d), de->d_name, dry_run, removed);
                        if (r < 0)
                                break;
                }
                closedir(d);
                if (r < 0)
                        return r;
        }
        if (!dry_run && unlinkat(parentfd, name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) < 0)
                return errno == ENOENT ? 0 : -errno;
        (*removed)++;
        return 0;
}

int vs_journal_files_equal(int a, int b)
{
        char *buf = malloc(2 * COMPARE_CHUNK);
        if (!buf)
                return -ENOMEM;
        int result = 1;
        for (off_t off = 0;; off += COMPARE_CHUNK) {
                ssize_t na = pread(a, buf, COMPARE_CHUNK, off);
                ssize_t nb = pread(b, buf + COMPARE_CHUNK, COMPARE_CHUNK, off);
                if (na < 0 || nb < 0) {
                        result = -errno;
                        break;
                }
                /* Regular files on local filesystems return full chunks until EOF. */
                if (na != nb || memcmp(buf, buf + COMPARE_CHUNK, (size_t)na) != 0) {
                        result = 0;
                        break;
                }
                if (na == 0)
                        break;
        }
        free(buf);
        return result;
}

static int regular_files_equal(int src_dirfd, const char *src_name, int dst_dirfd,
                               const char *dst_name, const struct stat *src_st)
{
        int r;
        int a = openat(src_dirfd, src_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (a < 0)
                return -errno;
        int b = openat(dst_dirfd, dst_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (b < 0) {
                r = -errno;
                close(a);
                return r;
        }
        struct stat opened;
        /* The name must still be the object we compared by lstat. */
        if (fstat(a, &opened) < 0 || opened.st_ino != src_st->st_ino ||
            opened.st_dev != src_st->st_dev)
                r = 0;
        else
                r = vs_journal_files_equal(a, b);
        close(a);
        close(b);
        return r;
}

static int links_equal(int src_dirfd, const char *src_name, int dst_dirfd, const char *dst_name)
{
        char a[PATH_MAX], b[PATH_MAX];
        ssize_t na = readlinkat(src_dirfd, src_name, a, sizeof(a));
        ssize_t nb = readlinkat(dst_dirfd, dst_name, b, sizeof(b));
        if (na < 0 || nb < 0)
                return -errno;
        return na == nb && memcmp(a, b, (size_t)na) == 0;
}

/* 1 when src is provably represented by dst (ignoring directory contents), 0 when not. */
static int entry_copied(int src_dirfd, const char *src_name, const struct stat *s,
                        int dst_dirfd, const char *dst_name, const struct stat *d)
{
        if ((s->st_mode & S_IFMT) != (d->st_mode & S_IFMT))
                return 0;
        switch (s->st_mode & S_IFMT) {
        case S_IFREG:
                if (s->st_size != d->st_size)
                        return 0;
                return regular_files_equal(src_dirfd, src_name, dst_dirfd, dst_name, s);
        case S_IFLNK:
                return links_equal(src_dirfd, src_name, dst_dirfd, dst_name);
        case S_IFCHR:
        case S_IFBLK:
                return s->st_rdev == d->st_rdev;
        default:
                return 1; /* FIFOs and sockets carry no data */
        }
}

int vs_journal_remove_copied(int src_dirfd, const char *src_name, int dst_dirfd,
                          const char *dst_name, bool dry_run, unsigned long *removed,
                          unsigned long *kept)
{
        struct stat s, d;
        if (fstatat(src_dirfd, src_name, &s, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (fstatat(dst_dirfd, dst_name, &d, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno != ENOENT)
                        return -errno;
                (*kept)++;
                return 0;
        }
        if (S_ISDIR(s.st_mode) && S_ISDIR(d.st_mode)) {
                DIR *sd = open_dir_at(src_dirfd, src_name);
                if (!sd)
                        return -errno;
                int dfd = openat(dst_dirfd, dst_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (dfd < 0) {
                        int e = -errno;
                        closedir(sd);
                        return e;
                }
                unsigned long kept_before = *kept;
                int r = 0;
                struct dirent *de;
                while ((de = readdir(sd))) {
                        if (is_dot(de->d_name))
                                continue;
                        r = vs_journal_remove_copied(dirfd(sd), de->d_name, dfd, de->d_name, dry_run,
                                                  removed, kept);
                        if (r < 0)
                                break;
                }
                if (r == 0 && !dry_run)
                        fsync(dirfd(sd));
                close(dfd);
                closedir(sd);
                if (r < 0)
                        return r;
                if (*kept != kept_before)
                        return 0; /* something inside differs: the directory stays */
                if (!dry_run && unlinkat(src_dirfd, src_name, AT_REMOVEDIR) < 0) {
                        if (errno != ENOTEMPTY && errno != EEXIST)
                                return -errno;
                        (*kept)++; /* a new entry appeared meanwhile */
                        return 0;
                }
                (*removed)++;
                return 0;
        }

        int same = entry_copied(src_dirfd, src_name, &s, dst_dirfd, dst_name, &d);
        if (same < 0)
                return same;
        if (!same) {
                (*kept)++;
                return 0;
        }
        if (!dry_run && unlinkat(src_dirfd, src_name, 0) < 0)
                return errno == ENOENT ? 0 : -errno;
        (*removed)++;
        return 0;
}
