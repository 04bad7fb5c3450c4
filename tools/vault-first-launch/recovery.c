/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>

#include "program.h"
#include "recovery.h"

void fl_recover_moves(struct fl_report *r, bool dry_run)
{
        /*
         * Hook point for the move recovery: vault-fsck (from the durability work) finishes or
         * rolls back moves a crash interrupted.  $VAULT_FSCK overrides where it is found.
         */
        const char *override = getenv("VAULT_FSCK");
        char *fsck = fl_find_program(override && *override ? override : "vault-fsck");
        char *output = NULL;
        if (!r->manifest)
                goto out;
        if (!fsck) {
                fl_report_add(r, VS_SEVERITY_OK, "recovery",
                              "vault-fsck not found: interrupted moves were not checked");
                goto out;
        }
        const char *argv[] = {fsck, dry_run ? "--dry-run" : r->manifest->vault,
                              dry_run ? r->manifest->vault : NULL, NULL};
        int status = fl_run(argv, NULL, &output);
        size_t len = output ? strlen(output) : 0;
        while (len && output[len - 1] == '\n')
                output[--len] = '\0';
        if (status == 0)
                fl_report_add(r, VS_SEVERITY_OK, "recovery", "vault-fsck: no interrupted moves");
        else if (status == 1)
                fl_report_add(r, VS_SEVERITY_OK, "recovery", "vault-fsck %s interrupted moves: %s",
                              dry_run ? "would repair" : "repaired", output ? output : "");
        else if (status < 0)
                fl_report_add(r, VS_SEVERITY_WARNING, "recovery", "cannot run %s: %s", fsck,
                              strerror(-status));
        else
                fl_report_add(r, VS_SEVERITY_WARNING, "recovery",
                              "vault-fsck left something for a person to look at (exit %d): %s",
                              status, output ? output : "");
out:
        free(output);
        free(fsck);
}
