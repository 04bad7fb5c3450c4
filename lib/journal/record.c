/* SPDX-License-Identifier: MIT */
/*
 * One journal state per line, appended; the last line that checks out wins.  A crash
 * mid-append leaves a torn last line (short, or zeros on filesystems that extend the size
 * before the data lands), which the checksum rejects, so the previous state stands.
 *
 *   vsj3 <id> <kind> <phase> <source mount> <target mount> <source> <target>
 *        <source-id> <aside-id> <staging-id> <copied-id> <prev-id> <fnv>
 *
 * A mount is six fields: point root fstype major:minor fsid(hex) root-ino.  Paths are
 * %XX-escaped (bytes <= 0x20, 0x7f and '%'); mount points and roots are absolute, source
 * and target relative to their mount point and free of "", ".", ".." components.
 * Identities are "-" or ino:mode:size:msec:mnsec:csec:cnsec:btime:handle in decimal (no
 * st_dev: it does not survive a reboot), btime "-" or sec.nsec, handle "-" or
 * type.hex-bytes (identity.c: the proof).  <copied-id> is the staging object once the copy
 * completed it.  <fnv> is FNV-1a 32 over the rest of the line.
 *
 * Records of the previous format (vsj2: no <copied-id>, identities of seven fields) are
 * still read, so that a move that crashed before an upgrade is recovered; they carry no
 * proof, so recovery deletes nothing of theirs.
 *
 * The parser is the one piece of the journal that reads bytes from disk: it is strict (every
 * field checked, nothing left over) and fuzzed (tests/fuzz/fuzz-journal-record.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fmt/fmt.h"
#include "journal/journal.h"

#define RECORD_MAGIC "vsj3"
#define V2_RECORD_MAGIC "vsj2"
#define OLD_RECORD_MAGIC "vsj1 "

enum {
        F_MAGIC, F_ID, F_KIND, F_PHASE,
        F_SMOUNT, F_TMOUNT = F_SMOUNT + 6,
        F_SOURCE = F_TMOUNT + 6, F_TARGET,
        F_SOURCE_ID, F_ASIDE_ID, F_STAGING_ID, F_COPIED_ID, F_PREV_ID,
        F_SUM, FIELDS
};
/* vsj2 has no F_COPIED_ID: its fields from F_PREV_ID on sit one place earlier. */
#define V2_FIELDS (FIELDS - 1)
#define ID_PARTS 9
#define V2_ID_PARTS 7

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

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

const char *vs_journal_kind_name(enum vs_journal_kind kind)
{
        return (unsigned)kind < COUNT(kind_names) ? kind_names[kind] : "?";
}

const char *vs_journal_phase_name(enum vs_journal_phase phase)
{
        return (unsigned)phase < COUNT(phase_names) ? phase_names[phase] : "?";
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

/* ---- writing ---- */

static void out_escaped(struct vs_buf *o, const char *s)
{
        static const char hex[] = "0123456789ABCDEF";
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

static void out_field(struct vs_buf *o, const char *s)
{
        vs_buf_puts(o, " ");
        out_escaped(o, s);
}

static void out_identity(struct vs_buf *o, const struct vs_identity *id)
{
        vs_buf_puts(o, " ");
        if (!id->known) {
                vs_buf_puts(o, "-");
                return;
        }
        vs_buf_putu(o, id->ino, 0);
        vs_buf_puts(o, ":");
        vs_buf_putu(o, id->mode, 0);
        const int64_t signed_fields[] = { id->size, id->mtime_sec, id->mtime_nsec,
                                          id->ctime_sec, id->ctime_nsec };
        for (size_t i = 0; i < COUNT(signed_fields); i++) {
                vs_buf_puts(o, ":");
                vs_buf_putd(o, signed_fields[i]);
        }
        vs_buf_puts(o, ":");
        if (id->has_btime) {
                vs_buf_putd(o, id->btime_sec);
                vs_buf_puts(o, ".");
                vs_buf_putd(o, id->btime_nsec);
        } else {
                vs_buf_puts(o, "-");
        }
        vs_buf_puts(o, ":");
        if (id->handle_len == 0 || id->handle_len > VS_HANDLE_MAX) {
                vs_buf_puts(o, "-");
                return;
        }
        static const char hex[] = "0123456789abcdef";
        vs_buf_putu(o, id->handle_type, 0);
        vs_buf_puts(o, ".");
        for (uint32_t i = 0; i < id->handle_len; i++) {
                char b[2] = { hex[id->handle[i] >> 4], hex[id->handle[i] & 15] };
                vs_buf_putn(o, b, 2);
        }
}

static void out_mount(struct vs_buf *o, const struct vs_mount_identity *m)
{
        out_field(o, m->point);
        out_field(o, m->root);
        out_field(o, m->fstype);
        vs_buf_puts(o, " ");
        vs_buf_putu(o, m->dev_major, 0);
        vs_buf_puts(o, ":");
        vs_buf_putu(o, m->dev_minor, 0);
        vs_buf_puts(o, " ");
        vs_buf_putx(o, m->fsid, 0);
        vs_buf_puts(o, " ");
        vs_buf_putu(o, m->root_ino, 0);
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
        out_mount(&o, &e->source_mount);
        out_mount(&o, &e->target_mount);
        out_field(&o, e->source);
        out_field(&o, e->target);
        out_identity(&o, &e->source_id);
        out_identity(&o, &e->aside_id);
        out_identity(&o, &e->staging_id);
        out_identity(&o, &e->copied_id);
        out_identity(&o, &e->target_prev_id);
        if (o.overflow)
                return -ENAMETOOLONG;
        uint32_t sum = fnv1a(buf, o.len);
        vs_buf_puts(&o, " ");
        vs_buf_putx(&o, sum, 8);
        vs_buf_puts(&o, "\n");
        return o.overflow ? -ENAMETOOLONG : (int)o.len;
}

/* ---- reading ---- */

struct field {
        const char *s;
        size_t len;
};

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

static int parse_escaped(struct field f, char *dst, size_t size)
{
        size_t n = 0;
        for (size_t i = 0; i < f.len; i++) {
                char c = f.s[i];
                if (c == '%') {
                        if (i + 2 >= f.len)
                                return -EBADMSG;
                        int hi = hexval(f.s[i + 1]), lo = hexval(f.s[i + 2]);
                        if (hi < 0 || lo < 0)
                                return -EBADMSG;
                        c = (char)(hi << 4 | lo);
                        i += 2;
                }
                if (c == '\0' || n + 1 >= size)
                        return -EBADMSG;
                dst[n++] = c;
        }
        dst[n] = '\0';
        return n ? 0 : -EBADMSG;
}

/* Every component of s (split at '/') is a real name: not empty, ".", or "..". */
static bool clean_components(const char *s)
{
        for (;;) {
                const char *slash = strchr(s, '/');
                size_t len = slash ? (size_t)(slash - s) : strlen(s);
                if (len == 0 || (len == 1 && s[0] == '.') ||
                    (len == 2 && s[0] == '.' && s[1] == '.'))
                        return false;
                if (!slash)
                        return true;
                s = slash + 1;
        }
}

/* An absolute path ("/" alone allowed) with clean components. */
static int parse_absolute(struct field f, char *dst, size_t size)
{
        int r = parse_escaped(f, dst, size);
        if (r < 0 || dst[0] != '/')
                return -EBADMSG;
        return dst[1] == '\0' || clean_components(dst + 1) ? 0 : -EBADMSG;
}

/* A path relative to a mount point, never leaving it. */
static int parse_relative(struct field f, char *dst, size_t size)
{
        int r = parse_escaped(f, dst, size);
        return r == 0 && clean_components(dst) ? 0 : -EBADMSG;
}

/* Decimal without sign, spaces or leading zeros beyond "0"; *v untouched on failure. */
static int parse_u64(const char *s, size_t len, uint64_t *v)
{
        uint64_t n = 0;
        if (len == 0 || len > 20 || (len > 1 && s[0] == '0'))
                return -EBADMSG;
        for (size_t i = 0; i < len; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -EBADMSG;
                unsigned d = (unsigned)(s[i] - '0');
                if (n > (UINT64_MAX - d) / 10)
                        return -EBADMSG;
                n = n * 10 + d;
        }
        *v = n;
        return 0;
}

static int parse_i64(const char *s, size_t len, int64_t *v)
{
        bool negative = len > 0 && s[0] == '-';
        uint64_t n;
        if (parse_u64(s + negative, len - negative, &n) < 0 ||
            n > (uint64_t)INT64_MAX + negative)
                return -EBADMSG;
        *v = negative ? (int64_t)(0 - n) : (int64_t)n;
        return 0;
}

static int parse_hex64(struct field f, uint64_t *v)
{
        uint64_t n = 0;
        if (f.len == 0 || f.len > 16)
                return -EBADMSG;
        for (size_t i = 0; i < f.len; i++) {
                int d = hexval(f.s[i]);
                if (d < 0)
                        return -EBADMSG;
                n = n << 4 | (unsigned)d;
        }
        *v = n;
        return 0;
}

/* Split f at each sep into at most max parts; returns the count, or -EBADMSG for more. */
static int split(struct field f, char sep, struct field *parts, size_t max)
{
        size_t n = 0, start = 0;
        for (size_t i = 0; i <= f.len; i++) {
                if (i < f.len && f.s[i] != sep)
                        continue;
                if (n == max)
                        return -EBADMSG;
                parts[n++] = (struct field){ f.s + start, i - start };
                start = i + 1;
        }
        return (int)n;
}

static bool is_dash(struct field f)
{
        return f.len == 1 && f.s[0] == '-';
}

/* "-" or sec.nsec */
static int parse_btime(struct field f, struct vs_identity *v)
{
        struct field t[2];
        if (is_dash(f))
                return 0;
        if (split(f, '.', t, 2) != 2 || parse_i64(t[0].s, t[0].len, &v->btime_sec) < 0 ||
            parse_i64(t[1].s, t[1].len, &v->btime_nsec) < 0)
                return -EBADMSG;
        v->has_btime = true;
        return 0;
}

/* "-" or type.hex, an even number of lower-case hex digits, at most VS_HANDLE_MAX bytes */
static int parse_handle(struct field f, struct vs_identity *v)
{
        struct field h[2];
        uint64_t type;
        if (is_dash(f))
                return 0;
        if (split(f, '.', h, 2) != 2 || parse_u64(h[0].s, h[0].len, &type) < 0 ||
            type > INT32_MAX || h[1].len == 0 || h[1].len % 2 || h[1].len > 2 * VS_HANDLE_MAX)
                return -EBADMSG;
        for (size_t i = 0; i < h[1].len; i += 2) {
                int hi = hexval(h[1].s[i]), lo = hexval(h[1].s[i + 1]);
                if (hi < 0 || lo < 0 || (h[1].s[i] >= 'A' && h[1].s[i] <= 'F') ||
                    (h[1].s[i + 1] >= 'A' && h[1].s[i + 1] <= 'F'))
                        return -EBADMSG;
                v->handle[i / 2] = (unsigned char)(hi << 4 | lo);
        }
        v->handle_type = (uint32_t)type;
        v->handle_len = (uint32_t)(h[1].len / 2);
        return 0;
}

/* An identity of `parts` fields: 9 (vsj3) or 7 (vsj2, no birth time nor handle). */
static int parse_identity(struct field f, size_t parts, struct vs_identity *id)
{
        if (is_dash(f)) {
                *id = (struct vs_identity){ 0 };
                return 0;
        }
        struct field p[ID_PARTS];
        if (split(f, ':', p, parts) != (int)parts)
                return -EBADMSG;
        struct vs_identity v = { .known = true };
        uint64_t mode;
        if (parse_u64(p[0].s, p[0].len, &v.ino) < 0 || parse_u64(p[1].s, p[1].len, &mode) < 0 ||
            mode > UINT32_MAX || parse_i64(p[2].s, p[2].len, &v.size) < 0 ||
            parse_i64(p[3].s, p[3].len, &v.mtime_sec) < 0 ||
            parse_i64(p[4].s, p[4].len, &v.mtime_nsec) < 0 ||
            parse_i64(p[5].s, p[5].len, &v.ctime_sec) < 0 ||
            parse_i64(p[6].s, p[6].len, &v.ctime_nsec) < 0)
                return -EBADMSG;
        if (parts == ID_PARTS && (parse_btime(p[7], &v) < 0 || parse_handle(p[8], &v) < 0))
                return -EBADMSG;
        v.mode = (uint32_t)mode;
        *id = v;
        return 0;
}

static int parse_mount(const struct field *f, struct vs_mount_identity *m)
{
        struct field dev[2];
        uint64_t major, minor;
        if (parse_absolute(f[0], m->point, sizeof(m->point)) < 0 ||
            parse_absolute(f[1], m->root, sizeof(m->root)) < 0 ||
            parse_escaped(f[2], m->fstype, sizeof(m->fstype)) < 0 ||
            split(f[3], ':', dev, 2) != 2 || parse_u64(dev[0].s, dev[0].len, &major) < 0 ||
            parse_u64(dev[1].s, dev[1].len, &minor) < 0 || major > UINT32_MAX ||
            minor > UINT32_MAX || parse_hex64(f[4], &m->fsid) < 0 ||
            parse_u64(f[5].s, f[5].len, &m->root_ino) < 0)
                return -EBADMSG;
        m->dev_major = (uint32_t)major;
        m->dev_minor = (uint32_t)minor;
        return 0;
}

static int lookup_name(const char *const *names, size_t count, struct field f)
{
        for (size_t i = 0; i < count; i++)
                if (strlen(names[i]) == f.len && memcmp(names[i], f.s, f.len) == 0)
                        return (int)i;
        return -EBADMSG;
}

/* Record ids name files and objects: digits, lower-case hex and dots only. */
static int parse_id(struct field f, char *dst, size_t size)
{
        if (f.len == 0 || f.len >= size || f.s[0] == '.')
                return -EBADMSG;
        for (size_t i = 0; i < f.len; i++) {
                char c = f.s[i];
                if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == '.'))
                        return -EBADMSG;
        }
        memcpy(dst, f.s, f.len);
        dst[f.len] = '\0';
        return 0;
}

static bool field_is(struct field f, const char *s)
{
        return f.len == strlen(s) && memcmp(f.s, s, f.len) == 0;
}

/* Parse one line (without its newline) into *e; the checksum must match.  A vsj2 line is
 * read into the vsj3 layout: no copy evidence, no birth times, no handles. */
static int parse_line(const char *line, size_t len, struct vs_journal_entry *e)
{
        struct field f[FIELDS];
        int n = split((struct field){ line, len }, ' ', f, FIELDS);
        bool v2 = n == V2_FIELDS && field_is(f[F_MAGIC], V2_RECORD_MAGIC);
        if (v2) {
                f[F_SUM] = f[F_PREV_ID];
                f[F_PREV_ID] = f[F_COPIED_ID];
                f[F_COPIED_ID] = (struct field){ "-", 1 };
        } else if (n != FIELDS || !field_is(f[F_MAGIC], RECORD_MAGIC)) {
                return -EBADMSG;
        }
        if (f[F_SUM].len != 8)
                return -EBADMSG;
        uint64_t sum;
        size_t body = (size_t)(f[F_SUM].s - line) - 1;
        if (parse_hex64(f[F_SUM], &sum) < 0 || (uint32_t)sum != fnv1a(line, body))
                return -EBADMSG;
        size_t parts = v2 ? V2_ID_PARTS : ID_PARTS;
        int kind = lookup_name(kind_names, COUNT(kind_names), f[F_KIND]);
        int phase = lookup_name(phase_names, COUNT(phase_names), f[F_PHASE]);
        if (kind < 0 || phase < 0 || parse_id(f[F_ID], e->id, sizeof(e->id)) < 0)
                return -EBADMSG;
        e->kind = (enum vs_journal_kind)kind;
        e->phase = (enum vs_journal_phase)phase;
        if (parse_mount(f + F_SMOUNT, &e->source_mount) < 0 ||
            parse_mount(f + F_TMOUNT, &e->target_mount) < 0 ||
            parse_relative(f[F_SOURCE], e->source, sizeof(e->source)) < 0 ||
            parse_relative(f[F_TARGET], e->target, sizeof(e->target)) < 0 ||
            parse_identity(f[F_SOURCE_ID], parts, &e->source_id) < 0 ||
            parse_identity(f[F_ASIDE_ID], parts, &e->aside_id) < 0 ||
            parse_identity(f[F_STAGING_ID], parts, &e->staging_id) < 0 ||
            parse_identity(f[F_COPIED_ID], ID_PARTS, &e->copied_id) < 0 ||
            parse_identity(f[F_PREV_ID], parts, &e->target_prev_id) < 0)
                return -EBADMSG;
        /* A record without the source's identity could never prove anything. */
        return e->source_id.known ? 0 : -EBADMSG;
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
                        memcpy(out, scratch, sizeof(*out));
                        found = true;
                }
                i += line_len + 1;
        }
        free(scratch);
        return found ? 0 : -ENODATA;
}

bool vs_journal_is_old_format(const char *text, size_t len)
{
        return len >= strlen(OLD_RECORD_MAGIC) &&
               memcmp(text, OLD_RECORD_MAGIC, strlen(OLD_RECORD_MAGIC)) == 0;
}
