/* SPDX-License-Identifier: MIT */
/* Built instead of syncthing.c when libxml2 (libxml2-dev) was missing at build time. */
#include <errno.h>

#include "sync/sync.h"

int vs_syncthing_render(const struct vs_sync_plan *plan, const char *home, const char *ro_type,
                        struct vs_changes *changes, struct vs_diags *diags)
{
        vs_diags_add(diags, home, 0, 0,
                     "this build has no Syncthing support: rebuild with libxml2-dev installed");
        return -EOPNOTSUPP;
}
