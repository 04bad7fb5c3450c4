/* SPDX-License-Identifier: MIT */
/* The data path (every method keeps holes), metadata copy, and the audit log line. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cmocka.h>

#include "fixture.h"
#include "move/internal.h"

struct world {
        char *dir;
        char *src, *dst;
};

static int world_setup(void **state)
{
        struct world *w = calloc(1, sizeof(*w));
        w->dir = fx_tmpdir();
        assert_true(asprintf(&w->src, "%s/src", w->dir) > 0);
        assert_true(asprintf(&w->dst, "%s/dst", w->dir) > 0);
        *state = w;
        return 0;
}

static int world_teardown(void **state)
{
        struct world *w = *state;
        fx_rm_rf(w->dir);
        free(w->dir);
        free(w->src);
        free(w->dst);
        free(w);
        return 0;
}

static void assert_same_data(const char *a, const char *b)
{
        struct stat sa, sb;
        assert_int_equal(stat(a, &sa), 0);
        assert_int_equal(stat(b, &sb), 0);
        assert_int_equal(sa.st_size, sb.st_size);
        FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
        assert_non_null(fa);
        assert_non_null(fb);
        int ca, cb;
        do {
                ca = fgetc(fa);
                cb = fgetc(fb);
                assert_int_equal(ca, cb);
        } while (ca != EOF);
        fclose(fa);
        fclose(fb);
        /* The holes survived: the copy allocates no more than the source. */
        assert_true(sb.st_blocks <= sa.st_blocks + 8);
}

static void copy_with(struct world *w, bool force_read_write, unsigned want_method)
{
        fx_build(w->dir, (const char *const[]){ "s src", NULL });
        int src = open(w->src, O_RDONLY), dst = open(w->dst, O_WRONLY | O_CREAT | O_EXCL, 0600);
        assert_true(src >= 0 && dst >= 0);
        struct stat st;
        assert_int_equal(fstat(src, &st), 0);
        struct vs_copy_ctx ctx = { .clone_unsupported = force_read_write,
                                   .cfr_unsupported = force_read_write };
        assert_int_equal(vs_copy_data(src, dst, (uint64_t)st.st_size, true, &ctx), 0);
        close(src);
        close(dst);
        assert_true(ctx.methods & want_method);
        assert_int_equal(ctx.bytes, 8192); /* only the two data blocks */
        assert_same_data(w->src, w->dst);
}

static void holes_with_fast_path(void **state)
{
        copy_with(*state, false, VS_METHOD_REFLINK | VS_METHOD_COPY_FILE_RANGE);
}

static void holes_with_read_write(void **state)
{
        copy_with(*state, true, VS_METHOD_READ_WRITE);
}

/* A source of data, a hole, and data again, none of it a multiple of the chunk. */
static void write_chunk_source(const char *path, size_t data, off_t hole)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        assert_true(fd >= 0);
        unsigned char *buf = malloc(data);
        assert_non_null(buf);
        for (size_t i = 0; i < data; i++)
                buf[i] = (unsigned char)(i * 31 % 251);
        assert_int_equal(pwrite(fd, buf, data, 0), (ssize_t)data);
        assert_int_equal(pwrite(fd, buf, data / 3, (off_t)data + hole), (ssize_t)(data / 3));
        free(buf);
        close(fd);
}

/* A copy whose chunks are written back as they are copied (a file move's) is the same copy,
 * whatever the method: every byte at its offset, the holes kept. */
static void chunked_writeback(void **state)
{
        struct world *w = *state;
        for (int force_read_write = 0; force_read_write < 2; force_read_write++) {
                const size_t data = 3 * 65536 + 1234;
                write_chunk_source(w->src, data, 1 << 20);
                (void)unlink(w->dst);
                int src = open(w->src, O_RDONLY);
                int dst = open(w->dst, O_WRONLY | O_CREAT | O_EXCL, 0600);
                assert_true(src >= 0 && dst >= 0);
                struct stat st;
                assert_int_equal(fstat(src, &st), 0);
                struct vs_copy_ctx ctx = { .clone_unsupported = true,
                                           .cfr_unsupported = force_read_write,
                                           .writeback_chunk = 65536 };
                assert_int_equal(vs_copy_data(src, dst, (uint64_t)st.st_size, true, &ctx), 0);
                close(src);
                close(dst);
                /* the data, and the zeros of the blocks that hold its ends */
                assert_true(ctx.bytes >= data + data / 3 && ctx.bytes <= data + data / 3 + 8192);
                assert_true(ctx.methods & (force_read_write ? VS_METHOD_READ_WRITE
                                                            : VS_METHOD_COPY_FILE_RANGE |
                                                                      VS_METHOD_READ_WRITE));
                assert_same_data(w->src, w->dst);
        }
}

static void write_file(const char *path, const char *text)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
        close(fd);
}

/* A tree's entry is copied as its walk saw it, without a look at the opened file: the check
 * after the copy still finds a write or another object at the name since that walk. */
static void tree_entry_as_walked(void **state)
{
        struct world *w = *state;
        int dir = open(w->dir, O_RDONLY | O_DIRECTORY);
        assert_true(dir >= 0);
        struct vs_copy_ctx ctx = { .planned_fresh = true };
        struct statx walked, copy;

        write_file(w->src, "note\n");
        assert_int_equal(vs_statx(dir, "src", &walked), 0);
        assert_int_equal(vs_node_copy(dir, "src", &walked, dir, "dst", &ctx, NULL), 0);
        assert_same_data(w->src, w->dst);
        assert_int_equal(vs_statx(dir, "dst", &copy), 0);
        assert_true(vs_copy_matches(&walked, &copy, 0));
        assert_int_equal(unlink(w->dst), 0);

        /* written after the walk: not copied (the tree walks it again) */
        assert_int_equal(vs_statx(dir, "src", &walked), 0);
        write_file(w->src, "note, longer now\n");
        assert_int_equal(vs_node_copy(dir, "src", &walked, dir, "dst", &ctx, NULL), -EAGAIN);
        assert_int_equal(access(w->dst, F_OK), -1);

        /* another file at the name since the walk: not copied either */
        char *other;
        assert_true(asprintf(&other, "%s/other", w->dir) > 0);
        assert_int_equal(vs_statx(dir, "src", &walked), 0);
        write_file(other, "note, longer now\n"); /* the same size, another inode */
        assert_int_equal(rename(other, w->src), 0);
        assert_int_equal(vs_node_copy(dir, "src", &walked, dir, "dst", &ctx, NULL), -EAGAIN);
        assert_int_equal(access(w->dst, F_OK), -1);
        free(other);
        close(dir);
}

static void empty_file(void **state)
{
        struct world *w = *state;
        fx_build(w->dir, (const char *const[]){ "f src -", NULL });
        int src = open(w->src, O_RDONLY), dst = open(w->dst, O_WRONLY | O_CREAT | O_EXCL, 0600);
        struct vs_copy_ctx ctx = { 0 };
        assert_int_equal(vs_copy_data(src, dst, 0, false, &ctx), 0);
        assert_int_equal(ctx.methods, 0);
        close(src);
        close(dst);
        assert_same_data(w->src, w->dst);
}

static bool have_setfacl(void)
{
        return system("command -v setfacl >/dev/null 2>&1") == 0;
}

static void metadata_and_acls(void **state)
{
        struct world *w = *state;
        char cmd[4096];
        fx_build(w->dir, (const char *const[]){ "f src hello 0640", "x src user.tag=alpha", "d out",
                                                NULL });
        bool acls = have_setfacl();
        if (acls) {
                /* The target directory's default ACL must not leak into the copy. */
                snprintf(cmd, sizeof(cmd),
                         "setfacl -m u:1000:r %s && setfacl -d -m u:1001:rwx %s/out", w->src,
                         w->dir);
                assert_int_equal(system(cmd), 0);
        }
        struct statx st;
        assert_int_equal(vs_statx(AT_FDCWD, w->src, &st), 0);
        char dst_path[4200];
        snprintf(dst_path, sizeof(dst_path), "%s/out/copy", w->dir);
        int src = open(w->src, O_RDONLY), dst = open(dst_path, O_WRONLY | O_CREAT | O_EXCL, 0600);
        assert_true(src >= 0 && dst >= 0);
        assert_int_equal(vs_attrs_copy(src, dst, -1, NULL, &st, NULL), 0);
        close(src);
        close(dst);

        struct statx copy;
        assert_int_equal(vs_statx(AT_FDCWD, dst_path, &copy), 0);
        assert_int_equal(copy.stx_mode, st.stx_mode);
        assert_int_equal(copy.stx_mtime.tv_sec, st.stx_mtime.tv_sec);
        assert_int_equal(copy.stx_mtime.tv_nsec, st.stx_mtime.tv_nsec);
        assert_int_equal(copy.stx_atime.tv_nsec, st.stx_atime.tv_nsec);
        char value[256];
        ssize_t n = getxattr(dst_path, "user.tag", value, sizeof(value));
        assert_int_equal(n, 5);
        assert_memory_equal(value, "alpha", 5);
        if (acls) {
                char a[256], b[256];
                ssize_t na = getxattr(w->src, "system.posix_acl_access", a, sizeof(a));
                ssize_t nb = getxattr(dst_path, "system.posix_acl_access", b, sizeof(b));
                assert_true(na > 0);
                assert_int_equal(na, nb);
                assert_memory_equal(a, b, (size_t)na);
                assert_true(getxattr(dst_path, "system.posix_acl_default", b, sizeof(b)) < 0);
        }
}

static void log_lines_are_atomic(void **state)
{
        struct world *w = *state;
        char log_path[4200];
        snprintf(log_path, sizeof(log_path), "%s/log.jsonl", w->dir);
        enum { WRITERS = 8, LINES = 200 };
        for (int i = 0; i < WRITERS; i++) {
                if (fork() == 0) {
                        struct vs_move_stats stats = { .bytes = 4096, .entries = 1,
                                                       .methods = VS_METHOD_COPY_FILE_RANGE,
                                                       .type = S_IFREG };
                        const struct vs_log_record rec = { .src = "/vault/a/quote\"d\n.md",
                                                           .dst = "/vault/b/x.md", .stats = &stats,
                                                           .result = -EACCES, .duration_ns = 5 };
                        for (int j = 0; j < LINES; j++)
                                if (vs_log_append(log_path, &rec) < 0)
                                        _exit(1);
                        _exit(0);
                }
        }
        for (int i = 0; i < WRITERS; i++) {
                int status;
                wait(&status);
                assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        }
        FILE *f = fopen(log_path, "r");
        assert_non_null(f);
        char line[8192];
        int count = 0;
        while (fgets(line, sizeof(line), f)) {
                count++;
                assert_true(strncmp(line, "{\"time\":\"", 9) == 0);
                assert_non_null(strstr(line, "\"src\":\"/vault/a/quote\\\"d\\u000a.md\""));
                assert_non_null(strstr(line, "\"method\":\"copy_file_range\""));
                assert_non_null(
                        strstr(line, "\"result\":\"error\",\"errno\":13,\"dropped\":[]}\n"));
        }
        fclose(f);
        assert_int_equal(count, WRITERS * LINES);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(holes_with_fast_path, world_setup, world_teardown),
                cmocka_unit_test_setup_teardown(holes_with_read_write, world_setup, world_teardown),
                cmocka_unit_test_setup_teardown(chunked_writeback, world_setup, world_teardown),
                cmocka_unit_test_setup_teardown(tree_entry_as_walked, world_setup,
                                                world_teardown),
                cmocka_unit_test_setup_teardown(empty_file, world_setup, world_teardown),
                cmocka_unit_test_setup_teardown(metadata_and_acls, world_setup, world_teardown),
                cmocka_unit_test_setup_teardown(log_lines_are_atomic, world_setup, world_teardown),
        };
        return cmocka_run_group_tests_name("copy", tests, NULL, NULL);
}
