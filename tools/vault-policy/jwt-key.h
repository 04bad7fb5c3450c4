/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum jwt_key_kind {
        JWT_KEY_NOT_PEM,
        JWT_KEY_RSA_PUBLIC,         /* what RS256 verifies with */
        JWT_KEY_EC_P256_PUBLIC,     /* what ES256 verifies with */
        JWT_KEY_EC_OTHER_PUBLIC,
        JWT_KEY_PRIVATE,            /* any private key: never what a verifier is given */
        JWT_KEY_OTHER,
};

/* The kind of the first PEM block of a NUL-terminated key file (jwt-key.c). */
enum jwt_key_kind jwt_key_kind(const char *pem);
/* "an EC P-256 public key", ... for messages. */
const char *jwt_key_kind_name(enum jwt_key_kind kind);
