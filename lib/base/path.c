/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "base/path.h"

/*
 * Splits like the kernel: the parent is everything before the final component (looked
 * up by filename_parentat()), trailing slashes are remembered (they force a directory),
 * and "." / ".." / "/" as final component are special (LAST_DOT, LAST_DOTDOT, LAST_ROOT).
 */
int vs_path_split(const char *path, struct vs_path_split *out)
{
        size_t len = strlen(path);
        if (len == 0)
                return -ENOENT;
        if (len >= sizeof(out->buf))
                return -ENAMETOOLONG;
        memcpy(out->buf, path, len + 1);

        size_t end = len;
        while (end > 0 && out->buf[end - 1] == '/')
                end--;
        out->trailing_slash = end < len && end > 0;
        if (end == 0) {
                out->parent = "/";
                out->last = "/";
                out->type = VS_LAST_ROOT;
                return 0;
        }
        out->buf[end] = '\0';

        size_t start = end;
        while (start > 0 && out->buf[start - 1] != '/')
                start--;
        out->last = out->buf + start;
        if (start == 0) {
                out->parent = ".";
        } else {
                size_t parent_end = start;
                while (parent_end > 0 && out->buf[parent_end - 1] == '/')
                        parent_end--;
                if (parent_end == 0) {
                        out->parent = "/";
                } else {
                        out->buf[parent_end] = '\0';
                        out->parent = out->buf;
                }
        }

        if (strcmp(out->last, ".") == 0)
                out->type = VS_LAST_DOT;
        else if (strcmp(out->last, "..") == 0)
                out->type = VS_LAST_DOTDOT;
        else
                out->type = VS_LAST_NORM;
        return 0;
}
