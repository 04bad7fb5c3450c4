/* SPDX-License-Identifier: MIT */
/*
 * The API key file (tools/vault-orchestrator/key-file.c): one line KEY:SECRET, the caller's,
 * no access for group or others; every refusal names the file (and the mode) and never the
 * key or the secret.
 */
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

#include "key-file.h"

static char dir[] = "/tmp/vs-key-XXXXXX";

static const char *write_key(const char *name, const char *content, mode_t mode)
{
        static char path[256];
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(content, f);
        fclose(f);
        assert_int_equal(chmod(path, mode), 0);
        return path;
}

static void accepts_one_line(void **state)
{
        static const char *const good[] = { "k3y:s3cret", "k3y:s3cret\n", "k3y:s3:cret\r\n" };
        (void)state;
        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
                struct api_key key = { 0 };
                char why[KEY_FILE_ERROR_MAX] = "";
                const char *path = write_key("good", good[i], i ? 0400 : 0600);
                assert_int_equal(api_key_read(path, false, &key, why), 0);
                assert_string_equal(key.key, "k3y");
                assert_string_equal(key.secret, i == 2 ? "s3:cret" : "s3cret");
                api_key_clear(&key);
                assert_null(key.key);
                unlink(path);
        }
}

static void refuses_what_others_can_reach(void **state)
{
        static const mode_t modes[] = { 0640, 0604, 0620, 0660, 0644, 0601 };
        (void)state;
        for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
                struct api_key key = { 0 };
                char why[KEY_FILE_ERROR_MAX] = "", mode[16];
                const char *path = write_key("open", "topkey:topsecret\n", modes[i]);
                assert_int_equal(api_key_read(path, false, &key, why), -EPERM);
                assert_null(key.key);
                snprintf(mode, sizeof(mode), "%04o", (unsigned)modes[i]);
                assert_non_null(strstr(why, path));
                assert_non_null(strstr(why, mode));
                assert_null(strstr(why, "topsecret"));
                assert_null(strstr(why, "topkey"));
                unlink(path);
        }
}

static void refuses_another_owner(void **state)
{
        struct api_key key = { 0 };
        char why[KEY_FILE_ERROR_MAX] = "";
        (void)state;
        const char *path = write_key("theirs", "topkey:topsecret\n", 0600);
        if (geteuid() != 0) {
                unlink(path);
                skip();
        }
        assert_int_equal(chown(path, 12345, 12345), 0);
        assert_int_equal(api_key_read(path, false, &key, why), -EPERM);
        assert_non_null(strstr(why, "uid 12345"));
        assert_null(strstr(why, "topsecret"));
        unlink(path);
}

/* systemd's credential: 0400 and the service's, or root's with an ACL (group r--). */
static void credential_may_be_systemds(void **state)
{
        struct api_key key = { 0 };
        char why[KEY_FILE_ERROR_MAX] = "";
        (void)state;
        const char *path = write_key("kasm-api-key", "k3y:s3cret\n", 0440);
        assert_int_equal(api_key_read(path, false, &key, why), -EPERM);
        if (geteuid() == 0) {
                assert_int_equal(api_key_read(path, true, &key, why), 0);
                api_key_clear(&key);
                assert_int_equal(chmod(path, 0444), 0);
                assert_int_equal(api_key_read(path, true, &key, why), -EPERM);
                assert_int_equal(chmod(path, 0460), 0);
                assert_int_equal(api_key_read(path, true, &key, why), -EPERM);
                assert_int_equal(chown(path, 12345, 12345), 0);
                assert_int_equal(chmod(path, 0400), 0);
                assert_int_equal(api_key_read(path, true, &key, why), -EPERM);
        }
        unlink(path);
}

static void refuses_malformed_without_quoting(void **state)
{
        static const char *const bad[] = { "",          "nocolon\n",    ":secret\n",
                                           "key:\n",    "key:sec ret\n", "key:secret\n\n",
                                           "a:b\nc:d\n", "key :secret\n" };
        (void)state;
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                struct api_key key = { 0 };
                char why[KEY_FILE_ERROR_MAX] = "";
                const char *path = write_key("bad", bad[i], 0600);
                assert_int_equal(api_key_read(path, false, &key, why), -EINVAL);
                assert_non_null(strstr(why, path));
                assert_null(strstr(why, "secret\n"));
                assert_null(strstr(why, "sec ret"));
                unlink(path);
        }
}

static void default_is_the_credential(void **state)
{
        (void)state;
        unsetenv("CREDENTIALS_DIRECTORY");
        assert_null(api_key_default_path());
        setenv("CREDENTIALS_DIRECTORY", "/run/credentials/vault-orchestrator.service", 1);
        char *path = api_key_default_path();
        assert_string_equal(path, "/run/credentials/vault-orchestrator.service/kasm-api-key");
        free(path);
        unsetenv("CREDENTIALS_DIRECTORY");
}

static void refuses_missing_and_directories(void **state)
{
        struct api_key key = { 0 };
        char why[KEY_FILE_ERROR_MAX] = "";
        (void)state;
        assert_int_equal(api_key_read("/nonexistent/key", false, &key, why), -ENOENT);
        assert_non_null(strstr(why, "/nonexistent/key"));
        assert_int_equal(api_key_read(dir, false, &key, why), -EINVAL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(accepts_one_line),
                cmocka_unit_test(refuses_what_others_can_reach),
                cmocka_unit_test(refuses_another_owner),
                cmocka_unit_test(credential_may_be_systemds),
                cmocka_unit_test(refuses_malformed_without_quoting),
                cmocka_unit_test(default_is_the_credential),
                cmocka_unit_test(refuses_missing_and_directories),
        };
        if (!mkdtemp(dir))
                return 1;
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        rmdir(dir);
        return r;
}
