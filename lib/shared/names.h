/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

#define VS_USER_TOKEN_RULE "1-64 characters from A-Z a-z 0-9 . _ -"
#define VS_FOLDER_NAME_RULE \
        "1-255 bytes, no '/', no control characters, not starting with '.'"

/* A user name or id: [A-Za-z0-9._-]{1,64}, and never "." or "..". */
bool vs_user_token_valid(const char *s);

/*
 * A folder name is one path segment under the vault root.  Leading dots are refused:
 * ".obsidian", ".trash" and ".stfolder" have meanings there, and "." / ".." traverse.
 */
bool vs_folder_name_valid(const char *s);

/* Absolute, no empty, "." or ".." segments, no trailing slash (except "/"). */
bool vs_path_normalised(const char *s);
