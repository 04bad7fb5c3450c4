/* SPDX-License-Identifier: MIT */
/*
 * Leaves journal records in the states a crash can leave them, for the vault-fsck tests
 * (the filesystem side of each state is made by the test itself):
 *   journal-state begin JOURNAL KIND SOURCE TARGET   record a move, print "RECORD STAGING
 *                                                    ASIDE" (absolute paths), and exit
 *                                                    without finishing (a crash);
 *   journal-state staged RECORD                      append "staging complete" with the
 *                                                    staging object's identity, as the
 *                                                    engine does once the copy is whole;
 *   journal-state aside RECORD                       append the set-aside source's identity;
 *   journal-state hold JOURNAL SOURCE TARGET SECONDS a live move: print as begin, keep the
 *                                                    record locked, then finish it.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
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

static int parent_fd(const char *path)
{
        char copy[PATH_MAX];
        snprintf(copy, sizeof(copy), "%s", path);
        return open(dirname(copy), O_PATH | O_DIRECTORY);
}

static int begin(const char *journal, enum vs_journal_kind kind, const char *src,
                 const char *dst, struct vs_journal *j)
{
        struct vs_identity sid, prev = { 0 };
        int r = vs_identity_at(AT_FDCWD, src, &sid);
        if (r < 0)
                return r;
        if (vs_identity_at(AT_FDCWD, dst, &prev) < 0)
                prev = (struct vs_identity){ 0 };
        int sfd = parent_fd(src), tfd = parent_fd(dst);
        const struct vs_journal_config cfg = { .dir = journal };
        r = sfd < 0 || tfd < 0 ? -errno
                               : vs_journal_prepare(j, &cfg, kind, sfd, src, tfd, dst, &sid,
                                                    prev.known ? &prev : NULL);
        /* As the engine begins a record (lib/move/journal.c): after the lazy recovery. */
        if (r == 0 && vs_journal_dir_has_entries(j->dirfd))
                vs_journal_recover_dir(j->dirfd, journal, VS_RECOVER_LAZY, NULL, NULL);
        if (r == 0)
                r = vs_journal_begin(j, &cfg);
        if (sfd >= 0)
                close(sfd);
        if (tfd >= 0)
                close(tfd);
        return r;
}

/* Where a record's object named `name` beside its source or target is. */
static void beside(const struct vs_mount_identity *m, const char *rel, const char *name,
                   char *out, size_t size)
{
        char path[2 * PATH_MAX];
        vs_journal_display_path(m, rel, path, sizeof(path));
        snprintf(out, size, "%s/%s", dirname(path), name);
}

static void staging_path(const struct vs_journal_entry *e, char *out, size_t size)
{
        char name[NAME_MAX + 1];
        vs_journal_staging_name(e, name, sizeof(name));
        beside(&e->target_mount, e->target, name, out, size);
}

static void aside_path(const struct vs_journal_entry *e, char *out, size_t size)
{
        char name[NAME_MAX + 1];
        vs_journal_aside_name(e, name, sizeof(name));
        beside(&e->source_mount, e->source, name, out, size);
}

static int append(const char *record, bool aside)
{
        static char text[1 << 16];
        static struct vs_journal_entry e;
        int fd = open(record, O_RDWR | O_APPEND);
        if (fd < 0)
                return -errno;
        ssize_t n = read(fd, text, sizeof(text));
        int r = n < 0 ? -errno : vs_journal_parse(text, (size_t)n, &e);
        struct vs_identity id;
        char path[2 * PATH_MAX];
        if (aside)
                aside_path(&e, path, sizeof(path));
        else
                staging_path(&e, path, sizeof(path));
        if (r == 0)
                r = vs_identity_at(AT_FDCWD, path, &id);
        if (r == 0) {
                if (aside) {
                        e.aside_id = id;
                } else {
                        e.staging_id = id;
                        e.copied_id = id;
                }
                int len = vs_journal_format(&e, text, sizeof(text));
                r = len < 0 ? len : write(fd, text, (size_t)len) == len ? 0 : -EIO;
        }
        close(fd);
        return r;
}

/* "RECORD STAGING ASIDE" on one line. */
static void print_record(const struct vs_journal *j, const char *journal)
{
        char staging[2 * PATH_MAX], aside[2 * PATH_MAX];
        staging_path(&j->entry, staging, sizeof(staging));
        aside_path(&j->entry, aside, sizeof(aside));
        printf("%s/%s %s %s\n", journal, j->name, staging, aside);
}

int main(int argc, char **argv)
{
        static struct vs_journal j;
        int r = -EINVAL;
        if (argc == 6 && strcmp(argv[1], "begin") == 0 && kind_of(argv[3]) >= 0) {
                r = begin(argv[2], (enum vs_journal_kind)kind_of(argv[3]), argv[4], argv[5], &j);
                if (r == 0)
                        print_record(&j, argv[2]);
        } else if (argc == 3 && strcmp(argv[1], "staged") == 0) {
                r = append(argv[2], false);
        } else if (argc == 3 && strcmp(argv[1], "aside") == 0) {
                r = append(argv[2], true);
        } else if (argc == 6 && strcmp(argv[1], "hold") == 0) {
                r = begin(argv[2], VS_JOURNAL_FILE, argv[3], argv[4], &j);
                if (r == 0) {
                        print_record(&j, argv[2]);
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
