/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scan.h"

/* Ids of every record seen (whatever its outcome) and staging residue found on the way. */
struct seen {
        char **ids;
        size_t n_ids, cap_ids;
        char **staging;
        size_t n_staging, cap_staging;
};

static int push(char ***list, size_t *n, size_t *cap, const char *s)
{
        if (*n == *cap) {
                size_t c = *cap ? *cap * 2 : 16;
                char **l = realloc(*list, c * sizeof(*l));
                if (!l)
                        return -ENOMEM;
                *list = l;
                *cap = c;
        }
        char *copy = strdup(s);
        if (!copy)
                return -ENOMEM;
        (*list)[(*n)++] = copy;
        return 0;
}

static void free_list(char **list, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(list[i]);
        free(list);
}

struct scan {
        bool dry_run;
        const struct fsck_sink *sink;
        struct seen seen;
};

static void forward_record(const struct vs_recovery_result *r, void *userdata)
{
        struct scan *s = userdata;
        /* A record is named by its id (beside the target, after a prefix). */
        const char *slash = strrchr(r->record, '/');
        const char *name = slash ? slash + 1 : r->record;
        const char *id = vs_journal_id_of_name(name);
        push(&s->seen.ids, &s->seen.n_ids, &s->seen.cap_ids, id ? id : name);
        s->sink->record(r, s->sink->userdata);
}

static int join(char *out, size_t size, const char *dir, const char *name)
{
        int n = snprintf(out, size, "%s%s%s", dir, strcmp(dir, "/") == 0 ? "" : "/", name);
        return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static void scan_journal_dir(struct scan *s, int vaultshim_fd, const char *path)
{
        char journal_path[PATH_MAX];
        if (join(journal_path, sizeof(journal_path), path, "journal") < 0) {
                s->sink->error(path, -ENAMETOOLONG, s->sink->userdata);
                return;
        }
        int fd = openat(vaultshim_fd, "journal", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
                if (errno != ENOENT)
                        s->sink->error(journal_path, -errno, s->sink->userdata);
                return;
        }
        int r = vs_journal_recover_dir(fd, journal_path, s->dry_run, forward_record, s);
        if (r < 0)
                s->sink->error(journal_path, r, s->sink->userdata);
        close(fd);
}

static void scan_dir(struct scan *s, int dirfd, const char *path)
{
        int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = fd < 0 ? NULL : fdopendir(fd);
        if (!d) {
                s->sink->error(path, -errno, s->sink->userdata);
                if (fd >= 0)
                        close(fd);
                return;
        }
        struct dirent *de;
        while ((de = readdir(d))) {
                const char *name = de->d_name;
                if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
                        continue;
                char child[PATH_MAX];
                if (join(child, sizeof(child), path, name) < 0) {
                        s->sink->error(path, -ENAMETOOLONG, s->sink->userdata);
                        continue;
                }

                if (vs_journal_is_beside_record_name(name)) {
                        struct vs_recovery_result *r = malloc(sizeof(*r));
                        if (!r)
                                continue;
                        int e = vs_journal_recover_record(dirfd, name, child, s->dry_run, r);
                        if (e < 0 && e != -ENOENT)
                                s->sink->error(child, e, s->sink->userdata);
                        else if (e == 0)
                                forward_record(r, s);
                        free(r);
                        continue;
                }
                if (vs_journal_is_staging_name(name)) {
                        push(&s->seen.staging, &s->seen.n_staging, &s->seen.cap_staging, child);
                        continue; /* never walk into a staging copy */
                }
                struct stat st;
                if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
                        continue;
                int sub = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sub < 0) {
                        s->sink->error(child, -errno, s->sink->userdata);
                        continue;
                }
                if (strcmp(name, ".vaultshim") == 0)
                        scan_journal_dir(s, sub, child);
                else
                        scan_dir(s, sub, child);
                close(sub);
        }
        closedir(d);
}

static bool id_seen(const struct seen *seen, const char *id)
{
        for (size_t i = 0; i < seen->n_ids; i++)
                if (strcmp(seen->ids[i], id) == 0)
                        return true;
        return false;
}

int fsck_scan_root(const char *root, bool dry_run, const struct fsck_sink *sink)
{
        struct scan s = { .dry_run = dry_run, .sink = sink };
        int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        scan_dir(&s, fd, root);
        close(fd);

        /* Residue is only an orphan if it survived recovery and no record claims it. */
        for (size_t i = 0; i < s.seen.n_staging; i++) {
                const char *path = s.seen.staging[i];
                const char *base = strrchr(path, '/') + 1;
                struct stat st;
                if (lstat(path, &st) < 0)
                        continue;
                if (!id_seen(&s.seen, vs_journal_id_of_name(base)))
                        sink->orphan(path, sink->userdata);
        }
        free_list(s.seen.ids, s.seen.n_ids);
        free_list(s.seen.staging, s.seen.n_staging);
        return 0;
}
