/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>

#include "shared/names.h"

bool vs_segment_token_valid(const char *s)
{
        size_t n = strlen(s);
        if (n == 0 || n > 64 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
                return false;
        for (const char *p = s; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                      (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-'))
                        return false;
        return true;
}

static bool ascii_allowed(unsigned char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
               c == '_' || c == '-' || c == '@' || c == '+';
}

/* Length of the UTF-8 sequence at p encoding a code point >= U+00A0 (no C1 controls, no
 * surrogates, no overlong forms), or 0. */
static size_t utf8_letter(const unsigned char *p, unsigned *cp)
{
        size_t n;
        unsigned v;
        if (p[0] >= 0xc2 && p[0] <= 0xdf) {
                n = 2;
                v = p[0] & 0x1f;
        } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
                n = 3;
                v = p[0] & 0x0f;
        } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
                n = 4;
                v = p[0] & 0x07;
        } else {
                return 0;
        }
        for (size_t i = 1; i < n; i++) {
                if ((p[i] & 0xc0) != 0x80)
                        return 0;
                v = v << 6 | (p[i] & 0x3f);
        }
        if (v < 0xa0 || (n == 3 && v < 0x800) || (n == 4 && v < 0x10000) || v > 0x10ffff ||
            (v >= 0xd800 && v <= 0xdfff))
                return 0;
        *cp = v;
        return n;
}

static const char *refused_because(unsigned char c)
{
        switch (c) {
        case '/': return "it separates host path segments";
        case ':': return "it splits Docker's volume syntax host:container:mode";
        case ',': return "it splits Docker's --mount options";
        case '{': case '}': return "it would read as a Kasm token";
        case '\\': case '"': case '\'': case '`': case '$': return "it is a quoting or shell character";
        case '*': case '?': case '[': case ']': return "it is a glob character";
        case ' ': return "whitespace in host paths breaks scripts";
        default: return "it is not one of letters, digits, '.', '_', '-', '@', '+' or non-ASCII UTF-8";
        }
}

const char *vs_user_token_problem(const char *s, char buf[VS_USER_TOKEN_WHY])
{
        size_t n = strlen(s);
        if (n == 0)
                return "it is empty";
        if (n > 255)
                return "it is longer than 255 bytes";
        if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
                return "\".\" and \"..\" traverse directories";
        for (const unsigned char *p = (const unsigned char *)s; *p;) {
                unsigned cp;
                size_t len;
                if (ascii_allowed(*p)) {
                        p++;
                } else if (*p >= 0x80 && (len = utf8_letter(p, &cp)) > 0) {
                        p += len;
                } else if (*p >= 0x80) {
                        snprintf(buf, VS_USER_TOKEN_WHY,
                                 "byte 0x%02x at offset %zu is not valid UTF-8 (or a control character)", *p,
                                 (size_t)(p - (const unsigned char *)s));
                        return buf;
                } else if (*p < 0x20 || *p == 0x7f) {
                        snprintf(buf, VS_USER_TOKEN_WHY, "control character U+%04X is not allowed", *p);
                        return buf;
                } else {
                        snprintf(buf, VS_USER_TOKEN_WHY, "'%c' (U+%04X) is not allowed: %s", *p, *p,
                                 refused_because(*p));
                        return buf;
                }
        }
        return NULL;
}

bool vs_user_token_valid(const char *s)
{
        char buf[VS_USER_TOKEN_WHY];
        return vs_user_token_problem(s, buf) == NULL;
}

bool vs_folder_name_valid(const char *s)
{
        size_t n = strlen(s);
        if (n == 0 || n > 255 || s[0] == '.')
                return false;
        for (const unsigned char *p = (const unsigned char *)s; *p; p++)
                if (*p < 0x20 || *p == 0x7f || *p == '/' || *p == '\\')
                        return false;
        return true;
}

bool vs_path_normalised(const char *s)
{
        if (s[0] != '/')
                return false;
        if (s[1] == '\0')
                return true;
        for (const char *seg = s + 1;;) {
                const char *end = strchrnul(seg, '/');
                size_t len = (size_t)(end - seg);
                if (len == 0 || (len == 1 && seg[0] == '.') ||
                    (len == 2 && seg[0] == '.' && seg[1] == '.'))
                        return false;
                for (const char *p = seg; p < end; p++)
                        if ((unsigned char)*p < 0x20)
                                return false;
                if (*end == '\0')
                        return true;
                seg = end + 1;
        }
}
