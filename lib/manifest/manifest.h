/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The mount manifest: what a container is meant to have mounted under its vault root.
 * Written by `vault-policy resolve --format manifest`, read by `vault-first-launch`
 * (default path /etc/vault/manifest.yaml, or $VAULT_MANIFEST).
 *
 * The format, every key with its type, default and limits, and the errors: vault-manifest(5)
 * (doc/vault-manifest.5.scd), which the lint suite checks against manifest-read.c's key tables.
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
