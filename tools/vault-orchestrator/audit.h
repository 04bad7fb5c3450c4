/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The audit log: one JSON line per write call, appended and synced before the next call:
 * {"time", "call", "target", "why": {"reason", "rule", "instant"}, "ok"[, "error"]}.
 */

#include <jansson.h>
#include <stdbool.h>

struct audit {
        int fd;                     /* -1: no --audit-log */
        char *path;
};

/* Open path for appending (created 0600); path NULL: no log.  0 or -errno. */
int audit_open(struct audit *a, const char *path);
void audit_close(struct audit *a);
/* Append one line; target and why are stolen.  0 or -errno. */
int audit_write(struct audit *a, const char *call, json_t *target, json_t *why, bool ok,
                const char *error);
