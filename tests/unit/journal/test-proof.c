/* SPDX-License-Identifier: MIT */
/*
 * lib/journal/proof.c: the evidence recovery needs before it deletes anything.  Over
 * records and identities written by hand, each answer vs_proof_target() can give and the
 * one condition that gives it; a tree's root compared without its size and mtime; the
 * reasons a report prints; the source proven only by its own handle; the staging object
 * before its identity was recorded, never the source renamed there (on one filesystem).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "journal/proof.h"

static struct vs_identity object(uint64_t ino, uint8_t generation)
{
        struct vs_identity id = {
                .known = true, .ino = ino, .mode = S_IFREG | 0644, .size = 100,
                .mtime_sec = 1765000000, .mtime_nsec = 250, .ctime_sec = 1765000001,
                .has_btime = true, .btime_sec = 1765000000, .handle_type = 1,
                .handle_len = 12,
        };
        memcpy(id.handle, &ino, sizeof(ino));
        id.handle[8] = generation;
        return id;
}

/* A file move whose copy completed: staging object 20, complete at 100 bytes. */
static struct vs_journal_entry completed(void)
{
        struct vs_journal_entry e = { .kind = VS_JOURNAL_FILE, .phase = VS_JOURNAL_INSTALLED };
        e.source_mount.fsid = e.target_mount.fsid = 0xabcdef;
        e.source_id = object(10, 1);
        e.staging_id = object(20, 1);
        e.copied_id = e.staging_id;
        return e;
}

static void test_the_complete_copy_is_proven(void **state)
{
        struct vs_journal_entry e = completed();
        struct vs_identity target = e.copied_id;
        target.ctime_sec += 5; /* the install is a rename: it moves the ctime only */
        assert_int_equal(vs_proof_target(&e, &target), VS_TARGET_COMPLETE);
        assert_string_equal(vs_proof_target_why(VS_TARGET_COMPLETE), "");
}

static void test_another_inode_is_another_object(void **state)
{
        struct vs_journal_entry e = completed();
        assert_int_equal(vs_proof_target(&e, &e.source_id), VS_TARGET_OTHER);
        struct vs_identity dir = e.copied_id;
        dir.mode = S_IFDIR | 0755; /* the number, but not the type */
        assert_int_equal(vs_proof_target(&e, &dir), VS_TARGET_OTHER);
        struct vs_journal_entry unstaged = completed();
        unstaged.staging_id.known = false;
        assert_int_equal(vs_proof_target(&unstaged, &e.copied_id), VS_TARGET_OTHER);
        assert_string_equal(vs_proof_target_why(VS_TARGET_OTHER), "");
}

/* The staging object's number, another generation: a file given the freed number. */
static void test_the_number_without_the_generation_proves_nothing(void **state)
{
        struct vs_journal_entry e = completed();
        struct vs_identity reused = object(20, 2);
        assert_int_equal(vs_proof_target(&e, &reused), VS_TARGET_UNPROVEN_OBJECT);
        struct vs_identity no_handle = e.copied_id;
        no_handle.handle_len = 0;
        assert_int_equal(vs_proof_target(&e, &no_handle), VS_TARGET_UNPROVEN_OBJECT);
        /* The completion evidence names another object than the staging line did. */
        struct vs_journal_entry mixed = completed();
        mixed.copied_id = object(20, 3);
        assert_int_equal(vs_proof_target(&mixed, &e.staging_id), VS_TARGET_UNPROVEN_OBJECT);
        assert_non_null(strstr(vs_proof_target_why(VS_TARGET_UNPROVEN_OBJECT), "generation"));
}

/* The staging object itself, with no record that its copy ever completed. */
static void test_without_completion_evidence_the_copy_is_unproven(void **state)
{
        struct vs_journal_entry e = completed();
        e.copied_id.known = false;
        assert_int_equal(vs_proof_target(&e, &e.staging_id), VS_TARGET_UNPROVEN_COMPLETE);
        assert_non_null(strstr(vs_proof_target_why(VS_TARGET_UNPROVEN_COMPLETE), "completed"));
}

static void test_a_file_unlike_its_completed_copy_is_unproven(void **state)
{
        struct vs_journal_entry e = completed();
        struct vs_identity target = e.copied_id;
        target.size++;
        assert_int_equal(vs_proof_target(&e, &target), VS_TARGET_UNPROVEN_CONTENT);
        target = e.copied_id;
        target.mtime_nsec++;
        assert_int_equal(vs_proof_target(&e, &target), VS_TARGET_UNPROVEN_CONTENT);
        target = e.copied_id;
        target.mtime_sec--;
        assert_int_equal(vs_proof_target(&e, &target), VS_TARGET_UNPROVEN_CONTENT);
        assert_non_null(strstr(vs_proof_target_why(VS_TARGET_UNPROVEN_CONTENT), "size"));
        /* The same for an overwrite. */
        e.kind = VS_JOURNAL_OVERWRITE;
        assert_int_equal(vs_proof_target(&e, &target), VS_TARGET_UNPROVEN_CONTENT);
}

/* A tree's root directory changes size and mtime with every save in it: its entries are
 * compared one by one instead (tree.c). */
static void test_a_trees_root_is_proven_by_its_object(void **state)
{
        struct vs_journal_entry e = completed();
        e.kind = VS_JOURNAL_TREE;
        e.staging_id.mode = e.copied_id.mode = S_IFDIR | 0755;
        struct vs_identity target = e.copied_id;
        target.size += 4096;
        target.mtime_sec += 60;
        assert_int_equal(vs_proof_target(&e, &target), VS_TARGET_COMPLETE);
        target = object(20, 9);
        target.mode = S_IFDIR | 0755;
        assert_int_equal(vs_proof_target(&e, &target), VS_TARGET_UNPROVEN_OBJECT);
}

static void test_the_source_by_its_own_proof(void **state)
{
        struct vs_journal_entry e = completed();
        struct vs_identity aside = e.source_id;
        aside.ctime_sec += 3; /* set aside: a rename */
        assert_true(vs_proof_source(&e, &aside));
        assert_false(vs_proof_source(&e, &e.staging_id));
        assert_false(vs_proof_source(&e, &(struct vs_identity){ 0 }));
        struct vs_identity reborn = object(10, 2);
        assert_false(vs_proof_source(&e, &reborn));
}

static void test_the_staging_object_once_recorded(void **state)
{
        struct vs_journal_entry e = completed();
        assert_true(vs_proof_staging(&e, &e.staging_id));
        struct vs_identity reused = object(20, 2);
        assert_false(vs_proof_staging(&e, &reused));
}

/*
 * Before its identity reached the record, what holds the staging name (64 random bits,
 * durable before it existed) is this move's, unless it is the source itself renamed
 * there by someone on its filesystem.  On another filesystem an equal number means
 * nothing.
 */
static void test_the_staging_object_before_it_was_recorded(void **state)
{
        struct vs_journal_entry e = completed();
        e.staging_id.known = false;
        e.aside_id = object(11, 1);
        struct vs_identity fresh = object(30, 1);
        assert_true(vs_proof_staging(&e, &fresh));
        assert_false(vs_proof_staging(&e, &e.source_id));
        assert_false(vs_proof_staging(&e, &e.aside_id));
        /* Another filesystem: the source's number there is a coincidence. */
        e.target_mount.fsid = 0x123;
        assert_true(vs_proof_staging(&e, &e.source_id));
        /* No fsid reported: the device numbers decide. */
        e.source_mount.fsid = e.target_mount.fsid = 0;
        e.source_mount.dev_major = e.target_mount.dev_major = 8;
        e.source_mount.dev_minor = 1;
        e.target_mount.dev_minor = 1;
        assert_false(vs_proof_staging(&e, &e.source_id));
        e.target_mount.dev_minor = 2;
        assert_true(vs_proof_staging(&e, &e.source_id));
        e.target_mount.fsid = 0x123; /* one fsid missing: the devices still decide */
        assert_true(vs_proof_staging(&e, &e.source_id));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_the_complete_copy_is_proven),
                cmocka_unit_test(test_another_inode_is_another_object),
                cmocka_unit_test(test_the_number_without_the_generation_proves_nothing),
                cmocka_unit_test(test_without_completion_evidence_the_copy_is_unproven),
                cmocka_unit_test(test_a_file_unlike_its_completed_copy_is_unproven),
                cmocka_unit_test(test_a_trees_root_is_proven_by_its_object),
                cmocka_unit_test(test_the_source_by_its_own_proof),
                cmocka_unit_test(test_the_staging_object_once_recorded),
                cmocka_unit_test(test_the_staging_object_before_it_was_recorded),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
