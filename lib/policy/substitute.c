/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy-internal.h"

/* Placeholders are replaced only after the decision, so a hostile user name can at worst
 * lose its own folder: every value must be one segment that cannot climb (no '/', '.', '..'). */
int vs_policy_substitute(const char *path, const char *user_name, const char *user_id, char **ret,
                         const char **why)
{
        size_t cap = strlen(path) + 1, len = 0;
        const char *p;

        for (p = path; (p = strchr(p, '{')); p++) {
                const char *value = strncmp(p, "{username}", 10) == 0 ? user_name : user_id;
                if (!value || !vs_user_token_valid(value)) {
                        *why = value == user_name
                                ? "{username} needs a user name of " VS_USER_TOKEN_RULE
                                : "{user_id} needs a user id of " VS_USER_TOKEN_RULE;
                        return -EINVAL;
                }
                cap += strlen(value);
        }

        char *out = malloc(cap);
        if (!out)
                return -ENOMEM;
        for (p = path; *p;) {
                const char *value = NULL;
                size_t skip = 1;
                if (strncmp(p, "{username}", 10) == 0) {
                        value = user_name;
                        skip = 10;
                } else if (strncmp(p, "{user_id}", 9) == 0) {
                        value = user_id;
                        skip = 9;
                }
                if (value) {
                        memcpy(out + len, value, strlen(value));
                        len += strlen(value);
                } else {
                        out[len++] = *p;
                }
                p += skip;
        }
        out[len] = '\0';
        *ret = out;
        return 0;
}
