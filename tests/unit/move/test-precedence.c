/* SPDX-License-Identifier: MIT */
/*
 * The errno precedence, differentially: each scenario is built twice; the kernel renames
 * in one copy (renameat2 on one filesystem), the engine moves in the other, and return
 * value, errno and the resulting trees must match.  Scenarios the engine refuses on purpose
 * (an unreadable file inside a tree, unsupported flags) must leave the tree unchanged.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "fixture.h"
#include "move/internal.h"

#define SAME_AS_KERNEL (-1)
#define SPEC(...) ((const char *const[]){ "d a", "d b", __VA_ARGS__, NULL })
#define LONG_NAME "a/nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn"

struct scenario {
        const char *name;
        const char *const *spec;
        const char *old, *new;
        unsigned flags;
        unsigned uid;
        int engine_errno; /* SAME_AS_KERNEL, or what the engine must say with nothing changed */
};

static const struct scenario scenarios[] = {
        { "file to a new name", SPEC("f a/x hi"), "a/x", "b/x", 0, 0, SAME_AS_KERNEL },
        { "file over file", SPEC("f a/x hi", "f b/x old"), "a/x", "b/x", 0, 0, SAME_AS_KERNEL },
        { "file over dir", SPEC("f a/x hi", "d b/x"), "a/x", "b/x", 0, 0, SAME_AS_KERNEL },
        { "file over dangling symlink", SPEC("f a/x hi", "l b/x /nonexistent"), "a/x", "b/x", 0, 0, SAME_AS_KERNEL },
        { "noreplace over file", SPEC("f a/x hi", "f b/x old"), "a/x", "b/x", RENAME_NOREPLACE, 0, SAME_AS_KERNEL },
        { "noreplace over dangling symlink", SPEC("f a/x hi", "l b/x /nonexistent"), "a/x", "b/x", RENAME_NOREPLACE, 0, SAME_AS_KERNEL },
        { "noreplace to a new name", SPEC("f a/x hi"), "a/x", "b/y", RENAME_NOREPLACE, 0, SAME_AS_KERNEL },
        { "missing source", SPEC("f b/x old"), "a/x", "b/x", 0, 0, SAME_AS_KERNEL },
        { "missing source parent", SPEC("f b/x old"), "a/nope/x", "b/x", 0, 0, SAME_AS_KERNEL },
        { "trailing slash on a file source", SPEC("f a/x hi"), "a/x/", "b/x", 0, 0, SAME_AS_KERNEL },
        { "trailing slash on the target of a file", SPEC("f a/x hi"), "a/x", "b/y/", 0, 0, SAME_AS_KERNEL },
        { "trailing slash on a dir", SPEC("d a/d", "f a/d/f hi"), "a/d/", "b/d/", 0, 0, SAME_AS_KERNEL },
        { "dot as source", SPEC("f a/x hi"), "a/.", "b/x", 0, 0, SAME_AS_KERNEL },
        { "dotdot as target", SPEC("f a/x hi"), "a/x", "b/..", 0, 0, SAME_AS_KERNEL },
        { "dot as target with noreplace", SPEC("f a/x hi"), "a/x", "b/.", RENAME_NOREPLACE, 0, SAME_AS_KERNEL },
        { "dir to a new name", SPEC("d a/d", "f a/d/f1 one", "d a/d/s", "f a/d/s/f2 two", "l a/d/l ../f1", "p a/d/p"), "a/d", "b/d", 0, 0, SAME_AS_KERNEL },
        { "dir over empty dir", SPEC("d a/d", "f a/d/f1 one", "d b/d"), "a/d", "b/d", 0, 0, SAME_AS_KERNEL },
        { "dir over non-empty dir", SPEC("d a/d", "f a/d/f1 one", "d b/d", "f b/d/keep k"), "a/d", "b/d", 0, 0, SAME_AS_KERNEL },
        { "dir over file", SPEC("d a/d", "f b/d old"), "a/d", "b/d", 0, 0, SAME_AS_KERNEL },
        { "dir into its own subtree", SPEC("d a/d", "d a/d/s"), "a/d", "a/d/s/z", 0, 0, SAME_AS_KERNEL },
        { "dir onto its own child", SPEC("d a/d", "d a/d/s"), "a/d", "a/d/s", 0, 0, SAME_AS_KERNEL },
        { "target is an ancestor of the source", SPEC("d a/d", "d a/d/s", "f a/d/s/f hi"), "a/d/s/f", "a", 0, 0, SAME_AS_KERNEL },
        { "target dir is an ancestor of a source dir", SPEC("d a/d", "d a/d/s", "d a/d/s/t"), "a/d/s/t", "a/d", 0, 0, SAME_AS_KERNEL },
        { "hard links of one inode", SPEC("f a/x hi", "k a/x"), "a/x", "a/x.link", 0, 0, SAME_AS_KERNEL },
        { "file onto itself", SPEC("f a/x hi"), "a/x", "a/x", 0, 0, SAME_AS_KERNEL },
        { "symlink", SPEC("l a/s ../elsewhere"), "a/s", "b/s", 0, 0, SAME_AS_KERNEL },
        { "symlink with a trailing slash", SPEC("d a/t", "l a/s t"), "a/s/", "b/s", 0, 0, SAME_AS_KERNEL },
        { "fifo", SPEC("p a/p"), "a/p", "b/p", 0, 0, SAME_AS_KERNEL },
        { "sparse file keeps its holes", SPEC("s a/sp"), "a/sp", "b/sp", 0, 0, SAME_AS_KERNEL },
        { "xattrs", SPEC("f a/x hi", "x a/x user.colour=blue", "x a/x user.empty="), "a/x", "b/x", 0, 0, SAME_AS_KERNEL },
        { "mode and set-id bits", SPEC("f a/x hi 6751"), "a/x", "b/x", 0, 0, SAME_AS_KERNEL },
        { "name too long", SPEC("f a/x hi"), LONG_NAME, "b/x", 0, 0, SAME_AS_KERNEL },
        { "source parent is a file", SPEC("f a/x hi"), "a/x/y", "b/x", 0, 0, SAME_AS_KERNEL },
        { "exchange is not emulated", SPEC("f a/x hi", "f b/x old"), "a/x", "b/x", 2 /* RENAME_EXCHANGE */, 0, EXDEV },
        /* unprivileged callers */
        { "uid 1000: moves its own file", SPEC("o a 1000:1000", "o b 1000:1000", "f a/x hi", "o a/x 1000:1000"), "a/x", "b/x", 0, 1000, SAME_AS_KERNEL },
        { "uid 1000: no write on the source parent", SPEC("o b 1000:1000", "f a/x hi", "o a/x 1000:1000"), "a/x", "b/x", 0, 1000, SAME_AS_KERNEL },
        { "uid 1000: no write on the target parent", SPEC("o a 1000:1000", "f a/x hi", "o a/x 1000:1000"), "a/x", "b/x", 0, 1000, SAME_AS_KERNEL },
        { "uid 1000: sticky target, other owner", SPEC("o a 1000:1000", "d b 1777", "f a/x hi", "o a/x 1000:1000", "f b/x old"), "a/x", "b/x", 0, 1000, SAME_AS_KERNEL },
        { "uid 1000: sticky source, other owner", SPEC("d a 1777", "o b 1000:1000", "f a/x hi"), "a/x", "b/x", 0, 1000, SAME_AS_KERNEL },
        { "uid 1000: sticky dir, own file", SPEC("d a 1777", "d b 1777", "f a/x hi", "o a/x 1000:1000"), "a/x", "b/x", 0, 1000, SAME_AS_KERNEL },
        { "uid 1000: dir changing parent without write on itself", SPEC("o a 1000:1000", "o b 1000:1000", "d a/d 0555", "o a/d 1000:1000"), "a/d", "b/d", 0, 1000, SAME_AS_KERNEL },
        { "uid 1000: unreadable file inside a tree", SPEC("o a 1000:1000", "o b 1000:1000", "d a/d", "o a/d 1000:1000", "f a/d/ok fine", "o a/d/ok 1000:1000", "f a/d/secret s 0000", "o a/d/secret 1000:1000"), "a/d", "b/d", 0, 1000, EACCES },
        { "uid 1000: unremovable entry inside a tree", SPEC("o a 1000:1000", "o b 1000:1000", "d a/d", "o a/d 1000:1000", "d a/d/s", "f a/d/s/f x", "o a/d/s/f 1000:1000"), "a/d", "b/d", 0, 1000, EACCES },
};

struct call {
        const char *world;
        const struct scenario *sc;
        bool engine;
};

static int do_call(void *arg)
{
        const struct call *c = arg;
        if (chdir(c->world) < 0)
                return 124;
        int r;
        if (c->engine) {
                errno = 4242;
                r = vs_move(AT_FDCWD, c->sc->old, AT_FDCWD, c->sc->new, c->sc->flags, NULL);
                if (r == 0 && errno != 4242)
                        return 123; /* the caller's errno must survive a success */
                r = -r;
        } else {
                r = syscall(SYS_renameat2, AT_FDCWD, c->sc->old, AT_FDCWD, c->sc->new,
                            c->sc->flags) < 0 ? errno : 0;
        }
        return r;
}

/* The scenario's scratch directory, removed by the teardown even when an assert fails. */
static char *scratch;

static int remove_scratch(void **state)
{
        (void)state;
        if (scratch) {
                fx_rm_rf(scratch);
                free(scratch);
                scratch = NULL;
        }
        return 0;
}

static void run_scenario(void **state)
{
        const struct scenario *sc = *state;
        if (sc->uid && !fx_is_root())
                skip();
        char *tmp = scratch = fx_tmpdir(), *kernel_world, *engine_world;
        assert_true(asprintf(&kernel_world, "%s/kernel", tmp) > 0);
        assert_true(asprintf(&engine_world, "%s/engine", tmp) > 0);
        assert_int_equal(mkdir(kernel_world, 0755), 0);
        assert_int_equal(mkdir(engine_world, 0755), 0);
        fx_build(kernel_world, sc->spec);
        fx_build(engine_world, sc->spec);
        char *before = fx_snapshot(engine_world);

        struct call kernel = { kernel_world, sc, false }, engine = { engine_world, sc, true };
        int kernel_errno = fx_run_as(sc->uid, do_call, &kernel);
        int engine_errno = fx_run_as(sc->uid, do_call, &engine);
        char *kernel_after = fx_snapshot(kernel_world), *engine_after = fx_snapshot(engine_world);

        if (sc->engine_errno == SAME_AS_KERNEL) {
                if (kernel_errno != engine_errno || strcmp(kernel_after, engine_after) != 0)
                        fprintf(stderr, "%s: kernel %s (%d)\n%s\nengine %s (%d)\n%s\n", sc->name,
                                strerror(kernel_errno), kernel_errno, kernel_after,
                                strerror(engine_errno), engine_errno, engine_after);
                assert_int_equal(engine_errno, kernel_errno);
                assert_string_equal(engine_after, kernel_after);
        } else {
                assert_int_equal(engine_errno, sc->engine_errno);
                assert_string_equal(engine_after, before);
        }

        free(before);
        free(kernel_after);
        free(engine_after);
        free(kernel_world);
        free(engine_world);
}

/* ---- the path split alone ---- */

static void path_split(void **state)
{
        static const struct {
                const char *path, *parent, *last;
                bool trailing;
                enum vs_last_type type;
        } cases[] = {
                { "x", ".", "x", false, VS_LAST_NORM },
                { "a/b", "a", "b", false, VS_LAST_NORM },
                { "a//b//", "a", "b", true, VS_LAST_NORM },
                { "/x", "/", "x", false, VS_LAST_NORM },
                { "//x/", "/", "x", true, VS_LAST_NORM },
                { "a/.", "a", ".", false, VS_LAST_DOT },
                { "..", ".", "..", false, VS_LAST_DOTDOT },
                { "/", "/", "/", false, VS_LAST_ROOT },
                { "///", "/", "/", false, VS_LAST_ROOT },
        };
        struct vs_path_split *split = malloc(sizeof(*split));
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                assert_int_equal(vs_path_split(cases[i].path, split), 0);
                assert_string_equal(split->parent, cases[i].parent);
                assert_string_equal(split->last, cases[i].last);
                assert_int_equal(split->trailing_slash, cases[i].trailing);
                assert_int_equal(split->type, cases[i].type);
        }
        assert_int_equal(vs_path_split("", split), -ENOENT);
        free(split);
        (void)state;
}

int main(void)
{
        size_t n = sizeof(scenarios) / sizeof(scenarios[0]);
        struct CMUnitTest *tests = calloc(n + 1, sizeof(*tests));
        tests[0] = (struct CMUnitTest)cmocka_unit_test(path_split);
        for (size_t i = 0; i < n; i++) {
                tests[i + 1] = (struct CMUnitTest)cmocka_unit_test_prestate_setup_teardown(
                        run_scenario, NULL, remove_scratch, (void *)&scenarios[i]);
                tests[i + 1].name = scenarios[i].name;
        }
        int failed = _cmocka_run_group_tests("precedence", tests, n + 1, NULL, NULL);
        free(tests);
        return failed;
}
