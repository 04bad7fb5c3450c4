/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>

/* A render; returns when it must run again though nothing changed (seconds since the epoch:
 * the manifest's valid_until), or FL_WAKE_NEVER. */
#define FL_WAKE_NEVER INT64_MIN
typedef int64_t (*fl_render_fn)(void *ctx);

/*
 * Render once, then again whenever the manifest file changes (written in place or
 * atomically replaced), debounced, until SIGTERM/SIGINT; SIGHUP forces a render.
 * also when the instant a render returned passes.
 * Returns 0 on a clean stop, a negative errno (and a message in error) otherwise.
 */
int fl_watch(const char *manifest_path, fl_render_fn render, void *ctx,
             char *error, unsigned long error_len);

/* The same, re-rendering when the mount table changes (for --discover). */
int fl_watch_mounts(fl_render_fn render, void *ctx, char *error, unsigned long error_len);
