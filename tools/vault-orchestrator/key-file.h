/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The Kasm API key pair, from a file of one line "API_KEY:API_KEY_SECRET" (a trailing newline
 * allowed) that the caller owns and nobody else may read or write, or from the systemd
 * credential $CREDENTIALS_DIRECTORY/kasm-api-key.  Neither half ever reaches argv, a log or
 * an error message.
 */

#include <stdbool.h>
#include <stddef.h>

#define KEY_FILE_CREDENTIAL "kasm-api-key"
#define KEY_FILE_ERROR_MAX 512

struct api_key {
        char *key;
        char *secret;
};

/* Read and check path.  0, or -EPERM (owner or mode: why names the file and its mode),
 * -EINVAL (not one line KEY:SECRET), or the read error; why says which.
 *
 * credential: path is systemd's $CREDENTIALS_DIRECTORY/kasm-api-key.  systemd makes that
 * file 0400 and gives it to the service's user either by chown or, where the credential
 * file system has ACLs, by an ACL entry on a root-owned file (which shows as group r--).
 * So a credential may also be root's, with group read; never writable by any but its owner,
 * never readable by others. */
int api_key_read(const char *path, bool credential, struct api_key *ret,
                 char why[KEY_FILE_ERROR_MAX]);
/* The default path: $CREDENTIALS_DIRECTORY/kasm-api-key, or NULL when that is unset (the
 * caller frees). */
char *api_key_default_path(void);
/* Overwrite and free both halves. */
void api_key_clear(struct api_key *key);
