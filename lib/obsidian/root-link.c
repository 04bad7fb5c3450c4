/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "obsidian/obsidian.h"

#define BACKUP_SUFFIX ".before-vaultshim"

static char *join(const char *a, const char *b)
{
        char *s = NULL;
        return asprintf(&s, "%s/%s", a, b) < 0 ? NULL : s;
}

/*
 * Copy what dst lacks from src, recursively.  A copy, not a rename: the vault root and the
 * personal folder are different mounts, so rename(2) would fail with EXDEV.
 */
static int copy_missing(const char *src, const char *dst, struct vs_changes *changes,
                        struct vs_diags *diags)
{
        DIR *dir = opendir(src);
        struct dirent *de;
        int r = 0;
        if (!dir) {
                r = -errno;
                vs_diags_add(diags, src, 0, 0, "cannot read directory: %s", strerror(-r));
                return r;
        }
        while (r == 0 && (errno = 0, de = readdir(dir))) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                char *from = join(src, de->d_name), *to = join(dst, de->d_name);
                char *data = NULL;
                size_t len;
                struct stat st, existing;
                if (!from || !to) {
                        r = -ENOMEM;
                } else if (lstat(from, &st) < 0) {
                        r = -errno;
                        vs_diags_add(diags, from, 0, 0, "cannot stat: %s", strerror(-r));
                } else if (S_ISDIR(st.st_mode)) {
                        r = vs_mkdir_p(to, st.st_mode & 07777, changes, diags);
                        if (r == 0 && !changes->dry_run)
                                r = copy_missing(from, to, changes, diags);
                } else if (lstat(to, &existing) == 0) {
                        /* The personal copy wins; the old one stays in the backup. */
                } else if (S_ISREG(st.st_mode)) {
                        r = vs_file_read(from, &data, &len);
                        if (r < 0)
                                vs_file_read_failed(diags, from, r);
                        else
                                r = vs_file_update(to, data, len, st.st_mode & 07777, changes,
                                                   diags);
                } else if (S_ISLNK(st.st_mode)) {
                        char target[4096];
                        ssize_t n = readlink(from, target, sizeof(target) - 1);
                        if (n >= 0) {
                                target[n] = '\0';
                                if (!changes->dry_run && symlink(target, to) < 0)
                                        n = -1;
                        }
                        if (n < 0) {
                                r = -errno;
                                vs_diags_add(diags, to, 0, 0, "cannot copy symlink: %s",
                                             strerror(-r));
                        } else {
                                r = vs_changes_add(changes, to, "create");
                        }
                }
                free(data);
                free(from);
                free(to);
        }
        if (r == 0 && errno) {
                r = -errno;
                vs_diags_add(diags, src, 0, 0, "cannot read directory: %s", strerror(-r));
        }
        closedir(dir);
        return r;
}

/* Move path aside (same directory, so same mount) under the first free backup name. */
static int move_aside(const char *path, struct vs_changes *changes, struct vs_diags *diags)
{
        char *backup = NULL;
        int r = -EEXIST;
        for (int i = 0; i < 100 && r == -EEXIST; i++) {
                struct stat st;
                free(backup);
                if ((i ? asprintf(&backup, "%s%s.%d", path, BACKUP_SUFFIX, i)
                       : asprintf(&backup, "%s%s", path, BACKUP_SUFFIX)) < 0)
                        return -ENOMEM;
                if (lstat(backup, &st) == 0)
                        continue;
                r = 0;
        }
        if (r < 0) {
                vs_diags_add(diags, path, 0, 0, "no free backup name to move it aside");
        } else if (!changes->dry_run && rename(path, backup) < 0) {
                r = -errno;
                vs_diags_add(diags, path, 0, 0, "cannot move aside to %s: %s", backup,
                             strerror(-r));
        } else {
                r = vs_changes_add(changes, backup, "backup");
        }
        free(backup);
        return r;
}

/* Create or replace the symlink atomically: a temporary link renamed over the old name. */
static int install_link(const char *path, const char *target, const char *action,
                        struct vs_changes *changes, struct vs_diags *diags)
{
        char *tmp = NULL;
        int r = 0;
        if (changes->dry_run)
                return vs_changes_add(changes, path, action);
        if (asprintf(&tmp, "%s.vaultshim-%ld", path, (long)getpid()) < 0)
                return -ENOMEM;
        (void)unlink(tmp);
        if (symlink(target, tmp) < 0 || rename(tmp, path) < 0) {
                r = -errno;
                (void)unlink(tmp);
                vs_diags_add(diags, path, 0, 0, "cannot link it to %s: %s", target, strerror(-r));
        } else {
                (void)vs_fsync_parent(path);
                r = vs_changes_add(changes, path, action);
        }
        free(tmp);
        return r;
}

int vs_obsidian_link_root(const struct vs_obsidian_plan *plan, struct vs_changes *changes,
                          struct vs_diags *diags)
{
        char *link_path = join(plan->vault, ".obsidian");
        char *target = join(plan->personal, ".obsidian");
        char *personal_dir = target ? join(plan->vault, target) : NULL;
        char current[4096];
        struct stat st;
        int r = -ENOMEM;

        if (!link_path || !target || !personal_dir)
                goto out;
        if (lstat(link_path, &st) < 0) {
                if (errno != ENOENT) {
                        r = -errno;
                        vs_diags_add(diags, link_path, 0, 0, "cannot stat: %s", strerror(-r));
                        goto out;
                }
                r = install_link(link_path, target, "link", changes, diags);
        } else if (S_ISLNK(st.st_mode)) {
                ssize_t n = readlink(link_path, current, sizeof(current) - 1);
                if (n >= 0 && (current[n] = '\0', strcmp(current, target) == 0))
                        r = vs_changes_add(changes, link_path, "unchanged");
                else
                        r = install_link(link_path, target, "relink", changes, diags);
        } else {
                /* Someone's real settings: keep them, in the personal copy and as a backup. */
                r = S_ISDIR(st.st_mode) ? copy_missing(link_path, personal_dir, changes, diags) : 0;
                if (r == 0)
                        r = move_aside(link_path, changes, diags);
                if (r == 0)
                        r = install_link(link_path, target, "link", changes, diags);
        }
out:
        free(link_path);
        free(target);
        free(personal_dir);
        return r;
}
