/* SPDX-License-Identifier: MIT */
/* The manifest reader: every bad input names its place; write -> read is the identity. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "manifest/manifest.h"
#include "shared/rfc3339.h"

#define GOOD_HEAD                                                                               \
        "version: 1\n"                                                                          \
        "user:\n"                                                                               \
        "  name: alice\n"                                                                       \
        "  id: \"1000\"\n"                                                                      \
        "vault: /vault\n"

static const char good[] = GOOD_HEAD
        "personal: personal\n"
        "valid_until: 2027-01-31T00:00:00Z\n"
        "folders:\n"
        "  - name: engineering\n"
        "    source: /shared/engineering\n"
        "    target: /vault/engineering\n"
        "    mode: rw\n"
        "  - name: personal\n"
        "    source: /users/alice/personal\n"
        "    target: /vault/personal\n"
        "    mode: rw\n"
        "    required: true\n"
        "    valid_until: null\n"
        "  - name: wiki\n"
        "    source: \"\"\n"
        "    target: /vault/wiki\n"
        "    mode: ro\n"
        "    required: false\n"
        "    valid_until: 2026-12-01T01:00:00+01:00\n";

/* Parse text; return all diagnostics joined by newlines ("" when it parsed). */
static char *diagnose(const char *text)
{
        struct vs_diags d = {0};
        struct vs_manifest *m = NULL;
        int r = vs_manifest_parse("m.yaml", text, strlen(text), &m, &d);
        char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);
        assert_non_null(f);
        for (size_t i = 0; i < d.count; i++)
                fprintf(f, "%s%s:%u:%u: %s", i ? "\n" : "", d.items[i].file, d.items[i].line,
                        d.items[i].column, d.items[i].message);
        fclose(f);
        if (r == 0) {
                assert_int_equal(d.count, 0);
                vs_manifest_free(m);
        } else {
                assert_int_equal(r, -EINVAL);
                assert_null(m);
                assert_true(d.count > 0);
        }
        vs_diags_clear(&d);
        return out;
}

static void test_good_manifest(void **state)
{
        struct vs_diags d = {0};
        struct vs_manifest *m = NULL;
        assert_int_equal(vs_manifest_parse("m.yaml", good, strlen(good), &m, &d), 0);
        assert_string_equal(m->user_name, "alice");
        assert_string_equal(m->user_id, "1000");
        assert_string_equal(m->vault, "/vault");
        assert_string_equal(m->personal, "personal");
        assert_int_equal(m->valid_until, 1801353600);
        assert_int_equal(m->n_folders, 3);
        assert_true(m->folders[0].required);
        assert_int_equal(m->folders[0].valid_until, VS_TIME_NONE);
        assert_int_equal(m->folders[0].mode, VS_MODE_RW);
        assert_string_equal(m->folders[2].source, "");
        assert_int_equal(m->folders[2].mode, VS_MODE_RO);
        assert_false(m->folders[2].required);
        assert_int_equal(m->folders[2].valid_until, 1796083200);
        vs_manifest_free(m);
        vs_diags_clear(&d);
}

struct bad_case {
        const char *text;
        const char *expect;
};

static const struct bad_case bad_cases[] = {
        { "", "m.yaml:1:1: the file is empty" },
        { "- 1\n", "m.yaml:1:1: the manifest must be a mapping, got a list" },
        { GOOD_HEAD "folders: []\nextra: 1\n",
          "m.yaml:7:1: unknown key \"extra\" in the manifest; expected one of: version, user, "
          "vault, personal, valid_until, folders" },
        { GOOD_HEAD "vault: /v\nfolders: []\n",
          "m.yaml:6:1: duplicate key \"vault\" in the manifest (first at 5:1)" },
        { GOOD_HEAD, "m.yaml:1:1: missing required key \"folders\" in the manifest" },
        { "version: 2\nuser: {name: a, id: \"1\"}\nvault: /vault\nfolders: []\n",
          "m.yaml:1:10: unsupported manifest version 2 (this reader knows 1)" },
        { "version: \"1\"\nuser: {name: a, id: \"1\"}\nvault: /vault\nfolders: []\n",
          "m.yaml:1:10: \"version\" must be the integer 1, got a quoted string" },
        { "version: 1\nuser: &u {name: a, id: \"1\"}\nvault: /vault\nfolders: []\n",
          "m.yaml:2:7: YAML anchors are not allowed (&u)" },
        { "version: 1\nuser: {name: a, id: \"1\"}\nvault: /vault\nx: &v /vault\nfolders: *v\n",
          "m.yaml:4:4: YAML anchors are not allowed (&v)" },
        { "version: 1\nuser: {name: a, id: \"1\"}\nvault: !!str /vault\nfolders: []\n",
          "m.yaml:3:8: YAML tags are not allowed (tag:yaml.org,2002:str)" },
        { "version: 1\nuser: {name: a/b, id: \"1\"}\nvault: /vault\nfolders: []\n",
          "m.yaml:2:14: \"name\" is not a safe name: \"a/b\" (1-255 bytes of letters, digits, '.', "
          "'_', '-', '@', '+' or non-ASCII UTF-8, not \".\" or \"..\")" },
        { "version: 1\nuser: {name: a, id: \"1\"}\nvault: /v/../x\nfolders: []\n",
          "m.yaml:3:8: \"vault\" must be an absolute normalised path other than /, got "
          "\"/v/../x\"" },
        { "version: 1\nuser: {name: a, id: \"1\"}\nvault: /vault\nvalid_until: "
          "2027-02-30T00:00:00Z\n"
          "folders: []\n",
          "m.yaml:4:14: \"valid_until\" is not an RFC 3339 time (like 2027-01-31T00:00:00Z): "
          "\"2027-02-30T00:00:00Z\": day 30 does not exist in 2027-02" },
        { "version: 1\nuser: {name: a, id: \"1\"}\nvault: /vault\npersonal: home\nfolders: []\n",
          "m.yaml:4:11: \"personal\" names \"home\", which is not among the folders" },
        { "version: 1\nuser: {name: a, id: \"1\"}\nvault: /vault\nfolders: {}\n",
          "m.yaml:4:10: \"folders\" must be a list, got a mapping" },
        { GOOD_HEAD
          "folders:\n  - name: ../etc\n    source: /s\n    target: /vault/../etc\n    mode: rw\n",
          "m.yaml:7:11: \"name\" is not a safe name: \"../etc\" (1-255 bytes, no '/', no control "
          "characters, not starting with '.')" },
        { GOOD_HEAD
          "folders:\n  - name: wiki\n    source: /s\n    target: /elsewhere/wiki\n    mode: ro\n",
          "m.yaml:9:13: \"target\" must be /vault/wiki (<vault>/<name>), got \"/elsewhere/wiki\"" },
        { GOOD_HEAD
          "folders:\n  - name: wiki\n    source: /s\n    target: /vault/wiki\n    mode: rwx\n",
          "m.yaml:10:11: \"mode\" must be \"ro\" or \"rw\", got \"rwx\"" },
        { GOOD_HEAD
          "folders:\n  - name: wiki\n    source: /s\n    target: /vault/wiki\n    mode: ro\n"
          "    required: maybe\n",
          "m.yaml:11:15: \"required\" must be true or false, got \"maybe\"" },
        { GOOD_HEAD
          "folders:\n  - name: wiki\n    source: s\n    target: /vault/wiki\n    mode: ro\n",
          "m.yaml:8:13: \"source\" must be an absolute normalised path or \"\", got \"s\"" },
        { GOOD_HEAD
          "folders:\n  - name: wiki\n    source: /s\n    target: /vault/wiki\n    mode: ro\n"
          "    colour: blue\n",
          "m.yaml:11:5: unknown key \"colour\" in a folder; expected one of: name, source, target, "
          "mode, required, valid_until" },
        { GOOD_HEAD
          "folders:\n  - name: true\n    source: /s\n    target: /vault/true\n    mode: ro\n",
          "m.yaml:7:11: \"name\" must be a string, got a boolean (quote it if it is meant as "
          "text)" },
        { GOOD_HEAD
          "folders:\n  - name: wiki\n    source: /s\n    target: /vault/wiki\n    mode: ro\n"
          "  - name: wiki\n    source: /t\n    target: /vault/wiki\n    mode: rw\n",
          "m.yaml:11:5: duplicate folder \"wiki\" (first at 7:5)" },
        { GOOD_HEAD "folders:\n  - name: wiki\n    mode: ro\n",
          "m.yaml:7:5: missing required key \"source\" in a folder\n"
          "m.yaml:7:5: missing required key \"target\" in a folder" },
        { GOOD_HEAD "folders: [\n",
          "m.yaml:7:1: YAML syntax error: did not find expected node content "
          "while parsing a flow node" },
        { GOOD_HEAD "folders: []\n---\nversion: 1\n",
          "m.yaml:7:1: only one YAML document is allowed" },
};

static void test_bad_manifests(void **state)
{
        for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
                char *got = diagnose(bad_cases[i].text);
                if (strcmp(got, bad_cases[i].expect) != 0)
                        fail_msg("case %zu:\n  input:\n%s\n  expected: %s\n  got:      %s", i,
                                 bad_cases[i].text, bad_cases[i].expect, got);
                free(got);
        }
}

static char *write_to_string(const struct vs_manifest *m)
{
        char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);
        assert_non_null(f);
        assert_int_equal(vs_manifest_write(f, m), 0);
        fclose(f);
        return out;
}

static void test_round_trip(void **state)
{
        struct vs_diags d = {0};
        struct vs_manifest *m = NULL, *again = NULL;
        assert_int_equal(vs_manifest_parse("m.yaml", good, strlen(good), &m, &d), 0);
        char *text = write_to_string(m);
        assert_int_equal(vs_manifest_parse("out.yaml", text, strlen(text), &again, &d), 0);
        char *text2 = write_to_string(again);
        assert_string_equal(text, text2);
        assert_string_equal(
                text, "version: 1\nuser:\n  name: alice\n  id: \"1000\"\nvault: /vault\n"
                      "personal: personal\nvalid_until: 2027-01-31T00:00:00Z\nfolders:\n"
                      "  - name: engineering\n    source: /shared/engineering\n"
                      "    target: /vault/engineering\n    mode: rw\n    required: true\n"
                      "    valid_until: null\n"
                      "  - name: personal\n    source: /users/alice/personal\n"
                      "    target: /vault/personal\n    mode: rw\n    required: true\n"
                      "    valid_until: null\n"
                      "  - name: wiki\n    source: \"\"\n    target: /vault/wiki\n    mode: ro\n"
                      "    required: false\n    valid_until: 2026-12-01T00:00:00Z\n");
        vs_manifest_free(m);
        vs_manifest_free(again);
        free(text);
        free(text2);
        vs_diags_clear(&d);
}

/* Names that YAML would otherwise read as something else come back as the same strings. */
static void test_round_trip_awkward_strings(void **state)
{
        struct vs_manifest_folder folders[] = {
                { .name = "yes",
                  .source = "/s/yes",
                  .target = "/v/yes",
                  .mode = VS_MODE_RO,
                  .required = true,
                  .valid_until = VS_TIME_NONE },
                { .name = "2024",
                  .source = "",
                  .target = "/v/2024",
                  .mode = VS_MODE_RW,
                  .required = false,
                  .valid_until = 0 },
                { .name = "Deal Room \"A\": #1",
                  .source = "/s/x y",
                  .target = "/v/Deal Room \"A\": #1",
                  .mode = VS_MODE_RW,
                  .required = true,
                  .valid_until = VS_TIME_NONE },
        };
        struct vs_manifest m = {.version = 1, .user_name = "null", .user_id = "1000", .vault = "/v",
                                .valid_until = VS_TIME_NONE, .n_folders = 3, .folders = folders};
        struct vs_diags d = {0};
        struct vs_manifest *back = NULL;
        char *text = write_to_string(&m);
        assert_int_equal(vs_manifest_parse("out.yaml", text, strlen(text), &back, &d), 0);
        assert_string_equal(back->user_name, "null");
        assert_null(back->personal);
        for (size_t i = 0; i < 3; i++) {
                assert_string_equal(back->folders[i].name, folders[i].name);
                assert_string_equal(back->folders[i].source, folders[i].source);
                assert_int_equal(back->folders[i].mode, folders[i].mode);
                assert_int_equal(back->folders[i].required, folders[i].required);
                assert_int_equal(back->folders[i].valid_until, folders[i].valid_until);
        }
        vs_manifest_free(back);
        free(text);
        vs_diags_clear(&d);
}

static void test_rfc3339(void **state)
{
        static const struct {
                const char *text;
                int64_t expect; /* INT64_MAX = invalid */
        } cases[] = {
                {"1970-01-01T00:00:00Z", 0},
                {"2000-02-29T12:00:00Z", 951825600},
                {"2027-01-31T00:00:00.999Z", 1801353600},
                {"2027-01-31T02:30:00+02:30", 1801353600},
                {"2027-01-30t19:00:00-05:00", 1801353600},
                {"1969-12-31T23:59:59Z", -1},
                {"2016-12-31T23:59:60Z", INT64_MAX}, /* leap seconds are refused, not folded */
                {"2001-02-29T00:00:00Z", INT64_MAX},
                {"2027-01-31", INT64_MAX},
                {"2027-01-31T00:00:00", INT64_MAX},
                {"2027-1-31T00:00:00Z", INT64_MAX},
                {"2027-01-31T24:00:00Z", INT64_MAX},
                {"2027-01-31T00:00:00Zjunk", INT64_MAX},
                {"2027-01-31T00:00:00.Z", INT64_MAX},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                int64_t t = 42;
                int r = vs_rfc3339_parse(cases[i].text, &t);
                if (cases[i].expect == INT64_MAX) {
                        assert_int_equal(r, -EINVAL);
                        assert_int_equal(t, 42);
                } else {
                        assert_int_equal(r, 0);
                        assert_int_equal(t, cases[i].expect);
                }
        }
        /* Each refusal names the field that is wrong. */
        char why[VS_RFC3339_PROBLEM_MAX];
        assert_string_equal(vs_rfc3339_problem("2027-13-01T00:00:00Z", why),
                            "month 13 is not 01-12");
        assert_string_equal(vs_rfc3339_problem("2026-02-29T00:00:00Z", why),
                            "day 29 does not exist in 2026-02");
        assert_string_equal(vs_rfc3339_problem("2027-01-31T24:00:00Z", why),
                            "hour 24 is not 00-23");
        assert_non_null(strstr(vs_rfc3339_problem("2016-12-31T23:59:60Z", why), "leap second"));
        assert_non_null(strstr(vs_rfc3339_problem("2027-01-31T00:00:00", why), "no time zone"));
        char buf[VS_RFC3339_MAX];
        assert_int_equal(vs_rfc3339_format(-1, buf), 0);
        assert_string_equal(buf, "1969-12-31T23:59:59Z");
        assert_int_equal(vs_rfc3339_format(VS_TIME_NONE, buf), -ERANGE);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_good_manifest),
                cmocka_unit_test(test_bad_manifests),
                cmocka_unit_test(test_round_trip),
                cmocka_unit_test(test_round_trip_awkward_strings),
                cmocka_unit_test(test_rfc3339),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
