/* SPDX-License-Identifier: MIT */
#pragma once

#include "report.h"

/*
 * Run the move recovery of the durability work over the vault: `vault-fsck [--dry-run]
 * VAULT` from $PATH, or $VAULT_FSCK.  Its absence is noted, not an error.
 */
void fl_recover_moves(struct fl_report *r, bool dry_run);
