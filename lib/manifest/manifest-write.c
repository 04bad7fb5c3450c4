/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "manifest/manifest.h"
#include "shared/rfc3339.h"

/*
 * A string may stay unquoted when YAML 1.1 would read it back as the same string: only
 * path-like characters, starting with a letter, '/' or '_' (so never a number, '-' or '.'),
 * and not one of the words that resolve to null or a boolean.
 */
static bool plain_safe(const char *s)
{
        static const char *const words[] = {"null", "true", "false", "yes", "no", "on", "off", "y", "n"};
        char c = s[0];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '/' || c == '_'))
                return false;
        for (const char *p = s; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                      (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-' || *p == '/'))
                        return false;
        for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
                if (strcasecmp(s, words[i]) == 0)
                        return false;
        return true;
}

static void put_string(FILE *out, const char *s, bool force_quotes)
{
        if (!force_quotes && plain_safe(s)) {
                fputs(s, out);
                return;
        }
        fputc('"', out);
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                if (*p == '"' || *p == '\\')
                        fprintf(out, "\\%c", *p);
                else if (*p < 0x20 || *p == 0x7f)
                        fprintf(out, "\\x%02x", *p);
                else
                        fputc(*p, out);
        }
        fputc('"', out);
}

static int put_time(FILE *out, int64_t t)
{
        char buf[VS_RFC3339_MAX];
        if (t == VS_TIME_NONE) {
                fputs("null", out);
                return 0;
        }
        int r = vs_rfc3339_format(t, buf);
        if (r < 0)
                return r;
        fputs(buf, out);
        return 0;
}

static bool folder_complete(const struct vs_manifest_folder *f)
{
        return f->name && f->source && f->target && (f->mode == VS_MODE_RO || f->mode == VS_MODE_RW);
}

int vs_manifest_write(FILE *out, const struct vs_manifest *m)
{
        if (!m->user_name || !m->user_id || !m->vault)
                return -EINVAL;
        for (size_t i = 0; i < m->n_folders; i++)
                if (!folder_complete(&m->folders[i]))
                        return -EINVAL;

        fprintf(out, "version: %d\nuser:\n  name: ", VS_MANIFEST_VERSION);
        put_string(out, m->user_name, false);
        fputs("\n  id: ", out);
        put_string(out, m->user_id, true);
        fputs("\nvault: ", out);
        put_string(out, m->vault, false);
        if (m->personal) {
                fputs("\npersonal: ", out);
                put_string(out, m->personal, false);
        }
        fputs("\nvalid_until: ", out);
        int r = put_time(out, m->valid_until);
        if (r < 0)
                return r;
        fputs(m->n_folders ? "\nfolders:\n" : "\nfolders: []\n", out);
        for (size_t i = 0; i < m->n_folders; i++) {
                const struct vs_manifest_folder *f = &m->folders[i];
                fputs("  - name: ", out);
                put_string(out, f->name, false);
                fputs("\n    source: ", out);
                put_string(out, f->source, false);
                fputs("\n    target: ", out);
                put_string(out, f->target, false);
                fprintf(out, "\n    mode: %s\n    required: %s\n    valid_until: ",
                        vs_mode_to_string(f->mode), f->required ? "true" : "false");
                r = put_time(out, f->valid_until);
                if (r < 0)
                        return r;
                fputc('\n', out);
        }
        return ferror(out) ? -EIO : 0;
}
