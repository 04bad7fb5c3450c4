/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

/* Columns a UTF-8 string takes on a terminal, whatever the locale: one per character, two for
 * East Asian wide and fullwidth characters (and emoji), none for combining marks and
 * zero-width characters; an invalid byte counts as one.  For aligning tables of names. */
size_t vs_display_width(const char *s);
