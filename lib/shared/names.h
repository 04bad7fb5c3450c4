/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define VS_USER_TOKEN_RULE \
        "1-255 bytes of letters, digits, '.', '_', '-', '@', '+' or non-ASCII UTF-8, not \".\" or \"..\""
#define VS_SEGMENT_TOKEN_RULE "1-64 characters from A-Z a-z 0-9 . _ -"
#define VS_FOLDER_NAME_RULE \
        "1-255 bytes, no '/', no control characters, not starting with '.'"

/* Room for vs_user_token_problem's message. */
#define VS_USER_TOKEN_WHY 160

/*
 * A user name or id as Kasm has them (e-mail style logins such as user@kasm.local, SSO names
 * with '+' or non-ASCII letters), restricted to what is one safe segment of a host path and
 * survives Docker's volume syntax "host:container:mode": no '/', ':', ',', braces (Kasm's own
 * tokens), whitespace, quotes, shell or glob characters, control characters or bad UTF-8;
 * never "." or "..".
 */
bool vs_user_token_valid(const char *s);

/* NULL when s is a valid user token, else why not, naming the first refused character
 * ("':' (U+003A) is not allowed ..."), written into buf. */
const char *vs_user_token_problem(const char *s, char buf[VS_USER_TOKEN_WHY]);

/* The narrow token [A-Za-z0-9._-]{1,64}, never "." or "..". */
bool vs_segment_token_valid(const char *s);

/*
 * A folder name is one path segment under the vault root.  Leading dots are refused:
 * ".obsidian", ".trash" and ".stfolder" have meanings there, and "." / ".." traverse.
 */
bool vs_folder_name_valid(const char *s);

/* Absolute, no empty, "." or ".." segments, no trailing slash (except "/"). */
bool vs_path_normalised(const char *s);
