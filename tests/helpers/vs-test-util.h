/* Small pieces shared by the test helpers, the unit tests and the benchmarks (never linked into
 * the shim). */
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

/* A fresh directory /tmp/vs-test-<name>.XXXXXX, its path written to buf; 0 or -errno. */
int vs_scratch_create(char *buf, size_t size, const char *name);

/* top + "/" + rel, in one of four static buffers used in turn (a test's own thread only). */
const char *vs_path_in(const char *top, const char *rel);

/* Create or truncate path (mode 0644) and write text to it; 0 or -errno. */
int vs_write_text(const char *path, const char *text);

/* Remove dir and everything below it, never following a symlink; 0 or -errno. */
int vs_scratch_remove(const char *dir);

/* mkdir top + "/" + rel (mode 0755), its path written to out; 0 or -errno. */
int vs_mkdir_in(char *out, size_t size, const char *top, const char *rel);

/* This process into a mount namespace of its own whose mounts are private (nothing it mounts
 * reaches the rest of the machine); 0 or -errno (EPERM: not allowed here). */
int vs_private_mounts(void);

/* Median of n values; sorts the array in place. */
uint64_t vs_median_ns(uint64_t *values, size_t n);

/* Print "<median of a> <median of b>\n" (sorting both) and free both arrays. */
void vs_print_medians_and_free(uint64_t *a, uint64_t *b, size_t n);

#endif
