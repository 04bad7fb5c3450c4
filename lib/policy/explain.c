/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/json-time.h"
#include "policy/policy-internal.h"

const char *vs_folder_status_name(enum vs_folder_status status)
{
        switch (status) {
        case VS_FOLDER_NO_MATCH:
                return "NO_MATCH";
        case VS_FOLDER_DENIED:
                return "DENIED";
        case VS_FOLDER_MOUNTED:
                return "MOUNTED";
        case VS_FOLDER_REFUSED:
                return "REFUSED";
        }
        return "?";
}

const char *vs_folder_decision_cell(const struct vs_folder_decision *fd)
{
        switch (fd->status) {
        case VS_FOLDER_MOUNTED:
                return vs_mode_to_string(fd->mode);
        case VS_FOLDER_DENIED:
                return "denied";
        case VS_FOLDER_REFUSED:
                return "refused";
        case VS_FOLDER_NO_MATCH:
                break;
        }
        return "-";
}

static const char *outcome_name(enum vs_rule_outcome outcome)
{
        switch (outcome) {
        case VS_RULE_APPLIES:
                return "applies";
        case VS_RULE_GROUPS_MISSING:
                return "missing_groups";
        case VS_RULE_NO_GROUP:
                return "no_group";
        case VS_RULE_NOT_YET_VALID:
                return "not_yet_valid";
        case VS_RULE_EXPIRED:
                return "expired";
        }
        return "?";
}

/* "[a, b]" from an array of strings reached through an accessor. */
static char *bracket_list(size_t n, const char *(*get)(const void *, size_t), const void *data)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
                return NULL;
        fputc('[', f);
        for (size_t i = 0; i < n; i++)
                fprintf(f, "%s%s", i ? ", " : "", get(data, i));
        fputc(']', f);
        if (fclose(f) != 0) {
                free(buf);
                return NULL;
        }
        return buf;
}

static const char *rule_group(const void *rule, size_t i)
{
        return ((const struct vs_policy_rule *)rule)->groups[i].name;
}

static const char *missing_group(const void *verdict, size_t i)
{
        return ((const struct vs_rule_verdict *)verdict)->missing[i];
}

char *vs_rule_verdict_reason(const struct vs_rule_verdict *verdict)
{
        const struct vs_policy_rule *rule = verdict->rule;
        char when[VS_TIME_BUF], *list = NULL, *out = NULL;
        int r = -1;

        switch (verdict->outcome) {
        case VS_RULE_APPLIES:
                if (rule->effect == VS_EFFECT_ALLOW)
                        r = asprintf(&out, "applies: grants %s", vs_mode_to_string(rule->mode));
                else if (rule->scope == VS_SCOPE_ALL)
                        r = asprintf(&out, "applies: denies all access");
                else
                        r = asprintf(&out, "applies: denies writing (caps at ro)");
                break;
        case VS_RULE_GROUPS_MISSING:
                list = bracket_list(verdict->n_missing, missing_group, verdict);
                if (list)
                        r = asprintf(&out, "missing groups: %s", list);
                break;
        case VS_RULE_NO_GROUP:
                list = bracket_list(rule->n_groups, rule_group, rule);
                if (list)
                        r = asprintf(&out, "none of %s present", list);
                break;
        case VS_RULE_NOT_YET_VALID:
                vs_time_format(rule->not_before, when);
                r = asprintf(&out, "not valid until %s", when);
                break;
        case VS_RULE_EXPIRED:
                vs_time_format(rule->not_after, when);
                r = asprintf(&out, "expired %s", when);
                break;
        }
        free(list);
        return r < 0 ? NULL : out;
}

char *vs_rule_label(const struct vs_policy_folder *folder, const struct vs_policy_rule *rule)
{
        char *out;
        return asprintf(&out, "%s#access[%zu]", folder->name, rule->index) < 0 ? NULL : out;
}

/* "allow rw for all of [legal, executive] from … until …" */
static char *rule_summary(const struct vs_policy_rule *rule)
{
        char *list = bracket_list(rule->n_groups, rule_group, rule), *out = NULL;
        char from[VS_TIME_BUF] = "", until[VS_TIME_BUF] = "";
        if (!list)
                return NULL;
        if (rule->not_before != VS_TIME_NONE)
                vs_time_format(rule->not_before, from);
        if (rule->not_after != VS_TIME_NONE)
                vs_time_format(rule->not_after, until);
        const char *what = rule->effect == VS_EFFECT_ALLOW
                ? (rule->mode == VS_MODE_RW ? "allow rw" : "allow ro")
                : (rule->scope == VS_SCOPE_ALL ? "deny" : "deny write");
        if (asprintf(&out, "%s for %s %s%s%s%s%s", what,
                     rule->compound == VS_COMPOUND_ALL ? "all of" : "any of", list,
                     *from ? " from " : "", from, *until ? " until " : "", until) < 0)
                out = NULL;
        free(list);
        return out;
}

static const struct vs_folder_decision *find_decision(const struct vs_decision *d,
                                                      const char *folder)
{
        for (size_t i = 0; i < d->n_folders; i++)
                if (strcmp(d->folders[i].folder->name, folder) == 0)
                        return &d->folders[i];
        return NULL;
}

/* Where a folder's files are also visible: a mounted folder whose host path contains its own. */
static const char *inside(const struct vs_folder_decision *fd,
                          const struct vs_folder_decision *outer)
{
        size_t n = strlen(outer->folder->path);
        if (outer == fd || outer->status != VS_FOLDER_MOUNTED ||
            strncmp(fd->folder->path, outer->folder->path, n) != 0 || fd->folder->path[n] != '/')
                return NULL;
        return fd->folder->path + n;
}

static void write_header(FILE *out, const struct vs_policy *policy, const struct vs_decision *d)
{
        char when[VS_TIME_BUF];
        vs_time_format(d->now, when);
        fprintf(out, "user %s (id %s) in groups [", d->user_name,
                *d->user_id ? d->user_id : "unknown");
        for (size_t g = 0; g < d->n_groups; g++)
                fprintf(out, "%s%s", g ? ", " : "", d->groups[g]);
        fprintf(out, "]%s%s at %s\n", d->groups_file ? " from " : "",
                d->groups_file ? d->groups_file : "", when);
        for (size_t g = 0; g < d->n_groups; g++) {
                if (vs_policy_names_group(policy, d->groups[g]))
                        continue;
                const char *similar = vs_policy_similar_group(policy, d->groups[g]);
                fputs("warning: ", out);
                if (d->groups_file)
                        fprintf(out, "%s:%u:%u: ", d->groups_file, d->group_marks[g].line,
                                d->group_marks[g].column);
                fprintf(out, "group \"%s\" is named by no rule of the policy", d->groups[g]);
                if (similar)
                        fprintf(out, " (did you mean \"%s\"?)", similar);
                fputc('\n', out);
        }
}

static void write_folder(FILE *out, const struct vs_policy *policy, const struct vs_decision *d,
                         const struct vs_folder_decision *fd)
{
        const struct vs_policy_folder *folder = fd->folder;

        fprintf(out, "%s: %s", folder->name, vs_folder_status_name(fd->status));
        if (fd->status == VS_FOLDER_MOUNTED)
                fprintf(out, " %s %s -> %s", vs_mode_to_string(fd->mode), fd->source, fd->target);
        fputc('\n', out);
        if (fd->status == VS_FOLDER_REFUSED)
                fprintf(out, "  refused: %s\n", fd->refusal);
        if (fd->write_capped)
                fprintf(out, "  capped at ro by a write deny\n");
        for (size_t i = 0; i < fd->n_verdicts; i++) {
                const struct vs_rule_verdict *v = &fd->verdicts[i];
                char *label = vs_rule_label(folder, v->rule), *summary = rule_summary(v->rule);
                char *reason = vs_rule_verdict_reason(v);
                const char *role = v->deciding                     ? "deciding"
                                   : v->outcome == VS_RULE_APPLIES ? "applies, not deciding"
                                                                   : "does not apply";
                fprintf(out, "  %s: %s (%s:%u:%u) %s: %s\n", role, label ? label : "?",
                        policy->file, v->rule->mark.line, v->rule->mark.column,
                        summary ? summary : "?", reason ? reason : "?");
                free(label);
                free(summary);
                free(reason);
        }
        for (size_t i = 0; i < fd->n_derivations; i++) {
                const struct vs_derivation *dv = &fd->derivations[i];
                const char *role = dv->deciding  ? "deciding"
                                   : dv->granted ? "applies, not deciding"
                                                 : "does not apply";
                fprintf(out, "  %s: via %s#implies[%zu] (%s:%u:%u): %s is %s, max_mode %s -> %s\n",
                        role, dv->source->name, dv->implies->index, policy->file,
                        dv->implies->mark.line, dv->implies->mark.column, dv->source->name,
                        dv->source_mode ? vs_mode_to_string(dv->source_mode) : "not mounted",
                        vs_mode_to_string(dv->implies->max_mode),
                        dv->granted ? vs_mode_to_string(dv->granted) : "nothing");
        }
        if (fd->n_verdicts == 0 && fd->n_derivations == 0)
                fprintf(out, "  no access rules and no folder implies it\n");
        for (size_t i = 0; i < d->n_folders; i++) {
                const struct vs_folder_decision *outer = &d->folders[i];
                const char *rest = inside(fd, outer);
                if (rest)
                        fprintf(out,
                                "  also reachable %s at %s%s: its host path lies inside that of "
                                "%s\n",
                                vs_mode_to_string(outer->mode), outer->target, rest,
                                outer->folder->name);
        }
}

int vs_explain_write(FILE *out, const struct vs_policy *policy, const struct vs_decision *decision,
                     const char *folder)
{
        const struct vs_folder_decision *only = folder ? find_decision(decision, folder) : NULL;
        if (folder && !only)
                return -ENOENT;
        write_header(out, policy, decision);
        for (size_t i = 0; i < decision->n_folders; i++)
                if (!only || only == &decision->folders[i])
                        write_folder(out, policy, decision, &decision->folders[i]);
        return 0;
}

json_t *vp_json_time(int64_t t)
{
        char buf[VS_TIME_BUF];
        if (t == VS_TIME_NONE)
                return json_null();
        vs_time_format(t, buf);
        return json_string(buf);
}

static json_t *mode_or_null(enum vs_mode mode)
{
        return mode == VS_MODE_NONE ? json_null() : json_string(vs_mode_to_string(mode));
}

static json_t *at(const struct vs_policy *policy, struct vs_mark mark)
{
        return json_sprintf("%s:%u:%u", policy->file, mark.line, mark.column);
}

static json_t *folder_json(const struct vs_policy *policy, const struct vs_decision *d,
                           const struct vs_folder_decision *fd)
{
        json_t *rules = json_array(), *derivations = json_array(), *reachable = json_array();
        for (size_t i = 0; i < d->n_folders; i++) {
                const struct vs_folder_decision *outer = &d->folders[i];
                const char *rest = inside(fd, outer);
                if (rest)
                        json_array_append_new(reachable,
                                              json_pack("{s:s, s:o, s:s}", "folder",
                                                        outer->folder->name, "path",
                                                        json_sprintf("%s%s", outer->target, rest),
                                                        "mode", vs_mode_to_string(outer->mode)));
        }
        for (size_t i = 0; i < fd->n_verdicts; i++) {
                const struct vs_rule_verdict *v = &fd->verdicts[i];
                char *label = vs_rule_label(fd->folder, v->rule),
                     *reason = vs_rule_verdict_reason(v);
                char *summary = rule_summary(v->rule);
                json_array_append_new(rules,
                                      json_pack("{s:s?, s:o, s:s?, s:s, s:b, s:s?}", "rule", label,
                                                "at", at(policy, v->rule->mark), "summary", summary,
                                                "outcome", outcome_name(v->outcome), "deciding",
                                                v->deciding, "reason", reason));
                free(label);
                free(reason);
                free(summary);
        }
        for (size_t i = 0; i < fd->n_derivations; i++) {
                const struct vs_derivation *dv = &fd->derivations[i];
                json_t *via = json_sprintf("%s#implies[%zu]", dv->source->name, dv->implies->index);
                json_array_append_new(
                        derivations,
                        json_pack("{s:o, s:o, s:s, s:o, s:s, s:o, s:b}", "via", via, "at",
                                  at(policy, dv->implies->mark), "source", dv->source->name,
                                  "source_mode", mode_or_null(dv->source_mode), "max_mode",
                                  vs_mode_to_string(dv->implies->max_mode), "granted",
                                  mode_or_null(dv->granted), "deciding", dv->deciding));
        }
        return json_pack("{s:s, s:s, s:o, s:s?, s:s?, s:s?, s:o, s:b, s:o, s:o, s:o}", "name",
                         fd->folder->name, "status", vs_folder_status_name(fd->status), "mode",
                         mode_or_null(fd->status == VS_FOLDER_MOUNTED ? fd->mode : VS_MODE_NONE),
                         "source", fd->source, "target", fd->target, "refusal", fd->refusal,
                         "valid_until", vp_json_time(fd->valid_until), "write_capped",
                         fd->write_capped, "rules", rules, "derivations", derivations,
                         "reachable_through", reachable);
}

int vs_explain_json(const struct vs_policy *policy, const struct vs_decision *decision,
                    const char *folder, char **ret)
{
        json_t *folders = json_array();
        for (size_t i = 0; i < decision->n_folders; i++) {
                const struct vs_folder_decision *fd = &decision->folders[i];
                if (folder && strcmp(fd->folder->name, folder) != 0)
                        continue;
                json_array_append_new(folders, folder_json(policy, decision, fd));
        }
        if (folder && json_array_size(folders) == 0) {
                json_decref(folders);
                return -ENOENT;
        }
        json_t *groups = json_array(), *unknown = json_array();
        for (size_t g = 0; g < decision->n_groups; g++) {
                json_array_append_new(groups, json_string(decision->groups[g]));
                if (vs_policy_names_group(policy, decision->groups[g]))
                        continue;
                char *at = NULL;
                if (decision->groups_file &&
                    asprintf(&at, "%s:%u:%u", decision->groups_file, decision->group_marks[g].line,
                             decision->group_marks[g].column) < 0)
                        at = NULL;
                json_array_append_new(
                        unknown,
                        json_pack("{s:s, s:s?, s:s*}", "group", decision->groups[g], "did_you_mean",
                                  vs_policy_similar_group(policy, decision->groups[g]), "at", at));
                free(at);
        }
        json_t *root = json_pack(
                "{s:{s:s, s:s, s:o, s:s*}, s:o, s:o, s:o}", "user", "name", decision->user_name,
                "id", decision->user_id, "groups", groups, "groups_from", decision->groups_file,
                "now", vp_json_time(decision->now), "unknown_groups", unknown, "folders", folders);
        char *text = root ? json_dumps(root, JSON_SORT_KEYS | JSON_INDENT(2)) : NULL;
        json_decref(root);
        if (!text)
                return -ENOMEM;
        *ret = text;
        return 0;
}
