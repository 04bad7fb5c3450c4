/* SPDX-License-Identifier: MIT */
/*
 * The journal's moves and recovery (journal.c, recover.c, mount.c, lock.c, tree.c): mount
 * identities, recovery from each state a crash can leave (built by hand in a scratch
 * directory), and the bounded lock wait.  The record format is test-record.c's, object
 * identities test-identity.c's, the evidence test-proof.c's, the journal's place
 * test-location.c's.
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

#include "base/clock.h"
#include "base/remove.h"
#include "journal/journal.h"

#include "record-line.h"

struct vault {
        char root[64];
        char journal[128];
        int a, b; /* the two sides' directories */
};

static void path_at(char out[PATH_MAX], const struct vault *v, const char *rel)
{
        int n = snprintf(out, PATH_MAX, "%s/%s", v->root, rel);
        assert_true(n > 0 && n < PATH_MAX);
}

static void write_file(const struct vault *v, const char *rel, const char *text)
{
        char p[PATH_MAX];
        path_at(p, v, rel);
        FILE *f = fopen(p, "w");
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

static int setup(void **state)
{
        struct vault *v = calloc(1, sizeof(*v));
        strcpy(v->root, "/tmp/vs-journal-XXXXXX");
        assert_non_null(mkdtemp(v->root));
        snprintf(v->journal, sizeof(v->journal), "%s/private/journal", v->root);
        char p[PATH_MAX];
        path_at(p, v, "a");
        mkdir(p, 0755);
        v->a = open(p, O_PATH | O_DIRECTORY);
        path_at(p, v, "b");
        mkdir(p, 0755);
        v->b = open(p, O_PATH | O_DIRECTORY);
        *state = v;
        return 0;
}

static int teardown(void **state)
{
        struct vault *v = *state;
        int fd = open("/tmp", O_RDONLY | O_DIRECTORY);
        unsigned long n = 0, kept = 0;
        vs_remove_tree(fd, v->root + strlen("/tmp/"), false, &n, &kept);
        close(fd);
        close(v->a);
        close(v->b);
        free(v);
        return 0;
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

static struct outcomes *recover(const struct vault *v, enum vs_recovery_mode mode)
{
        static struct outcomes o;
        memset(&o, 0, sizeof(o));
        bool created;
        int fd = vs_journal_dir_open(v->journal, false, &created);
        assert_true(fd >= 0);
        vs_journal_recover_dir(fd, v->journal, mode, collect, &o);
        close(fd);
        return &o;
}

static void begin(const struct vault *v, struct vs_journal *j, enum vs_journal_kind kind,
                  const char *src_rel, const char *dst_rel, bool transient)
{
        char src[PATH_MAX], dst[PATH_MAX];
        struct vs_identity sid;
        path_at(src, v, src_rel);
        path_at(dst, v, dst_rel);
        assert_int_equal(vs_identity_at(AT_FDCWD, src, &sid), 0);
        const struct vs_journal_config cfg = { .dir = v->journal, .transient = transient };
        assert_int_equal(vs_journal_prepare(j, &cfg, kind, v->a, src, v->b, dst, &sid, NULL), 0);
        /* As the engine begins a record (lib/move/journal.c): after the lazy recovery. */
        if (vs_journal_dir_has_entries(j->dirfd))
                vs_journal_recover_dir(j->dirfd, v->journal, VS_RECOVER_LAZY, NULL, NULL);
        assert_int_equal(vs_journal_begin(j, &cfg), 0);
}

static const char *staging_rel(const struct vs_journal *j)
{
        static char rel[PATH_MAX];
        char name[NAME_MAX + 1];
        assert_int_equal(vs_journal_staging_name(&j->entry, name, sizeof(name)), 0);
        snprintf(rel, sizeof(rel), "b/%s", name);
        return rel;
}

static const char *aside_rel(const struct vs_journal *j)
{
        static char rel[PATH_MAX];
        char name[NAME_MAX + 1];
        assert_int_equal(vs_journal_aside_name(&j->entry, name, sizeof(name)), 0);
        snprintf(rel, sizeof(rel), "a/%s", name);
        return rel;
}

static void rename_rel(const struct vault *v, const char *from, const char *to)
{
        char a[PATH_MAX], b[PATH_MAX];
        path_at(a, v, from);
        path_at(b, v, to);
        assert_int_equal(rename(a, b), 0);
}

/* The filesystem under the scratch directory gives file handles: without them nothing is
 * provable, and recovery rightly keeps everything (a container's overlayfs /tmp on an old
 * kernel). */
static void require_proof(const struct vault *v)
{
        struct vs_identity id;
        assert_int_equal(vs_identity_of_fd(v->a, &id), 0);
        if (!vs_identity_has_proof(&id))
                skip();
}

/* Record the staging object rel as the engine does: its identity once created, then, when
 * complete, the evidence of the complete copy. */
static void record_staged(const struct vault *v, struct vs_journal *j, const char *rel,
                          bool complete)
{
        char p[PATH_MAX];
        path_at(p, v, rel);
        assert_int_equal(vs_identity_at(AT_FDCWD, p, &j->entry.staging_id), 0);
        assert_int_equal(vs_journal_update(j, VS_JOURNAL_SYNC_NONE), 0);
        if (complete) {
                assert_int_equal(vs_identity_at(AT_FDCWD, p, &j->entry.copied_id), 0);
                assert_int_equal(vs_journal_update(j, VS_JOURNAL_SYNC_DATA), 0);
        }
}

/* A file move that stops after `steps` of: stage (and complete the copy), set aside,
 * install.  Then a kill -9. */
static void crashed_file_move(struct vault *v, struct vs_journal *j, int steps)
{
        require_proof(v);
        write_file(v, "a/note.md", "the note\n");
        begin(v, j, VS_JOURNAL_FILE, "a/note.md", "b/note.md", false);
        write_file(v, staging_rel(j), "the note\n");
        record_staged(v, j, staging_rel(j), true);
        if (steps >= 2)
                rename_rel(v, "a/note.md", aside_rel(j));
        if (steps >= 3)
                rename_rel(v, staging_rel(j), "b/note.md");
        vs_journal_abandon(j);
}

static void test_mount_identity_of_a_directory(void **state)
{
        struct vault *v = *state;
        struct vs_mount_identity m;
        assert_int_equal(vs_mount_identify(v->a, &m), 0);
        assert_true(m.point[0] == '/' && m.root[0] == '/' && m.fstype[0]);
        int fd = vs_mount_open_verified(&m);
        assert_true(fd >= 0);
        close(fd);
        char rel[PATH_MAX], p[PATH_MAX];
        path_at(p, v, "a/x.md");
        assert_int_equal(vs_mount_relative(&m, p, rel, sizeof(rel)), 0);
        assert_true(rel[0] != '/');
        struct vs_mount_identity other = m;
        strcat(other.root, "-elsewhere");
        assert_int_equal(vs_mount_open_verified(&other), -ESTALE);
        other = m;
        other.root_ino++;
        assert_int_equal(vs_mount_open_verified(&other), -ESTALE);
}

static void test_begin_finish_leaves_nothing(void **state)
{
        struct vault *v = *state;
        struct vs_journal j;
        write_file(v, "a/note.md", "x");
        begin(v, &j, VS_JOURNAL_FILE, "a/note.md", "b/note.md", true);
        char record[PATH_MAX];
        snprintf(record, sizeof(record), "%s/%s", v->journal, j.name);
        assert_int_equal(access(record, F_OK), 0);
        size_t len = strlen(j.entry.target);
        assert_true(len > 9 && strcmp(j.entry.target + len - 9, "b/note.md") == 0);
        vs_journal_finish(&j);
        assert_int_equal(access(record, F_OK), -1);
        assert_int_equal(access(v->journal, F_OK), -1); /* transient: gone once empty */
}

static void test_live_move_is_left_alone(void **state)
{
        struct vault *v = *state;
        struct vs_journal j;
        write_file(v, "a/note.md", "x");
        begin(v, &j, VS_JOURNAL_FILE, "a/note.md", "b/note.md", false);
        struct outcomes *o = recover(v, VS_RECOVER_REPAIR);
        assert_int_equal(o->count, 1);
        assert_int_equal(o->last.outcome, VS_RECOVERY_LIVE);
        vs_journal_finish(&j);
}

static void test_crash_before_aside_rolls_back(void **state)
{
        struct vault *v = *state;
        struct vs_journal j;
        crashed_file_move(v, &j, 1);
        struct outcomes *o = recover(v, VS_RECOVER_REPAIR);
        assert_int_equal(o->last.outcome, VS_RECOVERY_ROLLED_BACK);
        assert_content(v, "a/note.md", "the note\n");
        assert_false(exists(v, staging_rel(&j)));
        assert_false(exists(v, "b/note.md"));
        assert_false(vs_journal_dir_has_entries(open(v->journal, O_RDONLY | O_DIRECTORY)));
}

static void test_crash_after_aside_puts_source_back(void **state)
{
        struct vault *v = *state;
        struct vs_journal j;
        crashed_file_move(v, &j, 2);
        assert_false(exists(v, "a/note.md"));
        struct outcomes *o = recover(v, VS_RECOVER_REPAIR);
        assert_int_equal(o->last.outcome, VS_RECOVERY_ROLLED_BACK);
        assert_content(v, "a/note.md", "the note\n");
        assert_false(exists(v, aside_rel(&j)));
        assert_false(exists(v, staging_rel(&j)));
}

static void test_aside_with_its_name_taken_is_kept(void **state)
{
        struct vault *v = *state;
        struct vs_journal j;
        crashed_file_move(v, &j, 2);
        write_file(v, "a/note.md", "a colleague's new save\n");
        struct outcomes *o = recover(v, VS_RECOVER_REPAIR);
        assert_int_equal(o->last.outcome, VS_RECOVERY_KEPT);
        assert_content(v, "a/note.md", "a colleague's new save\n");
        /* Never left hidden: under its visible kept name, which still says its own. */
        char home[NAME_MAX + 1], kept[NAME_MAX + 1], rel[PATH_MAX];
        assert_int_equal(vs_aside_leftover_names(aside_rel(&j) + 2, home, kept, sizeof(kept)), 0);
        assert_string_equal(home, "note.md");
        assert_int_equal(strncmp(kept, VS_ASIDE_KEPT_PREFIX, strlen(VS_ASIDE_KEPT_PREFIX)), 0);
        snprintf(rel, sizeof(rel), "a/%s", kept);
        assert_content(v, rel, "the note\n");
        assert_false(exists(v, aside_rel(&j)));
}

/* A set-aside name says where it goes back to; an older version's (the id alone) cannot. */
static void test_aside_leftover_names(void **state)
{
        (void)state;
        char home[NAME_MAX + 1], kept[NAME_MAX + 1];
        assert_int_equal(vs_aside_leftover_names(VS_TEMP_ASIDE_PREFIX "1a.2.3.ff_my note.md",
                                                 home, kept, sizeof(home)), 0);
        assert_string_equal(home, "my note.md");
        assert_string_equal(kept, VS_ASIDE_KEPT_PREFIX "1a.2.3.ff_my note.md");
        assert_int_equal(vs_aside_leftover_names(VS_TEMP_ASIDE_PREFIX "1a.2.3.ff", home, kept,
                                                 sizeof(home)), 0);
        assert_string_equal(home, VS_ASIDE_KEPT_PREFIX "1a.2.3.ff");
        assert_int_equal(vs_aside_leftover_names(VS_TEMP_ASIDE_PREFIX "1a_..", home, kept,
                                                 sizeof(home)), 0);
        assert_string_equal(home, VS_ASIDE_KEPT_PREFIX "1a_..");
        assert_int_equal(vs_aside_leftover_names(".vaultshim-tmp-1a_x", home, kept, sizeof(home)),
                         -EINVAL);
}

static void test_crash_after_install_rolls_forward_once(void **state)
{
        struct vault *v = *state;
        struct vs_journal j;
        crashed_file_move(v, &j, 3);
        struct outcomes *o = recover(v, VS_RECOVER_REPAIR);
        assert_int_equal(o->last.outcome, VS_RECOVERY_ROLLED_FORWARD);
        assert_false(exists(v, aside_rel(&j)));
        assert_content(v, "b/note.md", "the note\n");
        assert_int_equal(recover(v, VS_RECOVER_REPAIR)->count, 0);
}

static void test_changed_source_after_install_is_kept(void **state)
{
        struct vault *v = *state;
        struct vs_journal j;
        crashed_file_move(v, &j, 3);
        char p[PATH_MAX];
        path_at(p, v, aside_rel(&j));
        FILE *f = fopen(p, "a");
        fputs("written through a descriptor opened before the move\n", f);
        fclose(f);
        struct outcomes *o = recover(v, VS_RECOVER_REPAIR);
        assert_int_equal(o->last.outcome, VS_RECOVERY_KEPT);
        assert_true(exists(v, "a/note.md")); /* back where it was */
        assert_content(v, "b/note.md", "the note\n");
        /* Kept: set aside as .kept, still reported by vault-fsck, passed by lazy recovery. */
        assert_int_equal(recover(v, VS_RECOVER_LAZY)->count, 0);
        assert_int_equal(recover(v, VS_RECOVER_REPAIR)->last.outcome, VS_RECOVERY_KEPT);
}

static void test_equal_bytes_prove_nothing(void **state)
{
        struct vault *v = *state;
        struct vs_journal j;
        crashed_file_move(v, &j, 3);
        /* The source is gone; someone else's file with the same bytes now has its name. */
        char p[PATH_MAX];
        write_file(v, "a/note.md", "the note\n");
        path_at(p, v, aside_rel(&j));
        unlink(p);
        struct outcomes *o = recover(v, VS_RECOVER_REPAIR);
        assert_int_equal(o->last.outcome, VS_RECOVERY_CLOSED);
        assert_content(v, "a/note.md", "the note\n");
}

/* A file move crashed after `steps` (crashed_file_move), its set-aside source then under
 * another inode number, as FUSE gives one once the name changed (rclone: a hash of the
 * name): the next move's lazy recovery, which searches for no leftovers, puts it back at its
 * name (never hidden), removes nothing of it, and says `outcome`. */
static void renumbered_aside_is_put_back(struct vault *v, int steps,
                                         enum vs_recovery_outcome outcome)
{
        struct vs_journal j;
        crashed_file_move(v, &j, steps);
        write_file(v, "a/renumbered", "the note\n"); /* a new inode, made while the old lives */
        rename_rel(v, "a/renumbered", aside_rel(&j));
        struct outcomes *o = recover(v, VS_RECOVER_LAZY);
        assert_int_equal(o->last.outcome, outcome);
        assert_int_equal(o->last.source_removed, 0);
        assert_content(v, "a/note.md", "the note\n");
        assert_false(exists(v, aside_rel(&j)));
        assert_false(exists(v, staging_rel(&j)));
}

static void test_renumbered_aside_after_install_is_put_back(void **state)
{
        renumbered_aside_is_put_back(*state, 3, VS_RECOVERY_KEPT);
        assert_content(*state, "b/note.md", "the note\n");
}

static void test_renumbered_aside_not_installed_is_put_back(void **state)
{
        renumbered_aside_is_put_back(*state, 2, VS_RECOVERY_ROLLED_BACK);
}

static void test_staging_before_its_identity_was_recorded(void **state)
{
        struct vault *v = *state;
        struct vs_journal j;
        write_file(v, "a/note.md", "x");
        begin(v, &j, VS_JOURNAL_FILE, "a/note.md", "b/note.md", false);
        write_file(v, staging_rel(&j), "x"); /* a power cut before its identity was synced */
        vs_journal_abandon(&j);
        struct outcomes *o = recover(v, VS_RECOVER_REPAIR);
        assert_int_equal(o->last.outcome, VS_RECOVERY_ROLLED_BACK);
        assert_false(exists(v, staging_rel(&j)));
        assert_content(v, "a/note.md", "x");
}

static void test_other_object_at_the_staging_name_is_kept(void **state)
{
        struct vault *v = *state;
        struct vs_journal j;
        crashed_file_move(v, &j, 1);
        write_file(v, "b/other", "someone else's file under our staging name");
        rename_rel(v, "b/other", staging_rel(&j));
        struct outcomes *o = recover(v, VS_RECOVER_REPAIR);
        assert_int_equal(o->last.outcome, VS_RECOVERY_KEPT);
        assert_true(exists(v, staging_rel(&j)));
}

static void test_other_mount_defers_and_touches_nothing(void **state)
{
        struct vault *v = *state;
        struct vs_journal j;
        crashed_file_move(v, &j, 3);
        /* Rewrite the record as if the folder had come from elsewhere. */
        char record[PATH_MAX], text[16384];
        snprintf(record, sizeof(record), "%s/%s", v->journal, j.name);
        struct vs_journal_entry e = j.entry;
        strcat(e.source_mount.root, "-another-host-folder");
        int len = vs_journal_format(&e, text, sizeof(text));
        FILE *f = fopen(record, "a");
        fwrite(text, 1, (size_t)len, f);
        fclose(f);
        struct outcomes *o = recover(v, VS_RECOVER_REPAIR);
        assert_int_equal(o->last.outcome, VS_RECOVERY_DEFERRED);
        assert_true(exists(v, aside_rel(&j)));
        assert_int_equal(access(record, F_OK), 0); /* waits for a session that has it */
}

static void test_tree_rolls_forward_keeping_changed_entries(void **state)
{
        struct vault *v = *state;
        struct vs_journal j;
        char p[PATH_MAX];
        require_proof(v);
        path_at(p, v, "a/t");
        mkdir(p, 0755);
        write_file(v, "a/t/one.md", "1");
        write_file(v, "a/t/two.md", "2");
        begin(v, &j, VS_JOURNAL_TREE, "a/t", "b/t", false);
        char cmd[3 * PATH_MAX];
        path_at(p, v, staging_rel(&j));
        char src[PATH_MAX];
        path_at(src, v, "a/t");
        snprintf(cmd, sizeof(cmd), "cp -a %s %s", src, p);
        assert_int_equal(system(cmd), 0);
        record_staged(v, &j, staging_rel(&j), true);
        rename_rel(v, "a/t", aside_rel(&j));
        rename_rel(v, staging_rel(&j), "b/t");
        vs_journal_abandon(&j);
        char two[PATH_MAX];
        int n = snprintf(two, sizeof(two), "%s/two.md", aside_rel(&j));
        assert_true(n > 0 && n < PATH_MAX);
        write_file(v, two, "2, changed after the copy");
        struct outcomes *o = recover(v, VS_RECOVER_REPAIR);
        assert_int_equal(o->last.outcome, VS_RECOVERY_KEPT);
        assert_int_equal(o->last.source_removed, 1);
        assert_false(exists(v, "a/t/one.md"));
        assert_content(v, "a/t/two.md", "2, changed after the copy");
        assert_content(v, "b/t/one.md", "1");
}

/* ---- proof before any deletion (vault-fsck(8)) ---- */

/* The record's staging line without the completion evidence: the move died copying. */
static void crash_while_copying(struct vault *v, struct vs_journal *j)
{
        require_proof(v);
        write_file(v, "a/note.md", "the whole note\n");
        begin(v, j, VS_JOURNAL_FILE, "a/note.md", "b/note.md", false);
        rename_rel(v, "a/note.md", aside_rel(j));
        write_file(v, staging_rel(j), "the who");
        record_staged(v, j, staging_rel(j), false);
        vs_journal_abandon(j);
}

/* Issue 20, 1 (i): a colleague renames the half-made staging file onto the target name. */
static void test_incomplete_copy_renamed_onto_the_target_keeps_the_source(void **state)
{
        struct vault *v = *state;
        struct vs_journal j;
        crash_while_copying(v, &j);
        rename_rel(v, staging_rel(&j), "b/note.md");
        struct outcomes *o = recover(v, VS_RECOVER_DRY_RUN);
        assert_int_equal(o->last.outcome, VS_RECOVERY_KEPT);
        assert_int_equal(o->last.source_removed, 0);
        o = recover(v, VS_RECOVER_REPAIR);
        assert_int_equal(o->last.outcome, VS_RECOVERY_KEPT);
        assert_int_equal(o->last.source_removed, 0);
        assert_content(v, "a/note.md", "the whole note\n");
        assert_content(v, "b/note.md", "the who");
}

/* Issue 20, 1 (ii): the staging file deleted, a new file given its inode number, saved
 * under the target name.  Only a filesystem that reuses numbers at once can show it. */
static void test_reused_inode_number_keeps_the_source(void **state)
{
        struct vault *v = *state;
        struct vs_journal j;
        crashed_file_move(v, &j, 2); /* the copy complete, its evidence recorded */
        char p[PATH_MAX], q[PATH_MAX];
        path_at(p, v, staging_rel(&j));
        assert_int_equal(unlink(p), 0);
        path_at(q, v, "b/note.md");
        bool reused = false;
        for (int i = 0; i < 2000 && !reused; i++) {
                int fd = open(q, O_WRONLY | O_CREAT | O_EXCL, 0644);
                assert_true(fd >= 0);
                assert_int_equal(write(fd, "the note\n", 9), 9); /* even the same bytes */
                struct stat st;
                assert_int_equal(fstat(fd, &st), 0);
                close(fd);
                reused = st.st_ino == j.entry.staging_id.ino;
                if (!reused) {
                        char spare[PATH_MAX];
                        int n = snprintf(spare, sizeof(spare), "%s.%d", q, i);
                        assert_true(n > 0 && n < PATH_MAX);
                        assert_int_equal(rename(q, spare), 0); /* keep its number taken */
                }
        }
        if (!reused)
                skip();
        struct outcomes *o = recover(v, VS_RECOVER_REPAIR);
        assert_int_equal(o->last.outcome, VS_RECOVERY_KEPT);
        assert_int_equal(o->last.source_removed, 0);
        assert_content(v, "a/note.md", "the note\n");
        assert_true(exists(v, "b/note.md"));
}

/* A record of the previous format, installed: nothing in it proves the target complete. */
static void test_old_record_after_install_keeps_both(void **state)
{
        struct vault *v = *state;
        struct vs_journal j;
        crashed_file_move(v, &j, 3);
        struct vs_journal_entry *e = &j.entry;
        const struct vs_mount_identity *sm = &e->source_mount, *tm = &e->target_mount;
        const struct vs_identity *si = &e->source_id, *gi = &e->staging_id;
        char body[4 * PATH_MAX], record[PATH_MAX];
        int n = snprintf(body, sizeof(body),
                 "vsj2 %s file installed %s %s %s %u:%u %llx %llu %s %s %s %u:%u %llx %llu %s %s "
                 "%llu:%u:%lld:%lld:%lld:%lld:%lld - %llu:%u:%lld:%lld:%lld:%lld:%lld -",
                 e->id, sm->point, sm->root, sm->fstype, sm->dev_major, sm->dev_minor,
                 (unsigned long long)sm->fsid, (unsigned long long)sm->root_ino, tm->point,
                 tm->root, tm->fstype, tm->dev_major, tm->dev_minor,
                 (unsigned long long)tm->fsid, (unsigned long long)tm->root_ino, e->source,
                 e->target, (unsigned long long)si->ino, si->mode, (long long)si->size,
                 (long long)si->mtime_sec, (long long)si->mtime_nsec, (long long)si->ctime_sec,
                 (long long)si->ctime_nsec, (unsigned long long)gi->ino, gi->mode,
                 (long long)gi->size, (long long)gi->mtime_sec, (long long)gi->mtime_nsec,
                 (long long)gi->ctime_sec, (long long)gi->ctime_nsec);
        assert_true(n > 0 && (size_t)n < sizeof(body));
        snprintf(record, sizeof(record), "%s/%s", v->journal, j.name);
        FILE *f = fopen(record, "w");
        fputs(vs_test_record_line(body), f);
        fclose(f);
        struct outcomes *o = recover(v, VS_RECOVER_REPAIR);
        assert_true(o->last.parsed);
        assert_int_equal(o->last.outcome, VS_RECOVERY_KEPT);
        assert_int_equal(o->last.source_removed, 0);
        assert_content(v, "a/note.md", "the note\n");
        assert_content(v, "b/note.md", "the note\n");
}

/* A tree whose staging copy was half made (one of two notes) when the move died, renamed
 * onto the target by a colleague: no source entry is removed, and the source is back. */
static void test_half_made_tree_renamed_onto_the_target_keeps_the_source(void **state)
{
        struct vault *v = *state;
        struct vs_journal j;
        char p[PATH_MAX];
        require_proof(v);
        path_at(p, v, "a/t");
        mkdir(p, 0755);
        write_file(v, "a/t/one.md", "1");
        write_file(v, "a/t/two.md", "2");
        begin(v, &j, VS_JOURNAL_TREE, "a/t", "b/t", false);
        path_at(p, v, staging_rel(&j));
        assert_int_equal(mkdir(p, 0755), 0);
        record_staged(v, &j, staging_rel(&j), false);
        char one[PATH_MAX];
        int n = snprintf(one, sizeof(one), "%s/one.md", staging_rel(&j));
        assert_true(n > 0 && n < PATH_MAX);
        write_file(v, one, "1");
        rename_rel(v, "a/t", aside_rel(&j));
        vs_journal_abandon(&j);
        rename_rel(v, staging_rel(&j), "b/t");
        struct outcomes *o = recover(v, VS_RECOVER_REPAIR);
        assert_int_equal(o->last.outcome, VS_RECOVERY_KEPT);
        assert_int_equal(o->last.source_removed, 0);
        assert_content(v, "a/t/one.md", "1");
        assert_content(v, "a/t/two.md", "2");
        assert_content(v, "b/t/one.md", "1");
        assert_false(exists(v, "b/t/two.md"));
}

/* Installed and complete, but the record's source has no proof: the source is kept. */
static void test_source_without_proof_is_kept(void **state)
{
        struct vault *v = *state;
        struct vs_journal j;
        crashed_file_move(v, &j, 2);
        j.entry.source_id.handle_len = 0; /* as on a filesystem without handles */
        char record[PATH_MAX], text[16384];
        snprintf(record, sizeof(record), "%s/%s", v->journal, j.name);
        int len = vs_journal_format(&j.entry, text, sizeof(text));
        FILE *f = fopen(record, "a");
        fwrite(text, 1, (size_t)len, f);
        fclose(f);
        rename_rel(v, staging_rel(&j), "b/note.md");
        struct outcomes *o = recover(v, VS_RECOVER_REPAIR);
        assert_int_equal(o->last.outcome, VS_RECOVERY_KEPT);
        assert_int_equal(o->last.source_removed, 0);
        assert_content(v, "a/note.md", "the note\n");
        assert_content(v, "b/note.md", "the note\n");
}

/* Installed and complete, then rewritten by a colleague (other size): kept, both. */
static void test_target_unlike_the_completed_copy_keeps_the_source(void **state)
{
        struct vault *v = *state;
        struct vs_journal j;
        crashed_file_move(v, &j, 3);
        write_file(v, "b/note.md", "rewritten in place, the same inode\n");
        struct outcomes *o = recover(v, VS_RECOVER_REPAIR);
        assert_int_equal(o->last.outcome, VS_RECOVERY_KEPT);
        assert_content(v, "a/note.md", "the note\n");
}

static void test_lock_wait_is_bounded(void **state)
{
        struct vault *v = *state;
        write_file(v, "a/note.md", "x");
        char p[PATH_MAX];
        struct stat st;
        path_at(p, v, "a/note.md");
        assert_int_equal(lstat(p, &st), 0);
        struct vs_identity id;
        vs_identity_from_stat(&id, &st);
        struct vs_journal_lock mine, theirs;
        assert_int_equal(vs_journal_lock_object(v->a, "note.md", &id, 0, &mine), 0);
        uint64_t start = vs_now_ms();
        assert_int_equal(vs_journal_lock_object(v->a, "note.md", &id, start + 300, &theirs),
                         -EBUSY);
        uint64_t waited = vs_now_ms() - start;
        assert_true(waited >= 300 && waited < 3000);
        vs_journal_unlock_object(&mine);
        assert_int_equal(vs_journal_lock_object(v->a, "note.md", &id, 0, &theirs), 0);
        vs_journal_unlock_object(&theirs);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
                T(test_mount_identity_of_a_directory),
                T(test_begin_finish_leaves_nothing),
                T(test_live_move_is_left_alone),
                T(test_crash_before_aside_rolls_back),
                T(test_crash_after_aside_puts_source_back),
                T(test_aside_with_its_name_taken_is_kept),
                T(test_renumbered_aside_after_install_is_put_back),
                T(test_renumbered_aside_not_installed_is_put_back),
                T(test_aside_leftover_names),
                T(test_crash_after_install_rolls_forward_once),
                T(test_changed_source_after_install_is_kept),
                T(test_equal_bytes_prove_nothing),
                T(test_staging_before_its_identity_was_recorded),
                T(test_other_object_at_the_staging_name_is_kept),
                T(test_other_mount_defers_and_touches_nothing),
                T(test_tree_rolls_forward_keeping_changed_entries),
                T(test_incomplete_copy_renamed_onto_the_target_keeps_the_source),
                T(test_reused_inode_number_keeps_the_source),
                T(test_old_record_after_install_keeps_both),
                T(test_half_made_tree_renamed_onto_the_target_keeps_the_source),
                T(test_source_without_proof_is_kept),
                T(test_target_unlike_the_completed_copy_keeps_the_source),
                T(test_lock_wait_is_bounded),
#undef T
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
