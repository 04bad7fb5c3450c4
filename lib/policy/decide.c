/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/evaluate.h"
#include "policy/policy-internal.h"

static enum vs_mode mode_min(enum vs_mode a, enum vs_mode b)
{
        return a < b ? a : b;
}

static enum vs_mode mode_max(enum vs_mode a, enum vs_mode b)
{
        return a > b ? a : b;
}

static int judge_rule(const struct vs_policy_rule *rule, const struct vs_request *request,
                      struct vs_rule_verdict *verdict)
{
        *verdict = (struct vs_rule_verdict){ .rule = rule };
        if (!vs_rule_groups_match(rule, request->groups, request->n_groups)) {
                if (rule->compound == VS_COMPOUND_ANY) {
                        verdict->outcome = VS_RULE_NO_GROUP;
                        return 0;
                }
                verdict->outcome = VS_RULE_GROUPS_MISSING;
                verdict->missing = calloc(rule->n_groups, sizeof(*verdict->missing));
                if (!verdict->missing)
                        return -ENOMEM;
                for (size_t i = 0; i < rule->n_groups; i++)
                        if (!vp_has_group(request->groups, request->n_groups, rule->groups[i].name))
                                verdict->missing[verdict->n_missing++] = rule->groups[i].name;
                return 0;
        }
        if (rule->not_before != VS_TIME_NONE && request->now < rule->not_before)
                verdict->outcome = VS_RULE_NOT_YET_VALID;
        else if (rule->not_after != VS_TIME_NONE && request->now >= rule->not_after)
                verdict->outcome = VS_RULE_EXPIRED;
        else
                verdict->outcome = VS_RULE_APPLIES;
        return 0;
}

/* Decide one folder once every folder implying it has been decided. */
static void decide_folder(struct vs_folder_decision *fd, const struct vs_request *request)
{
        enum vs_mode own = VS_MODE_NONE, derived = VS_MODE_NONE;
        bool deny_all = false, deny_write = false;

        for (size_t i = 0; i < fd->n_verdicts; i++) {
                const struct vs_rule_verdict *v = &fd->verdicts[i];
                if (v->outcome == VS_RULE_GROUPS_MISSING || v->outcome == VS_RULE_NO_GROUP)
                        continue;
                if (v->outcome != VS_RULE_APPLIES)
                        continue;
                if (v->rule->effect == VS_EFFECT_DENY) {
                        if (v->rule->scope == VS_SCOPE_ALL)
                                deny_all = true;
                        else
                                deny_write = true;
                } else {
                        own = mode_max(own, v->rule->mode);
                }
        }
        for (size_t i = 0; i < fd->n_derivations; i++)
                derived = mode_max(derived, fd->derivations[i].granted);

        enum vs_mode granted = mode_max(own, derived);
        if (deny_all) {
                fd->status = VS_FOLDER_DENIED;
        } else if (granted == VS_MODE_NONE) {
                fd->status = VS_FOLDER_NO_MATCH;
        } else {
                fd->status = VS_FOLDER_MOUNTED;
                fd->mode = deny_write ? mode_min(granted, VS_MODE_RO) : granted;
                fd->write_capped = fd->mode < granted;
        }

        for (size_t i = 0; i < fd->n_verdicts; i++) {
                struct vs_rule_verdict *v = &fd->verdicts[i];
                if (v->outcome != VS_RULE_APPLIES)
                        continue;
                if (v->rule->effect == VS_EFFECT_DENY)
                        v->deciding = v->rule->scope == VS_SCOPE_ALL
                                              ? deny_all
                                              : fd->write_capped && !deny_all;
                else
                        v->deciding = !deny_all && v->rule->mode == granted;
        }
        for (size_t i = 0; i < fd->n_derivations; i++)
                fd->derivations[i].deciding = !deny_all && granted != VS_MODE_NONE &&
                                              fd->derivations[i].granted == granted;
}

static char *printable_copy(const char *s)
{
        char *copy = strdup(s);
        for (char *p = copy; p && *p; p++)
                if ((unsigned char)*p < 0x20 || *p == 0x7f)
                        *p = '?';
        return copy;
}

static int substitute_folder(const struct vs_policy *policy, struct vs_folder_decision *fd,
                             const struct vs_request *request, size_t *n_refused)
{
        const char *why = NULL;
        if (asprintf(&fd->target, "%s/%s", policy->vault, fd->folder->name) < 0) {
                fd->target = NULL;
                return -ENOMEM;
        }
        if (fd->status != VS_FOLDER_MOUNTED)
                return 0;
        int r = vs_policy_substitute(fd->folder->path, request->user_name, request->user_id,
                                     &fd->source, &why);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                bool name = strstr(why, "{username}") == why;
                char *value = printable_copy(name ? request->user_name ? request->user_name : ""
                                                  : request->user_id ? request->user_id : "");
                char buf[VS_USER_TOKEN_WHY];
                const char *problem =
                        vs_user_token_problem(name ? request->user_name ? request->user_name : ""
                                              : request->user_id ? request->user_id
                                                                 : "",
                                              buf);
                if (!value || asprintf(&fd->refusal, "%s; got \"%s\": %s", why, value,
                                       problem ? problem : "?") < 0) {
                        free(value);
                        fd->refusal = NULL;
                        return -ENOMEM;
                }
                free(value);
                fd->status = VS_FOLDER_REFUSED;
                (*n_refused)++;
        }
        return 0;
}

/* A mounted folder refused after substitution: its reason replaces its source. */
static int refuse_mounted(struct vs_decision *d, struct vs_folder_decision *fd, const char *fmt,
                          ...) __attribute__((format(printf, 3, 4)));

static int refuse_mounted(struct vs_decision *d, struct vs_folder_decision *fd, const char *fmt,
                          ...)
{
        va_list ap;
        va_start(ap, fmt);
        int n = vasprintf(&fd->refusal, fmt, ap);
        va_end(ap);
        if (n < 0) {
                fd->refusal = NULL;
                return -ENOMEM;
        }
        free(fd->source);
        fd->source = NULL;
        fd->status = VS_FOLDER_REFUSED;
        d->n_refused++;
        return 0;
}

/* Two templates can meet after substitution (/u/{username} and /u/alice for alice); Kasm and
 * Docker key mounts by host path, so the later folder (by name) is refused, not overwritten. */
static int refuse_shared_source(struct vs_decision *d, size_t f)
{
        struct vs_folder_decision *fd = &d->folders[f];
        if (fd->status != VS_FOLDER_MOUNTED)
                return 0;
        for (size_t g = 0; g < f; g++) {
                const struct vs_folder_decision *other = &d->folders[g];
                if (other->status != VS_FOLDER_MOUNTED || strcmp(other->source, fd->source) != 0)
                        continue;
                return refuse_mounted(d, fd, "host path %s is already mounted as folder \"%s\"",
                                      fd->source, other->folder->name);
        }
        return 0;
}

static enum vs_mode mounted_mode(const struct vs_folder_decision *fd)
{
        return fd->status == VS_FOLDER_MOUNTED ? fd->mode : VS_MODE_NONE;
}

static const char *decision_words(const struct vs_folder_decision *fd)
{
        if (fd->status == VS_FOLDER_MOUNTED)
                return fd->mode == VS_MODE_RW ? "rw" : "only ro";
        return fd->status == VS_FOLDER_DENIED ? "DENIED" : "no access";
}

/* The folder (index + 1) whose substituted host path lies inside f's and which the user gets
 * less of than f, or 0.  Only a template can make two paths nest for one user alone
 * (/data/{user_id} and /data/{username}/private when a name equals an id); literal pairs and
 * a template with a literal were checked for every user when the policy loaded (nesting.c). */
static size_t exposed_inner(const struct vs_decision *d, char *const *paths, size_t f)
{
        const struct vs_folder_decision *outer = &d->folders[f];
        bool outer_templated = strchr(outer->folder->path, '{') != NULL;
        if (outer->status != VS_FOLDER_MOUNTED || !paths[f])
                return 0;
        for (size_t i = 0; i < d->n_folders; i++) {
                const struct vs_folder_decision *inner = &d->folders[i];
                if (i == f || !paths[i] || inner->status == VS_FOLDER_REFUSED)
                        continue;
                if (vp_path_inside(paths[i], paths[f]) && mounted_mode(inner) < outer->mode &&
                    (outer_templated || strchr(inner->folder->path, '{')))
                        return i + 1;
        }
        return 0;
}

/* Per user, after substitution: a folder whose host path holds the files of a folder the user
 * gets less of is refused (mounting it would hand those files over with its mode).  Decided
 * on the statuses before host paths that meet are refused, as vp_apply_refusals does. */
static int find_nested_refusals(const struct vs_decision *d, const struct vs_request *request,
                                size_t *exposed)
{
        size_t n = d->n_folders;
        char **paths = calloc(n + 1, sizeof(*paths));
        int r = paths ? 0 : -ENOMEM;
        for (size_t f = 0; r == 0 && f < n; f++) {
                const char *why;
                if (d->folders[f].status == VS_FOLDER_REFUSED)
                        continue;
                r = vs_policy_substitute(d->folders[f].folder->path, request->user_name,
                                         request->user_id, &paths[f], &why);
                r = r == -ENOMEM ? r : 0;
        }
        for (size_t f = 0; r == 0 && f < n; f++)
                exposed[f] = exposed_inner(d, paths, f);
        for (size_t f = 0; paths && f < n; f++)
                free(paths[f]);
        free(paths);
        return r;
}

static int refuse_nested(struct vs_decision *d, size_t f, size_t inner_index)
{
        struct vs_folder_decision *fd = &d->folders[f];
        const struct vs_folder_decision *inner = &d->folders[inner_index];
        if (fd->status != VS_FOLDER_MOUNTED)
                return 0;
        return refuse_mounted(
                d, fd,
                "host path %s (from %s) holds the files of folder \"%s\" (host path "
                "%s), which this user gets %s: mounting it would make them reachable %s",
                fd->source, fd->folder->path, inner->folder->name, inner->folder->path,
                decision_words(inner), vs_mode_to_string(fd->mode));
}

static const char *personal_folder(const struct vs_policy *policy, const struct vs_decision *d)
{
        bool marked = false;
        for (size_t i = 0; i < policy->n_folders; i++)
                marked |= policy->folders[i].personal;
        for (size_t i = 0; i < d->n_folders; i++) {
                const struct vs_folder_decision *fd = &d->folders[i];
                bool candidate =
                        marked ? fd->folder->personal : strcmp(fd->folder->name, "personal") == 0;
                if (candidate && fd->status == VS_FOLDER_MOUNTED && fd->mode == VS_MODE_RW)
                        return fd->folder->name;
        }
        return NULL;
}

int vs_policy_decide(const struct vs_policy *policy, const struct vs_request *request,
                     struct vs_decision **ret)
{
        return vp_decide(policy, request, true, ret);
}

int vp_decide(const struct vs_policy *policy, const struct vs_request *request,
              bool refuse_nested_paths, struct vs_decision **ret)
{
        size_t n = policy->n_folders;
        struct vs_decision *d = calloc(1, sizeof(*d));
        size_t *pending = calloc(n ? n : 1, sizeof(*pending)); /* undecided sources per folder */
        size_t *queue = calloc(n ? n : 1, sizeof(*queue));
        size_t *exposed = calloc(n ? n : 1, sizeof(*exposed)); /* per folder: inner index + 1 */
        int r = -ENOMEM;

        if (!d || !pending || !queue || !exposed)
                goto fail;
        d->now = request->now;
        d->valid_until = VS_TIME_NONE;
        d->user_name = strdup(request->user_name ? request->user_name : "");
        d->user_id = strdup(request->user_id ? request->user_id : "");
        d->folders = calloc(n ? n : 1, sizeof(*d->folders));
        d->groups = calloc(request->n_groups + 1, sizeof(*d->groups));
        if (!d->user_name || !d->user_id || !d->folders || !d->groups)
                goto fail;
        for (; d->n_groups < request->n_groups; d->n_groups++)
                if (!(d->groups[d->n_groups] = strdup(request->groups[d->n_groups])))
                        goto fail;
        if (request->groups_file && request->group_marks) {
                d->groups_file = strdup(request->groups_file);
                d->group_marks = calloc(d->n_groups + 1, sizeof(*d->group_marks));
                if (!d->groups_file || !d->group_marks)
                        goto fail;
                memcpy(d->group_marks, request->group_marks, d->n_groups * sizeof(*d->group_marks));
        }
        d->n_folders = n;

        for (size_t f = 0; f < n; f++) {
                struct vs_folder_decision *fd = &d->folders[f];
                fd->folder = &policy->folders[f];
                fd->valid_until = VS_TIME_NONE;
                fd->verdicts = calloc(fd->folder->n_rules ? fd->folder->n_rules : 1,
                                      sizeof(*fd->verdicts));
                if (!fd->verdicts)
                        goto fail;
                for (size_t i = 0; i < fd->folder->n_rules; i++) {
                        if (judge_rule(&fd->folder->rules[i], request, &fd->verdicts[i]) < 0)
                                goto fail;
                        fd->n_verdicts++;
                }
                for (size_t i = 0; i < fd->folder->n_implies; i++)
                        pending[fd->folder->implies[i].target]++;
        }
        for (size_t f = 0; f < n; f++) {
                d->folders[f].derivations =
                        calloc(pending[f] ? pending[f] : 1, sizeof(struct vs_derivation));
                if (!d->folders[f].derivations)
                        goto fail;
        }

        /* Kahn's order over the implies graph (acyclic after validation): sources first. */
        size_t head = 0, tail = 0;
        for (size_t f = 0; f < n; f++)
                if (pending[f] == 0)
                        queue[tail++] = f;
        while (head < tail) {
                size_t f = queue[head++];
                struct vs_folder_decision *fd = &d->folders[f];
                decide_folder(fd, request);
                enum vs_mode source_mode =
                        fd->status == VS_FOLDER_MOUNTED ? fd->mode : VS_MODE_NONE;
                for (size_t i = 0; i < fd->folder->n_implies; i++) {
                        const struct vs_policy_implies *implies = &fd->folder->implies[i];
                        struct vs_folder_decision *target = &d->folders[implies->target];
                        target->derivations[target->n_derivations++] = (struct vs_derivation){
                                .source = fd->folder,
                                .implies = implies,
                                .source_mode = source_mode,
                                .granted = mode_min(source_mode, implies->max_mode),
                        };
                        if (--pending[implies->target] == 0)
                                queue[tail++] = implies->target;
                }
        }

        for (size_t f = 0; f < n; f++)
                if (substitute_folder(policy, &d->folders[f], request, &d->n_refused) < 0)
                        goto fail;
        if (refuse_nested_paths && find_nested_refusals(d, request, exposed) < 0)
                goto fail;
        for (size_t f = 0; f < n; f++)
                if (refuse_shared_source(d, f) < 0)
                        goto fail;
        for (size_t f = 0; f < n; f++) {
                if (exposed[f] && refuse_nested(d, f, exposed[f] - 1) < 0)
                        goto fail;
                if (d->folders[f].status == VS_FOLDER_MOUNTED)
                        d->n_mounted++;
        }
        d->personal = personal_folder(policy, d);
        if (vp_set_valid_until(policy, request, d) < 0)
                goto fail;

        free(pending);
        free(queue);
        free(exposed);
        *ret = d;
        return 0;
fail:
        free(pending);
        free(queue);
        free(exposed);
        vs_decision_free(d);
        return r;
}

void vs_decision_free(struct vs_decision *d)
{
        if (!d)
                return;
        for (size_t f = 0; f < d->n_folders; f++) {
                struct vs_folder_decision *fd = &d->folders[f];
                for (size_t i = 0; i < fd->n_verdicts; i++)
                        free(fd->verdicts[i].missing);
                free(fd->verdicts);
                free(fd->derivations);
                free(fd->source);
                free(fd->target);
                free(fd->refusal);
        }
        free(d->folders);
        for (size_t g = 0; g < d->n_groups; g++)
                free(d->groups[g]);
        free(d->groups);
        free(d->groups_file);
        free(d->group_marks);
        free(d->user_name);
        free(d->user_id);
        free(d);
}
