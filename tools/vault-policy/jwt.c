/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <jwt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/file.h"
#include "base64.h"
#include "jwt-key.h"
#include "shared/read-input.h"
#include "vault-policy.h"

/* RFC 7518 §3.2: an HS256 key must be at least as long as the hash output. */
#define HS256_MIN_KEY_BYTES 32

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
        while (*len > 0 && (s[*len - 1] == '\n' || s[*len - 1] == '\r' || s[*len - 1] == ' ' ||
                            s[*len - 1] == '\t'))
                s[--*len] = '\0';
}

/* Keycloak's group mapper emits full paths ("/legal"); the policy names groups plainly. */
static const char *normalise_group(const char *name)
{
        return name[0] == '/' ? name + 1 : name;
}

/* RFC 7515 §4.1.11: a recipient must refuse a token whose "crit" header names an extension
 * it does not understand; this verifier understands none. */
static int check_critical(json_t *crit, char **error)
{
        if (!crit)
                return 0;
        json_t *first = json_array_get(crit, 0);
        if (!json_is_array(crit) || !json_is_string(first))
                return refuse(error, -EPERM,
                              "token refused: malformed, its header's \"crit\" must be a non-empty "
                              "array of "
                              "header names (RFC 7515 §4.1.11)");
        return refuse(
                error, -EPERM,
                "token refused: its header marks \"%s\" critical (\"crit\"), an extension this "
                "verifier does not understand (RFC 7515 §4.1.11)",
                json_string_value(first));
}

/*
 * Look at the token before verifying it, so that each refusal says what is wrong: not a
 * JWS at all, unsigned ("alg": "none"), no signature, or another algorithm than the pinned one.
 */
static int check_shape(const char *token, jwt_alg_t pinned, const char *alg, char **error)
{
        const char *dot1 = strchr(token, '.'), *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
        if (!dot1 || !dot2 || strchr(dot2 + 1, '.'))
                return refuse(error, -EPERM,
                              "token refused: malformed, expected three base64url parts separated "
                              "by '.' (a JWS)");
        char *header = base64_decode(token, (size_t)(dot1 - token), true, NULL);
        json_t *root = header ? json_loads(header, 0, NULL) : NULL;
        const char *named = json_string_value(json_object_get(root, "alg"));
        int r = 0;
        if (!json_is_object(root) || !named)
                r = refuse(error, -EPERM,
                           "token refused: malformed, its header is not a JSON object with an "
                           "\"alg\"");
        else if (strcasecmp(named, "none") == 0)
                r = refuse(error, -EPERM,
                           "token refused: it is unsigned (\"alg\": \"%s\"); --jwt-alg pins %s",
                           named, alg);
        else if (jwt_str_alg(named) != pinned)
                r = refuse(error, -EPERM,
                           "token refused: it is signed with %s, but --jwt-alg pins %s", named,
                           alg);
        else if (dot2[1] == '\0')
                r = refuse(error, -EPERM, "token refused: it carries no signature");
        else
                r = check_critical(json_object_get(root, "crit"), error);
        json_decref(root);
        free(header);
        return r;
}

/* An HS256 secret that is a PEM key is someone's public key: whoever has it could sign. */
static int check_key(const char *key, size_t len, jwt_alg_t pinned, const char *key_file,
                     char **error)
{
        bool pem = strstr(key, "-----BEGIN ") != NULL;
        if (len == 0)
                return refuse(error, -EIO, "%s: the key file is empty", key_file);
        if (pinned == JWT_ALG_HS256 && pem)
                return refuse(error, -EIO,
                              "%s: an HS256 key must be the shared secret, not a PEM key (anyone "
                              "holding a public key could sign tokens with it)",
                              key_file);
        if (pinned == JWT_ALG_HS256 && len < HS256_MIN_KEY_BYTES)
                return refuse(error, -EIO,
                              "%s: the HS256 secret has %zu bytes; it needs at least %d", key_file,
                              len, HS256_MIN_KEY_BYTES);
        if (pinned != JWT_ALG_HS256 && !pem)
                return refuse(error, -EIO, "%s: expected a PEM public key for %s", key_file,
                              jwt_alg_str(pinned));
        if (pinned == JWT_ALG_HS256)
                return 0;
        enum jwt_key_kind kind = jwt_key_kind(key);
        enum jwt_key_kind wanted =
                pinned == JWT_ALG_RS256 ? JWT_KEY_RSA_PUBLIC : JWT_KEY_EC_P256_PUBLIC;
        if (kind != wanted)
                return refuse(error, -EIO,
                              "%s: the key type does not match the algorithm: it is %s, but %s "
                              "verifies with %s%s",
                              key_file, jwt_key_kind_name(kind), jwt_alg_str(pinned),
                              jwt_key_kind_name(wanted),
                              kind == JWT_KEY_PRIVATE
                                      ? " (give the public key: openssl pkey -in KEY -pubout)"
                                      : "");
        return 0;
}

static int read_groups_claim(jwt_t *jwt, const char *claim, struct group_list *ret, char **error)
{
        char *text = jwt_get_grants_json(jwt, claim);
        if (!text)
                return refuse(error, -EPERM, "token refused: no \"%s\" claim", claim);
        json_t *array = json_loads(text, JSON_DECODE_ANY, NULL);
        free(text);
        if (!json_is_array(array)) {
                json_decref(array);
                return refuse(error, -EPERM,
                              "token refused: its claim \"%s\" must be an array of group names",
                              claim);
        }
        struct group_list list = { .names = calloc(json_array_size(array) + 1, sizeof(char *)) };
        size_t i;
        json_t *item;
        int r = list.names ? 0 : -ENOMEM;
        json_array_foreach(array, i, item) {
                if (r < 0)
                        break;
                if (!json_is_string(item)) {
                        r = refuse(error, -EPERM,
                                   "token refused: its claim \"%s\" must hold only strings", claim);
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

/* A NumericDate claim as whole seconds: 1 when absent, 0, or a refusal (a fraction, a
 * string, anything else is malformed: never read as 0, which would say "expired in 1970"). */
static int numeric_date(jwt_t *jwt, const char *claim, int64_t *ret, char **error)
{
        char *text = jwt_get_grants_json(jwt, claim);
        if (!text)
                return 1;
        json_t *value = json_loads(text, JSON_DECODE_ANY, NULL);
        int r = 0;
        if (!json_is_integer(value))
                r = refuse(error, -EPERM,
                           "token refused: its claim \"%s\" is malformed: expected whole seconds "
                           "since "
                           "1970-01-01T00:00:00Z (a NumericDate without a fraction), got %s",
                           claim, text);
        else
                *ret = (int64_t)json_integer_value(value);
        json_decref(value);
        free(text);
        return r;
}

/* Check exp (required) and nbf (optional) against now. */
static int check_times(jwt_t *jwt, int64_t now, char **error)
{
        char when[VS_TIME_BUF];
        int64_t exp, nbf;
        int r = numeric_date(jwt, "exp", &exp, error);
        if (r < 0)
                return r;
        if (r > 0)
                return refuse(error, -EPERM,
                              "token refused: no \"exp\" claim; a token that never expires is not "
                              "accepted");
        if (now >= exp) {
                vs_time_format(exp, when);
                return refuse(error, -EPERM, "token refused: token expired at %s", when);
        }
        r = numeric_date(jwt, "nbf", &nbf, error);
        if (r < 0)
                return r;
        if (r == 0 && now < nbf) {
                vs_time_format(nbf, when);
                return refuse(error, -EPERM, "token refused: token not valid before %s", when);
        }
        return 0;
}

static int check_issuer(jwt_t *jwt, const char *issuer, char **error)
{
        if (!issuer)
                return 0;
        const char *iss = jwt_get_grant(jwt, "iss");
        if (!iss)
                return refuse(error, -EPERM,
                              "token refused: no \"iss\" claim, but --jwt-iss requires \"%s\"",
                              issuer);
        if (strcmp(iss, issuer) != 0)
                return refuse(error, -EPERM,
                              "token refused: issued by \"%s\", but --jwt-iss requires \"%s\"", iss,
                              issuer);
        return 0;
}

/* "aud" is a string or an array of strings (RFC 7519 §4.1.3); the audience must be one of them. */
static int check_audience(jwt_t *jwt, const char *audience, char **error)
{
        if (!audience)
                return 0;
        char *text = jwt_get_grants_json(jwt, "aud");
        json_t *aud = text ? json_loads(text, JSON_DECODE_ANY, NULL) : NULL;
        free(text);
        bool found = json_is_string(aud) && strcmp(json_string_value(aud), audience) == 0;
        size_t i;
        json_t *item;
        if (json_is_array(aud))
                json_array_foreach(aud, i, item) found |=
                        json_is_string(item) && strcmp(json_string_value(item), audience) == 0;
        bool present = aud != NULL;
        json_decref(aud);
        if (!present)
                return refuse(error, -EPERM,
                              "token refused: no \"aud\" claim, but --jwt-aud requires \"%s\"",
                              audience);
        if (!found)
                return refuse(
                        error, -EPERM,
                        "token refused: its audience (\"aud\") does not include \"%s\" (--jwt-aud)",
                        audience);
        return 0;
}

/* The user: the claim asked for, else preferred_username (Keycloak, OIDC), else sub. */
static int read_user(jwt_t *jwt, const char *claim, struct jwt_identity *id, char **error)
{
        const char *name = claim                                      ? claim
                           : jwt_get_grant(jwt, "preferred_username") ? "preferred_username"
                                                                      : "sub";
        const char *value = jwt_get_grant(jwt, name);
        if (!value || !*value)
                return claim ? refuse(error, -EPERM,
                                      "token refused: no string claim \"%s\" (--user-claim) names "
                                      "the user",
                                      claim)
                             : refuse(error, -EPERM,
                                      "token refused: it names no user (no \"preferred_username\" "
                                      "or \"sub\" claim)");
        id->user = strdup(value);
        id->user_claim = strdup(name);
        return id->user && id->user_claim ? 0 : -ENOMEM;
}

void jwt_identity_clear(struct jwt_identity *id)
{
        free(id->user);
        free(id->user_claim);
        group_list_clear(&id->groups);
        *id = (struct jwt_identity){ 0 };
}

/* A secret written with echo ends with a newline that the issuer's secret lacks: a bad key
 * file (exit 1) when the token verifies without it, else a refused token that says so. */
static int refuse_signature(const char *token, const char *key, size_t key_len, jwt_alg_t pinned,
                            const char *key_file, char **error)
{
        size_t stripped = key_len;
        while (stripped > 0 && (key[stripped - 1] == '\n' || key[stripped - 1] == '\r'))
                stripped--;
        if (pinned != JWT_ALG_HS256 || stripped == key_len)
                return refuse(error, -EPERM,
                              "token refused: its signature does not verify with %s (signed with "
                              "another key?)",
                              key_file);
        jwt_t *jwt = NULL;
        bool without =
                jwt_decode(&jwt, token, (const unsigned char *)key, (int)stripped) == 0 && jwt;
        if (jwt)
                jwt_free(jwt);
        if (without)
                return refuse(error, -EIO,
                              "%s: the HS256 secret ends with a line break, which is part of the "
                              "secret, and the "
                              "token verifies only without it: write the key file without it "
                              "(printf '%%s' "
                              "\"$SECRET\" > %s)",
                              key_file, key_file);
        return refuse(error, -EPERM,
                      "token refused: its signature does not verify with %s (signed with another "
                      "key?; the "
                      "file ends with a line break, which counts as part of the HS256 secret)",
                      key_file);
}

int jwt_verify(const struct jwt_request *req, struct jwt_identity *ret, char **error)
{
        jwt_alg_t pinned = jwt_str_alg(req->alg);
        char why[VS_READ_INPUT_ERROR_BUF];
        char *token = NULL, *key = NULL;
        size_t token_len, key_len;
        struct jwt_identity id = { 0 };
        jwt_t *jwt = NULL;
        int r;

        if (pinned != JWT_ALG_RS256 && pinned != JWT_ALG_ES256 && pinned != JWT_ALG_HS256)
                return refuse(error, -EINVAL, "--jwt-alg must be RS256, ES256 or HS256, got \"%s\"",
                              req->alg);
        r = vs_read_file(AT_FDCWD, req->token_file, 0, VS_INPUT_MAX_BYTES, &token, &token_len);
        if (r < 0)
                return refuse(error, -EIO, "%s: cannot read token: %s", req->token_file,
                              vs_read_input_error(r, VS_INPUT_MAX_BYTES, why, sizeof(why)));
        r = vs_read_file(AT_FDCWD, req->key_file, 0, VS_INPUT_MAX_BYTES, &key, &key_len);
        if (r < 0) {
                free(token);
                return refuse(error, -EIO, "%s: cannot read key: %s", req->key_file,
                              vs_read_input_error(r, VS_INPUT_MAX_BYTES, why, sizeof(why)));
        }
        strip_trailing_space(token, &token_len);
        r = check_key(key, key_len, pinned, req->key_file, error);
        if (r == 0 && key_len > INT32_MAX)
                r = refuse(error, -EIO, "%s: the key is too large", req->key_file);
        if (r == 0)
                r = check_shape(token, pinned, req->alg, error);
        if (r < 0)
                goto out;

        /* The header named the pinned algorithm; libjwt verifies with the one the token names. */
        if (jwt_decode(&jwt, token, (const unsigned char *)key, (int)key_len) != 0 || !jwt) {
                jwt = NULL;
                r = refuse_signature(token, key, key_len, pinned, req->key_file, error);
                goto out;
        }
        if (jwt_get_alg(jwt) != pinned) {
                r = refuse(error, -EPERM,
                           "token refused: it is signed with %s, but --jwt-alg pins %s",
                           jwt_alg_str(jwt_get_alg(jwt)) ? jwt_alg_str(jwt_get_alg(jwt))
                                                         : "an unknown algorithm",
                           req->alg);
                goto out;
        }
        if ((r = check_times(jwt, req->now, error)) < 0 ||
            (r = check_issuer(jwt, req->issuer, error)) < 0 ||
            (r = check_audience(jwt, req->audience, error)) < 0 ||
            (r = read_user(jwt, req->user_claim, &id, error)) < 0 ||
            (r = read_groups_claim(jwt, req->groups_claim, &id.groups, error)) < 0)
                goto out;
        *ret = id;
        id = (struct jwt_identity){ 0 };
out:
        jwt_identity_clear(&id);
        if (jwt)
                jwt_free(jwt);
        free(token);
        free(key);
        return r;
}
