/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "base/file.h"
#include "base/mountinfo.h"

struct cursor {
        const char *p, *end;
};

/* The next space-separated field; false at the end of the line. */
static bool next_field(struct cursor *c, struct vs_span *out)
{
        while (c->p < c->end && *c->p == ' ')
                c->p++;
        if (c->p == c->end)
                return false;
        out->s = c->p;
        while (c->p < c->end && *c->p != ' ')
                c->p++;
        out->len = (size_t)(c->p - out->s);
        return true;
}

static bool decimal(const char *s, size_t len, uint64_t *out)
{
        uint64_t v = 0;
        if (len == 0 || len >= 20)
                return false;
        for (size_t i = 0; i < len; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return false;
                v = v * 10 + (uint64_t)(s[i] - '0');
        }
        *out = v;
        return true;
}

/* major:minor */
static bool device(struct vs_span f, uint32_t *major, uint32_t *minor)
{
        const char *colon = memchr(f.s, ':', f.len);
        uint64_t a, b;
        if (!colon || !decimal(f.s, (size_t)(colon - f.s), &a) ||
            !decimal(colon + 1, f.len - (size_t)(colon - f.s) - 1, &b) || a > UINT32_MAX ||
            b > UINT32_MAX)
                return false;
        *major = (uint32_t)a;
        *minor = (uint32_t)b;
        return true;
}

int vs_mountinfo_parse_line(const char *line, size_t len, struct vs_mountinfo_entry *out)
{
        struct cursor c = { line, line + len };
        struct vs_span f[6], sep = { 0 };
        for (size_t i = 0; i < 6; i++)
                if (!next_field(&c, &f[i]))
                        return -ENODATA;
        struct vs_mountinfo_entry e = { .root = f[3], .point = f[4], .options = f[5] };
        if (!decimal(f[0].s, f[0].len, &e.id) || !decimal(f[1].s, f[1].len, &e.parent) ||
            !device(f[2], &e.major, &e.minor))
                return -EINVAL;
        /* The optional fields (shared:N, master:N, ...) run up to a lone "-". */
        while (next_field(&c, &sep) && !vs_span_equal(sep, "-"))
                ;
        if (!vs_span_equal(sep, "-") || !next_field(&c, &e.fstype) ||
            !next_field(&c, &e.source) || !next_field(&c, &e.super))
                return -ENODATA;
        *out = e;
        return 0;
}

int vs_mountinfo_find(const char *text, size_t len, uint64_t id,
                      struct vs_mountinfo_entry *out)
{
        for (size_t i = 0; i < len;) {
                const char *nl = memchr(text + i, '\n', len - i);
                size_t line_len = nl ? (size_t)(nl - (text + i)) : len - i;
                uint64_t line_id;
                size_t digits = 0;
                while (digits < line_len && text[i + digits] >= '0' && text[i + digits] <= '9')
                        digits++;
                if (decimal(text + i, digits, &line_id) && line_id == id)
                        return vs_mountinfo_parse_line(text + i, line_len, out);
                i += line_len + 1;
        }
        return -ENOENT;
}

int vs_mountinfo_read(char **text, size_t *len)
{
        return vs_read_file(AT_FDCWD, VS_MOUNTINFO_PATH, 0, VS_MOUNTINFO_MAX, text, len);
}

static bool octal(char c, char top)
{
        return c >= '0' && c <= top;
}

int vs_mountinfo_unescape(struct vs_span field, char *out, size_t size)
{
        size_t n = 0;
        for (size_t i = 0; i < field.len; i++) {
                char c = field.s[i];
                if (c == '\\') {
                        if (i + 3 >= field.len)
                                return -EINVAL;
                        const char *d = field.s + i + 1;
                        if (!octal(d[0], '3') || !octal(d[1], '7') || !octal(d[2], '7'))
                                return -EINVAL;
                        c = (char)((d[0] - '0') << 6 | (d[1] - '0') << 3 | (d[2] - '0'));
                        i += 3;
                }
                if (n + 1 >= size)
                        return -ENAMETOOLONG;
                out[n++] = c;
        }
        if (size == 0)
                return -ENAMETOOLONG;
        out[n] = '\0';
        return 0;
}

bool vs_mountinfo_has_option(struct vs_span options, const char *option)
{
        size_t n = strlen(option);
        for (size_t i = 0; i <= options.len;) {
                const char *comma = memchr(options.s + i, ',', options.len - i);
                size_t end = comma ? (size_t)(comma - options.s) : options.len;
                if (end - i == n && memcmp(options.s + i, option, n) == 0)
                        return true;
                i = end + 1;
        }
        return false;
}

bool vs_span_equal(struct vs_span field, const char *text)
{
        size_t n = strlen(text);
        return field.len == n && memcmp(field.s, text, n) == 0;
}
