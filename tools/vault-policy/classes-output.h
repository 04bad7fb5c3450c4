/* SPDX-License-Identifier: MIT */
#pragma once

#include <jansson.h>

#include "policy/classes.h"

/* {"group", "folders": {name: mode}, "volume_mapping": {...}} for one class. */
json_t *class_json(const struct vs_policy *policy, const struct vp_class *c);
json_t *class_folders(const struct vs_policy *policy, const struct vp_class *c);
