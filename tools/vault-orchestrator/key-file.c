/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "key-file.h"

/* A key pair is a few dozen bytes; anything near this is not one. */
#define KEY_FILE_MAX 4096

static bool key_chars(const char *s, size_t n)
{
        if (n == 0)
                return false;
        for (size_t i = 0; i < n; i++)
                if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
                        return false;
        return true;
}

/* Never quote the content: it is the secret. */
static int parse(const char *path, char *text, size_t len, struct api_key *ret,
                 char why[KEY_FILE_ERROR_MAX])
{
        if (len > 0 && text[len - 1] == '\n')
                len--;
        if (len > 0 && text[len - 1] == '\r')
                len--;
        const char *colon = memchr(text, ':', len);
        size_t key_len = colon ? (size_t)(colon - text) : 0;
        if (!colon || !key_chars(text, key_len) || !key_chars(colon + 1, len - key_len - 1)) {
                snprintf(why, KEY_FILE_ERROR_MAX,
                         "%s: must be one line API_KEY:API_KEY_SECRET (both non-empty, no "
                         "spaces or control characters)",
                         path);
                return -EINVAL;
        }
        ret->key = strndup(text, key_len);
        ret->secret = strndup(colon + 1, len - key_len - 1);
        if (!ret->key || !ret->secret) {
                api_key_clear(ret);
                snprintf(why, KEY_FILE_ERROR_MAX, "out of memory");
                return -ENOMEM;
        }
        return 0;
}

int api_key_read(const char *path, bool credential, struct api_key *ret,
                 char why[KEY_FILE_ERROR_MAX])
{
        char text[KEY_FILE_MAX + 1];
        struct api_key key = { 0 };
        struct stat st;
        ssize_t n;
        size_t len = 0;
        int r;
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                r = -errno;
                snprintf(why, KEY_FILE_ERROR_MAX, "%s: %s", path, strerror(errno));
                return r;
        }
        if (fstat(fd, &st) < 0) {
                r = -errno;
                snprintf(why, KEY_FILE_ERROR_MAX, "%s: %s", path, strerror(errno));
                goto out;
        }
        r = -EPERM;
        if (!S_ISREG(st.st_mode)) {
                snprintf(why, KEY_FILE_ERROR_MAX, "%s: not a regular file", path);
                r = -EINVAL;
                goto out;
        }
        bool systemds = credential && st.st_uid == 0;
        if (st.st_uid != geteuid() && !systemds) {
                snprintf(why, KEY_FILE_ERROR_MAX,
                         "%s: owned by uid %u, not by the caller (uid %u): the API key must be "
                         "the caller's",
                         path, (unsigned)st.st_uid, (unsigned)geteuid());
                goto out;
        }
        if (st.st_mode & (systemds ? (S_IWGRP | S_IXGRP | S_IRWXO) : (S_IRWXG | S_IRWXO))) {
                snprintf(why, KEY_FILE_ERROR_MAX,
                         "%s: mode %04o lets the group or others at the API key; make it 0600 "
                         "or 0400 (chmod go= %s)",
                         path, (unsigned)(st.st_mode & 07777), path);
                goto out;
        }
        r = -EINVAL;
        if (st.st_size > KEY_FILE_MAX) {
                snprintf(why, KEY_FILE_ERROR_MAX, "%s: %lld bytes is not one API key line", path,
                         (long long)st.st_size);
                goto out;
        }
        while (len < KEY_FILE_MAX && (n = read(fd, text + len, KEY_FILE_MAX - len)) != 0) {
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        r = -errno;
                        snprintf(why, KEY_FILE_ERROR_MAX, "%s: %s", path, strerror(errno));
                        goto out;
                }
                len += (size_t)n;
        }
        text[len] = '\0';
        if (strlen(text) != len) {
                snprintf(why, KEY_FILE_ERROR_MAX, "%s: holds a NUL byte", path);
                goto out;
        }
        if ((r = parse(path, text, len, &key, why)) < 0)
                goto out;
        *ret = key;
        r = 0;
out:
        explicit_bzero(text, sizeof(text));
        close(fd);
        return r;
}

char *api_key_default_path(void)
{
        const char *dir = getenv("CREDENTIALS_DIRECTORY");
        char *path = NULL;
        if (!dir || !*dir)
                return NULL;
        return asprintf(&path, "%s/%s", dir, KEY_FILE_CREDENTIAL) < 0 ? NULL : path;
}

static void wipe(char **s)
{
        if (*s)
                explicit_bzero(*s, strlen(*s));
        free(*s);
        *s = NULL;
}

void api_key_clear(struct api_key *key)
{
        wipe(&key->key);
        wipe(&key->secret);
}
