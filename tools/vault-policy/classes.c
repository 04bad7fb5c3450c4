/* SPDX-License-Identifier: MIT */
/*
 * vault-policy classes: the users partitioned into access classes at one instant, each a
 * Kasm group with its Group Setting volume_mapping, and who belongs where (JSON or CSV).
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/names.h"
#include "policy/classes.h"
#include "policy/json-time.h"
#include "policy/kasm-mapping.h"
#include "vault-policy.h"
#include "classes-output.h"

json_t *class_folders(const struct vs_policy *policy, const struct vp_class *c)
{
        json_t *folders = json_object();
        for (size_t f = 0; folders && f < policy->n_folders; f++)
                if (c->modes[f] != VS_MODE_NONE)
                        json_object_set_new(folders, policy->folders[f].name, json_string(vs_mode_to_string(c->modes[f])));
        return folders;
}

json_t *class_json(const struct vs_policy *policy, const struct vp_class *c)
{
        return json_pack("{s:s, s:o, s:o}", "group", c->name, "folders", class_folders(policy, c), "volume_mapping",
                         vp_class_volume_mapping(policy, c));
}

/* A CSV field, quoted when it must be (RFC 4180). */
static void put_csv(const char *s, bool last)
{
        if (strpbrk(s, ",\"\r\n")) {
                putchar('"');
                for (; *s; s++) {
                        if (*s == '"')
                                putchar('"');
                        putchar(*s);
                }
                putchar('"');
        } else {
                fputs(s, stdout);
        }
        putchar(last ? '\n' : ',');
}

static int print_csv(const struct vp_plan *plan, const struct vs_users *users)
{
        puts("user,id,group,valid_until");
        for (size_t u = 0; u < users->count; u++) {
                char until[VS_TIME_BUF] = "";
                if (plan->valid_until[u] != VS_TIME_NONE)
                        vs_time_format(plan->valid_until[u], until);
                put_csv(users->items[u].name, false);
                put_csv(users->items[u].id, false);
                put_csv(plan->classes[plan->initial[u]].name, false);
                put_csv(until, true);
        }
        return fflush(stdout) == EOF ? -EIO : 0;
}

/* Every refused folder as {"user", "folder", "reason"}, each also told on stderr. */
static json_t *refusals_json(const struct vs_policy *policy, const struct vp_plan *plan, const struct vs_users *users)
{
        json_t *list = json_array();
        for (size_t u = 0; list && u < users->count; u++)
                for (size_t f = 0; plan->unsafe[u] && f < policy->n_folders; f++) {
                        char why[VS_USER_TOKEN_WHY];
                        const char *problem;
                        if (!plan->unsafe[u][f])
                                continue;
                        problem = vs_user_token_problem(users->items[u].name, why);
                        if (!problem)
                                problem = vs_user_token_problem(users->items[u].id, why);
                        fprintf(stderr, "vault-policy: user \"%s\": folder \"%s\" refused: %s\n", users->items[u].name,
                                policy->folders[f].name, problem ? problem : "unsafe substitution");
                        json_array_append_new(list, json_pack("{s:s, s:s, s:s}", "user", users->items[u].name,
                                                              "folder", policy->folders[f].name, "reason",
                                                              problem ? problem : "unsafe substitution"));
                }
        return list;
}

int run_classes(const struct vs_policy *policy, const struct vs_users *users, int64_t at, const char *format)
{
        struct vp_plan plan;
        int r = vp_plan_build(policy, users, at, VS_TIME_NONE, &plan);
        if (r < 0)
                return r;
        if (strcmp(format, "csv") == 0) {
                json_decref(refusals_json(policy, &plan, users));
                r = print_csv(&plan, users);
        } else {
                json_t *classes = json_array(), *members = json_array();
                for (size_t c = 0; c < plan.n_classes; c++) {
                        json_t *item = class_json(policy, &plan.classes[c]);
                        json_object_set_new(item, "members", json_integer((json_int_t)plan.classes[c].members));
                        json_array_append_new(classes, item);
                }
                for (size_t u = 0; u < users->count; u++)
                        json_array_append_new(members, json_pack("{s:s, s:s, s:s, s:o}", "user", users->items[u].name,
                                                                 "id", users->items[u].id, "group",
                                                                 plan.classes[plan.initial[u]].name, "valid_until",
                                                                 vp_json_time(plan.valid_until[u])));
                r = print_json(json_pack("{s:o, s:o, s:o, s:o}", "at", vp_json_time(at), "classes", classes,
                                         "members", members, "refused", refusals_json(policy, &plan, users)));
        }
        bool refused = false;
        for (size_t u = 0; u < users->count; u++)
                refused |= plan.unsafe[u] != NULL;
        vp_plan_clear(&plan);
        if (r < 0)
                return r;
        return refused ? EXIT_PARTIAL : EXIT_OK;
}
