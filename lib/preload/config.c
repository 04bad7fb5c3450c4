/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "move/internal.h"
#include "preload/config.h"

static bool env_flag(const char *name)
{
        const char *v = secure_getenv(name);
        return v && *v && strcmp(v, "0") != 0;
}

/* A root that does not exist (yet) is kept as written, without trailing slashes. */
static void add_root(struct vs_shim_config *config, const char *root, size_t len)
{
        char written[PATH_MAX];
        if (len == 0 || root[0] != '/' || len >= sizeof(written) ||
            config->root_count == VS_SHIM_MAX_ROOTS)
                return;
        memcpy(written, root, len);
        written[len] = '\0';
        char *slot = config->roots[config->root_count];
        if (!realpath(written, slot)) {
                while (len > 1 && written[len - 1] == '/')
                        written[--len] = '\0';
                memcpy(slot, written, len + 1);
        }
        config->root_count++;
}

void vs_shim_config_load(struct vs_shim_config *config)
{
        config->disabled = env_flag("VAULTSHIM_DISABLE");
        config->root_count = 0;
        const char *roots = secure_getenv("VAULTSHIM_ROOTS");
        if (!roots || !*roots)
                roots = "/vault";
        for (const char *p = roots; *p;) {
                const char *colon = strchr(p, ':');
                size_t len = colon ? (size_t)(colon - p) : strlen(p);
                add_root(config, p, len);
                p += len + (colon ? 1 : 0);
        }
        const char *log = secure_getenv("VAULTSHIM_LOG");
        config->log_path[0] = '\0';
        if (log && strlen(log) < sizeof(config->log_path))
                strcpy(config->log_path, log);
        if (vs_journal_location(config->journal_dir, sizeof(config->journal_dir)) < 0)
                config->journal_dir[0] = '\0';
        config->journal_in_vault = config->journal_dir[0] &&
                                   vs_shim_root_of(config, config->journal_dir) != NULL;
}

static bool inside(const char *path, const char *root)
{
        size_t len = strlen(root);
        if (len == 1 && root[0] == '/')
                return true;
        return strncmp(path, root, len) == 0 && (path[len] == '\0' || path[len] == '/');
}

const char *vs_shim_root_of(const struct vs_shim_config *config, const char *resolved)
{
        for (size_t i = 0; i < config->root_count; i++)
                if (inside(resolved, config->roots[i]))
                        return config->roots[i];
        return NULL;
}

bool vs_shim_under_root(const struct vs_shim_config *config, int dirfd, const char *path,
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
        if (b.overflow || !realpath(parent, resolved))
                return false;

        bool ours = false;
        for (size_t i = 0; i < config->root_count && !ours; i++)
                ours = inside(resolved, config->roots[i]);
        if (!ours)
                return false;

        size_t len = strlen(resolved);
        vs_buf_init(&b, resolved + len, PATH_MAX - len);
        if (len > 1)
                vs_buf_puts(&b, "/");
        vs_buf_puts(&b, split.last);
        return !b.overflow;
}
