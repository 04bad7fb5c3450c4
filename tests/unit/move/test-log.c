/* SPDX-License-Identifier: MIT */
/*
 * lib/move/log.c: the VAULTSHIM_LOG audit line.  Each line is one JSON object that jansson
 * reads back with every field vaultshim(7) names, of its type: the time in RFC 3339 UTC,
 * this pid, the paths escaped (quotes, backslashes, control characters), the object's type,
 * the copy method, the result ("ok", "error" with its errno, "not-emulated" with its
 * reason), the dropped metadata by name in bit order.  A line that does not fit is not
 * written at all; an unwritable log is an error, never a print; writers in several
 * processes at once never interleave within a line.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <regex.h>
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
#include <jansson.h>

#include "fixture.h"
#include "move/internal.h"

static char *root;
static char log_path[PATH_MAX];

static int setup(void **state)
{
        root = fx_tmpdir();
        snprintf(log_path, sizeof(log_path), "%s/audit.log", root);
        return 0;
}

static int teardown(void **state)
{
        fx_rm_rf(root);
        free(root);
        return 0;
}

/* The whole log, malloc()ed. */
static char *read_log(void)
{
        FILE *f = fopen(log_path, "r");
        assert_non_null(f);
        char *text = NULL;
        size_t size = 0;
        FILE *out = open_memstream(&text, &size);
        int c;
        while ((c = fgetc(f)) != EOF)
                fputc(c, out);
        fclose(f);
        fclose(out);
        return text;
}

/* Append one record and read it back as the log's only line. */
static json_t *logged(const struct vs_log_record *rec)
{
        unlink(log_path);
        assert_int_equal(vs_log_append(log_path, rec), 0);
        char *text = read_log();
        size_t len = strlen(text);
        assert_true(len > 2 && text[len - 1] == '\n');
        assert_null(memchr(text, '\n', len - 1)); /* one line */
        json_error_t error;
        json_t *line = json_loads(text, 0, &error);
        if (!line)
                fail_msg("not JSON (%s): %s", error.text, text);
        free(text);
        return line;
}

static const char *str(json_t *o, const char *key)
{
        json_t *v = json_object_get(o, key);
        if (!json_is_string(v))
                fail_msg("\"%s\" is not a string", key);
        return json_string_value(v);
}

static json_int_t num(json_t *o, const char *key)
{
        json_t *v = json_object_get(o, key);
        if (!json_is_integer(v))
                fail_msg("\"%s\" is not an integer", key);
        return json_integer_value(v);
}

static void test_an_emulated_move(void **state)
{
        struct vs_move_stats stats = {
                .bytes = 12345, .entries = 1, .methods = VS_METHOD_COPY_FILE_RANGE,
                .type = S_IFREG, .flushes = 2,
        };
        const struct vs_log_record rec = {
                .src = "/vault/a/note.md", .dst = "/vault/b/note.md", .stats = &stats,
                .result = 0, .duration_ns = 987654321,
        };
        json_t *line = logged(&rec);
        static const char *const keys[] = { "time", "pid", "src", "dst", "type", "bytes",
                                            "entries", "method", "flushes", "duration_ns",
                                            "steps", "result", "errno", "dropped" };
        assert_int_equal(json_object_size(line), sizeof(keys) / sizeof(keys[0]));
        for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
                if (!json_object_get(line, keys[i]))
                        fail_msg("no \"%s\"", keys[i]);
        regex_t rfc3339;
        assert_int_equal(regcomp(&rfc3339, "^[0-9]{4}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:"
                                           "[0-6][0-9]\\.[0-9]{6}Z$", REG_EXTENDED | REG_NOSUB), 0);
        assert_int_equal(regexec(&rfc3339, str(line, "time"), 0, NULL, 0), 0);
        regfree(&rfc3339);
        assert_int_equal(num(line, "pid"), getpid());
        assert_string_equal(str(line, "src"), "/vault/a/note.md");
        assert_string_equal(str(line, "dst"), "/vault/b/note.md");
        assert_string_equal(str(line, "type"), "file");
        assert_int_equal(num(line, "bytes"), 12345);
        assert_int_equal(num(line, "entries"), 1);
        assert_string_equal(str(line, "method"), "copy_file_range");
        assert_int_equal(num(line, "flushes"), 2);
        assert_int_equal(num(line, "duration_ns"), 987654321);
        assert_string_equal(str(line, "result"), "ok");
        assert_int_equal(num(line, "errno"), 0);
        assert_true(json_is_array(json_object_get(line, "dropped")));
        assert_int_equal(json_array_size(json_object_get(line, "dropped")), 0);
        assert_int_equal(json_object_size(json_object_get(line, "steps")), 0); /* none reached */
        json_decref(line);
}

/* "steps": microseconds (rounded) of the slots a move reached, in the order it reaches
 * them: plan, check (the locks), record, the other steps, finish. */
static void test_steps(void **state)
{
        (void)state;
        struct vs_move_stats stats = { .type = S_IFREG };
        stats.step_ns[VS_TIME_FINISH] = 30000;
        stats.step_ns[VS_TIME_STEP0 + VS_STEP_FSYNC_TEMP] = 249600;
        stats.step_ns[VS_TIME_STEP0 + VS_STEP_INSTALL] = 400; /* reached, under 1 us */
        stats.step_ns[VS_TIME_RECORD] = 160000;
        stats.step_ns[VS_TIME_STEP0 + VS_STEP_CHECK] = 12000;
        stats.step_ns[VS_TIME_PLAN] = 41000;
        const struct vs_log_record rec = { .src = "/v/a", .dst = "/v/b", .stats = &stats };
        json_t *line = logged(&rec);
        json_t *steps = json_object_get(line, "steps");
        assert_true(json_is_object(steps));
        static const char *const names[] = { "plan", "check", "record", "fsync-temp",
                                             "install", "finish" };
        static const json_int_t us[] = { 41, 12, 160, 250, 0, 30 };
        assert_int_equal(json_object_size(steps), sizeof(names) / sizeof(names[0]));
        size_t i = 0;
        const char *key;
        json_t *value;
        json_object_foreach(steps, key, value) { /* jansson keeps the order of the text */
                assert_string_equal(key, names[i]);
                assert_true(json_is_integer(value));
                assert_int_equal(json_integer_value(value), us[i]);
                i++;
        }
        json_decref(line);
}

static void test_results(void **state)
{
        struct vs_move_stats stats = { .type = S_IFDIR, .not_emulated = VS_NOT_EMULATED_FLAGS };
        struct vs_log_record rec = { .src = "/a", .dst = "/b", .stats = &stats, .result = -EXDEV };
        json_t *line = logged(&rec);
        assert_string_equal(str(line, "result"), "not-emulated");
        assert_string_equal(str(line, "reason"), "flags");
        assert_int_equal(num(line, "errno"), EXDEV);
        json_decref(line);

        /* An EXDEV with no reason noted is an error like any other. */
        stats.not_emulated = NULL;
        line = logged(&rec);
        assert_string_equal(str(line, "result"), "error");
        assert_null(json_object_get(line, "reason"));
        json_decref(line);

        /* A reason goes only with EXDEV. */
        stats.not_emulated = VS_NOT_EMULATED_SPECIAL;
        rec.result = -ENOTEMPTY;
        line = logged(&rec);
        assert_string_equal(str(line, "result"), "error");
        assert_int_equal(num(line, "errno"), ENOTEMPTY);
        assert_null(json_object_get(line, "reason"));
        json_decref(line);
}

static void test_types_methods_and_dropped_by_name(void **state)
{
        static const struct {
                mode_t type;
                const char *name;
        } types[] = { { S_IFREG, "file" },     { S_IFDIR, "directory" }, { S_IFLNK, "symlink" },
                      { S_IFIFO, "fifo" },     { S_IFSOCK, "none" },     { 0, "none" } };
        static const struct {
                unsigned methods;
                const char *name;
        } methods[] = { { 0, "none" },
                        { VS_METHOD_REFLINK, "reflink" },
                        { VS_METHOD_COPY_FILE_RANGE, "copy_file_range" },
                        { VS_METHOD_READ_WRITE, "read_write" },
                        { VS_METHOD_REFLINK | VS_METHOD_READ_WRITE, "mixed" } };
        for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
                struct vs_move_stats stats = { .type = types[i].type,
                                               .methods = methods[i % 5].methods };
                const struct vs_log_record rec = { .src = "/a", .dst = "/b", .stats = &stats };
                json_t *line = logged(&rec);
                assert_string_equal(str(line, "type"), types[i].name);
                assert_string_equal(str(line, "method"), methods[i % 5].name);
                json_decref(line);
        }
        /* Every bit by name, in bit order; bits with no name left out. */
        struct vs_move_stats stats = { .dropped = VS_DROPPED_TIME_NSEC | VS_DROPPED_XATTRS |
                                                  VS_DROPPED_OWNER | (1u << 20) };
        const struct vs_log_record rec = { .src = "/a", .dst = "/b", .stats = &stats };
        json_t *line = logged(&rec);
        json_t *dropped = json_object_get(line, "dropped");
        assert_int_equal(json_array_size(dropped), 3);
        assert_string_equal(json_string_value(json_array_get(dropped, 0)), "xattrs");
        assert_string_equal(json_string_value(json_array_get(dropped, 1)), "owner");
        assert_string_equal(json_string_value(json_array_get(dropped, 2)), "time-nsec");
        json_decref(line);
        static const char *const names[] = { "xattrs", "acl", "mode", "owner", "times",
                                             "time-nsec" };
        for (unsigned bit = 0; bit < 6; bit++)
                assert_string_equal(vs_dropped_name(1u << bit), names[bit]);
        assert_null(vs_dropped_name(1u << 6));
        assert_null(vs_dropped_name(0));
}

/* Paths are the user's: any byte but NUL may be in them. */
static void test_paths_are_escaped(void **state)
{
        const struct vs_log_record rec = {
                .src = "/vault/\"quoted\" \\ back\tslash\n.md",
                .dst = "/vault/\x01\x1f \xc3\xa9t\xc3\xa9.md",
        };
        json_t *line = logged(&rec);
        assert_string_equal(str(line, "src"), rec.src);
        assert_string_equal(str(line, "dst"), rec.dst);
        /* No stats: a line all the same, with zeros. */
        assert_string_equal(str(line, "type"), "none");
        assert_int_equal(num(line, "bytes"), 0);
        assert_string_equal(str(line, "method"), "none");
        json_decref(line);
        const struct vs_log_record unknown = { .result = -ENOENT };
        line = logged(&unknown);
        assert_string_equal(str(line, "src"), "");
        assert_string_equal(str(line, "dst"), "");
        assert_string_equal(str(line, "result"), "error");
        json_decref(line);
}

/* A line that does not fit is dropped, never cut; the log cannot be written: an error. */
static void test_what_is_not_written(void **state)
{
        char *long_path = malloc(2 * PATH_MAX);
        memset(long_path, 'x', 2 * PATH_MAX - 1);
        long_path[0] = '/';
        long_path[2 * PATH_MAX - 1] = '\0';
        const struct vs_log_record rec = { .src = long_path, .dst = long_path };
        assert_int_equal(vs_log_append(log_path, &rec), -ENAMETOOLONG);
        struct stat st;
        assert_int_equal(stat(log_path, &st), -1); /* not even created */
        free(long_path);

        const struct vs_log_record small = { .src = "/a", .dst = "/b" };
        char missing[PATH_MAX + 16];
        snprintf(missing, sizeof(missing), "%s/no/such.log", root);
        assert_int_equal(vs_log_append(missing, &small), -ENOENT);
        assert_int_equal(vs_log_append(root, &small), -EISDIR);
}

/* O_APPEND and one write(2) a line: four processes at once, every line whole. */
static void test_concurrent_writers_never_interleave(void **state)
{
        enum { WRITERS = 4, LINES = 200 };
        char src[600];
        memset(src, 's', sizeof(src) - 1);
        src[0] = '/';
        src[sizeof(src) - 1] = '\0';
        pid_t pids[WRITERS];
        for (int w = 0; w < WRITERS; w++) {
                pids[w] = fork();
                assert_true(pids[w] >= 0);
                if (pids[w] == 0) {
                        const struct vs_log_record rec = { .src = src, .dst = src };
                        for (int i = 0; i < LINES; i++)
                                if (vs_log_append(log_path, &rec) < 0)
                                        _exit(1);
                        _exit(0);
                }
        }
        for (int w = 0; w < WRITERS; w++) {
                int status;
                assert_int_equal(waitpid(pids[w], &status, 0), pids[w]);
                assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        }
        char *text = read_log();
        unsigned lines = 0;
        for (char *p = text, *nl; (nl = strchr(p, '\n')); p = nl + 1, lines++) {
                *nl = '\0';
                json_t *line = json_loads(p, 0, NULL);
                if (!line)
                        fail_msg("line %u is not whole: %.80s", lines + 1, p);
                assert_string_equal(str(line, "src"), src);
                json_decref(line);
        }
        assert_int_equal(lines, WRITERS * LINES);
        free(text);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
        const struct CMUnitTest tests[] = {
                T(test_an_emulated_move),
                T(test_steps),
                T(test_results),
                T(test_types_methods_and_dropped_by_name),
                T(test_paths_are_escaped),
                T(test_what_is_not_written),
                T(test_concurrent_writers_never_interleave),
        };
#undef T
        return cmocka_run_group_tests(tests, NULL, NULL);
}
