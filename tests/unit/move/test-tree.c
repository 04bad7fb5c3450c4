/* SPDX-License-Identifier: MIT */
/*
 * Directory trees: deep and wide trees arrive identical, and a failure injected at any
 * step before the install leaves the source untouched and no residue beside the target.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "vs-test-util.h"

#include "fixture.h"
#include "move/internal.h"

struct world {
        char *dir;
        char path[4096];
};

static int world_setup(void **state)
{
        struct world *w = calloc(1, sizeof(*w));
        w->dir = fx_tmpdir();
        fx_build(w->dir, (const char *const[]){ "d a", "d b", NULL });
        *state = w;
        return 0;
}

static int world_teardown(void **state)
{
        struct world *w = *state;
        unsetenv("VAULTSHIM_FAULT");
        fx_rm_rf(w->dir);
        free(w->dir);
        free(w);
        return 0;
}

static const char *at(struct world *w, const char *rel)
{
        snprintf(w->path, sizeof(w->path), "%s/%s", w->dir, rel);
        return w->path;
}

static int move(struct world *w, const char *old, const char *new)
{
        char old_path[4096];
        snprintf(old_path, sizeof(old_path), "%s/%s", w->dir, old);
        return vs_move(AT_FDCWD, old_path, AT_FDCWD, at(w, new), 0, NULL);
}

/* Moves a/<name> to b/<name> and checks the tree arrived identical. */
static void move_and_compare(struct world *w, const char *name)
{
        char rel[256];
        snprintf(rel, sizeof(rel), "a/%s", name);
        char *before = fx_snapshot(at(w, rel));
        char target[256];
        snprintf(target, sizeof(target), "b/%s", name);
        snprintf(rel, sizeof(rel), "a/%s", name);
        struct vs_move_stats stats;
        const struct vs_move_opts opts = { .stats = &stats };
        char old_path[4096];
        snprintf(old_path, sizeof(old_path), "%s/%s", w->dir, rel);
        assert_int_equal(vs_move(AT_FDCWD, old_path, AT_FDCWD, at(w, target), 0, &opts), 0);
        assert_int_equal(stats.type, S_IFDIR);
        char *after = fx_snapshot(at(w, target));
        assert_string_equal(after, before);
        assert_int_equal(access(old_path, F_OK), -1);
        char *parents = fx_snapshot(at(w, "a"));
        assert_ptr_equal(strchr(parents, '\n'), parents + strlen(parents) - 1); /* "a" is empty */
        free(before);
        free(after);
        free(parents);
}

static void deep_tree(void **state)
{
        struct world *w = *state;
        char rel[1024] = "a/deep";
        assert_int_equal(mkdir(at(w, rel), 0755), 0);
        for (int level = 1; level < 40; level++) {
                char file[1100];
                snprintf(file, sizeof(file), "%s/note-%d.md", rel, level);
                FILE *f = fopen(at(w, file), "w");
                fprintf(f, "level %d\n", level);
                fclose(f);
                strcat(rel, "/l");
                assert_int_equal(mkdir(at(w, rel), 0750), 0);
        }
        move_and_compare(w, "deep");
}

static void wide_tree(void **state)
{
        struct world *w = *state;
        assert_int_equal(mkdir(at(w, "a/wide"), 0755), 0);
        for (int i = 0; i < 1000; i++) {
                char file[64];
                snprintf(file, sizeof(file), "a/wide/note-%04d.md", i);
                FILE *f = fopen(at(w, file), "w");
                fprintf(f, "# note %d\n", i);
                fclose(f);
        }
        fx_build(w->dir, (const char *const[]){ "l a/wide/link note-0001.md", "p a/wide/fifo",
                                                 "k a/wide/note-0002.md", "d a/wide/sub",
                                                 "f a/wide/sub/linked two-names",
                                                 "k a/wide/sub/linked",
                                                 "s a/wide/sparse", "d a/wide/ro 0555", NULL });
        move_and_compare(w, "wide");
}

#ifdef VS_FAULT_INJECTION
/* A failure at `step` must return `err`, change nothing and leave no residue. */
static void fault_leaves_no_trace(struct world *w, const char *spec_step, const char *source,
                                  int err)
{
        char *a_before = fx_snapshot(at(w, "a")), *b_before = fx_snapshot(at(w, "b"));
        setenv("VAULTSHIM_FAULT", spec_step, 1);
        char target[256];
        snprintf(target, sizeof(target), "b/%s", source + 2);
        assert_int_equal(move(w, source, target), -err);
        unsetenv("VAULTSHIM_FAULT");
        char *a_after = fx_snapshot(at(w, "a")), *b_after = fx_snapshot(at(w, "b"));
        assert_string_equal(a_after, a_before);
        assert_string_equal(b_after, b_before);
        free(a_before);
        free(b_before);
        free(a_after);
        free(b_after);
}

/* A refused move reads the source but must not even change its atime. */
static void failed_move_keeps_atime(void **state)
{
        struct world *w = *state;
        fx_build(w->dir, (const char *const[]){ "f a/note hello", NULL });
        struct stat before, after;
        assert_int_equal(stat(at(w, "a/note"), &before), 0);
        setenv("VAULTSHIM_FAULT", "install:EIO", 1);
        assert_int_equal(move(w, "a/note", "b/note"), -EIO);
        unsetenv("VAULTSHIM_FAULT");
        assert_int_equal(stat(at(w, "a/note"), &after), 0);
        assert_int_equal(after.st_atim.tv_sec, before.st_atim.tv_sec);
        assert_int_equal(after.st_atim.tv_nsec, before.st_atim.tv_nsec);
}

static void faults_before_install(void **state)
{
        struct world *w = *state;
        fx_build(w->dir, (const char *const[]){ "f a/note hello", "f b/note old",
                                                 "d a/tree", "f a/tree/one 1", "d a/tree/sub",
                                                 "f a/tree/sub/two 2", "l a/tree/sub/l one",
                                                 NULL });
        static const struct {
                const char *spec;
                const char *source;
                int err;
        } faults[] = {
                { "check:EIO", "a/note", EIO },
                { "temp-create:ENOSPC", "a/note", ENOSPC },
                { "copy-data:EIO", "a/note", EIO },
                { "copy-attrs:EDQUOT", "a/note", EDQUOT },
                { "fsync-temp:EIO", "a/note", EIO },
                { "verify-source:EIO", "a/note", EIO },
                { "install:ENOSPC", "a/note", ENOSPC },
                { "stage-create:ENOSPC", "a/tree", ENOSPC },
                { "stage-entry:EIO@1", "a/tree", EIO },
                { "stage-entry:EIO@3", "a/tree", EIO },
                { "copy-data:EIO@2", "a/tree", EIO },
                { "stage-sync:EIO", "a/tree", EIO },
                { "install:EIO", "a/tree", EIO },
        };
        for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++) {
                /* The hit counters are per process: run each case in a fresh child. */
                pid_t pid = fork();
                if (pid == 0) {
                        fault_leaves_no_trace(w, faults[i].spec, faults[i].source, faults[i].err);
                        _exit(0);
                }
                int status;
                assert_int_equal(waitpid(pid, &status, 0), pid);
                if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                        fail_msg("fault %s left a trace or returned the wrong errno",
                                 faults[i].spec);
        }
}
#endif

/* b is a bind mount of a/x/sub: moving a/x to b/y is a move into its own subtree, which
 * walking ".." up from b cannot see.  The kernel says EINVAL; nothing may be copied. */
static int move_into_own_bind_mount(void *arg)
{
        struct world *w = arg;
        char sub[4096], b[4096], x[4096], y[4096];
        snprintf(sub, sizeof(sub), "%s/a/x/sub", w->dir);
        snprintf(b, sizeof(b), "%s/b", w->dir);
        snprintf(x, sizeof(x), "%s/a/x", w->dir);
        snprintf(y, sizeof(y), "%s/b/y", w->dir);
        if (vs_private_mounts() < 0 ||
            mount(sub, b, NULL, MS_BIND, NULL) < 0)
                return 77;
        int r = vs_move(AT_FDCWD, x, AT_FDCWD, y, 0, NULL);
        return r == -EINVAL ? 0 : 1;
}

static void dir_into_its_own_bind_mount(void **state)
{
        struct world *w = *state;
        if (!fx_is_root())
                skip();
        fx_build(w->dir, (const char *const[]){ "d a/x", "f a/x/one 1", "d a/x/sub",
                                                "f a/x/sub/two 2", NULL });
        char *before = fx_snapshot(w->dir);
        int status = fx_run_as(0, move_into_own_bind_mount, w);
        if (status == 77)
                skip();
        assert_int_equal(status, 0);
        char *after = fx_snapshot(w->dir);
        assert_string_equal(after, before);
        free(before);
        free(after);
}

static void overwrite_keeps_target_until_install(void **state)
{
        struct world *w = *state;
        fx_build(w->dir, (const char *const[]){ "d a/t", "f a/t/new n", "d b/t", NULL });
        assert_int_equal(move(w, "a/t", "b/t"), 0);
        char *after = fx_snapshot(at(w, "b"));
        assert_non_null(strstr(after, "/t/new f"));
        assert_null(strstr(after, ".vaultshim-"));
        free(after);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(deep_tree, world_setup, world_teardown),
                cmocka_unit_test_setup_teardown(wide_tree, world_setup, world_teardown),
                cmocka_unit_test_setup_teardown(overwrite_keeps_target_until_install, world_setup,
                                                world_teardown),
                cmocka_unit_test_setup_teardown(dir_into_its_own_bind_mount, world_setup,
                                                world_teardown),
#ifdef VS_FAULT_INJECTION
                cmocka_unit_test_setup_teardown(faults_before_install, world_setup, world_teardown),
                cmocka_unit_test_setup_teardown(failed_move_keeps_atime, world_setup,
                                                world_teardown),
#endif
        };
        return cmocka_run_group_tests_name("tree", tests, NULL, NULL);
}
