/* SPDX-License-Identifier: MIT */
/*
 * A refused folder, told the same way by every command that decides (resolve, explain,
 * matrix, classes, schedule, kasm-native): one line on stderr with the user, the folder and
 * vs_policy_decide's reason, and exit status 3.  The planning commands evaluate compiled
 * modes; for the few users a folder may be refused to they ask vs_policy_decide itself, so
 * the reason is word for word the one resolve gives.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/evaluate.h"
#include "vault-policy.h"

void report_refusal(const char *user, const char *folder, const char *reason)
{
        fprintf(stderr, "vault-policy: user \"%s\": folder \"%s\" refused: %s\n", user, folder,
                reason);
}

size_t report_decision_refusals(const struct vs_decision *d, json_t *list)
{
        size_t n = 0;
        for (size_t f = 0; f < d->n_folders; f++) {
                const struct vs_folder_decision *fd = &d->folders[f];
                if (fd->status != VS_FOLDER_REFUSED)
                        continue;
                report_refusal(d->user_name, fd->folder->name, fd->refusal);
                if (list)
                        json_array_append_new(list, json_pack("{s:s, s:s, s:s}", "user",
                                                              d->user_name, "folder",
                                                              fd->folder->name, "reason",
                                                              fd->refusal));
                n++;
        }
        return n;
}

int report_user_refusals(const struct vs_policy *policy, const struct vs_user *user, int64_t at,
                         json_t *list, size_t *count)
{
        struct vs_request request = {
                .user_name = user->name,
                .user_id = user->id,
                .groups = (const char *const *)user->groups,
                .n_groups = user->n_groups,
                .now = at,
        };
        struct vs_decision *d;
        int r = vs_policy_decide(policy, &request, &d);
        if (r < 0)
                return r;
        *count += report_decision_refusals(d, list);
        vs_decision_free(d);
        return 0;
}

int report_refusals_at(const struct vs_policy *policy, const struct vs_users *users,
                       const uint8_t *refusable, int64_t at, json_t *list, size_t *count)
{
        struct vp_compiled *c = NULL;
        int r = refusable ? 0 : vp_compile(policy, &c);
        for (size_t u = 0; r == 0 && u < users->count; u++) {
                const struct vs_user *user = &users->items[u];
                bool maybe = refusable && refusable[u];
                if (!refusable) {
                        struct vp_refusals refusals;
                        if ((r = vp_refusals_for(c, user->name, user->id, &refusals)) < 0)
                                break;
                        maybe = refusals.any;
                        vp_refusals_clear(&refusals);
                }
                if (maybe)
                        r = report_user_refusals(policy, user, at, list, count);
        }
        vp_compiled_free(c);
        return r;
}
