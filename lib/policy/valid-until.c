/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>

#include "policy/evaluate.h"

/* Candidates are the bounds of the windows of rules the user's groups match; the decision can
 * change at no other instant, and need not change at these (another rule may decide), so each
 * candidate is evaluated and compared. */
int vp_set_valid_until(const struct vs_policy *policy, const struct vs_request *request, struct vs_decision *d)
{
        struct vp_compiled *c = NULL;
        struct vp_refusals refusals = { 0 };
        size_t nf = policy->n_folders;
        uint8_t *match = NULL, *base = NULL, *cur = NULL;
        int64_t *times = NULL;
        int r = vp_compile(policy, &c);
        if (r < 0)
                return r;
        r = -ENOMEM;
        match = calloc(c->n_rules + 1, 1);
        base = calloc(nf + 1, 1);
        cur = calloc(nf + 1, 1);
        if (!match || !base || !cur)
                goto out;
        if ((r = vp_refusals_for(c, request->user_name, request->user_id, &refusals)) < 0)
                goto out;
        vp_match_rules(c, request->groups, request->n_groups, match);
        ssize_t n = vp_boundaries(c, match, request->now, VS_TIME_NONE, &times, 0);
        if (n < 0) {
                r = (int)n;
                goto out;
        }
        vp_evaluate(c, match, request->now, base);
        vp_apply_refusals(c, &refusals, base);
        size_t open = nf;
        for (ssize_t i = 0; i < n && open > 0; i++) {
                vp_evaluate(c, match, times[i], cur);
                vp_apply_refusals(c, &refusals, cur);
                for (size_t f = 0; f < nf; f++) {
                        struct vs_folder_decision *fd = &d->folders[f];
                        if (fd->valid_until != VS_TIME_NONE || cur[f] == base[f])
                                continue;
                        fd->valid_until = times[i];
                        open--;
                        if (d->valid_until == VS_TIME_NONE)
                                d->valid_until = times[i];
                }
        }
        r = 0;
out:
        free(times);
        free(match);
        free(base);
        free(cur);
        vp_refusals_clear(&refusals);
        vp_compiled_free(c);
        return r;
}
