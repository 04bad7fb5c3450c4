/* SPDX-License-Identifier: MIT */
/*
 * What kind of key a --jwt-key PEM file holds, so that a key that cannot verify the pinned
 * algorithm is a bad key (exit 1, "the key type does not match the algorithm") rather than a
 * refused token ("does not verify"): an EC key for RS256, an RSA key for ES256, a private
 * key where the public one belongs.  The PEM's label and its SubjectPublicKeyInfo's
 * algorithm identifier (RFC 5280 §4.1.2.7, RFC 5480 §2.1.1) say it; nothing else is parsed.
 */
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "jwt-key.h"

/* DER of the OIDs: rsaEncryption, id-ecPublicKey, prime256v1 (P-256). */
static const unsigned char OID_RSA[] = { 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
                                         0xf7, 0x0d, 0x01, 0x01, 0x01 };
static const unsigned char OID_EC[] = { 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01 };
static const unsigned char OID_P256[] = {
        0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07
};

/* The body between the first BEGIN line and its END line, decoded; NULL when malformed (a
 * header line such as "Proc-Type:" of an encrypted key is not base64). */
static unsigned char *pem_body(const char *pem, size_t *len)
{
        const char *start = strstr(pem, "-----BEGIN ");
        const char *body = start ? strstr(start + 11, "-----") : NULL;
        const char *end = body ? strstr(body + 5, "-----END ") : NULL;
        if (!end)
                return NULL;
        return (unsigned char *)base64_decode(body + 5, (size_t)(end - body - 5), false, len);
}

static bool contains(const unsigned char *der, size_t len, const unsigned char *oid, size_t n)
{
        for (size_t i = 0; i + n <= len; i++)
                if (memcmp(der + i, oid, n) == 0)
                        return true;
        return false;
}

enum jwt_key_kind jwt_key_kind(const char *pem)
{
        const char *begin = strstr(pem, "-----BEGIN ");
        if (!begin)
                return JWT_KEY_NOT_PEM;
        begin += 11;
        if (strncmp(begin, "RSA PUBLIC KEY-----", 19) == 0)
                return JWT_KEY_RSA_PUBLIC;
        const char *label_end = strstr(begin, "-----");
        if (!label_end)
                return JWT_KEY_OTHER;
        /* PRIVATE KEY, RSA PRIVATE KEY, EC PRIVATE KEY, ENCRYPTED PRIVATE KEY */
        if (label_end - begin >= 11 && memcmp(label_end - 11, "PRIVATE KEY", 11) == 0)
                return JWT_KEY_PRIVATE;
        if (strncmp(begin, "PUBLIC KEY-----", 15) != 0)
                return JWT_KEY_OTHER;
        size_t len;
        unsigned char *der = pem_body(pem, &len);
        if (!der)
                return JWT_KEY_OTHER;
        /* The algorithm identifier comes first in a SubjectPublicKeyInfo: look at its start. */
        size_t head = len < 32 ? len : 32;
        enum jwt_key_kind kind = JWT_KEY_OTHER;
        if (contains(der, head, OID_RSA, sizeof(OID_RSA)))
                kind = JWT_KEY_RSA_PUBLIC;
        else if (contains(der, head, OID_EC, sizeof(OID_EC)))
                kind = contains(der, head, OID_P256, sizeof(OID_P256)) ? JWT_KEY_EC_P256_PUBLIC
                                                                        : JWT_KEY_EC_OTHER_PUBLIC;
        free(der);
        return kind;
}

const char *jwt_key_kind_name(enum jwt_key_kind kind)
{
        switch (kind) {
        case JWT_KEY_RSA_PUBLIC: return "an RSA public key";
        case JWT_KEY_EC_P256_PUBLIC: return "an EC P-256 public key";
        case JWT_KEY_EC_OTHER_PUBLIC: return "an EC public key on another curve than P-256";
        case JWT_KEY_PRIVATE: return "a private key";
        case JWT_KEY_NOT_PEM: return "not a PEM key";
        default: return "a PEM key of another type";
        }
}
