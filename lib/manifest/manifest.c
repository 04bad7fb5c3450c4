/* SPDX-License-Identifier: MIT */
#include <stdlib.h>

#include "manifest/manifest.h"

void vs_manifest_free(struct vs_manifest *m)
{
        if (!m)
                return;
        for (size_t i = 0; i < m->n_folders; i++) {
                free(m->folders[i].name);
                free(m->folders[i].source);
                free(m->folders[i].target);
        }
        free(m->folders);
        free(m->user_name);
        free(m->user_id);
        free(m->vault);
        free(m->personal);
        free(m);
}

const char *vs_mode_to_string(enum vs_mode mode)
{
        switch (mode) {
        case VS_MODE_RO:
                return "ro";
        case VS_MODE_RW:
                return "rw";
        case VS_MODE_NONE:
                break;
        }
        return "none";
}
