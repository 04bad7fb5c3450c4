/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the manifest reader, the file vault-first-launch trusts to say what
 * a session has mounted.  Whatever the bytes, parsing must either fail with diagnostics or
 * yield a manifest whose folders are single safe names directly under its vault, and which
 * writes back to a manifest that parses and writes to the same bytes (a fixed point, as
 * `vault-first-launch --print-manifest` promises).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manifest/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The manifest as vault-first-launch --print-manifest writes it; caller frees. */
static char *written(const struct vs_manifest *m, size_t *len)
{
        char *text = NULL;
        FILE *out = open_memstream(&text, len);
        if (!out)
                abort();
        int r = vs_manifest_write(out, m);
        if (fclose(out) != 0 || r < 0)
                abort();
        return text;
}

static void check_folders(const struct vs_manifest *m)
{
        size_t n = strlen(m->vault);
        bool personal_listed = m->personal == NULL;
        if (m->vault[0] != '/')
                abort();
        for (size_t i = 0; i < m->n_folders; i++) {
                const struct vs_manifest_folder *f = &m->folders[i];
                if (strchr(f->name, '/') || strcmp(f->name, ".") == 0 ||
                    strcmp(f->name, "..") == 0 || strncmp(f->target, m->vault, n) != 0 ||
                    f->target[n] != '/' || strcmp(f->target + n + 1, f->name) != 0)
                        abort();
                if (f->mode != VS_MODE_RO && f->mode != VS_MODE_RW)
                        abort();
                if (m->personal && strcmp(m->personal, f->name) == 0)
                        personal_listed = true;
        }
        if (!personal_listed)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct vs_diags diags = { 0 };
        struct vs_manifest *m = NULL;
        if (vs_manifest_parse("fuzz.yaml", (const char *)data, size, &m, &diags) < 0) {
                /* failing closed always says why */
                if (diags.count == 0 || m)
                        abort();
                vs_diags_clear(&diags);
                return 0;
        }
        if (diags.count != 0)
                abort();
        check_folders(m);
        size_t len, again_len;
        char *text = written(m, &len);
        struct vs_manifest *back = NULL;
        if (vs_manifest_parse("written.yaml", text, len, &back, &diags) < 0) {
                fprintf(stderr, "the written manifest does not parse:\n%s\n%s\n", text,
                        diags.count ? diags.items[0].message : "");
                abort();
        }
        char *again = written(back, &again_len);
        if (again_len != len || memcmp(again, text, len) != 0) {
                fprintf(stderr, "not a fixed point:\n%s\n---\n%s\n", text, again);
                abort();
        }
        free(again);
        free(text);
        vs_manifest_free(back);
        vs_manifest_free(m);
        return 0;
}
