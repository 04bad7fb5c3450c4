/* SPDX-License-Identifier: MIT */
#pragma once

#include <limits.h>
#include <stdbool.h>

/* What the final component of a path is, as the kernel's path walk classifies it. */
enum vs_last_type { VS_LAST_NORM, VS_LAST_DOT, VS_LAST_DOTDOT, VS_LAST_ROOT };

struct vs_path_split {
        char buf[PATH_MAX];
        const char *parent;     /* "." when the path has no slash */
        const char *last;       /* final component without trailing slashes */
        bool trailing_slash;
        enum vs_last_type type;
};

/* Split path into parent and final component like the kernel; -ENOENT for "",
 * -ENAMETOOLONG beyond PATH_MAX. */
int vs_path_split(const char *path, struct vs_path_split *out);
