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
#include "json-stream.h"

json_t *class_folders(const struct vs_policy *policy, const struct vp_class *c)
{
        json_t *folders = json_object();
        for (size_t f = 0; folders && f < policy->n_folders; f++)
                if (c->modes[f] != VS_MODE_NONE)
                        json_object_set_new(folders, policy->folders[f].name,
                                            json_string(vs_mode_to_string(c->modes[f])));
        return folders;
}

json_t *class_json(const struct vs_policy *policy, const struct vp_class *c)
{
        return json_pack("{s:s, s:o, s:o}", "group", c->name, "folders", class_folders(policy, c),
                         "volume_mapping", vp_class_volume_mapping(policy, c));
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

/* The document print_json would print, written class by class and member by member. */
static int stream_json(const struct vs_policy *policy, const struct vs_users *users,
                       const struct vp_plan *plan, int64_t at, json_t *refused)
{
        struct json_stream s;
        json_stream_init(&s, stdout);
        json_stream_begin(&s, '{');
        json_stream_key(&s, "at");
        json_stream_value(&s, vp_json_time(at));
        json_stream_key(&s, "classes");
        json_stream_begin(&s, '[');
        for (size_t c = 0; c < plan->n_classes && !s.failed; c++) {
                json_t *item = class_json(policy, &plan->classes[c]);
                json_object_set_new(item, "members",
                                    json_integer((json_int_t)plan->classes[c].members));
                json_stream_value(&s, item);
        }
        json_stream_end(&s, ']');
        json_stream_key(&s, "members");
        json_stream_begin(&s, '[');
        for (size_t u = 0; u < users->count && !s.failed; u++)
                json_stream_value(&s, json_pack("{s:s, s:s, s:s, s:o}", "user",
                                                users->items[u].name, "id", users->items[u].id,
                                                "group", plan->classes[plan->initial[u]].name,
                                                "valid_until", vp_json_time(plan->valid_until[u])));
        json_stream_end(&s, ']');
        json_stream_key(&s, "refused");
        json_stream_value(&s, json_incref(refused));
        json_stream_end(&s, '}');
        return json_stream_finish(&s);
}

int run_classes(const struct vs_policy *policy, const struct vs_users *users, int64_t at,
                const char *format)
{
        struct vp_plan plan;
        size_t refused = 0;
        json_t *list = json_array();
        int r = list ? vp_plan_build(policy, users, at, VS_TIME_NONE, &plan) : -ENOMEM;
        if (r < 0) {
                json_decref(list);
                return r;
        }
        r = report_refusals_at(policy, users, plan.refusable, at, list, &refused);
        if (r == 0)
                r = strcmp(format, "csv") == 0 ? print_csv(&plan, users)
                                               : stream_json(policy, users, &plan, at, list);
        json_decref(list);
        vp_plan_clear(&plan);
        if (r < 0)
                return r;
        return refused ? EXIT_PARTIAL : EXIT_OK;
}
