/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>

#include "policy/kasm-mapping.h"

json_t *vp_kasm_volume(const char *bind, enum vs_mode mode, bool required)
{
        return json_pack("{s:s, s:s, s:i, s:i, s:b, s:b}", "bind", bind, "mode",
                         vs_mode_to_string(mode), "uid", VP_KASM_UID, "gid", VP_KASM_GID,
                         "required", required, "skip_check", mode == VS_MODE_RO);
}

json_t *vp_class_volume_mapping(const struct vs_policy *policy, const struct vp_class *c)
{
        json_t *mapping = json_object();
        for (size_t f = 0; mapping && f < policy->n_folders; f++) {
                const struct vs_policy_folder *folder = &policy->folders[f];
                char *bind = NULL;
                json_t *volume;
                if (c->modes[f] == VS_MODE_NONE)
                        continue;
                if (asprintf(&bind, "%s/%s", policy->vault, folder->name) < 0)
                        bind = NULL;
                volume = bind ? vp_kasm_volume(bind, c->modes[f], folder->required) : NULL;
                free(bind);
                if (!volume || json_object_set_new(mapping, folder->path, volume) < 0) {
                        json_decref(mapping);
                        return NULL;
                }
        }
        return mapping;
}
