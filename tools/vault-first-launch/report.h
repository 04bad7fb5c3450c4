/* SPDX-License-Identifier: MIT */
#pragma once

/* What one run found and did, printed as text or JSON at the end. */

#include <stdbool.h>
#include <stdio.h>

#include "manifest/manifest.h"
#include "manifest/verify.h"
#include "shared/diag.h"
#include "shared/file-update.h"

/* Exit codes, documented in --help and vault-first-launch(1). */
enum {
        FL_EXIT_OK = 0,            /* everything verified and written */
        FL_EXIT_VERIFY_FAILED = 1, /* a required folder missing, a ro promise broken, expired */
        FL_EXIT_USAGE = 2,         /* bad arguments or a bad manifest: nothing was done */
        FL_EXIT_WARNINGS = 3,      /* done, with warnings (optional folder missing, no shim, ...) */
        FL_EXIT_WRITE_FAILED = 4,  /* a configuration file could not be written */
};

struct fl_message {
        enum vs_severity severity;
        char *area;      /* "manifest", "mount", "obsidian", "sync", "shim", "recovery" */
        char *text;
};

struct fl_report {
        const char *manifest_origin;     /* the manifest path, or "discovered" */
        struct vs_manifest *manifest;    /* owned */
        struct vs_verify_result verify;  /* owned */
        struct vs_changes changes;       /* owned */
        struct fl_message *messages;
        size_t n_messages;
        bool usage_failed;
        bool write_failed;
};

__attribute__((format(printf, 4, 5)))
void fl_report_add(struct fl_report *r, enum vs_severity severity, const char *area, const char *fmt, ...);
/* Each diagnostic becomes a message "file:line:col: text" (or "path: text"). */
void fl_report_add_diags(struct fl_report *r, enum vs_severity severity, const char *area,
                         const struct vs_diags *diags);
int fl_report_exit_code(const struct fl_report *r);
void fl_report_print_text(const struct fl_report *r, FILE *out, FILE *err);
/* one_line: JSON Lines, one report per line (--watch prints one per render). */
void fl_report_print_json(const struct fl_report *r, FILE *out, bool one_line);
void fl_report_clear(struct fl_report *r);
