/* SPDX-License-Identifier: MIT */
/*
 * vault-fsck: finish or roll back moves that libvaultshim.so left interrupted under the
 * vault roots, and report residue it cannot prove to be a copy.
 * Exit: 0 nothing to do, 1 repaired something (or would, with --dry-run), 2 on error or
 * when something was kept for a person to look at.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scan.h"

struct report {
        bool json;
        bool dry_run;
        unsigned repaired;
        unsigned kept;
        unsigned errors;
        json_t *records;
        json_t *orphans;
        json_t *error_list;
};

static const char *outcome_name(enum vs_recovery_outcome o)
{
        switch (o) {
        case VS_RECOVERY_LIVE: return "live";
        case VS_RECOVERY_EMPTY: return "empty";
        case VS_RECOVERY_ROLLED_BACK: return "rolled-back";
        case VS_RECOVERY_ROLLED_FORWARD: return "rolled-forward";
        case VS_RECOVERY_CLOSED: return "closed";
        case VS_RECOVERY_KEPT: return "kept";
        }
        return "?";
}

static const char *outcome_verb(enum vs_recovery_outcome o, bool dry_run)
{
        switch (o) {
        case VS_RECOVERY_LIVE: return "still running, left alone";
        case VS_RECOVERY_EMPTY: return dry_run ? "would drop an empty record" : "dropped an empty record";
        case VS_RECOVERY_ROLLED_BACK: return dry_run ? "would roll back" : "rolled back";
        case VS_RECOVERY_ROLLED_FORWARD: return dry_run ? "would roll forward" : "rolled forward";
        case VS_RECOVERY_CLOSED: return dry_run ? "would close" : "closed";
        case VS_RECOVERY_KEPT: return "KEPT";
        }
        return "?";
}

static void on_record(const struct vs_recovery_result *r, void *userdata)
{
        struct report *rep = userdata;
        if (r->outcome == VS_RECOVERY_KEPT)
                rep->kept++;
        else if (r->outcome != VS_RECOVERY_LIVE)
                rep->repaired++;

        if (rep->json) {
                json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I}", "record", r->record,
                                      "outcome", outcome_name(r->outcome), "detail", r->detail,
                                      "staging_removed", (json_int_t)r->staging_removed,
                                      "source_removed", (json_int_t)r->source_removed,
                                      "source_kept", (json_int_t)r->source_kept);
                if (o && r->parsed)
                        json_object_update_new(o, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}",
                                                        "id", r->entry.id,
                                                        "kind", vs_journal_kind_name(r->entry.kind),
                                                        "phase", vs_journal_phase_name(r->entry.phase),
                                                        "source", r->entry.source,
                                                        "target", r->entry.target,
                                                        "staging", r->entry.staging));
                if (o && r->error)
                        json_object_set_new(o, "error", json_string(strerror(-r->error)));
                if (o)
                        json_array_append_new(rep->records, o);
                return;
        }
        if (r->parsed)
                printf("%s: %s move %s -> %s (%s): %s: %s", r->record,
                       vs_journal_kind_name(r->entry.kind), r->entry.source, r->entry.target,
                       vs_journal_phase_name(r->entry.phase), outcome_verb(r->outcome, rep->dry_run),
                       r->detail);
        else
                printf("%s: %s: %s", r->record, outcome_verb(r->outcome, rep->dry_run), r->detail);
        if (r->staging_removed || r->source_removed)
                printf(" (%lu staging and %lu source entries %sremoved)", r->staging_removed,
                       r->source_removed, rep->dry_run ? "to be " : "");
        printf("\n");
}

static void on_orphan(const char *path, unsigned long removed, int err, void *userdata)
{
        struct report *rep = userdata;
        if (err < 0)
                rep->errors++;
        else
                rep->repaired++;
        if (rep->json) {
                json_t *o = json_pack("{s:s, s:I}", "path", path, "removed", (json_int_t)removed);
                if (err < 0)
                        json_object_set_new(o, "error", json_string(strerror(-err)));
                json_array_append_new(rep->orphans, o);
        } else if (err < 0) {
                fprintf(stderr, "vault-fsck: %s: cannot remove staging residue: %s\n", path,
                        strerror(-err));
        } else {
                printf("%s: staging residue of a move that was never installed: %s (%lu entries)\n",
                       path, rep->dry_run ? "would remove" : "removed", removed);
        }
}

static void on_error(const char *path, int err, void *userdata)
{
        struct report *rep = userdata;
        rep->errors++;
        if (rep->json)
                json_array_append_new(rep->error_list,
                                      json_pack("{s:s, s:s}", "path", path, "error", strerror(-err)));
        else
                fprintf(stderr, "vault-fsck: %s: %s\n", path, strerror(-err));
}

static void usage(FILE *f)
{
        fprintf(f, "usage: vault-fsck [--dry-run] [--json] [ROOT...]\n"
                   "Finish or roll back interrupted vaultshim moves under each ROOT\n"
                   "(default: the roots of VAULTSHIM_ROOTS, else /vault).\n"
                   "Exit 0: nothing to do; 1: repaired something; 2: error or data kept.\n");
}

/* Split VAULTSHIM_ROOTS (colon-separated) into argv-like storage; default /vault. */
static char **default_roots(int *count, char **storage)
{
        const char *env = getenv("VAULTSHIM_ROOTS");
        char *copy = strdup(env && *env ? env : "/vault");
        char **roots = calloc(strlen(copy ? copy : "") / 2 + 2, sizeof(*roots));
        if (!copy || !roots) {
                free(copy);
                free(roots);
                return NULL;
        }
        int n = 0;
        for (char *save = NULL, *tok = strtok_r(copy, ":", &save); tok; tok = strtok_r(NULL, ":", &save))
                roots[n++] = tok;
        *count = n;
        *storage = copy;
        return roots;
}

int main(int argc, char **argv)
{
        static const struct option options[] = {
                { "dry-run", no_argument, NULL, 'n' },
                { "json", no_argument, NULL, 'j' },
                { "help", no_argument, NULL, 'h' },
                { NULL, 0, NULL, 0 },
        };
        struct report rep = { 0 };
        int c;
        while ((c = getopt_long(argc, argv, "njh", options, NULL)) != -1) {
                switch (c) {
                case 'n': rep.dry_run = true; break;
                case 'j': rep.json = true; break;
                case 'h': usage(stdout); return 0;
                default: usage(stderr); return 2;
                }
        }

        char **roots = argv + optind;
        int n_roots = argc - optind;
        char **owned = NULL, *owned_storage = NULL;
        if (n_roots == 0) {
                owned = roots = default_roots(&n_roots, &owned_storage);
                if (!roots) {
                        fprintf(stderr, "vault-fsck: out of memory\n");
                        return 2;
                }
        }
        rep.records = json_array();
        rep.orphans = json_array();
        rep.error_list = json_array();
        struct fsck_sink sink = { on_record, on_orphan, on_error, &rep };
        json_t *root_list = json_array();
        for (int i = 0; i < n_roots; i++) {
                if (roots[i][0] != '/') {
                        on_error(roots[i], -EINVAL, &rep);
                        continue;
                }
                json_array_append_new(root_list, json_string(roots[i]));
                int r = fsck_scan_root(roots[i], rep.dry_run, &sink);
                if (r < 0)
                        on_error(roots[i], r, &rep);
        }

        int status = rep.errors || rep.kept ? 2 : rep.repaired ? 1 : 0;
        if (rep.json) {
                json_t *out = json_pack("{s:o, s:b, s:o, s:o, s:o, s:i, s:i, s:i, s:i}",
                                        "roots", root_list, "dry_run", rep.dry_run,
                                        "records", rep.records, "orphans", rep.orphans,
                                        "errors", rep.error_list, "repaired", rep.repaired,
                                        "kept", rep.kept, "error_count", rep.errors,
                                        "exit", status);
                json_dumpf(out, stdout, JSON_INDENT(2));
                printf("\n");
                json_decref(out);
        } else {
                json_decref(root_list);
                json_decref(rep.records);
                json_decref(rep.orphans);
                json_decref(rep.error_list);
                if (rep.repaired || rep.kept || rep.errors)
                        printf("vault-fsck: %u interrupted move(s) %s, %u kept, %u error(s)\n",
                               rep.repaired, rep.dry_run ? "to repair" : "repaired", rep.kept,
                               rep.errors);
        }
        free(owned_storage);
        free(owned);
        return status;
}
