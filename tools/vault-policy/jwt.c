/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <jansson.h>
#include <jwt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy-internal.h"
#include "vault-policy.h"

static int refuse(char **error, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int refuse(char **error, int r, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(error, fmt, ap) < 0)
                *error = NULL;
        va_end(ap);
        return r;
}

static void strip_trailing_space(char *s, size_t *len)
{
        while (*len > 0 && (s[*len - 1] == '\n' || s[*len - 1] == '\r' || s[*len - 1] == ' ' || s[*len - 1] == '\t'))
                s[--*len] = '\0';
}

/* Keycloak's group mapper emits full paths ("/legal"); the policy names groups plainly. */
static const char *normalise_group(const char *name)
{
        return name[0] == '/' ? name + 1 : name;
}

static int read_groups_claim(jwt_t *jwt, const char *claim, struct group_list *ret, char **error)
{
        char *text = jwt_get_grants_json(jwt, claim);
        if (!text)
                return refuse(error, -EINVAL, "token has no \"%s\" claim", claim);
        json_error_t jerr;
        json_t *array = json_loads(text, JSON_DECODE_ANY, &jerr);
        free(text);
        if (!json_is_array(array)) {
                json_decref(array);
                return refuse(error, -EINVAL, "token claim \"%s\" must be an array of group names", claim);
        }
        struct group_list list = { .names = calloc(json_array_size(array) + 1, sizeof(char *)) };
        size_t i;
        json_t *item;
        int r = list.names ? 0 : -ENOMEM;
        json_array_foreach(array, i, item) {
                if (r < 0)
                        break;
                if (!json_is_string(item)) {
                        r = refuse(error, -EINVAL, "token claim \"%s\" must hold only strings", claim);
                        break;
                }
                const char *name = normalise_group(json_string_value(item));
                if (!*name)
                        continue;
                if (!(list.names[list.count] = strdup(name)))
                        r = -ENOMEM;
                else
                        list.count++;
        }
        json_decref(array);
        if (r < 0) {
                group_list_clear(&list);
                return r;
        }
        *ret = list;
        return 0;
}

/* Check exp (required) and nbf (optional) against now. */
static int check_times(jwt_t *jwt, int64_t now, char **error)
{
        char when[VS_TIME_BUF];
        errno = 0;
        long exp = jwt_get_grant_int(jwt, "exp");
        if (errno == ENOENT)
                return refuse(error, -EPERM, "token has no \"exp\" claim; refusing a token that never expires");
        if (errno != 0)
                return refuse(error, -EPERM, "token claim \"exp\" is not a number");
        if (now >= (int64_t)exp) {
                vs_time_format(exp, when);
                return refuse(error, -EPERM, "token expired at %s", when);
        }
        errno = 0;
        long nbf = jwt_get_grant_int(jwt, "nbf");
        if (errno == 0 && now < (int64_t)nbf) {
                vs_time_format(nbf, when);
                return refuse(error, -EPERM, "token not valid before %s", when);
        }
        if (errno != 0 && errno != ENOENT)
                return refuse(error, -EPERM, "token claim \"nbf\" is not a number");
        return 0;
}

int jwt_read_groups(const char *token_file, const char *key_file, const char *alg, const char *claim,
                    int64_t now, struct group_list *ret, char **error)
{
        jwt_alg_t pinned = jwt_str_alg(alg);
        char *token = NULL, *key = NULL;
        size_t token_len, key_len;
        jwt_t *jwt = NULL;
        int r;

        if (pinned != JWT_ALG_RS256 && pinned != JWT_ALG_ES256 && pinned != JWT_ALG_HS256)
                return refuse(error, -EINVAL, "--jwt-alg must be RS256, ES256 or HS256, got \"%s\"", alg);
        char why[VS_READ_INPUT_ERROR_BUF];
        r = vs_read_input(token_file, VS_INPUT_MAX_BYTES, &token, &token_len);
        if (r < 0)
                return refuse(error, -EIO, "%s: cannot read token: %s", token_file,
                              vs_read_input_error(r, VS_INPUT_MAX_BYTES, why, sizeof(why)));
        r = vs_read_input(key_file, VS_INPUT_MAX_BYTES, &key, &key_len);
        if (r < 0) {
                free(token);
                return refuse(error, -EIO, "%s: cannot read key: %s", key_file,
                              vs_read_input_error(r, VS_INPUT_MAX_BYTES, why, sizeof(why)));
        }
        strip_trailing_space(token, &token_len);
        if (key_len == 0 || key_len > INT32_MAX) {
                r = refuse(error, -EINVAL, "key %s is empty", key_file);
                goto out;
        }

        /* libjwt verifies with whatever algorithm the token names; pin it afterwards. */
        r = jwt_decode(&jwt, token, (const unsigned char *)key, (int)key_len);
        if (r != 0 || !jwt) {
                r = refuse(error, -EPERM, "token refused: malformed, or its signature does not verify with %s",
                           key_file);
                jwt = NULL;
                goto out;
        }
        if (jwt_get_alg(jwt) != pinned) {
                r = refuse(error, -EPERM, "token refused: it is signed with %s, but --jwt-alg pins %s",
                           jwt_alg_str(jwt_get_alg(jwt)) ? jwt_alg_str(jwt_get_alg(jwt)) : "an unknown algorithm",
                           alg);
                goto out;
        }
        r = check_times(jwt, now, error);
        if (r == 0)
                r = read_groups_claim(jwt, claim, ret, error);
out:
        if (jwt)
                jwt_free(jwt);
        free(token);
        free(key);
        return r;
}
