/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "shared/names.h"

bool vs_user_token_valid(const char *s)
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
