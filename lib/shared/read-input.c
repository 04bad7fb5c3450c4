/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "shared/read-input.h"

const char *vs_read_input_error(int err, size_t max, char *buf, size_t size)
{
        if (err == -EINVAL)
                snprintf(buf, size, "not a regular file (a FIFO, socket or device)");
        else if (err == -EISDIR)
                snprintf(buf, size, "a directory, not a regular file");
        else if (err == -EFBIG && max % ((size_t)1 << 20) == 0)
                snprintf(buf, size, "larger than %zu MiB", max >> 20);
        else if (err == -EFBIG)
                snprintf(buf, size, "larger than %zu bytes", max);
        else
                snprintf(buf, size, "%s", strerror(-err));
        return buf;
}
