/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The mount manifest: what a container is meant to have mounted under its vault root.
 * Written by `vault-policy resolve --format manifest`, read by `vault-first-launch`
 * (default path /etc/vault/manifest.yaml, or $VAULT_MANIFEST).
 *
 * Format (YAML 1.1 block style, no anchors/aliases/tags, unknown keys are errors):
 *
 *   version: 1                          # required, must be 1
 *   user:
 *     name: alice                       # required, [A-Za-z0-9._-]{1,64}
 *     id: "1000"                        # required, same character set (string or int)
 *   vault: /vault                       # required, absolute normalised path
 *   personal: personal                  # optional: name of the folder that is the
 *                                       # user's own rw space (must be listed below)
 *   valid_until: 2027-01-31T00:00:00Z   # optional, RFC 3339 or null: earliest folder expiry
 *   folders:                            # required, may be empty, sorted by name
 *     - name: engineering               # one safe path segment, unique
 *       source: /shared/engineering     # host path the bind mount comes from ("" = unknown)
 *       target: /vault/engineering      # where it is mounted: <vault>/<name>
 *       mode: rw                        # rw | ro
 *       required: true                  # optional, default true
 *       valid_until: null               # optional, RFC 3339 or null
 *
 * Times are seconds since the epoch in memory; VS_TIME_NONE means "no limit".
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "shared/diag.h"

#define VS_MANIFEST_VERSION 1
#define VS_TIME_NONE INT64_MIN

enum vs_mode {
        VS_MODE_NONE = 0,
        VS_MODE_RO = 1,
        VS_MODE_RW = 2,
};

struct vs_manifest_folder {
        char *name;
        char *source;
        char *target;
        enum vs_mode mode;
        bool required;
        int64_t valid_until;
};

struct vs_manifest {
        int version;
        char *user_name;
        char *user_id;
        char *vault;
        char *personal;           /* NULL when absent */
        int64_t valid_until;
        size_t n_folders;
        struct vs_manifest_folder *folders;
};

/* Parse a manifest; on error returns -EINVAL with file:line:col records in diags. */
int vs_manifest_load(const char *path, struct vs_manifest **ret, struct vs_diags *diags);
int vs_manifest_parse(const char *name, const char *text, size_t len,
                      struct vs_manifest **ret, struct vs_diags *diags);

/* Emit the manifest in the format above, deterministically (folders in array order). */
int vs_manifest_write(FILE *out, const struct vs_manifest *m);

void vs_manifest_free(struct vs_manifest *m);

const char *vs_mode_to_string(enum vs_mode mode);
