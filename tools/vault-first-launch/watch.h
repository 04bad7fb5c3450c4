/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Re-render whenever the manifest file changes (written in place or atomically replaced),
 * debounced, until SIGTERM/SIGINT.  SIGHUP forces a re-render.  Returns 0 on a clean stop,
 * a negative errno when watching is impossible.
 */
int fl_watch(const char *manifest_path, void (*render)(void *ctx), void *ctx,
             char *error, unsigned long error_len);
