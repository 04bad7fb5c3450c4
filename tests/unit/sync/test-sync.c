/* SPDX-License-Identifier: MIT */
/* Rooms and Syncthing config.xml: stable ids, merging into an existing config. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "shared/file-update.h"
#include "sync/sync.h"

static const struct vs_sync_folder folders[] = {
        {"engineering", "/vault/engineering", "/shared/engineering", VS_MODE_RW},
        {"wiki", "/vault/wiki", "/shared/wiki", VS_MODE_RO},
};
static const struct vs_sync_plan plan = {
        .vault = "/vault", .user_name = "alice", .user_id = "1000", .folders = folders, .n_folders = 2,
};

static char home[64];

static int setup(void **state)
{
        strcpy(home, "/tmp/vs-test-sync.XXXXXX");
        return mkdtemp(home) ? 0 : -1;
}

static int teardown(void **state)
{
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", home);
        return system(cmd);
}

static char *read_config(void)
{
        char path[128], *text = NULL;
        size_t len;
        snprintf(path, sizeof(path), "%s/config.xml", home);
        assert_int_equal(vs_file_read(path, &text, &len), 0);
        return text;
}

static void write_config(const char *text)
{
        char path[128];
        snprintf(path, sizeof(path), "%s/config.xml", home);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
}

static const char *render(void)
{
        static char action[32];
        struct vs_changes changes = {0};
        struct vs_diags diags = {0};
        int r = vs_syncthing_render(&plan, home, "receiveonly", &changes, &diags);
        if (r < 0)
                fail_msg("render: %s: %s", strerror(-r), diags.count ? diags.items[0].message : "");
        snprintf(action, sizeof(action), "%s", changes.items[changes.count - 1].action);
        vs_changes_clear(&changes);
        vs_diags_clear(&diags);
        return action;
}

static void test_room_ids(void **state)
{
        char a[VS_ROOM_ID_MAX], b[VS_ROOM_ID_MAX], c[VS_ROOM_ID_MAX];
        vs_room_id("wiki", "/shared/wiki", a);
        vs_room_id("wiki", "/shared/wiki", b);
        vs_room_id("wik", "i/shared/wiki", c);
        assert_string_equal(a, b);
        assert_string_not_equal(a, c);
        assert_int_equal(strlen(a), 19);
        assert_memory_equal(a, "vs-", 3);
        /* Pinned: the id must never change between releases, or every device loses its rooms. */
        vs_room_id("", "", c);
        assert_string_equal(c, "vs-08328807b4eb6fed");
}

static void test_fresh_config(void **state)
{
        assert_string_equal(render(), "create");
        char *xml = read_config();
        assert_non_null(strstr(xml, "label=\"wiki\""));
        assert_non_null(strstr(xml, "type=\"receiveonly\""));
        assert_non_null(strstr(xml, "<markerName>.</markerName>"));
        assert_non_null(strstr(xml, "fsWatcherDelayS=\"10\""));
        assert_non_null(strstr(xml, "<address>127.0.0.1:8384</address>"));
        assert_non_null(strstr(xml, "<apikey>"));
        assert_non_null(strstr(xml, "<relaysEnabled>false</relaysEnabled>"));
        struct stat st;
        char path[128];
        snprintf(path, sizeof(path), "%s/config.xml", home);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        assert_string_equal(render(), "unchanged");
        char *again = read_config();
        assert_string_equal(xml, again);
        free(xml);
        free(again);
}

static void test_merge_existing(void **state)
{
        char wiki_id[VS_ROOM_ID_MAX];
        vs_room_id("wiki", "/shared/wiki", wiki_id);
        char *text = NULL;
        assert_true(asprintf(&text,
                "<configuration version=\"36\">\n"
                "  <!-- the user's own notes -->\n"
                "  <folder id=\"mine\" label=\"Mine\" path=\"/home/alice/mine\" type=\"sendreceive\"/>\n"
                "  <folder id=\"vs-00000000deadbeef\" label=\"revoked\" path=\"/vault/revoked\" type=\"sendreceive\"/>\n"
                "  <folder id=\"%s\" label=\"Team wiki\" path=\"/old/wiki\" type=\"sendreceive\" fsWatcherDelayS=\"0\">\n"
                "    <markerName>.stfolder</markerName><maxConflicts>-1</maxConflicts>\n"
                "    <device id=\"AIR6LPZ-7K4PTTV-UXQSMUU-CPQ5YWH-OEDFIIQ-JUG777G-2YQXXR5-YD6AWQR\" introducedBy=\"\"/>\n"
                "  </folder>\n"
                "  <device id=\"AIR6LPZ-7K4PTTV-UXQSMUU-CPQ5YWH-OEDFIIQ-JUG777G-2YQXXR5-YD6AWQR\" name=\"laptop\"/>\n"
                "  <gui enabled=\"true\" tls=\"true\"><address>0.0.0.0:9999</address><apikey>k</apikey></gui>\n"
                "  <options><relaysEnabled>true</relaysEnabled><maxSendKbps>100</maxSendKbps></options>\n"
                "</configuration>\n", wiki_id) > 0);
        write_config(text);
        free(text);
        assert_string_equal(render(), "update");
        char *xml = read_config();
        /* Kept: the user's folder, comment, device, tuning, label, GUI key and TLS. */
        assert_non_null(strstr(xml, "id=\"mine\""));
        assert_non_null(strstr(xml, "<!-- the user's own notes -->"));
        assert_non_null(strstr(xml, "name=\"laptop\""));
        assert_non_null(strstr(xml, "<maxConflicts>-1</maxConflicts>"));
        assert_non_null(strstr(xml, "label=\"Team wiki\""));
        assert_non_null(strstr(xml, "<apikey>k</apikey>"));
        assert_non_null(strstr(xml, "tls=\"true\""));
        assert_non_null(strstr(xml, "<maxSendKbps>100</maxSendKbps>"));
        assert_non_null(strstr(xml, "AIR6LPZ-7K4PTTV-UXQSMUU-CPQ5YWH-OEDFIIQ-JUG777G-2YQXXR5-YD6AWQR\" introducedBy"));
        /* Enforced: path, type, marker, watcher delay, loopback GUI, no relays. */
        assert_non_null(strstr(xml, "path=\"/vault/wiki\" type=\"receiveonly\""));
        assert_non_null(strstr(xml, "fsWatcherDelayS=\"10\""));
        assert_non_null(strstr(xml, "<markerName>.</markerName>"));
        assert_non_null(strstr(xml, "<address>127.0.0.1:9999</address>"));
        assert_non_null(strstr(xml, "<relaysEnabled>false</relaysEnabled>"));
        /* Removed: our folder that the plan no longer has.  Added: engineering. */
        assert_null(strstr(xml, "vs-00000000deadbeef"));
        assert_non_null(strstr(xml, "label=\"engineering\""));
        free(xml);
        assert_string_equal(render(), "unchanged");
}

static void test_broken_config_untouched(void **state)
{
        write_config("<configuration version=\"36\">\n  <folder id=\"x\">\n</configuration>\n");
        struct vs_changes changes = {0};
        struct vs_diags diags = {0};
        assert_int_equal(vs_syncthing_render(&plan, home, "receiveonly", &changes, &diags), -EINVAL);
        assert_int_equal(diags.count, 1);
        if (diags.items[0].line != 3)
                fail_msg("line %u: %s", diags.items[0].line, diags.items[0].message);
        assert_non_null(strstr(diags.items[0].message, "(left untouched)"));
        char *xml = read_config();
        assert_string_equal(xml, "<configuration version=\"36\">\n  <folder id=\"x\">\n</configuration>\n");
        free(xml);
        vs_changes_clear(&changes);
        vs_diags_clear(&diags);
}

static void test_rooms(void **state)
{
        char path[128], *text = NULL;
        size_t len;
        struct vs_changes changes = {0};
        struct vs_diags diags = {0};
        snprintf(path, sizeof(path), "%s/rooms.json", home);
        assert_int_equal(vs_rooms_render(&plan, path, &changes, &diags), 0);
        assert_int_equal(vs_rooms_render(&plan, path, &changes, &diags), 0);
        assert_string_equal(changes.items[0].action, "create");
        assert_string_equal(changes.items[1].action, "unchanged");
        assert_int_equal(vs_file_read(path, &text, &len), 0);
        assert_non_null(strstr(text, "\"direction\": \"receive-only\""));
        assert_non_null(strstr(text, "\"direction\": \"send-receive\""));
        assert_true(len > 0 && text[len - 1] == '\n');
        free(text);
        vs_changes_clear(&changes);
        vs_diags_clear(&diags);
}

static void test_stignore(void **state)
{
        char path[128], *text = NULL;
        size_t len;
        struct vs_changes changes = {0};
        struct vs_diags diags = {0};
        snprintf(path, sizeof(path), "%s/.stignore", home);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs("*.tmp\n// BEGIN vaultshim: managed by vault-first-launch, edit outside this block\n"
              "old-pattern\n// END vaultshim\n/build\n", f);
        fclose(f);
        assert_int_equal(vs_stignore_render(home, &changes, &diags), 0);
        assert_int_equal(vs_stignore_render(home, &changes, &diags), 0);
        assert_string_equal(changes.items[0].action, "update");
        assert_string_equal(changes.items[1].action, "unchanged");
        assert_int_equal(vs_file_read(path, &text, &len), 0);
        assert_string_equal(text,
                            "*.tmp\n"
                            "// BEGIN vaultshim: managed by vault-first-launch, edit outside this block\n"
                            "(?d).vaultshim\n(?d).vaultshim-*\n(?d).Trash-*\n"
                            "(?d)/.obsidian/workspace.json\n(?d)/.obsidian/workspace-mobile.json\n"
                            "// END vaultshim\n"
                            "/build\n");
        free(text);
        vs_changes_clear(&changes);
        vs_diags_clear(&diags);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_room_ids),
                cmocka_unit_test_setup_teardown(test_fresh_config, setup, teardown),
                cmocka_unit_test_setup_teardown(test_merge_existing, setup, teardown),
                cmocka_unit_test_setup_teardown(test_broken_config_untouched, setup, teardown),
                cmocka_unit_test_setup_teardown(test_rooms, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stignore, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
