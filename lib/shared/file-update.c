/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/file.h"
#include "shared/file-update.h"
#include "shared/read-input.h"

/* Configuration files we update (Syncthing's config.xml grows with its devices). */
#define FILE_READ_MAX ((size_t)16 << 20)

int vs_changes_add(struct vs_changes *c, const char *path, const char *action)
{
        if (c->count == c->capacity) {
                size_t cap = c->capacity ? c->capacity * 2 : 16;
                struct vs_change *items = realloc(c->items, cap * sizeof(*items));
                if (!items)
                        return -ENOMEM;
                c->items = items;
                c->capacity = cap;
        }
        char *p = strdup(path), *a = strdup(action);
        if (!p || !a) {
                free(p);
                free(a);
                return -ENOMEM;
        }
        c->items[c->count++] = (struct vs_change){.path = p, .action = a};
        return 0;
}

void vs_changes_clear(struct vs_changes *c)
{
        for (size_t i = 0; i < c->count; i++) {
                free(c->items[i].path);
                free(c->items[i].action);
        }
        free(c->items);
        c->items = NULL;
        c->count = c->capacity = 0;
}

bool vs_changes_any(const struct vs_changes *c)
{
        for (size_t i = 0; i < c->count; i++)
                if (strcmp(c->items[i].action, "unchanged") != 0)
                        return true;
        return false;
}

int vs_file_read(const char *path, char **ret, size_t *ret_len)
{
        return vs_read_file(AT_FDCWD, path, 0, FILE_READ_MAX, ret, ret_len);
}

int vs_file_read_failed(struct vs_diags *diags, const char *path, int err)
{
        char why[VS_READ_INPUT_ERROR_BUF];
        vs_diags_add(diags, path, 0, 0, "cannot read: %s",
                     vs_read_input_error(err, FILE_READ_MAX, why, sizeof(why)));
        return err;
}

int vs_fsync_parent(const char *path)
{
        char *copy = strdup(path);
        if (!copy)
                return -ENOMEM;
        int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int r = fd < 0 || fsync(fd) < 0 ? -errno : 0;
        if (fd >= 0)
                close(fd);
        free(copy);
        return r;
}

static int write_all(int fd, const char *data, size_t len)
{
        while (len > 0) {
                ssize_t n = write(fd, data, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                data += n;
                len -= (size_t)n;
        }
        return 0;
}

int vs_file_update(const char *path, const void *data, size_t len, mode_t mode,
                   struct vs_changes *changes, struct vs_diags *diags)
{
        char *old = NULL, *tmp = NULL;
        size_t old_len = 0;
        const char *action;
        int fd = -1, r;

        r = vs_file_read(path, &old, &old_len);
        if (r == 0 && old_len == len && memcmp(old, data, len) == 0) {
                action = "unchanged";
                goto record;
        }
        if (r < 0 && r != -ENOENT) {
                vs_file_read_failed(diags, path, r);
                goto out;
        }
        action = r == -ENOENT ? "create" : "update";
        r = 0;
        if (changes->dry_run)
                goto record;

        if (asprintf(&tmp, "%s.vaultshim-XXXXXX", path) < 0) {
                tmp = NULL;
                r = -ENOMEM;
                goto out;
        }
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0) {
                r = -errno;
                free(tmp);
                tmp = NULL;
                vs_diags_add(diags, path, 0, 0, "cannot create a temporary file beside it: %s",
                             strerror(-r));
                goto out;
        }
        if ((r = write_all(fd, data, len)) < 0 || (fchmod(fd, mode) < 0 && (r = -errno)) ||
            (fsync(fd) < 0 && (r = -errno))) {
                vs_diags_add(diags, path, 0, 0, "cannot write: %s", strerror(-r));
                goto out;
        }
        if (close(fd) < 0) {
                fd = -1;
                r = -errno;
                vs_diags_add(diags, path, 0, 0, "cannot write: %s", strerror(-r));
                goto out;
        }
        fd = -1;
        if (rename(tmp, path) < 0) {
                r = -errno;
                vs_diags_add(diags, path, 0, 0, "cannot replace: %s", strerror(-r));
                goto out;
        }
        free(tmp);
        tmp = NULL;
        r = vs_fsync_parent(path);
        if (r < 0) {
                vs_diags_add(diags, path, 0, 0, "cannot sync its directory: %s", strerror(-r));
                goto out;
        }
record:
        r = vs_changes_add(changes, path, action);
out:
        if (fd >= 0)
                close(fd);
        if (tmp)
                unlink(tmp);
        free(tmp);
        free(old);
        return r;
}

int vs_mkdir_p(const char *path, mode_t mode, struct vs_changes *changes, struct vs_diags *diags)
{
        char *copy = strdup(path);
        int r = 0;
        if (!copy)
                return -ENOMEM;
        for (char *p = copy + 1;; p++) {
                if (*p != '/' && *p != '\0')
                        continue;
                char saved = *p;
                *p = '\0';
                struct stat st;
                if (stat(copy, &st) == 0) {
                        if (!S_ISDIR(st.st_mode)) {
                                r = -ENOTDIR;
                                vs_diags_add(diags, copy, 0, 0, "exists and is not a directory");
                                break;
                        }
                } else if (errno != ENOENT) {
                        r = -errno;
                        vs_diags_add(diags, copy, 0, 0, "cannot stat: %s", strerror(-r));
                        break;
                } else {
                        if (!changes->dry_run && mkdir(copy, mode) < 0 && errno != EEXIST) {
                                r = -errno;
                                vs_diags_add(diags, copy, 0, 0, "cannot create directory: %s",
                                             strerror(-r));
                                break;
                        }
                        if (!changes->dry_run)
                                (void)vs_fsync_parent(copy);
                        r = vs_changes_add(changes, copy, "mkdir");
                        if (r < 0)
                                break;
                }
                *p = saved;
                if (saved == '\0')
                        break;
        }
        free(copy);
        return r;
}
