/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fixture.h"

#define FIXED_MTIME 1600000000

static void die(const char *what, const char *path)
{
        fprintf(stderr, "fixture: %s %s: %s\n", what, path, strerror(errno));
        abort();
}

char *fx_tmpdir(void)
{
        const char *base = getenv("TMPDIR");
        char *tmpl;
        if (asprintf(&tmpl, "%s/vs-move-test.XXXXXX", base && *base ? base : "/tmp") < 0)
                abort();
        if (!mkdtemp(tmpl))
                die("mkdtemp", tmpl);
        chmod(tmpl, 0755);
        return tmpl;
}

int fx_tmpdir_open(char **dir)
{
        *dir = fx_tmpdir();
        int fd = open(*dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                die("open", *dir);
        return fd;
}

void fx_tmpdir_close(char *dir, int dirfd)
{
        close(dirfd);
        fx_rm_rf(dir);
        free(dir);
}

static void fixed_time(const char *path, long index)
{
        struct timespec ts[2] = { { FIXED_MTIME, 111 }, { FIXED_MTIME + index, 123456789 } };
        if (utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW) < 0)
                die("utimensat", path);
}

static void write_file(const char *path, const char *content, off_t at)
{
        int fd = open(path, O_WRONLY | O_CREAT, 0644);
        if (fd < 0 || pwrite(fd, content, strlen(content), at) < 0)
                die("write", path);
        close(fd);
}

void fx_build(const char *root, const char *const *spec)
{
        for (long i = 0; spec && spec[i]; i++) {
                char kind, path[512], arg[512] = "", arg2[64] = "", full[2048];
                if (sscanf(spec[i], "%c %511s %511s %63s", &kind, path, arg, arg2) < 2)
                        abort();
                snprintf(full, sizeof(full), "%s/%s", root, path);
                switch (kind) {
                case 'd':
                        if (mkdir(full, 0755) < 0 && errno != EEXIST)
                                die("mkdir", full);
                        if (arg[0])
                                chmod(full, (mode_t)strtoul(arg, NULL, 8));
                        break;
                case 'f':
                        write_file(full, strcmp(arg, "-") ? arg : "", 0);
                        fixed_time(full, i);
                        if (arg2[0])
                                chmod(full, (mode_t)strtoul(arg2, NULL, 8));
                        break;
                case 's': {
                        char block[4097];
                        memset(block, 'h', 4096);
                        block[4096] = '\0';
                        write_file(full, block, 0);
                        write_file(full, block, 4096 + (1 << 20));
                        if (truncate(full, 8192 + (2 << 20)) < 0)
                                die("truncate", full);
                        fixed_time(full, i);
                        break;
                }
                case 'l':
                        if (symlink(arg, full) < 0)
                                die("symlink", full);
                        fixed_time(full, i);
                        break;
                case 'p':
                        if (mkfifo(full, 0640) < 0)
                                die("mkfifo", full);
                        fixed_time(full, i);
                        break;
                case 'x': {
                        char *eq = strchr(arg, '=');
                        if (!eq)
                                abort();
                        *eq = '\0';
                        if (lsetxattr(full, arg, eq + 1, strlen(eq + 1), 0) < 0)
                                die("setxattr", full);
                        break;
                }
                case 'o': {
                        unsigned uid, gid;
                        if (sscanf(arg, "%u:%u", &uid, &gid) != 2 || lchown(full, uid, gid) < 0)
                                die("chown", full);
                        break;
                }
                case 'k': {
                        char link_path[2100];
                        snprintf(link_path, sizeof(link_path), "%s.link", full);
                        if (link(full, link_path) < 0)
                                die("link", full);
                        break;
                }
                default:
                        abort();
                }
        }
}

static const char *snapshot_root;
static char **snap_lines;
static size_t snap_count, snap_cap;

static void append_content(char **line, const char *path, const struct stat *st)
{
        char buf[64] = "";
        if (S_ISREG(st->st_mode)) {
                FILE *f = fopen(path, "rb");
                unsigned long hash = 5381, n = 0;
                int c;
                while (f && (c = fgetc(f)) != EOF) {
                        hash = hash * 33 + (unsigned)c;
                        n++;
                }
                if (f)
                        fclose(f);
                /* Holes: allocated blocks stay small for a sparse file. */
                snprintf(buf, sizeof(buf), " data=%lx/%lu sparse=%d", hash, n,
                         st->st_blocks * 512 < st->st_size);
        } else if (S_ISLNK(st->st_mode)) {
                ssize_t len = readlink(path, buf + 4, sizeof(buf) - 5);
                memcpy(buf, " -> ", 4);
                buf[len > 0 ? len + 4 : 4] = '\0';
        }
        char *joined;
        if (asprintf(&joined, "%s%s", *line, buf) < 0)
                abort();
        free(*line);
        *line = joined;

        char names[1024];
        ssize_t len = llistxattr(path, names, sizeof(names));
        for (ssize_t off = 0; len > 0 && off < len; off += (ssize_t)strlen(names + off) + 1) {
                char value[256] = "";
                ssize_t vlen = lgetxattr(path, names + off, value, sizeof(value) - 1);
                if (vlen < 0 || strncmp(names + off, "security.", 9) == 0)
                        continue;
                value[vlen] = '\0';
                if (strncmp(names + off, "system.", 7) == 0)
                        snprintf(value, sizeof(value), "<%zd bytes>", vlen);
                if (asprintf(&joined, "%s %s=%s", *line, names + off, value) < 0)
                        abort();
                free(*line);
                *line = joined;
        }
}

static int snapshot_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
        char *line;
        const char *rel = path + strlen(snapshot_root);
        char kind = S_ISDIR(st->st_mode) ? 'd' : S_ISREG(st->st_mode) ? 'f' :
                    S_ISLNK(st->st_mode) ? 'l' : S_ISFIFO(st->st_mode) ? 'p' : '?';
        if (asprintf(&line, "%s %c %04o %u:%u size=%lld", *rel ? rel : "/", kind,
                     (unsigned)(st->st_mode & 07777), st->st_uid, st->st_gid,
                     S_ISDIR(st->st_mode) ? 0LL : (long long)st->st_size) < 0)
                abort();
        if (!S_ISDIR(st->st_mode)) {
                char *timed;
                if (asprintf(&timed, "%s mtime=%lld.%09ld nlink=%lu", line,
                             (long long)st->st_mtim.tv_sec, st->st_mtim.tv_nsec,
                             (unsigned long)st->st_nlink) < 0)
                        abort();
                free(line);
                line = timed;
        }
        append_content(&line, path, st);
        if (snap_count == snap_cap) {
                snap_cap = snap_cap ? snap_cap * 2 : 64;
                snap_lines = realloc(snap_lines, snap_cap * sizeof(*snap_lines));
        }
        snap_lines[snap_count++] = line;
        return 0;
}

static int compare_lines(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

char *fx_snapshot(const char *root)
{
        snapshot_root = root;
        snap_lines = NULL;
        snap_count = snap_cap = 0;
        nftw(root, snapshot_entry, 64, FTW_PHYS);
        qsort(snap_lines, snap_count, sizeof(*snap_lines), compare_lines);
        size_t total = 1;
        for (size_t i = 0; i < snap_count; i++)
                total += strlen(snap_lines[i]) + 1;
        char *out = malloc(total), *p = out;
        *p = '\0';
        for (size_t i = 0; i < snap_count; i++) {
                p = stpcpy(p, snap_lines[i]);
                *p++ = '\n';
                *p = '\0';
                free(snap_lines[i]);
        }
        free(snap_lines);
        return out;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
        if (type == FTW_DP) {
                rmdir(path);
        } else {
                unlink(path);
        }
        return 0;
}

static int unlock_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
        if (type == FTW_D || type == FTW_DNR)
                chmod(path, 0700);
        return 0;
}

void fx_rm_rf(const char *root)
{
        nftw(root, unlock_entry, 64, FTW_PHYS);
        nftw(root, remove_entry, 64, FTW_PHYS | FTW_DEPTH);
}

bool fx_is_root(void)
{
        return geteuid() == 0;
}

int fx_run_as(unsigned uid, int (*fn)(void *), void *arg)
{
        pid_t pid = fork();
        if (pid == 0) {
                if (uid != 0 && (setgroups(0, NULL) < 0 || setresgid(uid, uid, uid) < 0 ||
                                 setresuid(uid, uid, uid) < 0))
                        _exit(125);
                _exit(fn(arg));
        }
        int status;
        if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
                return 126;
        return WEXITSTATUS(status);
}
