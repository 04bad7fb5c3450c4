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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* A bounded writer: once it overflows it stays overflowed and the caller gets -ENAMETOOLONG. */
struct out {
        char *buf;
        size_t size;
        size_t len;
        bool overflow;
};

static void out_bytes(struct out *o, const char *s, size_t n)
{
        if (o->overflow || o->len + n >= o->size) {
                o->overflow = true;
                return;
        }
        memcpy(o->buf + o->len, s, n);
        o->len += n;
        o->buf[o->len] = '\0';
}

static void out_printf(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_printf(struct out *o, const char *fmt, ...)
{
        if (o->overflow)
                return;
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(o->buf + o->len, o->size - o->len, fmt, ap);
        va_end(ap);
        if (n < 0 || (size_t)n >= o->size - o->len) {
                o->overflow = true;
                return;
        }
        o->len += (size_t)n;
}

static void out_escaped(struct out *o, const char *s)
{
        static const char hex[] = "0123456789ABCDEF";
        if (!*s) {
                out_bytes(o, "%00", 3); /* empty path: never valid, but keep fields aligned */
                return;
        }
        for (; *s; s++) {
                unsigned char c = (unsigned char)*s;
                if (c <= 0x20 || c == 0x7f || c == '%') {
                        char e[3] = { '%', hex[c >> 4], hex[c & 15] };
                        out_bytes(o, e, 3);
                } else {
                        out_bytes(o, s, 1);
                }
        }
}

static void out_identity(struct out *o, const struct vs_identity *id)
{
        if (!id->known) {
                out_bytes(o, "-", 1);
                return;
        }
        out_printf(o, "%" PRIu64 ":%" PRIu64 ":%" PRIu32 ":%" PRId64 ":%" PRId64 ":%" PRId64
                      ":%" PRId64 ":%" PRId64,
                   id->dev, id->ino, id->mode, id->size, id->mtime_sec, id->mtime_nsec,
                   id->ctime_sec, id->ctime_nsec);
}

int vs_journal_format(const struct vs_journal_entry *e, char *buf, size_t size)
{
        struct out o = { .buf = buf, .size = size };
        if (size == 0)
                return -ENAMETOOLONG;
        buf[0] = '\0';
        out_printf(&o, RECORD_MAGIC " %s %s %s ", e->id, vs_journal_kind_name(e->kind),
                   vs_journal_phase_name(e->phase));
        out_escaped(&o, e->source);
        out_bytes(&o, " ", 1);
        out_escaped(&o, e->target);
        out_bytes(&o, " ", 1);
        out_escaped(&o, e->staging);
        out_bytes(&o, " ", 1);
        out_identity(&o, &e->source_id);
        out_bytes(&o, " ", 1);
        out_identity(&o, &e->staging_id);
        out_bytes(&o, " ", 1);
        out_identity(&o, &e->target_prev_id);
        if (o.overflow)
                return -ENAMETOOLONG;
        uint32_t sum = fnv1a(buf, o.len);
        out_printf(&o, " %08" PRIx32 "\n", sum);
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
        struct vs_identity v = { .known = true };
        int consumed = 0;
        if (sscanf(tmp, "%" SCNu64 ":%" SCNu64 ":%" SCNu32 ":%" SCNd64 ":%" SCNd64 ":%" SCNd64
                        ":%" SCNd64 ":%" SCNd64 "%n",
                   &v.dev, &v.ino, &v.mode, &v.size, &v.mtime_sec, &v.mtime_nsec, &v.ctime_sec,
                   &v.ctime_nsec, &consumed) != 8 ||
            (size_t)consumed != len)
                return -EBADMSG;
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
