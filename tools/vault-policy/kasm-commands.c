/* SPDX-License-Identifier: MIT */
/* The commands that plan Kasm for a whole users file: classes, schedule, kasm-native. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vault-policy.h"

bool kasm_command(const char *command)
{
        return strcmp(command, "classes") == 0 || strcmp(command, "schedule") == 0 ||
               strcmp(command, "kasm-native") == 0;
}

int run_kasm_command(const char *command, const struct options *o)
{
        struct vs_users users;
        int64_t at = 0, from = 0, to = 0;
        const char *format = o->format ? o->format : "json";
        int status;

        if (!o->users)
                return usage_error("%s", "--users USERS.yaml is required");
        if (strcmp(command, "schedule") == 0) {
                if (option_time("--from", o->from, true, &from) < 0 ||
                    option_time("--to", o->to, true, &to) < 0)
                        return EXIT_USAGE;
                if (to <= from)
                        return usage_error("--to must be later than --from (%s)", o->from);
        } else if (option_time("--at", o->at, false, &at) < 0) {
                return EXIT_USAGE;
        }
        if (strcmp(format, "json") != 0 && strcmp(format, "csv") != 0)
                return usage_error("--format must be json or csv, got \"%s\"", format);
        struct vs_policy *policy;
        if (load_policy_and_users(o->policy, o->users, &policy, &users) < 0)
                return EXIT_INVALID;
        if (strcmp(command, "classes") == 0)
                status = run_classes(policy, &users, at, format);
        else if (strcmp(command, "schedule") == 0)
                status = run_schedule(policy, &users, from, to, o->json);
        else
                status = run_kasm_native(policy, &users, at, o->orgs);
        if (status < 0) {
                fprintf(stderr, "vault-policy: %s: %s\n", command, strerror(-status));
                status = status == -EINVAL ? EXIT_USAGE : EXIT_INVALID;
        }
        vs_users_clear(&users);
        vs_policy_free(policy);
        return status;
}
