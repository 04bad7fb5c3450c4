/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "policy/json-time.h"

int audit_open(struct audit *a, const char *path)
{
        *a = (struct audit){ .fd = -1 };
        if (!path)
                return 0;
        a->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
        if (a->fd < 0)
                return -errno;
        if (!(a->path = strdup(path))) {
                audit_close(a);
                return -ENOMEM;
        }
        return 0;
}

void audit_close(struct audit *a)
{
        if (a->fd >= 0)
                close(a->fd);
        free(a->path);
        *a = (struct audit){ .fd = -1 };
}

int audit_write(struct audit *a, const char *call, json_t *target, json_t *why, bool ok,
                const char *error)
{
        json_t *line =
                json_pack("{s:o, s:s, s:o, s:o, s:b}", "time", vp_json_time((int64_t)time(NULL)),
                          "call", call, "target", target ? target : json_object(), "why",
                          why ? why : json_object(), "ok", ok);
        char *text;
        int r = 0;
        if (a->fd < 0) {
                json_decref(line);
                return 0;
        }
        if (!line)
                return -ENOMEM;
        if (error)
                json_object_set_new(line, "error", json_string(error));
        text = json_dumps(line, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(line);
        if (!text)
                return -ENOMEM;
        size_t len = strlen(text);
        errno = 0;
        text[len++] = '\n'; /* json_dumps leaves room: replace the NUL, write len bytes */
        if (write(a->fd, text, len) != (ssize_t)len || fdatasync(a->fd) < 0)
                r = errno ? -errno : -EIO;
        free(text);
        return r;
}
