/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/roots.h"
#include "probe.h"
#include "shim-check.h"

#define SHIM_NAME "libvaultshim.so"
#define SHIM_FIX "set LD_PRELOAD=" VS_SHIM_PATH " in the image environment " \
                 "(Dockerfile ENV), so the desktop session and Obsidian inherit it"

static bool preload_names_shim(const char *preload)
{
        /* ld.so splits LD_PRELOAD on spaces and colons. */
        char *copy = strdup(preload), *save = NULL;
        bool found = false;
        for (char *t = strtok_r(copy, ": ", &save); t && !found; t = strtok_r(NULL, ": ", &save)) {
                const char *base = strrchr(t, '/');
                base = base ? base + 1 : t;
                found = strncmp(base, SHIM_NAME, strlen(SHIM_NAME)) == 0;
        }
        free(copy);
        return found;
}

bool fl_roots_cover(const char *path)
{
        struct vs_roots *roots = malloc(sizeof(*roots)); /* 16 paths of PATH_MAX */
        char resolved[PATH_MAX];
        if (!roots)
                return false;
        vs_roots_from_env(roots);
        bool found = vs_roots_find(roots, path) ||
                     (realpath(path, resolved) && vs_roots_find(roots, resolved));
        free(roots);
        return found;
}

/* Two usable read-write folders for the probe, the personal one first. */
static bool pick_probe_folders(const struct fl_report *r, const char **a, const char **b)
{
        const struct vs_verify_result *v = &r->verify;
        *a = *b = NULL;
        for (int pass = 0; pass < 2; pass++)
                for (size_t i = 0; i < v->n_folders; i++) {
                        const struct vs_folder_check *c = &v->folders[i];
                        bool personal = r->manifest->personal &&
                                        strcmp(c->folder->name, r->manifest->personal) == 0;
                        if (!c->usable || c->mode != VS_MODE_RW || personal != (pass == 0))
                                continue;
                        if (!*a)
                                *a = c->folder->target;
                        else if (!*b)
                                *b = c->folder->target;
                }
        return *a && *b;
}

void fl_check_shim(struct fl_report *r, bool dry_run)
{
        const char *preload = getenv("LD_PRELOAD");
        const char *uring = getenv("UV_USE_IO_URING");
        const char *roots = getenv("VAULTSHIM_ROOTS");
        const char *disabled = getenv("VAULTSHIM_DISABLE");
        const char *a, *b;

        if (!preload || !preload_names_shim(preload))
                fl_report_add(r, VS_SEVERITY_WARNING, "shim",
                              "LD_PRELOAD does not name %s: moves between vault folders fail with "
                              "EXDEV; fix: %s", SHIM_NAME, SHIM_FIX);
        if (!uring || strcmp(uring, "0") != 0)
                fl_report_add(r, VS_SEVERITY_WARNING, "shim",
                              "UV_USE_IO_URING is %s%s%s: Node (Obsidian) then renames through "
                              "io_uring, which no preload sees; fix: set UV_USE_IO_URING=0 in the "
                              "image environment", uring ? "\"" : "not set", uring ? uring : "",
                              uring ? "\"" : "");
        if (disabled && strcmp(disabled, "1") == 0)
                fl_report_add(r, VS_SEVERITY_WARNING, "shim",
                              "VAULTSHIM_DISABLE=1 turns the shim off; fix: unset it");
        if (r->manifest && !fl_roots_cover(r->manifest->vault))
                fl_report_add(r, VS_SEVERITY_WARNING, "shim",
                              "VAULTSHIM_ROOTS (%s) does not cover the vault %s; fix: add it",
                              roots ? roots : "default /vault", r->manifest->vault);
        if (dry_run || !r->manifest)
                return;
        if (!pick_probe_folders(r, &a, &b)) {
                fl_report_add(r, VS_SEVERITY_OK, "shim",
                              "probe skipped: it needs two writable mounted folders");
                return;
        }
        fl_probe_rename(r, a, b, SHIM_FIX);
}
