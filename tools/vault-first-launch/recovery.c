/* SPDX-License-Identifier: MIT */
/*
 * Move recovery at session start: vault-fsck finishes or rolls back this user's moves a
 * crash interrupted, from the user's private journal.  It runs under a deadline (a session
 * must start), its output is escaped (it names files other users may have named), and the
 * private journal itself is checked: without one the shim emulates no move.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fmt/fmt.h"
#include "journal/journal.h"
#include "program.h"
#include "recovery.h"
#include "shim-check.h"

#define FSCK_TIMEOUT_MS 60000 /* VAULT_FSCK_TIMEOUT (seconds) overrides it */

/* The text as one escaped line: it cannot forge report lines or drive the terminal. */
static char *escaped(const char *text)
{
        size_t size = 4 * strlen(text) + 1;
        char *out = malloc(size);
        if (!out)
                return NULL;
        struct vs_buf b;
        vs_buf_init(&b, out, size);
        vs_buf_put_escaped(&b, text);
        return out;
}

static bool inside(const char *path, const char *dir)
{
        size_t n = strlen(dir);
        return n && strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/* Where the personal folder is mounted, or "" when the manifest names none. */
static const char *personal_folder(const struct vs_manifest *m)
{
        for (size_t i = 0; m->personal && i < m->n_folders; i++)
                if (strcmp(m->folders[i].name, m->personal) == 0)
                        return m->folders[i].target;
        return "";
}

/* Is path in the vault: below the manifest's root or a root of VAULTSHIM_ROOTS (as the shim
 * sees them)? */
static bool in_vault(const struct vs_manifest *m, const char *path)
{
        char vault[PATH_MAX];
        return fl_roots_cover(path) ||
               (realpath(m->vault, vault) && inside(path, vault)) || inside(path, m->vault);
}

/* A journal the shim refuses as not private (vs_journal_check_place): an error, exit 1,
 * since no move would be emulated and records there would be open to other users. */
static void refuse_shared_journal(struct fl_report *r, const char *shown, const char *why)
{
        const char *personal = personal_folder(r->manifest);
        const char *fix = *personal ? personal : "the personal folder";
        if (strcmp(why, VS_JOURNAL_PERSONAL_UNKNOWN) == 0)
                fl_report_add(
                        r, VS_SEVERITY_ERROR, "recovery",
                        "VAULTSHIM_JOURNAL (%s) is in the vault, and VAULTSHIM_PERSONAL names "
                        "no personal folder to tell it private: moves across folders are not "
                        "emulated, they fail with EXDEV; fix: set VAULTSHIM_PERSONAL=%s in "
                        "the image environment",
                        shown, fix);
        else
                fl_report_add(r, VS_SEVERITY_ERROR, "recovery",
                              "VAULTSHIM_JOURNAL (%s) is %s, which other users' sessions may "
                              "mount: it is not private, so moves across folders are not "
                              "emulated, they fail with EXDEV; fix: set VAULTSHIM_JOURNAL to a "
                              "directory below %s", shown,
                              strcmp(why, VS_JOURNAL_OTHER_MOUNT) == 0
                                      ? "on a folder mounted inside the personal folder"
                                      : "in a vault folder other than the personal one",
                              fix);
}

/* Is there a private place for the journal?  If not, say why: moves are not emulated. */
static void check_journal(struct fl_report *r)
{
        char dir[PATH_MAX], parent[PATH_MAX], resolved[PATH_MAX];
        int e = vs_journal_location(dir, sizeof(dir));
        if (e < 0) {
                fl_report_add(r, VS_SEVERITY_WARNING, "recovery",
                              "no private journal (VAULTSHIM_JOURNAL %s): moves across folders "
                              "are not emulated, they fail with EXDEV",
                              e == -EINVAL ? "is not an absolute path"
                                           : "is not set, nor XDG_STATE_HOME or HOME");
                return;
        }
        char *shown = escaped(dir);
        const char *why = NULL;
        if (vs_journal_resolve(dir, resolved, sizeof(resolved)) == 0) {
                bool vaulted = in_vault(r->manifest, resolved);
                char personal[PATH_MAX];
                /* The shim knows the personal folder from VAULTSHIM_PERSONAL alone: that must
                 * be the manifest's too. */
                if (vs_journal_check_place(resolved, vaulted, &why) == 0 && vaulted &&
                    !(realpath(personal_folder(r->manifest), personal) &&
                      inside(resolved, personal)))
                        why = VS_JOURNAL_OUTSIDE_PERSONAL;
        }
        if (why) {
                refuse_shared_journal(r, shown ? shown : "?", why);
                free(shown);
                return;
        }
        bool created;
        int fd = vs_journal_dir_open(dir, false, &created);
        if (fd == -ENOENT) {
                /* Made by the first move; its parent must let us. */
                strcpy(parent, dir);
                char *slash = strrchr(parent, '/');
                if (slash && slash != parent)
                        *slash = '\0';
                e = access(parent, W_OK | X_OK) < 0 ? -errno : 0;
        } else {
                e = fd < 0 ? fd : 0;
                if (fd >= 0)
                        close(fd);
        }
        if (e < 0)
                fl_report_add(
                        r, VS_SEVERITY_WARNING, "recovery",
                        "the private journal %s cannot be used (%s%s): moves across folders "
                        "are not emulated, they fail with EXDEV",
                        shown ? shown : "?", strerror(-e),
                        e == -EPERM
                                ? ": it must be a directory of this user that nobody else can write"
                                : "");
        free(shown);
}

static unsigned fsck_timeout_ms(void)
{
        const char *s = getenv("VAULT_FSCK_TIMEOUT");
        long v = s && *s ? strtol(s, NULL, 10) : 0;
        return v > 0 && v < 3600 ? (unsigned)v * 1000 : FSCK_TIMEOUT_MS;
}

void fl_recover_moves(struct fl_report *r, bool dry_run)
{
        /* $VAULT_FSCK overrides where vault-fsck is found. */
        const char *override = getenv("VAULT_FSCK");
        char *fsck = fl_find_program(override && *override ? override : "vault-fsck");
        char *output = NULL, *shown = NULL;
        if (!r->manifest)
                goto out;
        check_journal(r);
        if (!fsck) {
                fl_report_add(r, VS_SEVERITY_OK, "recovery",
                              "vault-fsck not found: interrupted moves were not checked");
                goto out;
        }
        const char *argv[] = {fsck, dry_run ? "--dry-run" : r->manifest->vault,
                              dry_run ? r->manifest->vault : NULL, NULL};
        unsigned timeout = fsck_timeout_ms();
        int status = fl_run_deadline(argv, NULL, &output, timeout);
        size_t len = output ? strlen(output) : 0;
        while (len && output[len - 1] == '\n')
                output[--len] = '\0';
        shown = escaped(output ? output : "");
        const char *text = shown ? shown : "";
        if (status == 0)
                fl_report_add(r, VS_SEVERITY_OK, "recovery", "vault-fsck: no interrupted moves");
        else if (status == 1)
                fl_report_add(r, VS_SEVERITY_OK, "recovery", "vault-fsck %s interrupted moves: %s",
                              dry_run ? "would repair" : "repaired", text);
        else if (status == -ETIMEDOUT)
                fl_report_add(r, VS_SEVERITY_WARNING, "recovery",
                              "vault-fsck did not finish within %u s and was stopped; interrupted "
                              "moves may be left (run vault-fsck by hand): %s",
                              timeout / 1000, text);
        else if (status < 0)
                fl_report_add(r, VS_SEVERITY_WARNING, "recovery", "cannot run %s: %s", fsck,
                              strerror(-status));
        else if (status & 8 || status & 16)
                fl_report_add(r, VS_SEVERITY_WARNING, "recovery",
                              "vault-fsck failed (exit %d): %s", status, text);
        else
                fl_report_add(r, VS_SEVERITY_WARNING, "recovery",
                              "vault-fsck left something for a person to look at (exit %d): %s",
                              status, text);
out:
        free(shown);
        free(output);
        free(fsck);
}
