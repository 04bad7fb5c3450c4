/* SPDX-License-Identifier: MIT */
/*
 * The decision as a scenario table: one policy, a user's groups and a time, and the
 * expected outcome for every folder ("name=rw|ro|-|denied|refused", sorted by name).
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

static const char policy_yaml[] =
        "folders:\n"
        "  - name: chain-a\n"
        "    path: /c/a\n"
        "    access:\n"
        "      - {groups: [chain], mode: rw}\n"
        "      - {groups: [chain-ro], mode: ro}\n"
        "    implies: [{folder: chain-b, max_mode: rw}]\n"
        "  - name: chain-b\n"
        "    path: /c/b\n"
        "    access:\n"
        "      - {groups: [block-b], effect: deny}\n"
        "      - {groups: [cap-b], effect: deny, scope: write}\n"
        "    implies: [{folder: chain-c}]\n"
        "  - name: chain-c\n"
        "    path: /c/c\n"
        "  - name: room\n"
        "    path: /room\n"
        "    access:\n"
        "      - {groups: [legal, executive], compound: all, mode: rw}\n"
        "      - {groups: [contractors, temps], mode: ro,\n"
        "         not_before: 2026-12-01T00:00:00Z, not_after: 2027-01-31T00:00:00Z}\n"
        "      - {groups: [interns], effect: deny}\n"
        "  - name: wiki\n"
        "    path: /wiki\n"
        "    access:\n"
        "      - {groups: [staff], mode: ro}\n"
        "      - {groups: [editors], mode: rw}\n"
        "      - {groups: [readonly], effect: deny, scope: write}\n"
        "  - name: home\n"
        "    path: /users/{username}/home\n"
        "    access: [{groups: [staff], mode: rw}]\n"
        "  - name: byid\n"
        "    path: /ids/u-{user_id}\n"
        "    access: [{groups: [staff], mode: ro}]\n";

#define LONG_64 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define LONG_256 LONG_64 LONG_64 LONG_64 LONG_64
#define T_BEFORE "2026-11-30T23:59:59Z"
#define T_START "2026-12-01T00:00:00Z"
#define T_INSIDE "2027-01-30T23:59:59Z"
#define T_END "2027-01-31T00:00:00Z"

struct scenario {
        const char *what;
        const char *user;
        const char *id;
        const char *groups;     /* comma-separated */
        const char *now;
        const char *expected;   /* every folder, sorted by name */
        const char *valid_until; /* NULL = none */
};

static const struct scenario scenarios[] = {
        { "nobody gets nothing", "u", "1", "", T_INSIDE,
          "byid=- chain-a=- chain-b=- chain-c=- home=- room=- wiki=-", NULL },
        { "compound all needs every group", "u", "1", "legal", T_INSIDE,
          "byid=- chain-a=- chain-b=- chain-c=- home=- room=- wiki=-", NULL },
        { "compound all with every group", "u", "1", "legal,executive", T_INSIDE,
          "byid=- chain-a=- chain-b=- chain-c=- home=- room=rw wiki=-", NULL },
        { "deny scope all wins over rw", "u", "1", "legal,executive,interns", T_INSIDE,
          "byid=- chain-a=- chain-b=- chain-c=- home=- room=denied wiki=-", NULL },
        { "compound any: one group suffices", "u", "1", "temps", T_INSIDE,
          "byid=- chain-a=- chain-b=- chain-c=- home=- room=ro wiki=-", T_END },
        { "window is closed before not_before; valid until it opens", "u", "1", "contractors",
          T_BEFORE, "byid=- chain-a=- chain-b=- chain-c=- home=- room=- wiki=-", T_START },
        { "window opens at not_before", "u", "1", "contractors", T_START,
          "byid=- chain-a=- chain-b=- chain-c=- home=- room=ro wiki=-", T_END },
        { "window is half-open: closed at not_after", "u", "1", "contractors", T_END,
          "byid=- chain-a=- chain-b=- chain-c=- home=- room=- wiki=-", NULL },
        { "rw outranks ro; the ro window's end changes nothing", "u", "1",
          "legal,executive,contractors", T_INSIDE,
          "byid=- chain-a=- chain-b=- chain-c=- home=- room=rw wiki=-", NULL },
        { "highest allowed mode; write deny caps at ro", "u", "1", "staff,editors,readonly",
          T_INSIDE, "byid=ro chain-a=- chain-b=- chain-c=- home=rw room=- wiki=ro", NULL },
        { "editors write the wiki", "u", "1", "staff,editors", T_INSIDE,
          "byid=ro chain-a=- chain-b=- chain-c=- home=rw room=- wiki=rw", NULL },
        { "implies chain: rw through max rw, then capped by default max ro", "u", "1", "chain",
          T_INSIDE, "byid=- chain-a=rw chain-b=rw chain-c=ro home=- room=- wiki=-", NULL },
        { "implies never exceeds the source's mode", "u", "1", "chain-ro", T_INSIDE,
          "byid=- chain-a=ro chain-b=ro chain-c=ro home=- room=- wiki=-", NULL },
        { "deny on a derived folder wins and stops the chain", "u", "1", "chain,block-b", T_INSIDE,
          "byid=- chain-a=rw chain-b=denied chain-c=- home=- room=- wiki=-", NULL },
        { "write deny caps a derived grant, and what it implies", "u", "1", "chain,cap-b", T_INSIDE,
          "byid=- chain-a=rw chain-b=ro chain-c=ro home=- room=- wiki=-", NULL },
        { "a deny alone grants nothing", "u", "1", "block-b,cap-b,interns", T_INSIDE,
          "byid=- chain-a=- chain-b=denied chain-c=- home=- room=denied wiki=-", NULL },
        { "unsafe user name refuses only folders that use it", "..", "1", "staff", T_INSIDE,
          "byid=ro chain-a=- chain-b=- chain-c=- home=refused room=- wiki=ro", NULL },
        { "user name with a slash", "a/b", "1", "staff", T_INSIDE,
          "byid=ro chain-a=- chain-b=- chain-c=- home=refused room=- wiki=ro", NULL },
        { "user name of 256 bytes", LONG_256, "1", "staff", T_INSIDE,
          "byid=ro chain-a=- chain-b=- chain-c=- home=refused room=- wiki=ro", NULL },
        { "e-mail style user name (Kasm's default accounts)", "user+test@kasm.local", "1", "staff",
          T_INSIDE, "byid=ro chain-a=- chain-b=- chain-c=- home=rw room=- wiki=ro", NULL },
        { "non-ASCII user name", "j\xc3\xbcrgen", "1", "staff", T_INSIDE,
          "byid=ro chain-a=- chain-b=- chain-c=- home=rw room=- wiki=ro", NULL },
        { "user name with ':' (Docker's volume separator)", "a:b", "1", "staff", T_INSIDE,
          "byid=ro chain-a=- chain-b=- chain-c=- home=refused room=- wiki=ro", NULL },
        { "user name with a space", "a b", "1", "staff", T_INSIDE,
          "byid=ro chain-a=- chain-b=- chain-c=- home=refused room=- wiki=ro", NULL },
        { "user name with invalid UTF-8", "a\xff", "1", "staff", T_INSIDE,
          "byid=ro chain-a=- chain-b=- chain-c=- home=refused room=- wiki=ro", NULL },
        { "user id '.'", "alice", ".", "staff", T_INSIDE,
          "byid=refused chain-a=- chain-b=- chain-c=- home=rw room=- wiki=ro", NULL },
        { "empty user id", "alice", "", "staff", T_INSIDE,
          "byid=refused chain-a=- chain-b=- chain-c=- home=rw room=- wiki=ro", NULL },
        { "64 characters and dots inside are fine",
          "a.b_c-0123456789012345678901234567890123456789012345678901234567", "..x", "staff",
          T_INSIDE, "byid=ro chain-a=- chain-b=- chain-c=- home=rw room=- wiki=ro", NULL },
};

static struct vs_policy *load_policy(void)
{
        struct vs_diags diags = { 0 };
        struct vs_policy *policy = NULL;
        int r = vs_policy_parse("p.yaml", policy_yaml, strlen(policy_yaml), &policy, &diags);
        for (size_t i = 0; i < diags.count; i++)
                print_message("%u:%u: %s\n", diags.items[i].line, diags.items[i].column,
                              diags.items[i].message);
        assert_int_equal(r, 0);
        return policy;
}

static struct vs_decision *decide(const struct vs_policy *policy, const char *user, const char *id,
                                  const char *groups_csv, const char *now_text)
{
        char *copy = strdup(groups_csv), *save = NULL;
        const char *groups[16];
        size_t n = 0;
        for (char *g = strtok_r(copy, ",", &save); g && n < 16; g = strtok_r(NULL, ",", &save))
                groups[n++] = g;
        int64_t now;
        assert_int_equal(vs_rfc3339_parse(now_text, &now), 0);
        struct vs_request request = {
                .user_name = user, .user_id = id, .groups = groups, .n_groups = n, .now = now
        };
        struct vs_decision *d = NULL;
        assert_int_equal(vs_policy_decide(policy, &request, &d), 0);
        free(copy);
        return d;
}

static void test_scenarios(void **state)
{
        struct vs_policy *policy = load_policy();
        for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
                const struct scenario *s = &scenarios[i];
                struct vs_decision *d = decide(policy, s->user, s->id, s->groups, s->now);
                char got[512] = "", until[VS_TIME_BUF] = "";
                for (size_t f = 0; f < d->n_folders; f++) {
                        char item[96];
                        snprintf(item, sizeof(item), "%s%s=%s", f ? " " : "",
                                 d->folders[f].folder->name,
                                 vs_folder_decision_cell(&d->folders[f]));
                        strncat(got, item, sizeof(got) - strlen(got) - 1);
                }
                if (strcmp(got, s->expected) != 0)
                        fail_msg("%s\n  got:      %s\n  expected: %s", s->what, got, s->expected);
                if (d->valid_until != VS_TIME_NONE)
                        vs_time_format(d->valid_until, until);
                if (strcmp(until, s->valid_until ? s->valid_until : "") != 0)
                        fail_msg("%s: valid_until %s, expected %s", s->what, until,
                                 s->valid_until ? s->valid_until : "none");
                vs_decision_free(d);
        }
        vs_policy_free(policy);
}

/* Explanations name the deciding rules and why the others did not apply. */
static void test_verdict_reasons(void **state)
{
        struct vs_policy *policy = load_policy();
        struct vs_decision *d = decide(policy, "u", "1", "legal,contractors", T_END);
        const struct vs_folder_decision *room = NULL;
        for (size_t f = 0; f < d->n_folders; f++)
                if (strcmp(d->folders[f].folder->name, "room") == 0)
                        room = &d->folders[f];
        assert_non_null(room);
        assert_int_equal(room->status, VS_FOLDER_NO_MATCH);
        assert_int_equal(room->n_verdicts, 3);
        static const char *expected[] = {
                "missing groups: [executive]",
                "expired 2027-01-31T00:00:00Z",
                "none of [interns] present",
        };
        for (size_t i = 0; i < 3; i++) {
                char *reason = vs_rule_verdict_reason(&room->verdicts[i]);
                assert_string_equal(reason, expected[i]);
                assert_false(room->verdicts[i].deciding);
                free(reason);
        }
        char *label = vs_rule_label(room->folder, room->verdicts[1].rule);
        assert_string_equal(label, "room#access[1]");
        free(label);
        vs_decision_free(d);

        d = decide(policy, "u", "1", "temps", T_BEFORE);
        for (size_t f = 0; f < d->n_folders; f++)
                if (strcmp(d->folders[f].folder->name, "room") == 0) {
                        char *reason = vs_rule_verdict_reason(&d->folders[f].verdicts[1]);
                        assert_string_equal(reason, "not valid until 2026-12-01T00:00:00Z");
                        free(reason);
                }
        vs_decision_free(d);
        vs_policy_free(policy);
}

static void test_substitution(void **state)
{
        char *out = NULL;
        const char *why = NULL;
        assert_int_equal(
                vs_policy_substitute("/users/{username}/x-{user_id}", "alice", "42", &out, &why),
                0);
        assert_string_equal(out, "/users/alice/x-42");
        free(out);
        out = NULL;
        assert_int_equal(vs_policy_substitute("/shared", "..", NULL, &out, &why), 0);
        assert_string_equal(out, "/shared");
        free(out);
        out = NULL;
        assert_int_equal(vs_policy_substitute("/users/{username}", "..", "1", &out, &why), -EINVAL);
        assert_null(out);
        assert_non_null(strstr(why, "{username}"));
        assert_int_equal(vs_policy_substitute("/users/{user_id}", "alice", "a b", &out, &why),
                         -EINVAL);
        assert_non_null(strstr(why, "{user_id}"));
        assert_int_equal(vs_policy_substitute("/u/{username}", "...", "1", &out, &why), 0);
        assert_string_equal(out, "/u/...");
        free(out);
        out = NULL;
        assert_int_equal(vs_policy_substitute("/u/{username}", "x\n", "1", &out, &why), -EINVAL);
        assert_int_equal(vs_policy_substitute("/u/{username}", "", "1", &out, &why), -EINVAL);
        assert_null(out);
}

/* Host paths that meet after substitution: the later folder is refused, not overwritten. */
static void test_shared_source(void **state)
{
        static const char yaml[] =
                "folders:\n"
                "  - {name: a, path: '/u/{username}', access: [{groups: [x], mode: rw}]}\n"
                "  - {name: b, path: /u/alice, access: [{groups: [x], mode: rw}]}\n";
        struct vs_diags diags = { 0 };
        struct vs_policy *policy = NULL;
        assert_int_equal(vs_policy_parse("p.yaml", yaml, strlen(yaml), &policy, &diags), 0);
        struct vs_decision *d = decide(policy, "alice", "1", "x", T_INSIDE);
        assert_int_equal(d->folders[0].status, VS_FOLDER_MOUNTED);
        assert_int_equal(d->folders[1].status, VS_FOLDER_REFUSED);
        assert_string_equal(d->folders[1].refusal,
                            "host path /u/alice is already mounted as folder \"a\"");
        assert_int_equal(d->n_refused, 1);
        assert_int_equal(d->n_mounted, 1);
        vs_decision_free(d);
        d = decide(policy, "bob", "1", "x", T_INSIDE);
        assert_int_equal(d->n_mounted, 2);
        vs_decision_free(d);
        vs_policy_free(policy);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_scenarios),
                cmocka_unit_test(test_verdict_reasons),
                cmocka_unit_test(test_substitution),
                cmocka_unit_test(test_shared_source),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
