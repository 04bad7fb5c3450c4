/* SPDX-License-Identifier: MIT */
/*
 * The loader fails closed: each bad input below must produce exactly these diagnostics,
 * in this order, as "file:line:col: message" with 1-based positions.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policy/policy.h"
#include "shared/rfc3339.h"

#define MAX_DIAGS 4

struct bad_case {
        const char *name;
        const char *yaml;
        const char *diags[MAX_DIAGS];
};

static const struct bad_case bad_cases[] = {
        { "alias_only",
          "x: &a 1\nfolders: []\ny: *a\n",
          { "t.yaml:1:4: YAML anchors are not allowed (&a)" } },
        { "anchor",
          "folders:\n  - &f {name: a, path: /a}\n  - *f\n",
          { "t.yaml:2:5: YAML anchors are not allowed (&f)" } },
        { "bad_date",
          "folders:\n  - name: a\n    path: /a\n    access:\n      - {groups: [x], not_after: "
          "2026-02-30T00:00:00Z}\n",
          { "t.yaml:5:34: not_after must be an RFC 3339 date-time with a time zone, such as "
            "2027-01-31T00:00:00Z, got \"2026-02-30T00:00:00Z\": day 30 does not exist in "
            "2026-02" } },
        { "bad_time",
          "folders:\n  - name: a\n    path: /a\n    access:\n      - {groups: [x], not_before: "
          "2026-12-01}\n",
          { "t.yaml:5:35: not_before must be an RFC 3339 date-time with a time zone, such as "
            "2027-01-31T00:00:00Z, got \"2026-12-01\": expected YYYY-MM-DDTHH:MM:SS (optionally "
            ".fraction) and Z or an offset such as +01:00" } },
        { "leap_second",
          "folders:\n  - name: a\n    path: /a\n    access:\n      - {groups: [x], not_after: "
          "2016-12-31T23:59:60Z}\n",
          { "t.yaml:5:34: not_after must be an RFC 3339 date-time with a time zone, such as "
            "2027-01-31T00:00:00Z, got \"2016-12-31T23:59:60Z\": second 60 (a leap second) is not "
            "accepted: use :59 or the next minute" } },
        { "nested_exposure",
          "folders:\n  - name: eng\n    path: /eng\n    access: [{groups: [eng], mode: rw}]\n"
          "  - name: secrets\n    path: /eng/secrets\n    access:\n      - {groups: [eng], mode: "
          "rw}\n"
          "      - {groups: [interns], effect: deny}\n",
          { "t.yaml:6:11: host path \"/eng/secrets\" of folder \"secrets\" lies inside \"/eng\" of "
            "folder \"eng\" (3:11), and a user in [eng, interns] gets \"eng\" rw but \"secrets\" "
            "DENIED: the files of \"secrets\" are reachable rw at /vault/eng/secrets; give "
            "\"secrets\" a host path outside \"/eng\", or grant it at least what \"eng\" "
            "grants" } },
        /* A template beside a literal it can produce, for the user whose name produces it. */
        { "template_holds_literal",
          "folders:\n  - name: personal\n    path: /users/{username}\n    access: [{groups: "
          "[everyone], mode: rw}]\n"
          "  - name: special\n    path: /users/alice/special\n    access:\n      - {groups: "
          "[everyone], mode: rw}\n"
          "      - {groups: [alice], effect: deny}\n",
          { "t.yaml:6:11: host path \"/users/alice/special\" of folder \"special\" lies inside "
            "\"/users/{username}\" of folder \"personal\" (3:11) for user \"alice\", and a user in "
            "[everyone, alice] gets \"personal\" rw but \"special\" DENIED: the files of "
            "\"special\" are reachable rw at /vault/personal/special; give \"special\" a host path "
            "outside \"/users/{username}\", or grant it at least what \"personal\" grants" } },
        { "template_holds_literal_ro",
          "folders:\n  - name: personal\n    path: /data/{user_id}\n    access: [{groups: [staff], "
          "mode: rw}]\n"
          "  - name: private\n    path: /data/7002/private\n    access: [{groups: [staff]}]\n",
          { "t.yaml:6:11: host path \"/data/7002/private\" of folder \"private\" lies inside "
            "\"/data/{user_id}\" of folder \"personal\" (3:11) for user id \"7002\", and a user in "
            "[staff] gets \"personal\" rw but \"private\" only ro: the files of \"private\" are "
            "reachable rw at /vault/personal/private; give \"private\" a host path outside "
            "\"/data/{user_id}\", or grant it at least what \"personal\" grants" } },
        { "template_is_literal",
          "folders:\n  - name: home\n    path: /u/{username}\n    access: [{groups: [x], mode: "
          "rw}]\n"
          "  - name: zed\n    path: /u/alice\n    access: [{groups: [x]}]\n",
          { "t.yaml:6:11: host path \"/u/alice\" of folder \"zed\" is the same as "
            "\"/u/{username}\" of folder \"home\" (3:11) for user \"alice\", and a user in [x] "
            "gets \"home\" rw but \"zed\" only ro: the files of \"zed\" are reachable rw at "
            "/vault/home; give \"zed\" a host path outside \"/u/{username}\", or grant it at least "
            "what \"home\" grants" } },
        { "template_inside_literal",
          "folders:\n  - name: notes\n    path: /n/{username}-notes/x\n    access: [{groups: "
          "[x]}]\n"
          "  - name: shared\n    path: /n/bob-notes\n    access: [{groups: [x], mode: rw}]\n",
          { "t.yaml:3:11: host path \"/n/{username}-notes/x\" of folder \"notes\" lies inside "
            "\"/n/bob-notes\" of folder \"shared\" (6:11) for user \"bob\", and a user in [x] gets "
            "\"shared\" rw but \"notes\" only ro: the files of \"notes\" are reachable rw at "
            "/vault/shared/x; give \"notes\" a host path outside \"/n/bob-notes\", or grant it at "
            "least what \"shared\" grants" } },
        { "bad_yaml",
          "folders: [\n",
          { "t.yaml:2:1: YAML syntax error: did not find expected node content while parsing a "
            "flow node" } },
        { "compound",
          "folders:\n  - name: a\n    path: /a\n    access:\n      - {groups: [x], compound: "
          "and}\n",
          { "t.yaml:5:33: compound must be \"any\" or \"all\", got \"and\"" } },
        { "cycle",
          "folders:\n  - name: a\n    path: /a\n    implies: [{folder: b}]\n  - name: b\n    path: "
          "/b\n    implies: [{folder: a}]\n",
          { "t.yaml:7:15: implies forms a cycle: \"b\" implies \"a\", which leads back to \"b\"; "
            "expected an acyclic chain" } },
        { "dup_folder",
          "folders:\n  - {name: a, path: /a}\n  - {name: a, path: /b}\n",
          { "t.yaml:3:12: duplicate folder name \"a\" (first at 2:12)" } },
        { "dup_folder_key",
          "folders:\n  - name: a\n    path: /a\n    name: b\n",
          { "t.yaml:4:5: duplicate key \"name\" in a folder (first at 2:5)" } },
        { "dup_path",
          "folders:\n  - {name: a, path: /a}\n  - {name: b, path: /a}\n",
          { "t.yaml:3:21: path \"/a\" is already used by folder \"a\" (at 2:21); expected one "
            "folder per host path" } },
        { "dup_top",
          "folders: []\nfolders: []\n",
          { "t.yaml:2:1: duplicate key \"folders\" in the policy (first at 1:1)" } },
        { "effect",
          "folders:\n  - name: a\n    path: /a\n    access:\n      - {groups: [x], effect: "
          "block}\n",
          { "t.yaml:5:31: effect must be \"allow\" or \"deny\", got \"block\"" } },
        { "empty", "", { "t.yaml:1:1: the file is empty" } },
        { "folder_not_map",
          "folders:\n  - a\n",
          { "t.yaml:2:5: a folder must be a mapping, got a scalar" } },
        { "group_dup",
          "folders:\n  - name: a\n    path: /a\n    access:\n      - {groups: [x, x]}\n",
          { "t.yaml:5:22: group \"x\" is listed twice in this rule (first at 5:19)" } },
        { "group_map",
          "folders:\n  - name: a\n    path: /a\n    access:\n      - {groups: [{a: b}]}\n",
          { "t.yaml:5:19: a group name must be a scalar, got a mapping" } },
        { "groups_empty",
          "folders:\n  - name: a\n    path: /a\n    access:\n      - groups: []\n",
          { "t.yaml:5:17: groups must not be empty; expected at least one group name" } },
        { "groups_scalar",
          "folders:\n  - name: a\n    path: /a\n    access:\n      - groups: legal\n",
          { "t.yaml:5:17: groups must be a list, got a scalar" } },
        { "implies_self",
          "folders:\n  - name: a\n    path: /a\n    implies: [{folder: a}]\n",
          { "t.yaml:4:15: folder \"a\" implies itself" } },
        { "implies_unknown",
          "folders:\n  - name: a\n    path: /a\n    implies: [{folder: b}]\n",
          { "t.yaml:4:15: implies unknown folder \"b\"; expected the name of a folder in this "
            "policy" } },
        { "key_not_scalar",
          "folders:\n  - {[a]: b, name: a, path: /a}\n",
          { "t.yaml:2:6: expected a key name in a folder, got a list" } },
        { "max_mode",
          "folders:\n  - name: a\n    path: /a\n    implies: [{folder: b, max_mode: x}]\n  - "
          "{name: b, path: /b}\n",
          { "t.yaml:4:37: max_mode must be \"ro\" or \"rw\", got \"x\"" } },
        { "merge",
          "folders:\n  - {<<: {}, name: a, path: /a}\n",
          { "t.yaml:2:6: unknown key \"<<\" in a folder; expected one of: name, path, access, "
            "implies, required, personal" } },
        { "missing_folders",
          "vault: /vault\n",
          { "t.yaml:1:1: missing required key \"folders\" in the policy" } },
        { "mode",
          "folders:\n  - name: a\n    path: /a\n    access:\n      - {groups: [x], mode: rwx}\n",
          { "t.yaml:5:29: mode must be \"ro\" or \"rw\", got \"rwx\"" } },
        { "mode_on_deny",
          "folders:\n  - name: a\n    path: /a\n    access:\n      - {groups: [x], effect: deny, "
          "mode: ro}\n",
          { "t.yaml:5:43: mode applies to allow rules only; a deny rule takes \"scope: all\" or "
            "\"scope: write\"" } },
        { "multi",
          "folders: []\n---\nfolders: []\n",
          { "t.yaml:2:1: only one YAML document is allowed" } },
        { "name_dot",
          "folders:\n  - {name: .obsidian, path: /a}\n",
          { "t.yaml:2:12: name must be one safe path segment ([A-Za-z0-9._-], 1-64 characters, not "
            "starting with '.'), got \".obsidian\"" } },
        { "name_dotdot",
          "folders:\n  - {name: '..', path: /a}\n",
          { "t.yaml:2:12: name must be one safe path segment ([A-Za-z0-9._-], 1-64 characters, not "
            "starting with '.'), got \"..\"" } },
        { "name_slash",
          "folders:\n  - {name: a/b, path: /a}\n",
          { "t.yaml:2:12: name must be one safe path segment ([A-Za-z0-9._-], 1-64 characters, not "
            "starting with '.'), got \"a/b\"" } },
        { "no_tz",
          "folders:\n  - name: a\n    path: /a\n    access:\n      - {groups: [x], not_after: "
          "'2026-02-01T00:00:00'}\n",
          { "t.yaml:5:34: not_after must be an RFC 3339 date-time with a time zone, such as "
            "2027-01-31T00:00:00Z, got \"2026-02-01T00:00:00\": no time zone: expected "
            "YYYY-MM-DDTHH:MM:SS (optionally .fraction) and Z or an offset such as +01:00" } },
        { "not_mapping", "- a\n", { "t.yaml:1:1: the policy must be a mapping, got a list" } },
        { "path_colon",
          "folders:\n  - {name: a, path: '/a:b'}\n",
          { "t.yaml:2:21: path must be an absolute, normalised host path, got \"/a:b\": must not "
            "contain ':' (it splits Docker volume specifications)" } },
        { "path_comma",
          "folders:\n  - {name: a, path: '/a,b'}\n",
          { "t.yaml:2:21: path must be an absolute, normalised host path, got \"/a,b\": must not "
            "contain ',' (it splits Docker volume specifications)" } },
        { "path_dotdot",
          "folders:\n  - {name: a, path: /a/../b}\n",
          { "t.yaml:2:21: path must be an absolute, normalised host path, got \"/a/../b\": must be "
            "normalised (no empty, . or .. segments, no trailing /)" } },
        { "path_double",
          "folders:\n  - {name: a, path: /a//b}\n",
          { "t.yaml:2:21: path must be an absolute, normalised host path, got \"/a//b\": must be "
            "normalised (no empty, . or .. segments, no trailing /)" } },
        { "path_newline",
          "folders:\n  - {name: a, path: \"/a\\nb\"}\n",
          { "t.yaml:2:21: path must be an absolute, normalised host path, got \"/a\nb\": must not "
            "contain a newline" } },
        { "path_nul",
          "folders:\n  - {name: a, path: \"/a\\0b\"}\n",
          { "t.yaml:2:21: NUL bytes are not allowed in values" } },
        { "path_rel",
          "folders:\n  - {name: a, path: a/b}\n",
          { "t.yaml:2:21: path must be an absolute, normalised host path, got \"a/b\": must be "
            "absolute (start with /)" } },
        { "path_root",
          "folders:\n  - {name: a, path: /}\n",
          { "t.yaml:2:21: path must be an absolute, normalised host path, got \"/\": must not be "
            "the root directory" } },
        { "path_trailing",
          "folders:\n  - {name: a, path: /a/}\n",
          { "t.yaml:2:21: path must be an absolute, normalised host path, got \"/a/\": must be "
            "normalised (no empty, . or .. segments, no trailing /)" } },
        { "placeholder",
          "folders:\n  - {name: a, path: '/users/{user}/p'}\n",
          { "t.yaml:2:21: path must be an absolute, normalised host path, got \"/users/{user}/p\": "
            "has an unknown placeholder; expected {username} or {user_id}" } },
        { "required_type",
          "folders:\n  - {name: a, path: /a, required: yes}\n",
          { "t.yaml:2:35: required must be true or false, got \"yes\"" } },
        { "scope",
          "folders:\n  - name: a\n    path: /a\n    access:\n      - {groups: [x], effect: deny, "
          "scope: read}\n",
          { "t.yaml:5:44: scope must be \"all\" or \"write\", got \"read\"" } },
        { "scope_on_allow",
          "folders:\n  - name: a\n    path: /a\n    access:\n      - {groups: [x], scope: write}\n",
          { "t.yaml:5:30: scope applies to deny rules only; an allow rule takes \"mode: ro\" or "
            "\"mode: rw\"" } },
        { "tag",
          "folders: !!seq []\n",
          { "t.yaml:1:10: YAML tags are not allowed (tag:yaml.org,2002:seq)" } },
        { "two_personal",
          "folders:\n  - {name: a, path: /a, personal: true}\n  - {name: b, path: /b, personal: "
          "true}\n",
          { "t.yaml:3:5: only one folder may be personal (\"a\" at 2:5 already is)" } },
        { "unknown_folder_key",
          "folders:\n  - name: a\n    path: /a\n    mdoe: rw\n",
          { "t.yaml:4:5: unknown key \"mdoe\" in a folder; expected one of: name, path, access, "
            "implies, required, personal" } },
        { "unknown_top",
          "folders: []\nextra: 1\n",
          { "t.yaml:2:1: unknown key \"extra\" in the policy; expected one of: version, vault, "
            "folders" } },
        { "vault_rel",
          "vault: vault\nfolders: []\n",
          { "t.yaml:1:8: vault must be an absolute, normalised path, got \"vault\": must be "
            "absolute (start with /)" } },
        { "version", "version: 2\nfolders: []\n", { "t.yaml:1:10: version must be 1, got \"2\"" } },
        { "window_order",
          "folders:\n  - name: a\n    path: /a\n    access:\n      - groups: [x]\n        "
          "not_before: 2027-01-01T00:00:00Z\n        not_after: 2027-01-01T00:00:00Z\n",
          { "t.yaml:7:20: not_after 2027-01-01T00:00:00Z must be later than not_before "
            "2027-01-01T00:00:00Z (the window is [not_before, not_after))" } },
};

static char *format_diag(const struct vs_diag *d)
{
        char *s;
        assert_true(asprintf(&s, "%s:%u:%u: %s", d->file, d->line, d->column, d->message) > 0);
        return s;
}

static void test_bad_inputs(void **state)
{
        for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
                const struct bad_case *c = &bad_cases[i];
                struct vs_diags diags = { 0 };
                struct vs_policy *policy = NULL;
                size_t len = strlen(c->yaml);
                int r = vs_policy_parse("t.yaml", c->yaml, len, &policy, &diags);
                print_message("case %s\n", c->name);
                assert_int_equal(r, -EINVAL);
                assert_null(policy);
                size_t expected = 0;
                while (expected < MAX_DIAGS && c->diags[expected])
                        expected++;
                for (size_t d = 0; d < diags.count; d++) {
                        char *got = format_diag(&diags.items[d]);
                        if (d >= expected || strcmp(got, c->diags[d]) != 0)
                                fail_msg("case %s: diagnostic %zu\n  got:      %s\n  expected: %s",
                                         c->name, d, got, d < expected ? c->diags[d] : "(none)");
                        free(got);
                }
                if (diags.count != expected)
                        fail_msg("case %s: %zu diagnostics, expected %zu", c->name, diags.count,
                                 expected);
                vs_diags_clear(&diags);
        }
}

static struct vs_policy *load_source_file(const char *relative)
{
        const char *root = getenv("VS_SOURCE_ROOT");
        char *path;
        struct vs_diags diags = { 0 };
        struct vs_policy *policy = NULL;
        assert_non_null(root);
        assert_true(asprintf(&path, "%s/%s", root, relative) > 0);
        int r = vs_policy_load(path, &policy, &diags);
        for (size_t i = 0; i < diags.count; i++)
                print_message("%s:%u:%u: %s\n", diags.items[i].file, diags.items[i].line,
                              diags.items[i].column, diags.items[i].message);
        assert_int_equal(r, 0);
        vs_diags_clear(&diags);
        free(path);
        return policy;
}

/* The reference example (tests/data/policy/design-example.yaml) loads, with the documented
 * defaults filled in. */
static void test_design_example(void **state)
{
        struct vs_policy *policy = load_source_file("tests/data/policy/design-example.yaml");
        assert_int_equal(policy->n_folders, 3);
        assert_string_equal(policy->vault, "/vault");
        /* sorted by name */
        assert_string_equal(policy->folders[0].name, "deal-room-acme");
        assert_string_equal(policy->folders[1].name, "deal-room-acme-resources");
        assert_string_equal(policy->folders[2].name, "personal");

        const struct vs_policy_folder *deal = &policy->folders[0];
        assert_int_equal(deal->n_rules, 3);
        assert_int_equal(deal->rules[0].compound, VS_COMPOUND_ALL);
        assert_int_equal(deal->rules[0].mode, VS_MODE_RW);
        assert_int_equal(deal->rules[0].mark.line, 7);
        assert_int_equal(deal->rules[0].mark.column, 9);
        assert_int_equal(deal->rules[1].compound, VS_COMPOUND_ANY);
        assert_int_equal(deal->rules[1].mode, VS_MODE_RO);
        assert_int_equal(deal->rules[1].not_before, 1796083200); /* 2026-12-01T00:00:00Z */
        assert_int_equal(deal->rules[1].not_after, 1801353600);  /* 2027-01-31T00:00:00Z */
        assert_int_equal(deal->rules[2].effect, VS_EFFECT_DENY);
        assert_int_equal(deal->rules[2].scope, VS_SCOPE_ALL);
        assert_true(deal->rules[2].not_before == VS_TIME_NONE);
        assert_int_equal(deal->n_implies, 1);
        assert_int_equal(deal->implies[0].max_mode, VS_MODE_RO);
        assert_int_equal(deal->implies[0].target, 1);
        assert_true(deal->required);

        const struct vs_policy_folder *personal = &policy->folders[2];
        assert_string_equal(personal->path, "/users/{username}/personal");
        assert_int_equal(personal->n_rules, 1);
        assert_int_equal(personal->rules[0].mode, VS_MODE_RW);
        vs_policy_free(policy);
}

static void test_seed_loads(void **state)
{
        struct vs_policy *policy = load_source_file("tests/data/policy/seed.yaml");
        assert_int_equal(policy->n_folders, 9);
        for (size_t i = 1; i < policy->n_folders; i++)
                assert_true(strcmp(policy->folders[i - 1].name, policy->folders[i].name) < 0);
        assert_non_null(vs_policy_find_folder(policy, "hr-engineering"));
        assert_null(vs_policy_find_folder(policy, "nope"));
        assert_false(vs_policy_find_folder(policy, "project-alpha-resources")->required);
        vs_policy_free(policy);
}

/* Time stamps: offsets, fractions, leap days, and the exact second arithmetic. */
static void test_time_parsing(void **state)
{
        static const struct {
                const char *text;
                int64_t expected;
        } good[] = {
                { "1970-01-01T00:00:00Z", 0 },
                { "2026-12-01T00:00:00Z", 1796083200 },
                { "2026-12-01T01:00:00+01:00", 1796083200 },
                { "2026-11-30T19:00:00-05:00", 1796083200 },
                { "2024-02-29T12:00:00z", 1709208000 },
                { "2026-12-01t00:00:00.999Z", 1796083200 }, /* --now truncates */
                { "1969-12-31T23:59:59Z", -1 },
                { "9999-12-31T23:59:59Z", 253402300799 },
        };
        static const char *bad[] = {
                "2026-12-01",
                "2026-12-01T00:00:00",
                "2026-13-01T00:00:00Z",
                "2025-02-29T00:00:00Z",
                "2026-12-01T24:00:00Z",
                "2026-12-01T00:60:00Z",
                "2026-12-01T00:00:00+1:00",
                "2026-12-01_00:00:00Z",
                "2026-12-01T00:00:00Zjunk",
                "",
                "2026-12-01T00:00:00.Z",
        };
        char buf[VS_TIME_BUF];
        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
                int64_t t = 42;
                print_message("%s\n", good[i].text);
                assert_int_equal(vs_rfc3339_parse(good[i].text, &t), 0);
                assert_int_equal(t, good[i].expected);
        }
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                int64_t t = 42;
                print_message("%s\n", bad[i]);
                assert_int_equal(vs_rfc3339_parse(bad[i], &t), -EINVAL);
                assert_int_equal(t, 42);
        }
        vs_time_format(1801353600, buf);
        assert_string_equal(buf, "2027-01-31T00:00:00Z");
        vs_time_format(-1, buf);
        assert_string_equal(buf, "1969-12-31T23:59:59Z");
        vs_time_format(951782400, buf);
        assert_string_equal(buf, "2000-02-29T00:00:00Z");
        vs_time_format(253402300800, buf); /* year 10000 has no RFC 3339 form */
        assert_string_equal(buf, "@253402300800");
}

/* A fraction in a policy bound rounds up, so "now >= bound" stays exact for whole seconds. */
static void test_fractional_bounds(void **state)
{
        static const char yaml[] = "folders:\n  - name: a\n    path: /a\n    access:\n"
                                   "      - {groups: [x], not_before: 2026-12-01T00:00:00.5Z}\n";
        struct vs_diags diags = { 0 };
        struct vs_policy *policy = NULL;
        assert_int_equal(vs_policy_parse("t.yaml", yaml, strlen(yaml), &policy, &diags), 0);
        assert_int_equal(policy->folders[0].rules[0].not_before, 1796083201);
        vs_policy_free(policy);
}

static void test_users_file(void **state)
{
        static const char good[] = "users:\n  - {name: alice, id: '1001', groups: [a, b]}\n  - "
                                   "{name: bob, id: '7', groups: []}\n";
        static const char bad[] = "users:\n  - {name: alice, groups: a, shell: sh}\n";
        struct vs_diags diags = { 0 };
        struct vs_users users;
        assert_int_equal(vs_users_parse("u.yaml", good, strlen(good), &users, &diags), 0);
        assert_int_equal(users.count, 2);
        assert_string_equal(users.items[0].groups[1], "b");
        assert_int_equal(users.items[1].n_groups, 0);
        vs_users_clear(&users);
        assert_int_equal(vs_users_parse("u.yaml", bad, strlen(bad), &users, &diags), -EINVAL);
        assert_int_equal(diags.count, 3);
        assert_string_equal(diags.items[0].message,
                            "unknown key \"shell\" in a user; expected one of: name, id, groups");
        assert_string_equal(diags.items[1].message, "missing required key \"id\" in a user");
        assert_string_equal(diags.items[2].message, "groups must be a list, got a scalar");
        vs_diags_clear(&diags);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_bad_inputs),
                cmocka_unit_test(test_design_example),
                cmocka_unit_test(test_seed_loads),
                cmocka_unit_test(test_time_parsing),
                cmocka_unit_test(test_fractional_bounds),
                cmocka_unit_test(test_users_file),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
