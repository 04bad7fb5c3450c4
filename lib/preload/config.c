/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "journal/journal.h"
#include "preload/config.h"

static bool env_flag(const char *name)
{
        const char *v = secure_getenv(name);
        return v && *v && strcmp(v, "0") != 0;
}

void vs_shim_config_load(struct vs_shim_config *config)
{
        config->disabled = env_flag("VAULTSHIM_DISABLE");
        const char *durable = secure_getenv("VAULTSHIM_DURABLE");
        config->durable_at_return = durable && strcmp(durable, "return") == 0;
        vs_roots_from_env(&config->roots);
        const char *log = secure_getenv("VAULTSHIM_LOG");
        config->log_path[0] = '\0';
        if (log && strlen(log) < sizeof(config->log_path))
                strcpy(config->log_path, log);
        config->journal_refused = NULL;
        char resolved[PATH_MAX];
        if (vs_journal_location(config->journal_dir, sizeof(config->journal_dir)) < 0 ||
            vs_journal_resolve(config->journal_dir, resolved, sizeof(resolved)) < 0) {
                config->journal_dir[0] = '\0';
                config->journal_in_vault = false;
                return;
        }
        /* Where it really is: a symbolic link on the way must not hide a vault folder. */
        config->journal_in_vault = vs_roots_find(&config->roots, resolved) != NULL;
        (void)vs_journal_check_place(resolved, config->journal_in_vault,
                                     &config->journal_refused);
}
