/* SPDX-License-Identifier: MIT */
/*
 * lib/base/roots.c: which paths are inside a vault root.  This check decides whether the
 * shim touches a rename at all, so it is pinned here case by case: the list as written,
 * paths relative to a directory fd, symlinks on either side of a root, trailing slashes,
 * and VAULTSHIM_ROOTS being ignored in a setuid program (secure_getenv).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "vs-test-util.h"

#include "base/roots.h"

/* The scratch tree every test starts from:
 *   <top>/vault/notes/a.md       the root, a folder and a note
 *   <top>/outside/b.md           a sibling that is not a root
 *   <top>/vaultx/                a name that only starts like the root
 *   <top>/vault/notes/out ->  <top>/outside       a link leading out of the root
 *   <top>/outside/in      ->  <top>/vault/notes   a link leading into the root
 *   <top>/link-to-vault   ->  <top>/vault         a root given through a symlink */
static char top[256];
static char vault[PATH_MAX];

static void path_of(char *buf, const char *rel)
{
        snprintf(buf, PATH_MAX, "%s/%s", top, rel);
}

static void make_dir(const char *rel)
{
        char p[PATH_MAX];
        path_of(p, rel);
        assert_int_equal(mkdir(p, 0755), 0);
}

static void make_file(const char *rel)
{
        char p[PATH_MAX];
        path_of(p, rel);
        int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        close(fd);
}

static void make_link(const char *rel, const char *target_rel)
{
        char p[PATH_MAX], t[PATH_MAX];
        path_of(p, rel);
        path_of(t, target_rel);
        assert_int_equal(symlink(t, p), 0);
}

static int setup(void **state)
{
        char made[sizeof(top)], resolved[PATH_MAX];
        if (vs_scratch_create(made, sizeof(made), "roots") < 0 || !realpath(made, resolved) ||
            strlen(resolved) >= sizeof(top))
                return -1;
        strcpy(top, resolved);
        make_dir("vault");
        make_dir("vault/notes");
        make_file("vault/notes/a.md");
        make_dir("outside");
        make_file("outside/b.md");
        make_dir("vaultx");
        make_link("vault/notes/out", "outside");
        make_link("outside/in", "vault/notes");
        make_link("link-to-vault", "vault");
        path_of(vault, "vault");
        return 0;
}

static int teardown(void **state)
{
        return vs_scratch_remove(top);
}

static void parse_one(struct vs_roots *roots, const char *list)
{
        vs_roots_parse(roots, list);
}

static void empty_or_missing_list_is_the_default(void **state)
{
        static struct vs_roots roots;
        parse_one(&roots, NULL);
        assert_int_equal(roots.count, 1);
        char want[PATH_MAX];
        if (!realpath(VS_ROOTS_DEFAULT, want))
                strcpy(want, VS_ROOTS_DEFAULT);
        assert_string_equal(roots.paths[0], want);
        parse_one(&roots, "");
        assert_int_equal(roots.count, 1);
        assert_string_equal(roots.paths[0], want);
}

static void list_keeps_absolute_entries_only(void **state)
{
        static struct vs_roots roots;
        char list[4 * PATH_MAX];
        snprintf(list, sizeof(list), "relative/dir::%s:/does-not-exist/yet///:", vault);
        parse_one(&roots, list);
        assert_int_equal(roots.count, 2);
        assert_string_equal(roots.paths[0], vault);
        assert_string_equal(roots.paths[1], "/does-not-exist/yet");
}

static void symlinked_root_is_resolved(void **state)
{
        static struct vs_roots roots;
        char list[PATH_MAX];
        path_of(list, "link-to-vault/");
        parse_one(&roots, list);
        assert_int_equal(roots.count, 1);
        assert_string_equal(roots.paths[0], vault);
}

static void at_most_the_maximum_of_roots(void **state)
{
        static struct vs_roots roots;
        char list[64 * 8];
        size_t len = 0;
        for (int i = 0; i < VS_ROOTS_MAX + 4; i++)
                len += (size_t)snprintf(list + len, sizeof(list) - len, "/r%d:", i);
        parse_one(&roots, list);
        assert_int_equal(roots.count, VS_ROOTS_MAX);
        assert_string_equal(roots.paths[VS_ROOTS_MAX - 1], "/r15");
}

static void find_respects_component_boundaries(void **state)
{
        static struct vs_roots roots;
        parse_one(&roots, vault);
        char p[PATH_MAX];
        assert_non_null(vs_roots_find(&roots, vault));
        path_of(p, "vault/notes/a.md");
        assert_ptr_equal(vs_roots_find(&roots, p), roots.paths[0]);
        path_of(p, "vaultx");
        assert_null(vs_roots_find(&roots, p));
        path_of(p, "outside/b.md");
        assert_null(vs_roots_find(&roots, p));
        parse_one(&roots, "/");
        assert_non_null(vs_roots_find(&roots, p));
}

static void resolve_absolute_and_trailing_slash(void **state)
{
        static struct vs_roots roots;
        parse_one(&roots, vault);
        char p[PATH_MAX], resolved[PATH_MAX], want[PATH_MAX];
        path_of(p, "vault/notes/a.md");
        assert_true(vs_roots_resolve(&roots, AT_FDCWD, p, resolved));
        assert_string_equal(resolved, p);
        /* a trailing slash names the same entry (the kernel then wants a directory) */
        path_of(p, "vault/notes///");
        path_of(want, "vault/notes");
        assert_true(vs_roots_resolve(&roots, AT_FDCWD, p, resolved));
        assert_string_equal(resolved, want);
        /* the root itself is not inside: its parent is not (renaming a vault root is the
         * kernel's business alone); a name that does not exist yet in it is */
        assert_false(vs_roots_resolve(&roots, AT_FDCWD, vault, resolved));
        path_of(p, "vault/new.md");
        assert_true(vs_roots_resolve(&roots, AT_FDCWD, p, resolved));
        assert_string_equal(resolved, p);
        /* outside, beside, and under a parent that does not exist */
        path_of(p, "outside/b.md");
        assert_false(vs_roots_resolve(&roots, AT_FDCWD, p, resolved));
        path_of(p, "vaultx/c.md");
        assert_false(vs_roots_resolve(&roots, AT_FDCWD, p, resolved));
        path_of(p, "vault/missing/c.md");
        assert_false(vs_roots_resolve(&roots, AT_FDCWD, p, resolved));
        assert_false(vs_roots_resolve(&roots, AT_FDCWD, "", resolved));
}

static void resolve_relative_to_a_directory_fd(void **state)
{
        static struct vs_roots roots;
        parse_one(&roots, vault);
        char p[PATH_MAX], resolved[PATH_MAX], want[PATH_MAX];
        path_of(p, "vault/notes");
        int in = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
        path_of(p, "outside");
        int out = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
        assert_true(in >= 0 && out >= 0);

        path_of(want, "vault/notes/a.md");
        assert_true(vs_roots_resolve(&roots, in, "a.md", resolved));
        assert_string_equal(resolved, want);
        assert_false(vs_roots_resolve(&roots, out, "b.md", resolved));
        /* dirfd is ignored for an absolute path, as by the kernel */
        assert_true(vs_roots_resolve(&roots, out, want, resolved));
        /* ".." walks out of the root */
        assert_false(vs_roots_resolve(&roots, in, "../../outside/b.md", resolved));
        path_of(want, "vault/a.md");
        assert_true(vs_roots_resolve(&roots, in, "../a.md", resolved));
        assert_string_equal(resolved, want);

        /* AT_FDCWD: relative to the working directory */
        char cwd[PATH_MAX];
        assert_non_null(getcwd(cwd, sizeof(cwd)));
        path_of(p, "vault/notes");
        assert_int_equal(chdir(p), 0);
        path_of(want, "vault/notes/a.md");
        assert_true(vs_roots_resolve(&roots, AT_FDCWD, "a.md", resolved));
        assert_string_equal(resolved, want);
        assert_int_equal(chdir(cwd), 0);
        close(in);
        close(out);
}

static void symlinks_in_the_parent_are_followed_the_last_one_is_not(void **state)
{
        static struct vs_roots roots;
        parse_one(&roots, vault);
        char p[PATH_MAX], resolved[PATH_MAX], want[PATH_MAX];
        /* a link inside the root that leads out of it: what is renamed is outside */
        path_of(p, "vault/notes/out/b.md");
        assert_false(vs_roots_resolve(&roots, AT_FDCWD, p, resolved));
        /* a link outside that leads in: what is renamed is inside */
        path_of(p, "outside/in/a.md");
        path_of(want, "vault/notes/a.md");
        assert_true(vs_roots_resolve(&roots, AT_FDCWD, p, resolved));
        assert_string_equal(resolved, want);
        /* the last component is the link itself (rename(2) moves the link) */
        path_of(p, "vault/notes/out");
        assert_true(vs_roots_resolve(&roots, AT_FDCWD, p, resolved));
        assert_string_equal(resolved, p);
        /* a root given through a symlink covers paths written through it and without it */
        path_of(p, "link-to-vault");
        parse_one(&roots, p);
        path_of(p, "link-to-vault/notes/a.md");
        assert_true(vs_roots_resolve(&roots, AT_FDCWD, p, resolved));
        assert_string_equal(resolved, want);
}

/* The child half of the secure_getenv test: print the roots this process sees. */
static int print_roots(void)
{
        static struct vs_roots roots;
        vs_roots_from_env(&roots);
        printf("%zu %s\n", roots.count, roots.count ? roots.paths[0] : "");
        fflush(stdout);
        _exit(0); /* no atexit handlers (a sanitizer's leak check) in a setuid process */
}

/* Run this program (a copy at exe, setuid root when setuid) as uid 1000 with
 * VAULTSHIM_ROOTS=list; its output in out. */
static void run_child(const char *exe, const char *list, char *out, size_t size)
{
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                dup2(fds[1], STDOUT_FILENO);
                setenv("VAULTSHIM_ROOTS", list, 1);
                execl("/usr/bin/setpriv", "setpriv", "--reuid=1000", "--regid=1000",
                      "--clear-groups", exe, "--print-roots", (char *)NULL);
                _exit(127);
        }
        close(fds[1]);
        ssize_t n = read(fds[0], out, size - 1);
        out[n > 0 ? n : 0] = '\0';
        close(fds[0]);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void setuid_program_ignores_vaultshim_roots(void **state)
{
        if (geteuid() != 0 || access("/usr/bin/setpriv", X_OK) != 0)
                skip();
        /* A copy of this program the other user may run, once plain and once setuid root. */
        char exe[PATH_MAX], self[PATH_MAX];
        path_of(exe, "test-roots");
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        assert_true(n > 0);
        self[n] = '\0';
        int in = open(self, O_RDONLY | O_CLOEXEC);
        int copy = open(exe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
        assert_true(in >= 0 && copy >= 0);
        char buf[65536];
        while ((n = read(in, buf, sizeof(buf))) > 0)
                assert_int_equal(write(copy, buf, (size_t)n), n);
        close(in);
        close(copy);
        assert_int_equal(chmod(top, 0755), 0);

        char out[PATH_MAX + 32], want[PATH_MAX + 32];
        run_child(exe, vault, out, sizeof(out));
        snprintf(want, sizeof(want), "1 %s\n", vault);
        assert_string_equal(out, want);

        assert_int_equal(chmod(exe, 04755), 0);
        run_child(exe, vault, out, sizeof(out));
        static struct vs_roots defaults;
        vs_roots_parse(&defaults, NULL);
        snprintf(want, sizeof(want), "1 %s\n", defaults.paths[0]);
        assert_string_equal(out, want);
}

int main(int argc, char **argv)
{
        if (argc == 2 && strcmp(argv[1], "--print-roots") == 0)
                return print_roots();
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(empty_or_missing_list_is_the_default),
                cmocka_unit_test_setup_teardown(list_keeps_absolute_entries_only, setup, teardown),
                cmocka_unit_test_setup_teardown(symlinked_root_is_resolved, setup, teardown),
                cmocka_unit_test(at_most_the_maximum_of_roots),
                cmocka_unit_test_setup_teardown(find_respects_component_boundaries, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(resolve_absolute_and_trailing_slash, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(resolve_relative_to_a_directory_fd, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(
                        symlinks_in_the_parent_are_followed_the_last_one_is_not, setup, teardown),
                cmocka_unit_test_setup_teardown(setuid_program_ignores_vaultshim_roots, setup,
                                                teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
