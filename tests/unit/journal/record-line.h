/* SPDX-License-Identifier: MIT */
#pragma once

/* body + " " + its checksum (FNV-1a, as lib/journal/record.c writes it) + "\n": a record
 * line written by hand, for a test of the parser or of recovery from an older format.  The
 * checksum is computed here on purpose, not by record.c: a line the parser accepts must be
 * one written to the format, not one its own writer agrees with.  In a static buffer,
 * overwritten by the next call. */
const char *vs_test_record_line(const char *body);
