/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The one parser of /proc/self/mountinfo (proc(5)), for every layer:
 *   36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw,errors=continue
 *   (1)(2)(3)   (4)   (5)         (6)        (7)      (8)(9)  (10)     (11)
 * A line is split into fields that point into the text, still octal-escaped as the kernel
 * writes them (space \040, tab \011, newline \012, backslash \134); each user unescapes the
 * fields it needs.  libc only, no stdio, no allocation but the text itself.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A field of a line: not NUL-terminated. */
struct vs_span {
        const char *s;
        size_t len;
};

struct vs_mountinfo_entry {
        uint64_t id;              /* (1) the mount id, statx's stx_mnt_id */
        uint64_t parent;          /* (2) */
        uint32_t major, minor;    /* (3) st_dev of the filesystem */
        struct vs_span root;      /* (4) the directory of its filesystem that it shows */
        struct vs_span point;     /* (5) where it is mounted in this mount namespace */
        struct vs_span options;   /* (6) per-mount options */
        struct vs_span fstype;    /* (9) */
        struct vs_span source;    /* (10) device or "none" */
        struct vs_span super;     /* (11) superblock options */
};

/* Where mountinfo is, and the most of it read (a namespace of many thousand mounts). */
#define VS_MOUNTINFO_PATH "/proc/self/mountinfo"
#define VS_MOUNTINFO_MAX ((size_t)16 << 20)

/*
 * One line (without its newline): 0; -ENODATA when it ends before its last field (the
 * column where it ends is len + 1); -EINVAL when the mount id, parent id or device number
 * is not a number (column 1).  *out is untouched on failure.
 */
int vs_mountinfo_parse_line(const char *line, size_t len, struct vs_mountinfo_entry *out);

/* The line of text (len bytes, lines ending in '\n') for mount id: 0, -ENOENT when no line
 * has it, or a parse error of that line. */
int vs_mountinfo_find(const char *text, size_t len, uint64_t id,
                      struct vs_mountinfo_entry *out);

/* Whole /proc/self/mountinfo (vs_read_file(), at most VS_MOUNTINFO_MAX bytes); *text is
 * malloc()ed and NUL-terminated. */
int vs_mountinfo_read(char **text, size_t *len);

/* The kernel's octal escapes (\ooo) undone into out (size bytes, NUL-terminated): 0;
 * -EINVAL for a backslash not followed by three octal digits; -ENAMETOOLONG when it does
 * not fit. */
int vs_mountinfo_unescape(struct vs_span field, char *out, size_t size);

/* Is option one of the comma-separated options (an options field, (6) or (11))? */
bool vs_mountinfo_has_option(struct vs_span options, const char *option);

/* Does the field, as it is written, equal text? */
bool vs_span_equal(struct vs_span field, const char *text);
