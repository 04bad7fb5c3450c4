/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Long enough for "YYYY-MM-DDTHH:MM:SSZ" and a NUL. */
#define VS_RFC3339_MAX 21

/*
 * Parse an RFC 3339 date-time ("2027-01-31T00:00:00Z", "...T01:00:00.5+01:00") into seconds
 * since the epoch (fractions are truncated).  Returns 0 or -EINVAL; *ret untouched on error.
 * A leap second (:60) is refused: POSIX time cannot represent it.
 */
int vs_rfc3339_parse(const char *text, int64_t *ret);

/* Why vs_rfc3339_parse refuses text, naming the field: "month 13 is not 01-12", "second 60
 * (a leap second) is not accepted: ...", or the expected layout.  Returns buf. */
#define VS_RFC3339_PROBLEM_MAX 128
const char *vs_rfc3339_problem(const char *text, char buf[static VS_RFC3339_PROBLEM_MAX]);

/* Format seconds since the epoch as "YYYY-MM-DDTHH:MM:SSZ"; -ERANGE outside years 0..9999. */
int vs_rfc3339_format(int64_t t, char buf[static VS_RFC3339_MAX]);
