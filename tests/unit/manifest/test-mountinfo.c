/* SPDX-License-Identifier: MIT */
/* mountinfo parsing, mount verification and discovery, on recorded mountinfo text. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "manifest/mountinfo.h"
#include "manifest/verify.h"

/* The shape of a Kasm container: overlay root, the vault a directory in it, bind mounts. */
static const char mountinfo[] =
        "600 500 0:50 / / rw,relatime master:1 - overlay overlay rw,lowerdir=/l,upperdir=/u\n"
        "610 600 8:1 /srv/users/alice/personal /vault/personal rw,relatime - ext4 /dev/sda1 rw\n"
        "611 600 8:1 /srv/shared/engineering /vault/engineering rw,relatime shared:5 master:2 - "
        "ext4 /dev/sda1 rw\n"
        "612 600 8:1 /srv/shared/wiki /vault/wiki ro,relatime - ext4 /dev/sda1 rw\n"
        "613 600 8:2 / /vault/archive rw,relatime - ext4 /dev/sdb1 ro\n"
        "614 600 8:1 /srv/team\\040notes /vault/team\\040notes rw - ext4 /dev/sda1 rw\n"
        "615 600 8:1 /srv/tmp /vault/stacked rw - ext4 /dev/sda1 rw\n"
        "616 600 8:1 /srv/tmp2 /vault/stacked ro - ext4 /dev/sda1 rw\n"
        "617 610 8:1 /srv/x /vault/personal/deep rw - ext4 /dev/sda1 rw\n"
        "618 600 0:51 / /vault/.hidden rw - tmpfs tmpfs rw\n";

static struct vs_mounts load(void)
{
        struct vs_mounts m = {0};
        struct vs_diags d = {0};
        assert_int_equal(vs_mounts_parse("mountinfo", mountinfo, &m, &d), 0);
        assert_int_equal(d.count, 0);
        return m;
}

static void test_parse(void **state)
{
        struct vs_mounts m = load();
        assert_int_equal(m.count, 10);
        const struct vs_mount *eng = vs_mounts_find(&m, "/vault/engineering");
        assert_non_null(eng);
        assert_int_equal(eng->mount_id, 611);
        assert_int_equal(eng->parent_id, 600);
        assert_int_equal(eng->major, 8);
        assert_int_equal(eng->minor, 1);
        assert_string_equal(eng->root, "/srv/shared/engineering");
        assert_string_equal(eng->fstype, "ext4");
        assert_string_equal(eng->source, "/dev/sda1");
        assert_false(vs_mount_read_only(eng));
        /* ro per mount (remount,bind,ro) and ro per superblock both count. */
        const struct vs_mount *wiki = vs_mounts_find(&m, "/vault/wiki");
        assert_true(wiki->mount_ro);
        assert_false(wiki->super_ro);
        const struct vs_mount *archive = vs_mounts_find(&m, "/vault/archive");
        assert_false(archive->mount_ro);
        assert_true(archive->super_ro);
        /* Octal escapes are undone in paths. */
        const struct vs_mount *notes = vs_mounts_find(&m, "/vault/team notes");
        assert_non_null(notes);
        assert_string_equal(notes->root, "/srv/team notes");
        /* The last mount on a point is the visible one. */
        assert_int_equal(vs_mounts_find(&m, "/vault/stacked")->mount_id, 616);
        assert_ptr_equal(vs_mounts_find_id(&m, 615), &m.items[6]);
        assert_null(vs_mounts_find(&m, "/vault/nothing"));
        vs_mounts_clear(&m);
}

static void test_parse_errors(void **state)
{
        static const struct {
                const char *text;
                const char *expect;
        } cases[] = {
                {"600 500 0:50 / /\n", "mountinfo:1:17: truncated mountinfo line"},
                {"1 2 3:4 / / rw - ext4 /dev/x rw\nx 2 3:4 / /a rw - ext4 /dev/x rw\n",
                 "mountinfo:2:1: bad mount id or device number in mountinfo line"},
                {"1 2 3:4 /a\\09 /b rw - ext4 /dev/x rw\n",
                 "mountinfo:1:1: bad octal escape in mountinfo line"},
                {"1 2 3:4 / /b rw shared:1\n", "mountinfo:1:25: truncated mountinfo line"},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct vs_mounts m = {0};
                struct vs_diags d = {0};
                assert_int_equal(vs_mounts_parse("mountinfo", cases[i].text, &m, &d), -EINVAL);
                assert_int_equal(d.count, 1);
                char *got = NULL;
                assert_true(asprintf(&got, "%s:%u:%u: %s", d.items[0].file, d.items[0].line,
                                     d.items[0].column, d.items[0].message) > 0);
                if (strcmp(got, cases[i].expect) != 0)
                        fail_msg("case %zu: expected %s, got %s", i, cases[i].expect, got);
                free(got);
                vs_diags_clear(&d);
        }
}

static void test_source_matches(void **state)
{
        assert_true(vs_source_matches("/srv/shared/wiki", "/srv/shared/wiki"));
        assert_true(vs_source_matches("/data/srv/shared/wiki",
                                      "/srv/shared/wiki")); /* fs mounted at /data */
        assert_true(
                vs_source_matches("/srv/shared/wiki", "/@/srv/shared/wiki")); /* btrfs subvolume */
        assert_true(vs_source_matches("/anything", "/"));                     /* whole filesystem */
        assert_true(vs_source_matches("", "/srv/x"));                         /* unknown source */
        assert_false(vs_source_matches("/srv/shared/wiki", "/srv/shared/engineering"));
        assert_false(vs_source_matches("/srv/xwiki", "/wiki")); /* component boundary */
}

/* The kernel's answer to statx(STATX_MNT_ID) for the paths the tests use. */
static int fake_mount_id(const char *path, int *ret)
{
        static const struct {
                const char *path;
                int id;
        } table[] = {
                {"/vault/personal", 610}, {"/vault/engineering", 611}, {"/vault/wiki", 612},
                {"/vault/archive", 613},  {"/vault/plain", 600},        {"/vault/stacked", 616},
        };
        for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
                if (strcmp(table[i].path, path) == 0) {
                        *ret = table[i].id;
                        return 0;
                }
        return -ENOENT;
}

static void test_verify(void **state)
{
        static const struct {
                const char *name;
                const char *source;
                enum vs_mode mode;
                bool required;
                int64_t valid_until;
                enum vs_folder_state state;
                enum vs_severity severity;
                bool usable;
                enum vs_mode configured;
        } cases[] = {
                { "personal", "/srv/users/alice/personal", VS_MODE_RW, true, VS_TIME_NONE,
                  VS_FOLDER_OK, VS_SEVERITY_OK, true, VS_MODE_RW },
                { "engineering", "", VS_MODE_RW, true, 2000, VS_FOLDER_OK, VS_SEVERITY_OK, true,
                  VS_MODE_RW },
                { "wiki", "/srv/shared/wiki", VS_MODE_RO, true, VS_TIME_NONE, VS_FOLDER_OK,
                  VS_SEVERITY_OK, true, VS_MODE_RO },
                { "wiki", "/srv/shared/wiki", VS_MODE_RW, true, VS_TIME_NONE, VS_FOLDER_RW_DEGRADED,
                  VS_SEVERITY_WARNING, true, VS_MODE_RO },
                { "archive", "", VS_MODE_RW, true, VS_TIME_NONE, VS_FOLDER_RW_DEGRADED,
                  VS_SEVERITY_WARNING, true, VS_MODE_RO },
                { "engineering", "", VS_MODE_RO, true, VS_TIME_NONE, VS_FOLDER_RO_VIOLATED,
                  VS_SEVERITY_ERROR, false, VS_MODE_RO },
                { "finance", "/srv/finance", VS_MODE_RW, true, VS_TIME_NONE, VS_FOLDER_MISSING,
                  VS_SEVERITY_ERROR, false, VS_MODE_RW },
                { "finance", "/srv/finance", VS_MODE_RW, false, VS_TIME_NONE, VS_FOLDER_MISSING,
                  VS_SEVERITY_WARNING, false, VS_MODE_RW },
                { "plain", "", VS_MODE_RW, true, VS_TIME_NONE, VS_FOLDER_NOT_MOUNTED,
                  VS_SEVERITY_ERROR, false, VS_MODE_RW },
                { "engineering", "/srv/other", VS_MODE_RW, true, VS_TIME_NONE,
                  VS_FOLDER_SOURCE_MISMATCH, VS_SEVERITY_WARNING, true, VS_MODE_RW },
                { "wiki", "", VS_MODE_RO, true, 1000, VS_FOLDER_EXPIRED, VS_SEVERITY_ERROR, false,
                  VS_MODE_RO },
                { "stacked", "/srv/tmp2", VS_MODE_RO, true, VS_TIME_NONE, VS_FOLDER_OK,
                  VS_SEVERITY_OK, true, VS_MODE_RO },
        };
        struct vs_mounts mounts = load();
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char target[64];
                snprintf(target, sizeof(target), "/vault/%s", cases[i].name);
                struct vs_manifest_folder f = {
                        .name = (char *)cases[i].name,
                        .source = (char *)cases[i].source,
                        .target = target,
                        .mode = cases[i].mode,
                        .required = cases[i].required,
                        .valid_until = cases[i].valid_until,
                };
                struct vs_manifest m = { .vault = "/vault",
                                         .valid_until = VS_TIME_NONE,
                                         .n_folders = 1,
                                         .folders = &f };
                struct vs_verify_result res = {0};
                assert_int_equal(vs_verify(&m, &mounts, 1000, fake_mount_id, &res), 0);
                const struct vs_folder_check *c = &res.folders[0];
                if (c->state != cases[i].state || c->severity != cases[i].severity ||
                    c->usable != cases[i].usable || (c->usable && c->mode != cases[i].configured))
                        fail_msg("case %zu (%s): state %s severity %d usable %d mode %d; message: "
                                 "%s",
                                 i, cases[i].name, vs_folder_state_to_string(c->state), c->severity,
                                 c->usable, c->mode, c->message ? c->message : "-");
                assert_true((c->message != NULL) == (c->state != VS_FOLDER_OK));
                assert_int_equal(res.severity, cases[i].severity);
                vs_verify_result_clear(&res);
        }
        vs_mounts_clear(&mounts);
}

static void test_stale_manifest(void **state)
{
        struct vs_mounts mounts = load();
        struct vs_manifest m = {.vault = "/vault", .valid_until = 999};
        struct vs_verify_result res = {0};
        assert_int_equal(vs_verify(&m, &mounts, 1000, fake_mount_id, &res), 0);
        assert_int_equal(res.severity, VS_SEVERITY_ERROR);
        assert_non_null(strstr(res.manifest_message, "stale since 1970-01-01T00:16:39Z"));
        vs_verify_result_clear(&res);
        vs_mounts_clear(&mounts);
}

static void test_discover(void **state)
{
        struct vs_mounts mounts = load();
        struct vs_manifest *m = NULL;
        struct vs_diags d = {0};
        assert_int_equal(vs_discover(&mounts, "/vault", NULL, "alice", "1000", &m, &d), 0);
        assert_int_equal(d.count, 0);
        static const char *const names[] = {"archive", "engineering", "personal", "stacked",
                                            "team notes", "wiki"};
        static const enum vs_mode modes[] = {VS_MODE_RO, VS_MODE_RW, VS_MODE_RW, VS_MODE_RO,
                                             VS_MODE_RW, VS_MODE_RO};
        assert_int_equal(m->n_folders, 6);
        for (size_t i = 0; i < 6; i++) {
                assert_string_equal(m->folders[i].name, names[i]);
                assert_int_equal(m->folders[i].mode, modes[i]);
                assert_string_equal(m->folders[i].source, "");
                assert_true(m->folders[i].required);
        }
        assert_string_equal(m->folders[4].target, "/vault/team notes");
        assert_string_equal(m->personal, "personal");
        vs_manifest_free(m);

        m = NULL;
        assert_int_equal(vs_discover(&mounts, "/vault", "home", "alice", "1000", &m, &d), -ENOENT);
        assert_null(m);
        assert_string_equal(d.items[0].message,
                            "no mount named \"home\" for the personal folder (mounted: archive, "
                            "engineering, personal, stacked, team notes, wiki)");
        vs_diags_clear(&d);

        /* Without the default personal folder, or without any folder, there is no vault. */
        assert_int_equal(vs_discover(&mounts, "/vault/personal", NULL, "alice", "1000", &m, &d),
                         -ENOENT);
        assert_null(m);
        assert_string_equal(d.items[0].file, "/vault/personal");
        assert_string_equal(d.items[0].message,
                            "no mount named \"personal\" for the personal folder (mounted: deep)");
        vs_diags_clear(&d);
        assert_int_equal(vs_discover(&mounts, "/srv", NULL, "alice", "1000", &m, &d), -ENOENT);
        assert_null(m);
        assert_string_equal(d.items[0].file, "/srv");
        assert_string_equal(d.items[0].message,
                            "nothing is mounted under the vault root; no folder to configure");
        vs_diags_clear(&d);
        vs_mounts_clear(&mounts);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse),
                cmocka_unit_test(test_parse_errors),
                cmocka_unit_test(test_source_matches),
                cmocka_unit_test(test_verify),
                cmocka_unit_test(test_stale_manifest),
                cmocka_unit_test(test_discover),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
