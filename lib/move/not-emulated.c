/* SPDX-License-Identifier: MIT */
/*
 * Why a move under the roots is not emulated (the caller gets the kernel's EXDEV): each
 * place that decides so notes a word here, deep in the checks, and vs_move() hands it to
 * its stats, so the audit log (and vault-first-launch's probe) can say why.  Per thread:
 * moves run on many threads at once, and the word is taken before the call returns.
 */
#include <errno.h>
#include <stddef.h>

#include "move/internal.h"

static __thread const char *noted __attribute__((tls_model("initial-exec")));

int vs_not_emulated(const char *why)
{
        noted = why;
        return -EXDEV;
}

const char *vs_not_emulated_take(void)
{
        const char *why = noted;
        noted = NULL;
        return why;
}
