/* SPDX-License-Identifier: MIT */
/*
 * One journal state per line, appended and fdatasync()ed; the last line that checks out
 * wins.  A crash mid-append leaves a torn last line (short, or zeros on filesystems that
 * extend the size before the data lands), which the checksum rejects, so the previous
 * state stands.
 *
 *   vsj1 <id> <kind> <phase> <source> <target> <staging> <src-id> <staging-id> <prev-id> <fnv>
 *
 * Paths are %XX-escaped (bytes <= 0x20, 0x7f and '%'), identities are "-" or
 * dev:ino:mode:size:msec:mnsec:csec:cnsec in decimal, <fnv> is FNV-1a 32 over the rest.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "fmt/fmt.h"
#include "journal/journal.h"

#define RECORD_MAGIC "vsj1"

static const char *const kind_names[] = {
        [VS_JOURNAL_FILE] = "file",
        [VS_JOURNAL_OVERWRITE] = "overwrite",
        [VS_JOURNAL_TREE] = "tree",
};

static const char *const phase_names[] = {
        [VS_JOURNAL_STAGED] = "staged",
        [VS_JOURNAL_INSTALLED] = "installed",
        [VS_JOURNAL_SOURCE_REMOVAL] = "source-removal",
};

const char *vs_journal_kind_name(enum vs_journal_kind kind)
{
        return (unsigned)kind < sizeof(kind_names) / sizeof(kind_names[0]) ? kind_names[kind] : "?";
}

const char *vs_journal_phase_name(enum vs_journal_phase phase)
{
        return (unsigned)phase < sizeof(phase_names) / sizeof(phase_names[0]) ? phase_names[phase]
                                                                             : "?";
}

static uint32_t fnv1a(const char *s, size_t len)
{
        uint32_t h = 2166136261u;
        for (size_t i = 0; i < len; i++) {
                h ^= (unsigned char)s[i];
                h *= 16777619u;
        }
        return h;
}

static void out_escaped(struct vs_buf *o, const char *s)
{
        static const char hex[] = "0123456789ABCDEF";
        if (!*s) {
                vs_buf_putn(o, "%00", 3); /* empty path: never valid, but keep fields aligned */
                return;
        }
        for (; *s; s++) {
                unsigned char c = (unsigned char)*s;
                if (c <= 0x20 || c == 0x7f || c == '%') {
                        char e[3] = { '%', hex[c >> 4], hex[c & 15] };
                        vs_buf_putn(o, e, 3);
                } else {
                        vs_buf_putn(o, s, 1);
                }
        }
}

static void out_identity(struct vs_buf *o, const struct vs_identity *id)
{
        if (!id->known) {
                vs_buf_puts(o, "-");
                return;
        }
        vs_buf_putu(o, id->dev, 0);
        vs_buf_puts(o, ":");
        vs_buf_putu(o, id->ino, 0);
        vs_buf_puts(o, ":");
        vs_buf_putu(o, id->mode, 0);
        const int64_t times[] = { id->size, id->mtime_sec, id->mtime_nsec, id->ctime_sec,
                                  id->ctime_nsec };
        for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
                vs_buf_puts(o, ":");
                vs_buf_putd(o, times[i]);
        }
}

int vs_journal_format(const struct vs_journal_entry *e, char *buf, size_t size)
{
        struct vs_buf o;
        if (size == 0)
                return -ENAMETOOLONG;
        vs_buf_init(&o, buf, size);
        vs_buf_puts(&o, RECORD_MAGIC " ");
        vs_buf_puts(&o, e->id);
        vs_buf_puts(&o, " ");
        vs_buf_puts(&o, vs_journal_kind_name(e->kind));
        vs_buf_puts(&o, " ");
        vs_buf_puts(&o, vs_journal_phase_name(e->phase));
        vs_buf_puts(&o, " ");
        out_escaped(&o, e->source);
        vs_buf_putn(&o, " ", 1);
        out_escaped(&o, e->target);
        vs_buf_putn(&o, " ", 1);
        out_escaped(&o, e->staging);
        vs_buf_putn(&o, " ", 1);
        out_identity(&o, &e->source_id);
        vs_buf_putn(&o, " ", 1);
        out_identity(&o, &e->staging_id);
        vs_buf_putn(&o, " ", 1);
        out_identity(&o, &e->target_prev_id);
        if (o.overflow)
                return -ENAMETOOLONG;
        uint32_t sum = fnv1a(buf, o.len);
        vs_buf_puts(&o, " ");
        vs_buf_putx(&o, sum, 8);
        vs_buf_puts(&o, "\n");
        return o.overflow ? -ENAMETOOLONG : (int)o.len;
}

static int hexval(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        return -1;
}

static int parse_escaped(const char *s, size_t len, char *dst, size_t size)
{
        size_t n = 0;
        for (size_t i = 0; i < len; i++) {
                char c = s[i];
                if (c == '%') {
                        if (i + 2 >= len)
                                return -EBADMSG;
                        int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
                        if (hi < 0 || lo < 0)
                                return -EBADMSG;
                        c = (char)(hi << 4 | lo);
                        i += 2;
                }
                if (c == '\0' || n + 1 >= size)
                        return -EBADMSG;
                dst[n++] = c;
        }
        if (n == 0 || dst[0] != '/')
                return -EBADMSG; /* journal paths are always absolute */
        dst[n] = '\0';
        return 0;
}

static int parse_identity(const char *s, size_t len, struct vs_identity *id)
{
        char tmp[200];
        if (len == 1 && s[0] == '-') {
                *id = (struct vs_identity){ 0 };
                return 0;
        }
        if (len >= sizeof(tmp))
                return -EBADMSG;
        memcpy(tmp, s, len);
        tmp[len] = '\0';
        /* dev:ino:mode unsigned, then size and times signed, as out_identity() writes them. */
        uint64_t u[3];
        int64_t d[5];
        char *p = tmp, *end;
        for (size_t i = 0; i < 8; i++) {
                if (i > 0 && *p++ != ':')
                        return -EBADMSG;
                errno = 0;
                if (i < 3)
                        u[i] = strtoull(p, &end, 10);
                else
                        d[i - 3] = strtoll(p, &end, 10);
                if (end == p || errno)
                        return -EBADMSG;
                p = end;
        }
        if (*p || u[2] > UINT32_MAX)
                return -EBADMSG;
        struct vs_identity v = {
                .known = true, .dev = u[0], .ino = u[1], .mode = (uint32_t)u[2], .size = d[0],
                .mtime_sec = d[1], .mtime_nsec = d[2], .ctime_sec = d[3], .ctime_nsec = d[4],
        };
        *id = v;
        return 0;
}

static int lookup_name(const char *const *names, size_t count, const char *s, size_t len)
{
        for (size_t i = 0; i < count; i++)
                if (strlen(names[i]) == len && memcmp(names[i], s, len) == 0)
                        return (int)i;
        return -EBADMSG;
}

/* Parse one line (without its newline) into *e; the checksum must match. */
static int parse_line(const char *line, size_t len, struct vs_journal_entry *e)
{
        enum { FIELDS = 11 };
        const char *start[FIELDS];
        size_t flen[FIELDS];
        size_t n = 0, i = 0;

        while (i <= len && n < FIELDS) {
                size_t j = i;
                while (j < len && line[j] != ' ')
                        j++;
                start[n] = line + i;
                flen[n] = j - i;
                n++;
                i = j + 1;
        }
        if (n != FIELDS || i <= len || flen[10] != 8)
                return -EBADMSG;

        size_t body = (size_t)(start[10] - line) - 1;
        char sum_text[9];
        memcpy(sum_text, start[10], 8);
        sum_text[8] = '\0';
        char *end = NULL;
        unsigned long sum = strtoul(sum_text, &end, 16);
        if (*end != '\0' || (uint32_t)sum != fnv1a(line, body))
                return -EBADMSG;

        if (flen[0] != strlen(RECORD_MAGIC) || memcmp(start[0], RECORD_MAGIC, flen[0]) != 0)
                return -EBADMSG;
        if (flen[1] == 0 || flen[1] >= sizeof(e->id))
                return -EBADMSG;
        memcpy(e->id, start[1], flen[1]);
        e->id[flen[1]] = '\0';

        int kind = lookup_name(kind_names, 3, start[2], flen[2]);
        int phase = lookup_name(phase_names, 3, start[3], flen[3]);
        if (kind < 0 || phase < 0)
                return -EBADMSG;
        e->kind = (enum vs_journal_kind)kind;
        e->phase = (enum vs_journal_phase)phase;

        int r;
        if ((r = parse_escaped(start[4], flen[4], e->source, sizeof(e->source))) < 0 ||
            (r = parse_escaped(start[5], flen[5], e->target, sizeof(e->target))) < 0 ||
            (r = parse_escaped(start[6], flen[6], e->staging, sizeof(e->staging))) < 0 ||
            (r = parse_identity(start[7], flen[7], &e->source_id)) < 0 ||
            (r = parse_identity(start[8], flen[8], &e->staging_id)) < 0 ||
            (r = parse_identity(start[9], flen[9], &e->target_prev_id)) < 0)
                return r;
        return 0;
}

int vs_journal_parse(const char *text, size_t len, struct vs_journal_entry *out)
{
        struct vs_journal_entry *scratch = malloc(sizeof(*scratch));
        if (!scratch)
                return -ENOMEM;
        bool found = false;
        size_t i = 0;
        while (i < len) {
                const char *nl = memchr(text + i, '\n', len - i);
                if (!nl)
                        break; /* torn final line */
                size_t line_len = (size_t)(nl - (text + i));
                if (parse_line(text + i, line_len, scratch) == 0) {
                        *out = *scratch;
                        found = true;
                }
                i += line_len + 1;
        }
        free(scratch);
        return found ? 0 : -ENODATA;
}
