/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "move/internal.h"

static const char *type_name(mode_t type)
{
        switch (type) {
        case S_IFREG:
                return "file";
        case S_IFDIR:
                return "directory";
        case S_IFLNK:
                return "symlink";
        case S_IFIFO:
                return "fifo";
        default:
                return "none";
        }
}

const char *vs_dropped_name(unsigned bit)
{
        switch (bit) {
        case VS_DROPPED_XATTRS:
                return "xattrs";
        case VS_DROPPED_ACL:
                return "acl";
        case VS_DROPPED_MODE:
                return "mode";
        case VS_DROPPED_OWNER:
                return "owner";
        case VS_DROPPED_TIMES:
                return "times";
        case VS_DROPPED_TIME_NSEC:
                return "time-nsec";
        default:
                return NULL;
        }
}

/* "dropped":["xattrs",...]: what the target's filesystem could not hold. */
static void put_dropped(struct vs_buf *b, unsigned dropped)
{
        vs_buf_puts(b, ",\"dropped\":[");
        const char *sep = "";
        for (unsigned bit = 1; bit && bit <= dropped; bit <<= 1) {
                const char *name = (dropped & bit) ? vs_dropped_name(bit) : NULL;
                if (!name)
                        continue;
                vs_buf_puts(b, sep);
                vs_buf_put_json(b, name);
                sep = ",";
        }
        vs_buf_puts(b, "]");
}

/* The slots in the order a move reaches them: "plan", "check" (the locks), "record", the
 * other steps, "finish". */
static unsigned slot_in_order(unsigned i)
{
        _Static_assert(VS_STEP_CHECK == 0, "check is the first step");
        if (i == 1)
                return VS_TIME_STEP0 + VS_STEP_CHECK;
        if (i == 2)
                return VS_TIME_RECORD;
        return i < 3 || i > VS_TIME_RECORD ? i : i - 1;
}

/* "steps":{"copy-data":12,...}: microseconds from each step reached to the next, only
 * those the move reached. */
static void put_steps(struct vs_buf *b, const struct vs_move_stats *st)
{
        vs_buf_puts(b, ",\"steps\":{");
        const char *sep = "";
        for (unsigned i = 0; st && i < VS_TIME_COUNT; i++) {
                unsigned slot = slot_in_order(i);
                if (!st->step_ns[slot])
                        continue;
                vs_buf_puts(b, sep);
                vs_buf_put_json(b, vs_time_slot_name(slot));
                vs_buf_puts(b, ":");
                vs_buf_putu(b, (st->step_ns[slot] + 500) / 1000, 0);
                sep = ",";
        }
        vs_buf_puts(b, "}");
}

static void put_time(struct vs_buf *b)
{
        struct timespec now;
        struct tm tm;
        clock_gettime(CLOCK_REALTIME, &now);
        gmtime_r(&now.tv_sec, &tm);
        vs_buf_putu(b, (uint64_t)tm.tm_year + 1900, 4);
        vs_buf_puts(b, "-");
        vs_buf_putu(b, (uint64_t)tm.tm_mon + 1, 2);
        vs_buf_puts(b, "-");
        vs_buf_putu(b, (uint64_t)tm.tm_mday, 2);
        vs_buf_puts(b, "T");
        vs_buf_putu(b, (uint64_t)tm.tm_hour, 2);
        vs_buf_puts(b, ":");
        vs_buf_putu(b, (uint64_t)tm.tm_min, 2);
        vs_buf_puts(b, ":");
        vs_buf_putu(b, (uint64_t)tm.tm_sec, 2);
        vs_buf_puts(b, ".");
        vs_buf_putu(b, (uint64_t)now.tv_nsec / 1000, 6);
        vs_buf_puts(b, "Z");
}

int vs_log_append(const char *log_path, const struct vs_log_record *rec)
{
        /* Two paths plus the fields; a line that does not fit is dropped, never cut. */
        char line[3 * PATH_MAX];
        struct vs_buf b;
        const struct vs_move_stats *st = rec->stats;
        vs_buf_init(&b, line, sizeof(line));
        vs_buf_puts(&b, "{\"time\":\"");
        put_time(&b);
        vs_buf_puts(&b, "\",\"pid\":");
        vs_buf_putu(&b, (uint64_t)getpid(), 0);
        vs_buf_puts(&b, ",\"src\":");
        vs_buf_put_json(&b, rec->src ? rec->src : "");
        vs_buf_puts(&b, ",\"dst\":");
        vs_buf_put_json(&b, rec->dst ? rec->dst : "");
        vs_buf_puts(&b, ",\"type\":\"");
        vs_buf_puts(&b, type_name(st ? st->type : 0));
        vs_buf_puts(&b, "\",\"bytes\":");
        vs_buf_putu(&b, st ? st->bytes : 0, 0);
        vs_buf_puts(&b, ",\"entries\":");
        vs_buf_putu(&b, st ? st->entries : 0, 0);
        vs_buf_puts(&b, ",\"method\":\"");
        vs_buf_puts(&b, vs_copy_method_name(st ? st->methods : 0));
        vs_buf_puts(&b, "\",\"flushes\":");
        vs_buf_putu(&b, st ? st->flushes : 0, 0);
        vs_buf_puts(&b, ",\"duration_ns\":");
        vs_buf_putu(&b, rec->duration_ns, 0);
        put_steps(&b, st);
        /* "ok", or "error" with the errno the caller got, or "not-emulated" (the kernel's
         * EXDEV passed through) and why. */
        uint64_t err = rec->result < 0 ? (uint64_t)-(int64_t)rec->result : 0;
        const char *why = err == EXDEV && st ? st->not_emulated : NULL;
        vs_buf_puts(&b, why   ? ",\"result\":\"not-emulated\""
                        : err ? ",\"result\":\"error\""
                              : ",\"result\":\"ok\"");
        vs_buf_puts(&b, ",\"errno\":");
        vs_buf_putu(&b, err, 0);
        if (why) {
                vs_buf_puts(&b, ",\"reason\":");
                vs_buf_put_json(&b, why);
        }
        put_dropped(&b, st ? st->dropped : 0);
        vs_buf_puts(&b, "}\n");
        if (b.overflow)
                return -ENAMETOOLONG;

        int fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
        if (fd < 0)
                return -errno;
        /* One write(2) with O_APPEND: concurrent writers never interleave within a line. */
        ssize_t n = write(fd, line, b.len);
        int r = n < 0 ? -errno : (size_t)n != b.len ? -EIO : 0;
        close(fd);
        return r;
}
