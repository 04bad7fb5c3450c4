/* SPDX-License-Identifier: MIT */
/*
 * Leaves journal records in the states a crash can leave them, for the vault-fsck tests
 * (the filesystem side of each state is made by the test itself):
 *   journal-state begin ROOT KIND SOURCE TARGET   record a move, print "RECORD STAGING", and
 *                                                 exit without finishing (a crash);
 *   journal-state staged RECORD                   append the state "staging complete" with
 *                                                 the staging object's identity;
 *   journal-state hold ROOT SOURCE TARGET SECONDS a live move: print as begin, keep the
 *                                                 record locked, then finish it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal/journal.h"

static int kind_of(const char *s)
{
        for (int k = VS_JOURNAL_FILE; k <= VS_JOURNAL_TREE; k++)
                if (strcmp(s, vs_journal_kind_name((enum vs_journal_kind)k)) == 0)
                        return k;
        return -1;
}

static int begin(const char *root, enum vs_journal_kind kind, const char *src, const char *dst,
                 struct vs_journal *j)
{
        struct stat st;
        struct vs_identity sid, prev = { 0 };
        if (lstat(src, &st) < 0)
                return -errno;
        vs_identity_from_stat(&sid, &st);
        if (lstat(dst, &st) == 0)
                vs_identity_from_stat(&prev, &st);
        return vs_journal_begin(j, root, kind, src, dst, &sid, &prev);
}

static int staged(const char *record)
{
        static char text[1 << 16];
        static struct vs_journal_entry e;
        int fd = open(record, O_RDWR | O_APPEND);
        if (fd < 0)
                return -errno;
        ssize_t n = read(fd, text, sizeof(text));
        int r = n < 0 ? -errno : vs_journal_parse(text, (size_t)n, &e);
        struct stat st;
        if (r == 0 && lstat(e.staging, &st) < 0)
                r = -errno;
        if (r == 0) {
                vs_identity_from_stat(&e.staging_id, &st);
                int len = vs_journal_format(&e, text, sizeof(text));
                r = len < 0 ? len : write(fd, text, (size_t)len) == len ? 0 : -EIO;
        }
        close(fd);
        return r;
}

/* "RECORD STAGING" on one line. */
static void print_record(const struct vs_journal *j)
{
        char link[64], dir[PATH_MAX];
        snprintf(link, sizeof(link), "/proc/self/fd/%d", j->dirfd);
        ssize_t n = readlink(link, dir, sizeof(dir) - 1);
        dir[n > 0 ? n : 0] = '\0';
        printf("%s/%s %s\n", dir, j->name, j->entry.staging);
}

int main(int argc, char **argv)
{
        static struct vs_journal j;
        int r = -EINVAL;
        if (argc == 6 && strcmp(argv[1], "begin") == 0 && kind_of(argv[3]) >= 0) {
                r = begin(argv[2], (enum vs_journal_kind)kind_of(argv[3]), argv[4], argv[5], &j);
                if (r == 0)
                        print_record(&j);
        } else if (argc == 3 && strcmp(argv[1], "staged") == 0) {
                r = staged(argv[2]);
        } else if (argc == 6 && strcmp(argv[1], "hold") == 0) {
                r = begin(argv[2], VS_JOURNAL_FILE, argv[3], argv[4], &j);
                if (r == 0) {
                        print_record(&j);
                        fflush(stdout);
                        sleep((unsigned)atoi(argv[5]));
                        vs_journal_finish(&j);
                }
        } else {
                fprintf(stderr, "usage: see the comment at the top of journal-state.c\n");
                return 2;
        }
        if (r < 0) {
                fprintf(stderr, "journal-state: %s\n", strerror(-r));
                return 1;
        }
        return 0;
}
