/* SPDX-License-Identifier: MIT */
/*
 * The journal: its record format, its life cycle, and recovery from each state a crash can
 * leave (built by hand here, in a scratch vault on one filesystem).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "journal/journal.h"
#include "journal/tree.h"

struct vault {
        char root[64];
        char journal[128];
};

static void path_at(char out[PATH_MAX], const struct vault *v, const char *rel)
{
        snprintf(out, PATH_MAX, "%s/%s", v->root, rel);
}

static void write_file(const struct vault *v, const char *rel, const char *text, bool append)
{
        char p[PATH_MAX];
        path_at(p, v, rel);
        FILE *f = fopen(p, append ? "a" : "w");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
}

static bool exists(const struct vault *v, const char *rel)
{
        char p[PATH_MAX];
        struct stat st;
        path_at(p, v, rel);
        return lstat(p, &st) == 0;
}

static void assert_content(const struct vault *v, const char *rel, const char *want)
{
        char p[PATH_MAX], got[256] = "";
        path_at(p, v, rel);
        FILE *f = fopen(p, "r");
        assert_non_null(f);
        size_t n = fread(got, 1, sizeof(got) - 1, f);
        got[n] = '\0';
        fclose(f);
        assert_string_equal(got, want);
}

static void identity_of(const struct vault *v, const char *rel, struct vs_identity *id)
{
        char p[PATH_MAX];
        struct stat st;
        path_at(p, v, rel);
        assert_int_equal(lstat(p, &st), 0);
        vs_identity_from_stat(id, &st);
}

static int setup(void **state)
{
        struct vault *v = calloc(1, sizeof(*v));
        strcpy(v->root, "/tmp/vs-journal-XXXXXX");
        assert_non_null(mkdtemp(v->root));
        snprintf(v->journal, sizeof(v->journal), "%s/" VS_JOURNAL_DIR, v->root);
        char p[PATH_MAX];
        path_at(p, v, "a");
        mkdir(p, 0755);
        path_at(p, v, "b");
        mkdir(p, 0755);
        *state = v;
        return 0;
}

static int teardown(void **state)
{
        struct vault *v = *state;
        int fd = open("/tmp", O_RDONLY | O_DIRECTORY);
        unsigned long n = 0;
        vs_journal_tree_remove(fd, v->root + strlen("/tmp/"), false, &n);
        close(fd);
        free(v);
        return 0;
}

/* What a kill -9 leaves: the record on disk, its lock gone. */
static void crash(struct vs_journal *j)
{
        close(j->fd);
        close(j->dirfd);
}

static int journal_fd(const struct vault *v)
{
        int fd = open(v->journal, O_RDONLY | O_DIRECTORY);
        assert_true(fd >= 0);
        return fd;
}

struct outcomes {
        int count;
        struct vs_recovery_result last;
};

static void collect(const struct vs_recovery_result *r, void *userdata)
{
        struct outcomes *o = userdata;
        o->count++;
        o->last = *r;
}

static struct outcomes *recover(const struct vault *v, bool dry_run)
{
        static struct outcomes o;
        memset(&o, 0, sizeof(o));
        int fd = journal_fd(v);
        vs_journal_recover_dir(fd, v->journal, dry_run ? VS_RECOVER_DRY_RUN : VS_RECOVER_REPAIR,
                               collect, &o);
        close(fd);
        return &o;
}

static void begin(const struct vault *v, struct vs_journal *j, enum vs_journal_kind kind,
                  const char *src_rel, const char *dst_rel)
{
        char src[PATH_MAX], dst[PATH_MAX];
        struct vs_identity sid;
        path_at(src, v, src_rel);
        path_at(dst, v, dst_rel);
        identity_of(v, src_rel, &sid);
        assert_int_equal(vs_journal_begin(j, v->root, kind, src, dst, &sid, NULL), 0);
}

/* The staging copy is complete: record its identity as the engine does before install. */
static void staged(const struct vault *v, struct vs_journal *j)
{
        struct stat st;
        assert_int_equal(lstat(j->entry.staging, &st), 0);
        vs_identity_from_stat(&j->entry.staging_id, &st);
        assert_int_equal(vs_journal_update(j, true), 0);
}

/* Record a file move, write its staging copy, and crash: installed or not. */
static void crashed_file_move(struct vault *v, struct vs_journal *j, enum vs_journal_kind kind,
                              const char *staged_text, bool install)
{
        begin(v, j, kind, "a/note.md", "b/note.md");
        FILE *f = fopen(j->entry.staging, "w");
        fputs(staged_text, f);
        fclose(f);
        if (install) {
                staged(v, j);
                char target[PATH_MAX];
                path_at(target, v, "b/note.md");
                assert_int_equal(rename(j->entry.staging, target), 0);
        }
        crash(j);
}

static void test_format_roundtrip(void **state)
{
        (void)state;
        struct vs_journal_entry e = { .kind = VS_JOURNAL_TREE, .phase = VS_JOURNAL_INSTALLED };
        strcpy(e.id, "abc.1.0");
        strcpy(e.source, "/vault/a/odd name %\nwith newline");
        strcpy(e.target, "/vault/b/t\xc3\xa9st");
        strcpy(e.staging, "/vault/b/.vaultshim-stage-abc.1.0");
        e.source_id = (struct vs_identity){ true, 1, 2, 0100644, 3, 4, 5, 6, 7 };
        char line[4 * PATH_MAX];
        int n = vs_journal_format(&e, line, sizeof(line));
        assert_true(n > 0);
        assert_int_equal(strchr(line, '\n') - line, n - 1); /* one line, escapes work */

        struct vs_journal_entry *back = calloc(1, sizeof(*back));
        assert_int_equal(vs_journal_parse(line, (size_t)n, back), 0);
        assert_string_equal(back->source, e.source);
        assert_string_equal(back->target, e.target);
        assert_int_equal(back->kind, VS_JOURNAL_TREE);
        assert_int_equal(back->phase, VS_JOURNAL_INSTALLED);
        assert_true(vs_identity_unchanged(&back->source_id, &e.source_id));
        assert_false(back->staging_id.known);
        free(back);
}

static void test_torn_last_line_keeps_previous_state(void **state)
{
        (void)state;
        struct vs_journal_entry e = { .kind = VS_JOURNAL_FILE, .phase = VS_JOURNAL_STAGED };
        strcpy(e.id, "x.1.0");
        strcpy(e.source, "/v/a");
        strcpy(e.target, "/v/b");
        strcpy(e.staging, "/v/.vaultshim-tmp-x.1.0");
        char text[3 * 1024];
        int n1 = vs_journal_format(&e, text, sizeof(text));
        e.phase = VS_JOURNAL_INSTALLED;
        int n2 = vs_journal_format(&e, text + n1, sizeof(text) - (size_t)n1);
        struct vs_journal_entry *back = calloc(1, sizeof(*back));

        /* Whole: the last state wins. */
        assert_int_equal(vs_journal_parse(text, (size_t)(n1 + n2), back), 0);
        assert_int_equal(back->phase, VS_JOURNAL_INSTALLED);
        /* Torn append (no newline yet): the first state stands. */
        assert_int_equal(vs_journal_parse(text, (size_t)(n1 + n2 - 5), back), 0);
        assert_int_equal(back->phase, VS_JOURNAL_STAGED);
        /* A flipped byte in a whole line: the checksum rejects it. */
        text[n1 + 10] ^= 1;
        assert_int_equal(vs_journal_parse(text, (size_t)(n1 + n2), back), 0);
        assert_int_equal(back->phase, VS_JOURNAL_STAGED);
        /* Zeros where a line should be (xfs after a crash): nothing valid. */
        memset(text, 0, (size_t)n1);
        text[n1 - 1] = '\n';
        assert_int_equal(vs_journal_parse(text, (size_t)n1, back), -ENODATA);
        free(back);
}

static void test_begin_finish_leaves_nothing(void **state)
{
        struct vault *v = *state;
        struct vs_journal j;
        write_file(v, "a/note.md", "hello\n", false);
        begin(v, &j, VS_JOURNAL_FILE, "a/note.md", "b/note.md");

        char record[PATH_MAX], want_staging[PATH_MAX];
        snprintf(record, sizeof(record), "%s/%s", v->journal, j.name);
        assert_int_equal(access(record, F_OK), 0);
        snprintf(want_staging, sizeof(want_staging), "%s/b/" VS_STAGING_FILE_PREFIX "%s", v->root,
                 j.entry.id);
        assert_string_equal(j.entry.staging, want_staging);
        int fd = journal_fd(v);
        assert_true(vs_journal_dir_has_entries(fd));

        vs_journal_finish(&j);
        assert_int_equal(access(record, F_OK), -1);
        assert_false(vs_journal_dir_has_entries(fd));
        close(fd);
}

static void test_live_move_is_left_alone(void **state)
{
        struct vault *v = *state;
        struct vs_journal j;
        write_file(v, "a/note.md", "hello\n", false);
        begin(v, &j, VS_JOURNAL_FILE, "a/note.md", "b/note.md");
        write_file(v, "b/" VS_STAGING_FILE_PREFIX, "", false); /* unrelated name, ignored */
        struct outcomes *o = recover(v, false);
        assert_int_equal(o->count, 1);
        assert_int_equal(o->last.outcome, VS_RECOVERY_LIVE);
        vs_journal_finish(&j);
}

static void test_crash_before_install_rolls_back(void **state)
{
        struct vault *v = *state;
        struct vs_journal j;
        write_file(v, "a/note.md", "hello\n", false);
        crashed_file_move(v, &j, VS_JOURNAL_FILE, "hel", false); /* half copied */

        struct outcomes *o = recover(v, true);
        assert_int_equal(o->last.outcome, VS_RECOVERY_ROLLED_BACK);
        assert_int_equal(access(j.entry.staging, F_OK), 0); /* dry run: nothing changed */

        o = recover(v, false);
        assert_int_equal(o->last.outcome, VS_RECOVERY_ROLLED_BACK);
        assert_int_equal(o->last.staging_removed, 1);
        assert_int_equal(access(j.entry.staging, F_OK), -1);
        assert_content(v, "a/note.md", "hello\n");
        assert_false(exists(v, "b/note.md"));
        int fd = journal_fd(v);
        assert_false(vs_journal_dir_has_entries(fd));
        close(fd);
}

static void test_crash_after_install_rolls_forward(void **state)
{
        struct vault *v = *state;
        struct vs_journal j;
        write_file(v, "a/note.md", "hello\n", false);
        write_file(v, "b/note.md", "old target\n", false);
        crashed_file_move(v, &j, VS_JOURNAL_OVERWRITE, "hello\n", true);

        struct outcomes *o = recover(v, false);
        assert_int_equal(o->last.outcome, VS_RECOVERY_ROLLED_FORWARD);
        assert_int_equal(o->last.source_removed, 1);
        assert_false(exists(v, "a/note.md"));
        assert_content(v, "b/note.md", "hello\n");
}

static void test_source_changed_after_install_is_kept(void **state)
{
        struct vault *v = *state;
        struct vs_journal j;
        write_file(v, "a/note.md", "hello\n", false);
        crashed_file_move(v, &j, VS_JOURNAL_FILE, "hello\n", true);
        write_file(v, "a/note.md", "new line\n", true);

        struct outcomes *o = recover(v, false);
        assert_int_equal(o->last.outcome, VS_RECOVERY_KEPT);
        assert_content(v, "a/note.md", "hello\nnew line\n");
        assert_content(v, "b/note.md", "hello\n");
        /* The record stays for a person (and reports again), never deleting the new data. */
        assert_int_equal(recover(v, false)->last.outcome, VS_RECOVERY_KEPT);
        assert_non_null(strstr(recover(v, false)->last.record, VS_JOURNAL_KEPT_SUFFIX));
        /* Moves pass it by instead of comparing the same files again each time. */
        int fd = journal_fd(v);
        assert_int_equal(vs_journal_recover_dir(fd, NULL, VS_RECOVER_LAZY, NULL, NULL), 0);
        close(fd);
}

static void make_tree(const struct vault *v, const char *rel)
{
        char p[PATH_MAX], q[PATH_MAX + 8];
        path_at(p, v, rel);
        mkdir(p, 0755);
        snprintf(q, sizeof(q), "%s/sub", p);
        mkdir(q, 0755);
        char f[PATH_MAX + 16];
        for (int i = 0; i < 3; i++) {
                snprintf(f, sizeof(f), "%s/n%d.md", p, i);
                FILE *fp = fopen(f, "w");
                fprintf(fp, "note %d\n", i);
                fclose(fp);
        }
        snprintf(f, sizeof(f), "%s/sub/deep.md", p);
        FILE *fp = fopen(f, "w");
        fputs("deep\n", fp);
        fclose(fp);
        snprintf(f, sizeof(f), "%s/link", p);
        assert_int_equal(symlink("n0.md", f), 0);
        snprintf(f, sizeof(f), "%s/fifo", p);
        assert_int_equal(mkfifo(f, 0644), 0);
}

/* A tree installed, the source half removed, then a crash. */
static void installed_tree(struct vault *v, struct vs_journal *j)
{
        make_tree(v, "a/t");
        begin(v, j, VS_JOURNAL_TREE, "a/t", "b/t");
        char stage_rel[PATH_MAX];
        snprintf(stage_rel, sizeof(stage_rel), "b/%s", strrchr(j->entry.staging, '/') + 1);
        make_tree(v, stage_rel);
        staged(v, j);
        char target[PATH_MAX], gone[PATH_MAX];
        path_at(target, v, "b/t");
        assert_int_equal(rename(j->entry.staging, target), 0);
        path_at(gone, v, "a/t/n1.md");
        unlink(gone);
        crash(j);
}

static void test_tree_rolls_forward(void **state)
{
        struct vault *v = *state;
        struct vs_journal j;
        installed_tree(v, &j);
        struct outcomes *o = recover(v, false);
        assert_int_equal(o->last.outcome, VS_RECOVERY_ROLLED_FORWARD);
        assert_false(exists(v, "a/t"));
        assert_content(v, "b/t/sub/deep.md", "deep\n");
        assert_content(v, "b/t/n1.md", "note 1\n");
}

static void test_tree_keeps_changed_entries(void **state)
{
        struct vault *v = *state;
        struct vs_journal j;
        installed_tree(v, &j);
        write_file(v, "a/t/sub/deep.md", "edited\n", false);
        write_file(v, "a/t/new.md", "brand new\n", false);

        struct outcomes *o = recover(v, false);
        assert_int_equal(o->last.outcome, VS_RECOVERY_KEPT);
        assert_int_equal(o->last.source_kept, 2);
        assert_content(v, "a/t/sub/deep.md", "edited\n");
        assert_content(v, "a/t/new.md", "brand new\n");
        assert_false(exists(v, "a/t/n0.md"));
        assert_false(exists(v, "a/t/link"));
        assert_content(v, "b/t/sub/deep.md", "deep\n");
}

static void test_staging_without_source_is_kept(void **state)
{
        struct vault *v = *state;
        struct vs_journal j;
        write_file(v, "a/note.md", "only\n", false);
        crashed_file_move(v, &j, VS_JOURNAL_FILE, "only\n", false);
        char src[PATH_MAX];
        path_at(src, v, "a/note.md");
        unlink(src);

        struct outcomes *o = recover(v, false);
        assert_int_equal(o->last.outcome, VS_RECOVERY_KEPT);
        assert_int_equal(access(j.entry.staging, F_OK), 0);
}

static void test_unreadable_record_is_dropped_as_empty(void **state)
{
        struct vault *v = *state;
        struct vs_journal j;
        write_file(v, "a/note.md", "x\n", false);
        begin(v, &j, VS_JOURNAL_FILE, "a/note.md", "b/note.md");
        vs_journal_finish(&j); /* creates the journal directory */
        char p[PATH_MAX + 16];
        snprintf(p, sizeof(p), "%s/torn", v->journal);
        FILE *f = fopen(p, "w");
        fputs("vsj1 torn", f);
        fclose(f);
        struct outcomes *o = recover(v, false);
        assert_int_equal(o->last.outcome, VS_RECOVERY_EMPTY);
        assert_int_equal(access(p, F_OK), -1);
}

static void test_next_move_recovers_lazily(void **state)
{
        struct vault *v = *state;
        struct vs_journal j, next;
        write_file(v, "a/note.md", "hello\n", false);
        write_file(v, "a/other.md", "other\n", false);
        begin(v, &j, VS_JOURNAL_FILE, "a/note.md", "b/note.md");
        FILE *f = fopen(j.entry.staging, "w");
        fclose(f);
        crash(&j);
        begin(v, &next, VS_JOURNAL_FILE, "a/other.md", "b/other.md");
        assert_int_equal(access(j.entry.staging, F_OK), -1);
        vs_journal_finish(&next);
        int fd = journal_fd(v);
        assert_false(vs_journal_dir_has_entries(fd));
        close(fd);
}

static void test_move_lock_excludes_and_notices_replacement(void **state)
{
        struct vault *v = *state;
        struct vs_identity id;
        char dir[PATH_MAX];
        write_file(v, "a/note.md", "x\n", false);
        identity_of(v, "a/note.md", &id);
        path_at(dir, v, "a");
        int dirfd = open(dir, O_RDONLY | O_DIRECTORY);

        struct vs_journal_lock held, again;
        assert_int_equal(vs_journal_lock_object(dirfd, "note.md", &id, true, &held), 0);
        /* A second move (another open file description, as another thread has) must wait;
         * busy is not stale (EAGAIN == EWOULDBLOCK, so stale has its own errno). */
        assert_int_equal(vs_journal_lock_object(dirfd, "note.md", &id, false, &again), -EWOULDBLOCK);
        assert_int_not_equal(-EWOULDBLOCK, -ESTALE);
        vs_journal_unlock_object(&held);
        assert_int_equal(vs_journal_lock_object(dirfd, "note.md", &id, false, &held), 0);
        vs_journal_unlock_object(&held);

        /* Another program's flock on the note is not ours: the move does not wait for it. */
        int other = openat(dirfd, "note.md", O_RDONLY);
        assert_int_equal(flock(other, LOCK_EX), 0);
        assert_int_equal(vs_journal_lock_object(dirfd, "note.md", &id, false, &held), 0);
        vs_journal_unlock_object(&held);
        close(other);

        /* The name now leads elsewhere: plan again. */
        write_file(v, "a/other.md", "y\n", false);
        assert_int_equal(renameat(dirfd, "other.md", dirfd, "note.md"), 0);
        assert_int_equal(vs_journal_lock_object(dirfd, "note.md", &id, true, &held), -ESTALE);
        assert_int_equal(unlinkat(dirfd, "note.md", 0), 0);
        assert_int_equal(vs_journal_lock_object(dirfd, "note.md", &id, true, &held), -ESTALE);

        /* Symlinks are locked by identity too. */
        assert_int_equal(symlinkat("target", dirfd, "link"), 0);
        identity_of(v, "a/link", &id);
        assert_int_equal(vs_journal_lock_object(dirfd, "link", &id, true, &held), 0);
        vs_journal_unlock_object(&held);
        close(dirfd);
}

static void test_record_lookup_for_staging_residue(void **state)
{
        struct vault *v = *state;
        struct vs_journal j;
        write_file(v, "a/note.md", "x\n", false);
        begin(v, &j, VS_JOURNAL_FILE, "a/note.md", "b/note.md");
        assert_true(vs_journal_record_exists(j.entry.staging));
        vs_journal_finish(&j);
        assert_false(vs_journal_record_exists(j.entry.staging));

        /* A record beside the staging object counts too. */
        char staging[PATH_MAX];
        path_at(staging, v, "b/" VS_STAGING_TREE_PREFIX "lost.1.0");
        assert_false(vs_journal_record_exists(staging));
        write_file(v, "b/" VS_JOURNAL_BESIDE_PREFIX "lost.1.0", "", false);
        assert_true(vs_journal_record_exists(staging));
        assert_false(vs_journal_record_exists("/not/a/staging/name"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_format_roundtrip),
                cmocka_unit_test(test_torn_last_line_keeps_previous_state),
                cmocka_unit_test_setup_teardown(test_begin_finish_leaves_nothing, setup, teardown),
                cmocka_unit_test_setup_teardown(test_live_move_is_left_alone, setup, teardown),
                cmocka_unit_test_setup_teardown(test_crash_before_install_rolls_back, setup, teardown),
                cmocka_unit_test_setup_teardown(test_crash_after_install_rolls_forward, setup, teardown),
                cmocka_unit_test_setup_teardown(test_source_changed_after_install_is_kept, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_tree_rolls_forward, setup, teardown),
                cmocka_unit_test_setup_teardown(test_tree_keeps_changed_entries, setup, teardown),
                cmocka_unit_test_setup_teardown(test_staging_without_source_is_kept, setup, teardown),
                cmocka_unit_test_setup_teardown(test_unreadable_record_is_dropped_as_empty, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_next_move_recovers_lazily, setup, teardown),
                cmocka_unit_test_setup_teardown(test_move_lock_excludes_and_notices_replacement,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(test_record_lookup_for_staging_residue, setup,
                                                teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
