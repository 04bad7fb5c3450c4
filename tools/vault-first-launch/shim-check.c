/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

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

bool fl_roots_cover(const char *roots, const char *path)
{
        char *copy = strdup(roots), *save = NULL;
        bool found = false;
        for (char *t = strtok_r(copy, ":", &save); t && !found; t = strtok_r(NULL, ":", &save)) {
                size_t n = strlen(t);
                while (n > 1 && t[n - 1] == '/')
                        n--;
                found = strncmp(path, t, n) == 0 && (path[n] == '\0' || path[n] == '/' || n == 1);
        }
        free(copy);
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

/*
 * A probe name nobody can predict (128 random bits): the probe's target is in a shared
 * folder, where a colleague could otherwise plant the name, or hold its lock, beforehand.
 */
static int probe_name(char *buf, size_t size)
{
        unsigned char nonce[16];
        if (getrandom(nonce, sizeof(nonce), 0) != (ssize_t)sizeof(nonce))
                return -EIO;
        int n = snprintf(buf, size, ".vaultshim-probe-");
        for (size_t i = 0; i < sizeof(nonce) && n > 0 && (size_t)n + 2 < size; i++)
                n += snprintf(buf + n, size - (size_t)n, "%02x", nonce[i]);
        return 0;
}

/*
 * One rename across mounts, in this process, so that the preloaded shim (if any) moves it.
 * Bounded: the shim returns within its bound of one call (VS_MOVE_BOUND_MS) whatever
 * another user does, and creating and removing the probe never waits.
 */
static void probe_rename(struct fl_report *r, const char *from_dir, const char *to_dir)
{
        char *from = NULL, *to = NULL, name[64];
        int e = probe_name(name, sizeof(name));
        if (e < 0) {
                fl_report_add(r, VS_SEVERITY_WARNING, "shim", "probe skipped: no random name: %s",
                              strerror(-e));
                return;
        }
        if (asprintf(&from, "%s/%s", from_dir, name) < 0 ||
            asprintf(&to, "%s/%s", to_dir, name) < 0)
                abort();
        int fd = open(from, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
                      0600);
        if (fd < 0) {
                fl_report_add(r, VS_SEVERITY_WARNING, "shim", "probe: cannot create %s: %s", from,
                              strerror(errno));
                goto out;
        }
        (void)!write(fd, "vaultshim probe\n", 16);
        close(fd);
        if (rename(from, to) == 0)
                fl_report_add(r, VS_SEVERITY_OK, "shim",
                              "probe: moved a file from %s to %s across mounts", from_dir, to_dir);
        else if (errno == EXDEV)
                fl_report_add(
                        r, VS_SEVERITY_WARNING, "shim",
                        "probe: moving a file from %s to %s failed with EXDEV: the shim is not "
                        "active, so Obsidian cannot move notes between folders; fix: %s",
                        from_dir, to_dir, SHIM_FIX);
        else
                fl_report_add(r, VS_SEVERITY_WARNING, "shim", "probe: moving %s to %s failed: %s",
                              from, to, strerror(errno));
out:
        (void)unlink(from);
        (void)unlink(to);
        free(from);
        free(to);
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
        if (r->manifest && !fl_roots_cover(roots ? roots : "/vault", r->manifest->vault))
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
        probe_rename(r, a, b);
}
