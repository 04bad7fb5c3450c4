/* Small pieces shared by the test helpers and the benchmarks (never linked into the shim). */
#ifndef VS_TEST_UTIL_H
#define VS_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* "0", "noreplace|exchange", "whiteout", or a number (0x.. allowed) → flags; -EINVAL if bad. */
int vs_parse_rename_flags(const char *text, unsigned int *flags_out);

/* "UID:GID" → drop supplementary groups, then gid, then uid (real, effective and saved). */
int vs_drop_privileges(const char *uid_gid);

/* Symbolic name of an errno value ("ENOENT"), "0" for zero. */
const char *vs_errno_name(int err);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t vs_now_ns(void);

/* Median of n values; sorts the array in place. */
uint64_t vs_median_ns(uint64_t *values, size_t n);

/* Print "<median of a> <median of b>\n" (sorting both) and free both arrays. */
void vs_print_medians_and_free(uint64_t *a, uint64_t *b, size_t n);

#endif
