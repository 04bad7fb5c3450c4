/* SPDX-License-Identifier: MIT */
/*
 * lib/journal/record.c: one self-checking line per state of a move.  Every kind and phase
 * written and read back whole; the last valid line wins over a torn or corrupted one; the
 * parser refuses paths that leave their mount, malformed proofs, a line too long for its
 * buffer; the older vsj2 lines are read without proof, the shared-location vsj1 ones never.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "journal/journal.h"

#include "record-line.h"

static struct vs_journal_entry sample_entry(void)
{
        struct vs_journal_entry e = { .kind = VS_JOURNAL_OVERWRITE, .phase = VS_JOURNAL_INSTALLED };
        strcpy(e.id, "18c2f0a1b2.4242.7.0123456789abcdef");
        struct vs_mount_identity m = { .fstype = "ext4", .dev_major = 8, .dev_minor = 1,
                                       .fsid = 0x1234abcd5678ef00ull, .root_ino = 2 };
        strcpy(m.point, "/vault/per sonal");
        strcpy(m.root, "/users/alice/personal");
        e.source_mount = m;
        strcpy(m.point, "/vault/engineering");
        strcpy(m.root, "/shared/eng%100");
        e.target_mount = m;
        strcpy(e.source, "notes/a\tb.md");
        strcpy(e.target, "c.md");
        e.source_id = (struct vs_identity){ .known = true, .ino = 12, .mode = 0100644,
                                            .size = 5, .mtime_sec = -3, .ctime_nsec = 9 };
        e.staging_id = (struct vs_identity){ .known = true, .ino = 13, .mode = 0100600 };
        return e;
}

static void test_format_roundtrip(void **state)
{
        (void)state;
        struct vs_journal_entry e = sample_entry(), back;
        char line[8192];
        int len = vs_journal_format(&e, line, sizeof(line));
        assert_true(len > 0 && line[len - 1] == '\n');
        assert_null(strchr(line, '\t'));
        assert_int_equal(vs_journal_parse(line, (size_t)len, &back), 0);
        assert_string_equal(back.source_mount.point, "/vault/per sonal");
        assert_string_equal(back.target_mount.root, "/shared/eng%100");
        assert_string_equal(back.source, "notes/a\tb.md");
        assert_int_equal(back.target_mount.fsid, e.target_mount.fsid);
        assert_int_equal(back.source_id.mtime_sec, -3);
        assert_int_equal(back.staging_id.ino, 13);
        assert_false(back.aside_id.known);
        assert_true(vs_mount_same(&back.source_mount, &e.source_mount));
}

static void test_torn_last_line_keeps_previous_state(void **state)
{
        (void)state;
        struct vs_journal_entry e = sample_entry(), back;
        char text[16384];
        int len = vs_journal_format(&e, text, sizeof(text));
        e.phase = VS_JOURNAL_SOURCE_REMOVAL;
        int len2 = vs_journal_format(&e, text + len, sizeof(text) - (size_t)len);
        assert_int_equal(vs_journal_parse(text, (size_t)(len + len2 - 7), &back), 0);
        assert_int_equal(back.phase, VS_JOURNAL_INSTALLED);
        text[len + 20] ^= 1; /* a flipped byte: the checksum rejects the line */
        assert_int_equal(vs_journal_parse(text, (size_t)(len + len2), &back), 0);
        assert_int_equal(back.phase, VS_JOURNAL_INSTALLED);
        assert_int_equal(vs_journal_parse("", 0, &back), -ENODATA);
}

/* Re-checksum a hand-edited line so that only the field under test is wrong. */
static int parse_edited(const struct vs_journal_entry *e)
{
        char line[8192];
        struct vs_journal_entry back;
        int len = vs_journal_format(e, line, sizeof(line));
        return len < 0 ? len : vs_journal_parse(line, (size_t)len, &back);
}

static void test_parser_refuses_paths_that_leave_the_mount(void **state)
{
        (void)state;
        static const char *const bad_rel[] = { "../personal", "a/../../x", "/vault/x", "a//b",
                                               "./a", "a/", "" };
        for (size_t i = 0; i < sizeof(bad_rel) / sizeof(bad_rel[0]); i++) {
                struct vs_journal_entry e = sample_entry();
                strcpy(e.source, bad_rel[i]);
                assert_int_equal(parse_edited(&e), -ENODATA);
                e = sample_entry();
                strcpy(e.target, bad_rel[i]);
                assert_int_equal(parse_edited(&e), -ENODATA);
        }
        struct vs_journal_entry e = sample_entry();
        strcpy(e.source_mount.point, "vault/relative");
        assert_int_equal(parse_edited(&e), -ENODATA);
        e = sample_entry();
        strcpy(e.id, "../x");
        assert_int_equal(parse_edited(&e), -ENODATA);
        e = sample_entry();
        e.source_id.known = false; /* "-": a record that could never prove anything */
        assert_int_equal(parse_edited(&e), -ENODATA);
        const char *old = "vsj1 1.2.3 file staged /a /b /c - - - 00000000\n";
        assert_true(vs_journal_is_old_format(old, strlen(old)));
        struct vs_journal_entry back;
        assert_int_equal(vs_journal_parse(old, strlen(old), &back), -ENODATA);
}

static void test_format_carries_the_proof(void **state)
{
        (void)state;
        struct vs_journal_entry e = sample_entry(), back;
        e.staging_id.has_btime = true;
        e.staging_id.btime_sec = 1765000000;
        e.staging_id.btime_nsec = 123456789;
        e.staging_id.handle_type = 1;
        e.staging_id.handle_len = 8;
        memcpy(e.staging_id.handle, "\x0c\0\0\0\xef\xbe\xad\xde", 8);
        e.copied_id = e.staging_id;
        e.copied_id.size = 4096;
        char line[8192];
        int len = vs_journal_format(&e, line, sizeof(line));
        assert_true(len > 0);
        assert_non_null(strstr(line, ":1765000000.123456789:1.0c000000efbeadde "));
        assert_int_equal(vs_journal_parse(line, (size_t)len, &back), 0);
        assert_true(vs_identity_proven(&e.staging_id, &back.staging_id));
        assert_true(vs_identity_proven(&back.copied_id, &back.staging_id));
        assert_int_equal(back.copied_id.size, 4096);
        assert_false(vs_identity_has_proof(&back.source_id)); /* recorded without one */
        /* Another generation, or another birth time: not the same object. */
        struct vs_identity other = back.staging_id;
        other.handle[7] ^= 1;
        assert_false(vs_identity_proven(&e.staging_id, &other));
        other = back.staging_id;
        other.btime_nsec++;
        assert_false(vs_identity_proven(&e.staging_id, &other));
        other = back.staging_id;
        other.handle_len = 0;
        assert_false(vs_identity_proven(&other, &other));
}

static void test_parser_refuses_malformed_proofs(void **state)
{
        (void)state;
        const char *head = "vsj3 1.2.3 file staged / / ext4 8:1 ab 2 / / ext4 8:1 ab 2 a b";
        static const char *const bad[] = {
                "5:33188:1:2:3:4:5:-:1.abc",       /* odd number of hex digits */
                "5:33188:1:2:3:4:5:-:1.AB",        /* upper case: one spelling only */
                "5:33188:1:2:3:4:5:-:x.ab",        /* no type */
                "5:33188:1:2:3:4:5:-:1.",          /* no bytes */
                "5:33188:1:2:3:4:5:7:1.ab",        /* a birth time without nanoseconds */
                "5:33188:1:2:3:4:5:-",             /* a field short */
                "5:33188:1:2:3:4:5:-:1.ab:9",      /* a field too many */
                "5:33188:1:2:3:4:5",               /* the old, proof-less shape */
        };
        char body[4096];
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                snprintf(body, sizeof(body), "%s %s - - - -", head, bad[i]);
                const char *line = vs_test_record_line(body);
                struct vs_journal_entry back;
                assert_int_equal(vs_journal_parse(line, strlen(line), &back), -ENODATA);
        }
        char hex[2 * VS_HANDLE_MAX + 3];
        memset(hex, 'a', sizeof(hex) - 1);
        hex[sizeof(hex) - 1] = '\0';
        snprintf(body, sizeof(body), "%s 5:33188:1:2:3:4:5:-:1.%s - - - -", head, hex);
        /* A handle longer than any the kernel gives. */
        const char *line = vs_test_record_line(body);
        struct vs_journal_entry back;
        assert_int_equal(vs_journal_parse(line, strlen(line), &back), -ENODATA);
        snprintf(body, sizeof(body), "%s 5:33188:1:2:3:4:5:-7.5:1.ab - - - -", head);
        line = vs_test_record_line(body);
        assert_int_equal(vs_journal_parse(line, strlen(line), &back), 0);
        assert_true(back.source_id.has_btime && back.source_id.btime_sec == -7);
}

/* The previous format (vsj2), as an earlier version left it at a crash. */
static void test_old_format_is_read_without_proof(void **state)
{
        (void)state;
        const char *body = "vsj2 1.2.3 overwrite installed /vault/personal /users/alice ext4 8:1 "
                           "ab 2 /vault/engineering /shared/eng ext4 8:1 ab 2 plan.md plan.md "
                           "12:33188:5:-3:0:0:9 - 13:33152:5:1:2:3:4 14:33188:0:1:2:3:4";
        const char *line = vs_test_record_line(body);
        struct vs_journal_entry back;
        assert_int_equal(vs_journal_parse(line, strlen(line), &back), 0);
        assert_int_equal(back.phase, VS_JOURNAL_INSTALLED);
        assert_int_equal(back.source_id.ino, 12);
        assert_int_equal(back.staging_id.ino, 13);
        assert_int_equal(back.target_prev_id.ino, 14);
        assert_false(back.copied_id.known);
        assert_false(vs_identity_has_proof(&back.source_id));
        assert_false(vs_identity_has_proof(&back.staging_id));
        /* A vsj2 line in the new shape, or a vsj3 line in the old one, is neither. */
        char swapped[4096];
        snprintf(swapped, sizeof(swapped), "vsj3%s", body + 4);
        line = vs_test_record_line(swapped);
        assert_int_equal(vs_journal_parse(line, strlen(line), &back), -ENODATA);
}

static void test_every_kind_and_phase_round_trips(void **state)
{
        static const struct {
                enum vs_journal_kind kind;
                const char *name;
        } kinds[] = { { VS_JOURNAL_FILE, "file" },
                      { VS_JOURNAL_OVERWRITE, "overwrite" },
                      { VS_JOURNAL_TREE, "tree" } };
        static const struct {
                enum vs_journal_phase phase;
                const char *name;
        } phases[] = { { VS_JOURNAL_STAGED, "staged" },
                       { VS_JOURNAL_INSTALLED, "installed" },
                       { VS_JOURNAL_SOURCE_REMOVAL, "source-removal" } };
        for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
                assert_string_equal(vs_journal_kind_name(kinds[k].kind), kinds[k].name);
                for (size_t p = 0; p < sizeof(phases) / sizeof(phases[0]); p++) {
                        assert_string_equal(vs_journal_phase_name(phases[p].phase),
                                            phases[p].name);
                        struct vs_journal_entry e = sample_entry(), back;
                        e.kind = kinds[k].kind;
                        e.phase = phases[p].phase;
                        char line[8192], want[64];
                        int len = vs_journal_format(&e, line, sizeof(line));
                        assert_true(len > 0);
                        snprintf(want, sizeof(want), " %s %s ", kinds[k].name, phases[p].name);
                        assert_non_null(strstr(line, want));
                        assert_int_equal(vs_journal_parse(line, (size_t)len, &back), 0);
                        assert_int_equal(back.kind, e.kind);
                        assert_int_equal(back.phase, e.phase);
                        assert_string_equal(back.id, e.id);
                }
        }
        assert_string_equal(vs_journal_kind_name((enum vs_journal_kind)7), "?");
        assert_string_equal(vs_journal_phase_name((enum vs_journal_phase)-1), "?");
}

/* Each identity a record holds comes back as it went in, field by field. */
static void test_every_identity_round_trips(void **state)
{
        struct vs_journal_entry e = sample_entry(), back;
        struct vs_identity *ids[] = { &e.source_id, &e.aside_id, &e.staging_id, &e.copied_id,
                                      &e.target_prev_id };
        for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
                *ids[i] = (struct vs_identity){
                        .known = true, .ino = 100 + i, .mode = 040755, .size = 4096 * (int64_t)i,
                        .mtime_sec = 1765000000 + (int64_t)i, .mtime_nsec = 999999999,
                        .ctime_sec = -1, .ctime_nsec = (int64_t)i, .has_btime = i % 2 == 0,
                        .btime_sec = i % 2 == 0 ? 1700000000 : 0, .handle_type = 0x81 + (uint32_t)i,
                        .handle_len = (uint32_t)(i == 4 ? VS_HANDLE_MAX : 4 * i),
                };
                for (uint32_t b = 0; b < ids[i]->handle_len; b++)
                        ids[i]->handle[b] = (unsigned char)(b * 7 + i);
        }
        char line[8192];
        int len = vs_journal_format(&e, line, sizeof(line));
        assert_true(len > 0);
        assert_int_equal(vs_journal_parse(line, (size_t)len, &back), 0);
        const struct vs_identity *got[] = { &back.source_id, &back.aside_id, &back.staging_id,
                                            &back.copied_id, &back.target_prev_id };
        for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
                const struct vs_identity *w = ids[i], *g = got[i];
                assert_true(g->known);
                assert_int_equal(g->ino, w->ino);
                assert_int_equal(g->mode, w->mode);
                assert_int_equal(g->size, w->size);
                assert_int_equal(g->mtime_sec, w->mtime_sec);
                assert_int_equal(g->mtime_nsec, w->mtime_nsec);
                assert_int_equal(g->ctime_sec, w->ctime_sec);
                assert_int_equal(g->ctime_nsec, w->ctime_nsec);
                assert_int_equal(g->has_btime, w->has_btime);
                assert_int_equal(g->btime_sec, w->btime_sec);
                assert_int_equal(g->handle_len, w->handle_len);
                if (w->handle_len) {
                        assert_int_equal(g->handle_type, w->handle_type);
                        assert_memory_equal(g->handle, w->handle, w->handle_len);
                }
                assert_int_equal(g->dev, 0); /* never recorded: st_dev changes at a reboot */
        }
}

/* A line that does not fit is refused whole (never a cut line), whatever the buffer. */
static void test_a_line_that_does_not_fit_is_refused(void **state)
{
        struct vs_journal_entry e = sample_entry();
        char line[8192];
        int len = vs_journal_format(&e, line, sizeof(line));
        assert_true(len > 0);
        assert_int_equal(vs_journal_format(&e, line, 0), -ENAMETOOLONG);
        for (size_t size = 1; size <= (size_t)len; size += size < 64 ? 1 : 61)
                assert_int_equal(vs_journal_format(&e, line, size), -ENAMETOOLONG);
        assert_int_equal(vs_journal_format(&e, line, (size_t)len + 1), len);
}

/* Many lines: the last one that checks wins, whatever comes around it. */
static void test_the_last_valid_line_wins(void **state)
{
        struct vs_journal_entry e = sample_entry(), back;
        char text[32768];
        size_t used = 0;
        e.phase = VS_JOURNAL_STAGED;
        used += (size_t)vs_journal_format(&e, text + used, sizeof(text) - used);
        const char *junk = "not a record at all\n\n";
        memcpy(text + used, junk, strlen(junk));
        used += strlen(junk);
        e.phase = VS_JOURNAL_SOURCE_REMOVAL;
        used += (size_t)vs_journal_format(&e, text + used, sizeof(text) - used);
        e.phase = VS_JOURNAL_INSTALLED;
        size_t last = used;
        used += (size_t)vs_journal_format(&e, text + used, sizeof(text) - used);
        text[last + 6] = text[last + 6] == 'x' ? 'y' : 'x'; /* its checksum fails now */
        assert_int_equal(vs_journal_parse(text, used, &back), 0);
        assert_int_equal(back.phase, VS_JOURNAL_SOURCE_REMOVAL);
        /* Only junk, or only a line without its newline: nothing. */
        assert_int_equal(vs_journal_parse(junk, strlen(junk), &back), -ENODATA);
        int len = vs_journal_format(&e, text, sizeof(text));
        assert_int_equal(vs_journal_parse(text, (size_t)len - 1, &back), -ENODATA);
        assert_false(vs_journal_is_old_format(text, (size_t)len));
        assert_false(vs_journal_is_old_format("vsj", 3));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_format_roundtrip),
                cmocka_unit_test(test_every_kind_and_phase_round_trips),
                cmocka_unit_test(test_every_identity_round_trips),
                cmocka_unit_test(test_a_line_that_does_not_fit_is_refused),
                cmocka_unit_test(test_torn_last_line_keeps_previous_state),
                cmocka_unit_test(test_the_last_valid_line_wins),
                cmocka_unit_test(test_parser_refuses_paths_that_leave_the_mount),
                cmocka_unit_test(test_format_carries_the_proof),
                cmocka_unit_test(test_parser_refuses_malformed_proofs),
                cmocka_unit_test(test_old_format_is_read_without_proof),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
