/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Kasm Volume Mappings in Kasm's own shape, for one access class: what vault-policy prints
 * and what vault-orchestrator writes as a class group's Group Setting "volume_mapping".
 * One renderer, so the two never disagree on a byte.
 */

#include <jansson.h>
#include <stdbool.h>

#include "policy/classes.h"

/* Kasm runs workspaces as kasm-user, uid/gid 1000 (workspaces-core-images). */
#define VP_KASM_UID 1000
#define VP_KASM_GID 1000

/* One Kasm Volume Mapping value {"bind", "mode", "uid", "gid", "required", "skip_check"};
 * ro folders skip Kasm's writability check.  NULL when out of memory. */
json_t *vp_kasm_volume(const char *bind, enum vs_mode mode, bool required);

/* The class's volume_mapping: keyed by the policy's host path, {username} / {user_id} left
 * for Kasm to substitute, bound at <vault>/<folder name>.  NULL when out of memory. */
json_t *vp_class_volume_mapping(const struct vs_policy *policy, const struct vp_class *c);
