/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Render once, then again whenever the manifest file changes (written in place or
 * atomically replaced), debounced, until SIGTERM/SIGINT; SIGHUP forces a render.
 * Returns 0 on a clean stop, a negative errno (and a message in error) otherwise.
 */
int fl_watch(const char *manifest_path, void (*render)(void *ctx), void *ctx,
             char *error, unsigned long error_len);

/* The same, re-rendering when the mount table changes (for --discover). */
int fl_watch_mounts(void (*render)(void *ctx), void *ctx, char *error, unsigned long error_len);
