/* SPDX-License-Identifier: MIT */
#pragma once

#include <jansson.h>
#include <stdint.h>

/* An RFC 3339 UTC string, or JSON null for VS_TIME_NONE. */
json_t *vp_json_time(int64_t t);
