/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <vaultshim/policy.h>

/*
 * RFC 3339 date-time <-> seconds since the epoch, with our own civil-calendar arithmetic so
 * that the process time zone (TZ, /etc/localtime) can never influence a decision.
 */

/* Parse "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)".  A fraction rounds up to the next
 * whole second when round_up is set (policy bounds) and is truncated otherwise (--now).
 * Returns 0, or -EINVAL with a static explanation in *why. */
int vp_rfc3339_parse(const char *text, int round_up, int64_t *ret, const char **why);

/* Format as "YYYY-MM-DDTHH:MM:SSZ" (UTC) into buf of at least VP_RFC3339_LEN bytes. */
#define VP_RFC3339_LEN VS_TIME_BUF
void vp_rfc3339_format(int64_t t, char buf[VP_RFC3339_LEN]);
