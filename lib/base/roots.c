/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/canonical.h"
#include "base/path.h"
#include "base/roots.h"
#include "fmt/fmt.h"

static void add_root(struct vs_roots *roots, const char *root, size_t len)
{
        char written[PATH_MAX];
        if (len == 0 || root[0] != '/' || len >= sizeof(written) ||
            roots->count == VS_ROOTS_MAX)
                return;
        memcpy(written, root, len);
        written[len] = '\0';
        char *slot = roots->paths[roots->count];
        if (vs_canonical_path(written, slot) < 0) {
                while (len > 1 && written[len - 1] == '/')
                        written[--len] = '\0';
                memcpy(slot, written, len + 1);
        }
        roots->count++;
}

void vs_roots_parse(struct vs_roots *roots, const char *list)
{
        roots->count = 0;
        if (!list || !*list)
                list = VS_ROOTS_DEFAULT;
        for (const char *p = list; *p;) {
                const char *colon = strchr(p, ':');
                size_t len = colon ? (size_t)(colon - p) : strlen(p);
                add_root(roots, p, len);
                p += len + (colon ? 1 : 0);
        }
}

void vs_roots_from_env(struct vs_roots *roots)
{
        vs_roots_parse(roots, secure_getenv("VAULTSHIM_ROOTS"));
}

static bool inside(const char *path, const char *root)
{
        size_t len = strlen(root);
        if (len == 1 && root[0] == '/')
                return true;
        return strncmp(path, root, len) == 0 && (path[len] == '\0' || path[len] == '/');
}

const char *vs_roots_find(const struct vs_roots *roots, const char *resolved)
{
        for (size_t i = 0; i < roots->count; i++)
                if (inside(resolved, roots->paths[i]))
                        return roots->paths[i];
        return NULL;
}

bool vs_roots_resolve(const struct vs_roots *roots, int dirfd, const char *path,
                      char *resolved)
{
        struct vs_path_split split;
        char parent[PATH_MAX];
        if (vs_path_split(path, &split) < 0)
                return false;

        struct vs_buf b;
        vs_buf_init(&b, parent, sizeof(parent));
        if (split.parent[0] != '/' && dirfd != AT_FDCWD) {
                vs_buf_puts(&b, "/proc/self/fd/");
                vs_buf_putu(&b, (uint64_t)dirfd, 0);
                vs_buf_puts(&b, "/");
        }
        vs_buf_puts(&b, split.parent);
        if (b.overflow || vs_canonical_path(parent, resolved) < 0 ||
            !vs_roots_find(roots, resolved))
                return false;

        size_t len = strlen(resolved);
        vs_buf_init(&b, resolved + len, PATH_MAX - len);
        if (len > 1)
                vs_buf_puts(&b, "/");
        vs_buf_puts(&b, split.last);
        return !b.overflow;
}
