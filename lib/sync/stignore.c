/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sync/sync.h"

#define BLOCK_BEGIN "// BEGIN vaultshim: managed by vault-first-launch, edit outside this block"
#define BLOCK_END "// END vaultshim"

/*
 * What must never travel to another device: the shim's journal and its half-built staging
 * copies (a crash leaves them for vault-fsck, not for the peers), trash folders that
 * `gio trash` creates at a writable mount root, and Obsidian's per-window layout, which
 * changes whenever a file is opened and only makes conflicts.  (?d) lets Syncthing delete
 * them when they are all that keeps a directory from being removed.
 */
static const char block[] =
        BLOCK_BEGIN "\n"
        "(?d).vaultshim\n"
        "(?d).vaultshim-*\n"
        "(?d).Trash-*\n"
        "(?d)/.obsidian/workspace.json\n"
        "(?d)/.obsidian/workspace-mobile.json\n"
        BLOCK_END "\n";

int vs_stignore_render(const char *folder, struct vs_changes *changes, struct vs_diags *diags)
{
        char *path = NULL, *old = NULL, *text = NULL;
        size_t old_len = 0, len = 0;
        FILE *out = NULL;
        int r;

        if (asprintf(&path, "%s/.stignore", folder) < 0)
                return -ENOMEM;
        r = vs_file_read(path, &old, &old_len);
        if (r < 0 && r != -ENOENT) {
                vs_file_read_failed(diags, path, r);
                goto out;
        }
        out = open_memstream(&text, &len);
        if (!out) {
                r = -ENOMEM;
                goto out;
        }
        /* The user's lines stay where they are; our block replaces itself in place. */
        bool inside = false, placed = false;
        for (char *line = old, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                size_t n = next ? (size_t)(next - line) : strlen(line);
                next = next ? next + 1 : NULL;
                if (!inside && n == strlen(BLOCK_BEGIN) && strncmp(line, BLOCK_BEGIN, n) == 0) {
                        inside = true;
                        if (!placed)
                                fputs(block, out);
                        placed = true;
                } else if (inside) {
                        inside = !(n == strlen(BLOCK_END) && strncmp(line, BLOCK_END, n) == 0);
                } else {
                        fwrite(line, 1, n, out);
                        fputc('\n', out);
                }
        }
        if (!placed)
                fputs(block, out);
        if (fclose(out) != 0) {
                out = NULL;
                r = -ENOMEM;
                goto out;
        }
        out = NULL;
        r = vs_file_update(path, text, len, 0644, changes, diags);
out:
        if (out)
                fclose(out);
        free(text);
        free(old);
        free(path);
        return r;
}
