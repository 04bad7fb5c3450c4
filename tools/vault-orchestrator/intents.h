/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Sessions still to end, kept in the state directory: before apply changes the membership of
 * a user who loses access it records the user here (written and synced), and only once every
 * running session of theirs is confirmed ended does it drop them.  A run interrupted between
 * the membership change and destroy_kasm thus leaves the user here, and the next run ends
 * their sessions although their memberships already look right.
 */

#include <stdbool.h>
#include <stddef.h>

#define INTENTS_FILE "sessions-to-end.json"

struct intents {
        char **user_ids;            /* sorted, unique */
        size_t count;
};

/* Load dir/sessions-to-end.json; a missing file (or directory) is no intent.  0, or a negative
 * errno with why. */
int intents_load(const char *dir, struct intents *ret, char why[512]);
/* Replace the file with exactly these users (atomically, synced). */
int intents_save(const char *dir, const struct intents *in, char why[512]);
bool intents_has(const struct intents *in, const char *user_id);
int intents_add(struct intents *in, const char *user_id);
void intents_remove(struct intents *in, const char *user_id);
void intents_clear(struct intents *in);
