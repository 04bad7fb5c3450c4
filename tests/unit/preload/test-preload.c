/* SPDX-License-Identifier: MIT */
/*
 * lib/preload/preload.c, as shipped: this program links libvaultshim.so itself, so its
 * rename(), renameat() and renameat2() are the shim's wrappers and the shim's dlsym(RTLD_NEXT)
 * finds the C library's.  What the wrappers promise an application:
 *   - the hot path is the real function: success keeps the caller's errno, any error but
 *     EXDEV is the kernel's, and the configuration is not even read;
 *   - the configuration is read once, at the first EXDEV;
 *   - an EXDEV outside the roots, with VAULTSHIM_DISABLE, with flags other than 0 and
 *     RENAME_NOREPLACE, or without a private journal stands (the last three logged, why);
 *   - an emulated move returns 0 with the caller's errno, or -1 with the kernel's errno;
 *   - a thread inside the engine renames straight through (the thread-local re-entry flag),
 *     while other threads are still emulated, and the flag is cleared on every way out.
 *
 * Real EXDEV: each case runs in a child in a mount namespace of its own, where the vault's
 * folder b/ is a bind mount of itself (two mounts of one filesystem, as Kasm's bind mounts
 * are).  The child also gets its own copy of the once-read configuration.  Without the
 * privilege to make a mount namespace the tests are skipped (CI runs them as root).
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "vs-test-util.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif
#ifndef RENAME_WHITEOUT
#define RENAME_WHITEOUT (1 << 2)
#endif

/* An errno no rename ever sets: whatever the wrappers leave behind is then visible. */
#define CALLER_ERRNO EDOM

/* The scratch tree: <top>/vault (the root) with a/ and b/ (b/ a mount of its own in each
 * child), <top>/state (the private journal's parent) and <top>/audit.log. */
static char top[256];

static void path_of(char *buf, const char *rel)
{
        int n = snprintf(buf, PATH_MAX, "%s/%s", top, rel);
        assert_true(n > 0 && n < PATH_MAX);
}

static void put(const char *rel, const char *text)
{
        char p[PATH_MAX];
        path_of(p, rel);
        int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
        close(fd);
}

static void make_dir(const char *rel, mode_t mode)
{
        char p[PATH_MAX];
        path_of(p, rel);
        assert_int_equal(mkdir(p, mode), 0);
}

static bool has(const char *rel)
{
        char p[PATH_MAX];
        struct stat st;
        path_of(p, rel);
        return lstat(p, &st) == 0;
}

/* The whole file (at most a few KiB), or "" when it does not exist. */
static const char *text_of(const char *rel)
{
        static char text[8192];
        char p[PATH_MAX];
        path_of(p, rel);
        text[0] = '\0';
        int fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return text;
        ssize_t n = read(fd, text, sizeof(text) - 1);
        text[n > 0 ? n : 0] = '\0';
        close(fd);
        return text;
}

static unsigned count_of(const char *text, const char *needle)
{
        unsigned n = 0;
        for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
                n++;
        return n;
}

static int setup(void **state)
{
        assert_int_equal(vs_scratch_create(top, sizeof(top), "preload"), 0);
        assert_int_equal(chmod(top, 0755), 0);
        make_dir("vault", 0755);
        make_dir("vault/a", 0755);
        make_dir("vault/b", 0755);
        make_dir("state", 0700);
        make_dir("elsewhere", 0755);
        return 0;
}

static int teardown(void **state)
{
        vs_scratch_remove(top);
        return 0;
}

/* What a child saw, in memory shared with the parent. */
struct seen {
        int r, err;            /* the call under test */
        int r2, err2;          /* a second call, where a case makes one */
        int inner_r, inner_err; /* the rename made inside the engine, same thread */
        int other_r, other_err; /* the rename made inside the engine's call, another thread */
        bool hook_ran;
};

static struct seen *seen;

/* Environment of a child: "NAME=VALUE" sets, "NAME" unsets. */
static void apply_env(const char *const *env)
{
        for (size_t i = 0; env && env[i]; i++) {
                const char *eq = strchr(env[i], '=');
                if (!eq) {
                        unsetenv(env[i]);
                        continue;
                }
                char name[64];
                size_t len = (size_t)(eq - env[i]);
                if (len >= sizeof(name))
                        _exit(120);
                memcpy(name, env[i], len);
                name[len] = '\0';
                if (setenv(name, eq + 1, 1) < 0)
                        _exit(120);
        }
}

/* The configuration every case starts from: the vault is the root, the journal private. */
static void default_env(void)
{
        char roots[PATH_MAX], journal[PATH_MAX], log[PATH_MAX];
        path_of(roots, "vault");
        path_of(journal, "state/journal");
        path_of(log, "audit.log");
        setenv("VAULTSHIM_ROOTS", roots, 1);
        setenv("VAULTSHIM_JOURNAL", journal, 1);
        setenv("VAULTSHIM_LOG", log, 1);
        unsetenv("VAULTSHIM_DISABLE");
        unsetenv("VAULTSHIM_PERSONAL");
        unsetenv("VAULTSHIM_DURABLE");
        unsetenv("VAULTSHIM_FAULT");
}

/* b/ a mount of its own: a rename between a/ and b/ is the kernel's EXDEV. */
static int enter_two_mounts(void)
{
        char b[PATH_MAX];
        path_of(b, "vault/b");
        int r = vs_private_mounts();
        if (r == 0 && mount(b, b, NULL, MS_BIND, NULL) < 0)
                r = -errno;
        return r;
}

/* Run fn in a child with two mounts and the environment env (over default_env()). */
static void in_child(void (*fn)(void), const char *const *env)
{
        memset(seen, 0, sizeof(*seen));
        seen->r = seen->r2 = seen->inner_r = seen->other_r = 99;
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                int r = enter_two_mounts();
                if (r == -EPERM || r == -EACCES)
                        _exit(77);
                if (r < 0)
                        _exit(121);
                default_env();
                apply_env(env);
                fn();
                _exit(0);
        }
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        if (WEXITSTATUS(status) == 77)
                skip(); /* no mount namespace here; CI runs as root */
        assert_int_equal(WEXITSTATUS(status), 0);
}

/* In a child: the path of rel under <top>. */
static const char *at(const char *rel)
{
        return vs_path_in(top, rel);
}

#define CALL(res, err_out, expr)               \
        do {                                   \
                errno = CALLER_ERRNO;          \
                (res) = (expr);                \
                (err_out) = errno;             \
        } while (0)

/* --- the hot path -------------------------------------------------------------------- */

static void hot_success(void)
{
        CALL(seen->r, seen->err, rename(at("vault/a/note.md"), at("vault/a/renamed.md")));
        CALL(seen->r2, seen->err2,
             renameat2(AT_FDCWD, at("vault/b/plan.md"), AT_FDCWD, at("vault/b/done.md"),
                       RENAME_NOREPLACE));
}

static void test_hot_path_success_keeps_the_callers_errno(void **state)
{
        put("vault/a/note.md", "note");
        put("vault/b/plan.md", "plan");
        in_child(hot_success, NULL);
        assert_int_equal(seen->r, 0);
        assert_int_equal(seen->err, CALLER_ERRNO);
        assert_int_equal(seen->r2, 0);
        assert_int_equal(seen->err2, CALLER_ERRNO);
        assert_string_equal(text_of("vault/a/renamed.md"), "note");
        assert_string_equal(text_of("vault/b/done.md"), "plan");
        assert_false(has("audit.log")); /* the hot path never logs */
        assert_false(has("state/journal"));
}

static void hot_errors(void)
{
        /* ENOENT and EEXIST (RENAME_NOREPLACE) on one mount; EINVAL for flags no kernel
         * knows, checked before the mounts are compared. */
        CALL(seen->r, seen->err, rename(at("vault/a/missing.md"), at("vault/a/x.md")));
        CALL(seen->r2, seen->err2,
             renameat2(AT_FDCWD, at("vault/a/note.md"), AT_FDCWD, at("vault/a/other.md"),
                       RENAME_NOREPLACE));
        CALL(seen->inner_r, seen->inner_err,
             renameat2(AT_FDCWD, at("vault/a/note.md"), AT_FDCWD, at("vault/b/x.md"), 1u << 7));
}

static void test_hot_path_errors_are_the_kernels(void **state)
{
        put("vault/a/note.md", "note");
        put("vault/a/other.md", "other");
        in_child(hot_errors, NULL);
        assert_int_equal(seen->r, -1);
        assert_int_equal(seen->err, ENOENT);
        assert_int_equal(seen->r2, -1);
        assert_int_equal(seen->err2, EEXIST);
        assert_int_equal(seen->inner_r, -1);
        assert_int_equal(seen->inner_err, EINVAL);
        assert_string_equal(text_of("vault/a/note.md"), "note");
        assert_string_equal(text_of("vault/a/other.md"), "other");
        assert_false(has("vault/a/x.md") || has("vault/b/x.md"));
        assert_false(has("audit.log"));
}

/* --- the configuration, read once at the first EXDEV --------------------------------- */

static void config_late(void)
{
        /* Nothing configured while the hot path runs (the default root /vault is not this
         * one): had it read the configuration, the move below would not be emulated. */
        unsetenv("VAULTSHIM_ROOTS");
        CALL(seen->r, seen->err, rename(at("vault/a/one.md"), at("vault/a/one-renamed.md")));
        CALL(seen->r, seen->err, rename(at("vault/a/missing.md"), at("vault/a/x.md")));
        setenv("VAULTSHIM_ROOTS", at("vault"), 1);
        CALL(seen->r, seen->err, rename(at("vault/a/one-renamed.md"), at("vault/b/one.md")));
        /* Read once: disabling it now changes nothing for this process. */
        setenv("VAULTSHIM_DISABLE", "1", 1);
        CALL(seen->r2, seen->err2, rename(at("vault/a/two.md"), at("vault/b/two.md")));
}

static void test_configuration_is_read_at_the_first_exdev_and_once(void **state)
{
        put("vault/a/one.md", "one");
        put("vault/a/two.md", "two");
        in_child(config_late, NULL);
        assert_int_equal(seen->r, 0);
        assert_int_equal(seen->err, CALLER_ERRNO);
        assert_int_equal(seen->r2, 0);
        assert_int_equal(seen->err2, CALLER_ERRNO);
        assert_string_equal(text_of("vault/b/one.md"), "one");
        assert_string_equal(text_of("vault/b/two.md"), "two");
        assert_false(has("vault/a/one-renamed.md"));
        assert_false(has("vault/a/two.md"));
}

/* --- an EXDEV that stands -------------------------------------------------------------- */

static void cross_once(void)
{
        CALL(seen->r, seen->err, rename(at("vault/a/note.md"), at("vault/b/note.md")));
}

static void assert_exdev_stands(void)
{
        assert_int_equal(seen->r, -1);
        assert_int_equal(seen->err, EXDEV);
        assert_string_equal(text_of("vault/a/note.md"), "note");
        assert_false(has("vault/b/note.md"));
}

static void test_outside_the_roots_exdev_stands_unremarked(void **state)
{
        char elsewhere[PATH_MAX + 32];
        snprintf(elsewhere, sizeof(elsewhere), "VAULTSHIM_ROOTS=%s/elsewhere", top);
        const char *const env[] = { elsewhere, NULL };
        put("vault/a/note.md", "note");
        in_child(cross_once, env);
        assert_exdev_stands();
        assert_false(has("audit.log"));
        assert_false(has("state/journal"));
}

static void test_disabled_exdev_stands_unremarked(void **state)
{
        const char *const env[] = { "VAULTSHIM_DISABLE=1", NULL };
        put("vault/a/note.md", "note");
        in_child(cross_once, env);
        assert_exdev_stands();
        assert_false(has("audit.log"));
}

static void cross_with_flags(void)
{
        CALL(seen->r, seen->err,
             renameat2(AT_FDCWD, at("vault/a/note.md"), AT_FDCWD, at("vault/b/note.md"),
                       RENAME_WHITEOUT));
        CALL(seen->r2, seen->err2,
             renameat2(AT_FDCWD, at("vault/a/note.md"), AT_FDCWD, at("vault/b/other.md"),
                       RENAME_EXCHANGE));
}

/* RENAME_EXCHANGE and RENAME_WHITEOUT only the kernel can do: its EXDEV, and a log line. */
static void test_flags_beyond_noreplace_pass_through(void **state)
{
        put("vault/a/note.md", "note");
        put("vault/b/other.md", "other");
        in_child(cross_with_flags, NULL);
        assert_exdev_stands();
        assert_int_equal(seen->r2, -1);
        assert_int_equal(seen->err2, EXDEV);
        assert_string_equal(text_of("vault/b/other.md"), "other");
        const char *log = text_of("audit.log");
        assert_int_equal(count_of(log, "\"result\":\"not-emulated\""), 2);
        assert_int_equal(count_of(log, "\"reason\":\"flags\""), 2);
        assert_false(has("state/journal"));
}

static void cross_noreplace(void)
{
        CALL(seen->r, seen->err,
             renameat2(AT_FDCWD, at("vault/a/note.md"), AT_FDCWD, at("vault/b/note.md"),
                       RENAME_NOREPLACE));
        CALL(seen->r2, seen->err2,
             renameat2(AT_FDCWD, at("vault/a/plan.md"), AT_FDCWD, at("vault/b/taken.md"),
                       RENAME_NOREPLACE));
}

static void test_noreplace_is_emulated(void **state)
{
        put("vault/a/note.md", "note");
        put("vault/a/plan.md", "plan");
        put("vault/b/taken.md", "taken");
        in_child(cross_noreplace, NULL);
        assert_int_equal(seen->r, 0);
        assert_int_equal(seen->err, CALLER_ERRNO);
        assert_string_equal(text_of("vault/b/note.md"), "note");
        assert_false(has("vault/a/note.md"));
        assert_int_equal(seen->r2, -1);
        assert_int_equal(seen->err2, EEXIST);
        assert_string_equal(text_of("vault/a/plan.md"), "plan");
        assert_string_equal(text_of("vault/b/taken.md"), "taken");
}

static void test_without_a_journal_exdev_stands(void **state)
{
        const char *const env[] = { "VAULTSHIM_JOURNAL", "XDG_STATE_HOME", "HOME", NULL };
        put("vault/a/note.md", "note");
        in_child(cross_once, env);
        assert_exdev_stands();
        assert_int_equal(count_of(text_of("audit.log"), "\"reason\":\"no-journal\""), 1);
}

/* A journal in a vault folder, with no personal folder named: others could reach it. */
static void test_a_journal_others_may_reach_is_refused(void **state)
{
        char journal[PATH_MAX + 32];
        snprintf(journal, sizeof(journal), "VAULTSHIM_JOURNAL=%s/vault/a/.journal", top);
        const char *const env[] = { journal, NULL };
        put("vault/a/note.md", "note");
        in_child(cross_once, env);
        assert_exdev_stands();
        assert_int_equal(
                count_of(text_of("audit.log"), "\"reason\":\"journal-personal-unknown\""), 1);
        assert_false(has("vault/a/.journal"));
}

/* --- emulated moves ------------------------------------------------------------------- */

static void cross_each_entry(void)
{
        CALL(seen->r, seen->err, rename(at("vault/a/one.md"), at("vault/b/one.md")));
        int a = open(at("vault/a"), O_PATH | O_DIRECTORY | O_CLOEXEC);
        int b = open(at("vault/b"), O_PATH | O_DIRECTORY | O_CLOEXEC);
        CALL(seen->r2, seen->err2, renameat(a, "two.md", b, "two.md"));
        CALL(seen->inner_r, seen->inner_err, renameat2(a, "three.md", b, "three.md", 0));
        close(a);
        close(b);
}

static void test_each_wrapper_emulates_and_keeps_the_callers_errno(void **state)
{
        put("vault/a/one.md", "one");
        put("vault/a/two.md", "two");
        put("vault/a/three.md", "three");
        in_child(cross_each_entry, NULL);
        assert_int_equal(seen->r, 0);
        assert_int_equal(seen->err, CALLER_ERRNO);
        assert_int_equal(seen->r2, 0);
        assert_int_equal(seen->err2, CALLER_ERRNO);
        assert_int_equal(seen->inner_r, 0);
        assert_int_equal(seen->inner_err, CALLER_ERRNO);
        assert_string_equal(text_of("vault/b/one.md"), "one");
        assert_string_equal(text_of("vault/b/two.md"), "two");
        assert_string_equal(text_of("vault/b/three.md"), "three");
        assert_false(has("vault/a/one.md") || has("vault/a/two.md") || has("vault/a/three.md"));
        assert_int_equal(count_of(text_of("audit.log"), "\"result\":\"ok\""), 3);
}

static void cross_failing_then_ok(void)
{
        CALL(seen->r, seen->err, rename(at("vault/a/note.md"), at("vault/b/full")));
        CALL(seen->inner_r, seen->inner_err, rename(at("vault/a/dir"), at("vault/b/full")));
        CALL(seen->other_r, seen->other_err,
             rename(at("vault/a/missing.md"), at("vault/b/x.md")));
        CALL(seen->r2, seen->err2, rename(at("vault/a/note.md"), at("vault/b/note.md")));
}

/* A move the engine refuses sets the errno the kernel would have on one mount (a missing
 * source too: across mounts the kernel says EXDEV before it looks the source up); the next
 * one (same thread: the re-entry flag was cleared on the way out) is emulated. */
static void test_refused_move_sets_the_kernels_errno(void **state)
{
        put("vault/a/note.md", "note");
        make_dir("vault/a/dir", 0755);
        make_dir("vault/b/full", 0755);
        put("vault/b/full/kept.md", "kept");
        in_child(cross_failing_then_ok, NULL);
        assert_int_equal(seen->r, -1);
        assert_int_equal(seen->err, EISDIR);
        assert_int_equal(seen->inner_r, -1);
        assert_int_equal(seen->inner_err, ENOTEMPTY);
        assert_true(has("vault/a/dir"));
        assert_string_equal(text_of("vault/b/full/kept.md"), "kept");
        assert_int_equal(seen->other_r, -1);
        assert_int_equal(seen->other_err, ENOENT);
        assert_false(has("vault/b/x.md"));
        assert_int_equal(seen->r2, 0);
        assert_int_equal(seen->err2, CALLER_ERRNO);
        assert_string_equal(text_of("vault/b/note.md"), "note");
        const char *log = text_of("audit.log");
        assert_int_equal(count_of(log, "\"result\":\"error\""), 3);
        assert_int_equal(count_of(log, "\"result\":\"ok\""), 1);
}

/* --- the re-entry flag ------------------------------------------------------------------ */

/*
 * The engine sets a copy's times with futimens(); this program's futimens() comes first in
 * the lookup, so it runs on the engine's own thread in the middle of a move, like any
 * function a library interposes.  Armed, it renames across the mounts there (the flag must
 * let it through as the kernel's EXDEV) and on another thread (which must be emulated).
 */
static bool armed;

static void *rename_on_another_thread(void *unused)
{
        CALL(seen->other_r, seen->other_err,
             rename(at("vault/a/other.md"), at("vault/b/other.md")));
        return NULL;
}

__attribute__((visibility("default"))) int futimens(int fd, const struct timespec times[2])
{
        static int (*real_futimens)(int, const struct timespec[2]);
        if (!real_futimens) {
                void *sym = dlsym(RTLD_NEXT, "futimens");
                memcpy(&real_futimens, &sym, sizeof(sym));
        }
        if (armed) {
                int engine_errno = errno;
                armed = false;
                seen->hook_ran = true;
                CALL(seen->inner_r, seen->inner_err,
                     rename(at("vault/a/inner.md"), at("vault/b/inner.md")));
                pthread_t t;
                if (pthread_create(&t, NULL, rename_on_another_thread, NULL) == 0)
                        pthread_join(t, NULL);
                errno = engine_errno;
        }
        return real_futimens(fd, times);
}

static void reentry(void)
{
        armed = true;
        CALL(seen->r, seen->err, rename(at("vault/a/outer.md"), at("vault/b/outer.md")));
        armed = false;
        CALL(seen->r2, seen->err2, rename(at("vault/a/inner.md"), at("vault/b/inner.md")));
}

static void test_inside_the_engine_a_thread_renames_straight_through(void **state)
{
        put("vault/a/outer.md", "outer");
        put("vault/a/inner.md", "inner");
        put("vault/a/other.md", "other");
        in_child(reentry, NULL);
        assert_true(seen->hook_ran);
        /* Same thread, inside the engine: the kernel's answer, nothing emulated. */
        assert_int_equal(seen->inner_r, -1);
        assert_int_equal(seen->inner_err, EXDEV);
        /* Another thread meanwhile: emulated. */
        assert_int_equal(seen->other_r, 0);
        assert_int_equal(seen->other_err, CALLER_ERRNO);
        assert_string_equal(text_of("vault/b/other.md"), "other");
        /* The outer move, and the caller's errno after it whatever ran inside. */
        assert_int_equal(seen->r, 0);
        assert_int_equal(seen->err, CALLER_ERRNO);
        assert_string_equal(text_of("vault/b/outer.md"), "outer");
        /* Out of the engine the flag is down: the same rename is emulated now. */
        assert_int_equal(seen->r2, 0);
        assert_int_equal(seen->err2, CALLER_ERRNO);
        assert_string_equal(text_of("vault/b/inner.md"), "inner");
        assert_false(has("vault/a/inner.md"));
}

int main(void)
{
        seen = mmap(NULL, sizeof(*seen), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                    -1, 0);
        if (seen == MAP_FAILED)
                return 1;
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        const struct CMUnitTest tests[] = {
                T(test_hot_path_success_keeps_the_callers_errno),
                T(test_hot_path_errors_are_the_kernels),
                T(test_configuration_is_read_at_the_first_exdev_and_once),
                T(test_outside_the_roots_exdev_stands_unremarked),
                T(test_disabled_exdev_stands_unremarked),
                T(test_flags_beyond_noreplace_pass_through),
                T(test_noreplace_is_emulated),
                T(test_without_a_journal_exdev_stands),
                T(test_a_journal_others_may_reach_is_refused),
                T(test_each_wrapper_emulates_and_keeps_the_callers_errno),
                T(test_refused_move_sets_the_kernels_errno),
                T(test_inside_the_engine_a_thread_renames_straight_through),
        };
#undef T
        return cmocka_run_group_tests(tests, NULL, NULL);
}
