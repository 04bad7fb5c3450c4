#include "vs-test-util.h"

#include <errno.h>
#include <ftw.h>
#include <grp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#define RENAME_EXCHANGE (1 << 1)
#define RENAME_WHITEOUT (1 << 2)
#endif

static const struct {
        const char *name;
        unsigned int value;
} rename_flag_names[] = {
        { "noreplace", RENAME_NOREPLACE },
        { "exchange", RENAME_EXCHANGE },
        { "whiteout", RENAME_WHITEOUT },
};

static int parse_one_flag(const char *word, size_t len, unsigned int *value_out)
{
        char buf[32];
        char *end;
        unsigned long number;

        if (len == 0 || len >= sizeof(buf))
                return -EINVAL;
        memcpy(buf, word, len);
        buf[len] = '\0';
        for (size_t i = 0; i < sizeof(rename_flag_names) / sizeof(rename_flag_names[0]); i++) {
                if (strcmp(buf, rename_flag_names[i].name) == 0) {
                        *value_out = rename_flag_names[i].value;
                        return 0;
                }
        }
        errno = 0;
        number = strtoul(buf, &end, 0);
        if (errno != 0 || *end != '\0' || number > 0xffffffffUL)
                return -EINVAL;
        *value_out = (unsigned int)number;
        return 0;
}

int vs_parse_rename_flags(const char *text, unsigned int *flags_out)
{
        unsigned int flags = 0;
        const char *word = text;

        for (;;) {
                size_t len = strcspn(word, "|");
                unsigned int value;
                int r = parse_one_flag(word, len, &value);

                if (r < 0)
                        return r;
                flags |= value;
                if (word[len] == '\0')
                        break;
                word += len + 1;
        }
        *flags_out = flags;
        return 0;
}

int vs_drop_privileges(const char *uid_gid)
{
        unsigned int uid, gid;
        char tail;

        if (sscanf(uid_gid, "%u:%u%c", &uid, &gid, &tail) != 2)
                return -EINVAL;
        if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
                return -errno;
        return 0;
}

const char *vs_errno_name(int err)
{
        const char *name;

        if (err == 0)
                return "0";
        name = strerrorname_np(err);
        return name != NULL ? name : "E?";
}

uint64_t vs_now_ns(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int vs_mkdir_in(char *out, size_t size, const char *top, const char *rel)
{
        int n = snprintf(out, size, "%s/%s", top, rel);
        if (n < 0 || (size_t)n >= size)
                return -ENAMETOOLONG;
        return mkdir(out, 0755) < 0 ? -errno : 0;
}

int vs_private_mounts(void)
{
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return -errno;
        return 0;
}

static int compare_u64(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

        return (x > y) - (x < y);
}

uint64_t vs_median_ns(uint64_t *values, size_t n)
{
        if (n == 0)
                return 0;
        qsort(values, n, sizeof(values[0]), compare_u64);
        return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

void vs_print_medians_and_free(uint64_t *a, uint64_t *b, size_t n)
{
        printf("%llu %llu\n", (unsigned long long)vs_median_ns(a, n),
               (unsigned long long)vs_median_ns(b, n));
        free(a);
        free(b);
}

int vs_scratch_create(char *buf, size_t size, const char *name)
{
        int n = snprintf(buf, size, "/tmp/vs-test-%s.XXXXXX", name);
        if (n < 0 || (size_t)n >= size)
                return -ENAMETOOLONG;
        return mkdtemp(buf) ? 0 : -errno;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
        (void)st;
        (void)ftw;
        return (type == FTW_DP ? rmdir(path) : unlink(path)) < 0 ? -errno : 0;
}

const char *vs_path_in(const char *top, const char *rel)
{
        static char buf[4][4096];
        static unsigned next;
        char *p = buf[next++ % 4];
        if ((size_t)snprintf(p, sizeof(buf[0]), "%s/%s", top, rel) >= sizeof(buf[0]))
                abort();
        return p;
}

int vs_write_text(const char *path, const char *text)
{
        FILE *f = fopen(path, "w");
        if (!f)
                return -errno;
        int r = fputs(text, f) < 0 ? -EIO : 0;
        if (fclose(f) != 0 && r == 0)
                r = -errno;
        return r;
}

int vs_scratch_remove(const char *dir)
{
        return nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}
