/* SPDX-License-Identifier: MIT */
#pragma once

/* Everything is built with -fvisibility=hidden; only what carries this is exported. */
#define VS_EXPORT __attribute__((visibility("default")))
