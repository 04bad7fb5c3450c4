/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

#include "report.h"

struct fl_options {
        const char *manifest_path;    /* NULL with --discover */
        const char *vault;            /* --vault, or NULL: the manifest's / /vault */
        const char *personal;         /* --personal (discover) */
        bool discover;
        bool dry_run;
        bool json;
        bool watch;
        bool print_manifest;
        bool exclude_readonly;
        bool shim_check;
        bool recovery;
        bool sync_rooms;
        bool sync_syncthing;
        const char *rooms_path;
        const char *syncthing_home;
        const char *ro_type;
};

/* One complete pass: load, verify, write .obsidian/ and sync configuration.  first_pass
 * adds the shim check and move recovery, which --watch does not repeat. */
void fl_run_once(const struct fl_options *o, bool first_pass, struct fl_report *r);

/* Load or discover the manifest only (for --print-manifest). */
int fl_load_manifest(const struct fl_options *o, struct fl_report *r);
