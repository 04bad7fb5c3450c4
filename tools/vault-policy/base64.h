/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Decode len bytes of base64url without padding (RFC 4648 §5: a JWS part) or, with url
 * false, of base64 (§4: a PEM body; padding and line breaks skipped).  The result is
 * NUL-terminated, its length in *out_len when not NULL; NULL when a character is outside the
 * alphabet or memory runs out (base64.c). */
char *base64_decode(const char *in, size_t len, bool url, size_t *out_len);
