/* SPDX-License-Identifier: MIT */
/*
 * vault-fsck: finish or roll back the moves of this user that libvaultshim.so left
 * interrupted, from this user's private journal only (vaultshim(7): the trust model), list
 * what older versions left in the shared folders without ever acting on it, and put back
 * where everyone sees them the notes that any user's unfinished move left hidden.
 * Exit status as fsck(8), OR-ed: 0 clean, 1 repaired, 4 something left for a person,
 * 8 operational error, 16 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/roots.h"
#include "fmt/fmt.h"
#include "foreign.h"
#include "journal/journal.h"

#ifndef VS_VERSION
#define VS_VERSION "unknown"
#endif

enum {
        EXIT_CLEAN = 0,
        EXIT_REPAIRED = 1,
        EXIT_LEFT = 4,
        EXIT_OPERATIONAL = 8,
        EXIT_USAGE = 16,
};

struct report {
        bool json;
        bool dry_run;
        unsigned repaired;
        unsigned kept;
        unsigned foreign;
        unsigned errors;
        json_t *records;
        json_t *foreign_list;
        json_t *leftover_list;
        json_t *error_list;
        json_t *warnings;
};

/* Every path printed comes from disk or a record: escaped, one line, valid UTF-8. */
static const char *esc(const char *s, char *buf, size_t size)
{
        struct vs_buf b;
        vs_buf_init(&b, buf, size);
        vs_buf_put_escaped(&b, s);
        return buf;
}

#define ESC_MAX (4 * PATH_MAX + 16)

static const char *outcome_name(enum vs_recovery_outcome o)
{
        switch (o) {
        case VS_RECOVERY_LIVE: return "live";
        case VS_RECOVERY_EMPTY: return "empty";
        case VS_RECOVERY_ROLLED_BACK: return "rolled-back";
        case VS_RECOVERY_ROLLED_FORWARD: return "rolled-forward";
        case VS_RECOVERY_CLOSED: return "closed";
        case VS_RECOVERY_KEPT: return "kept";
        case VS_RECOVERY_DEFERRED: return "deferred";
        }
        return "?";
}

static const char *outcome_verb(enum vs_recovery_outcome o, bool dry_run)
{
        switch (o) {
        case VS_RECOVERY_LIVE: return "still running, left alone";
        case VS_RECOVERY_EMPTY:
                return dry_run ? "would drop an empty record" : "dropped an empty record";
        case VS_RECOVERY_ROLLED_BACK: return dry_run ? "would roll back" : "rolled back";
        case VS_RECOVERY_ROLLED_FORWARD: return dry_run ? "would roll forward" : "rolled forward";
        case VS_RECOVERY_CLOSED: return dry_run ? "would close" : "closed";
        case VS_RECOVERY_KEPT: return "KEPT";
        case VS_RECOVERY_DEFERRED: return "DEFERRED";
        }
        return "?";
}

static void on_record(const struct vs_recovery_result *r, void *userdata)
{
        struct report *rep = userdata;
        static char record[ESC_MAX], source[ESC_MAX], target[ESC_MAX], detail[ESC_MAX];
        char path[2 * PATH_MAX];
        if (r->outcome == VS_RECOVERY_KEPT || r->outcome == VS_RECOVERY_DEFERRED)
                rep->kept++;
        else if (r->outcome != VS_RECOVERY_LIVE)
                rep->repaired++;
        esc(r->record, record, sizeof(record));
        esc(r->detail, detail, sizeof(detail));
        if (r->parsed) {
                vs_journal_display_path(&r->entry.source_mount, r->entry.source, path,
                                        sizeof(path));
                esc(path, source, sizeof(source));
                vs_journal_display_path(&r->entry.target_mount, r->entry.target, path,
                                        sizeof(path));
                esc(path, target, sizeof(target));
        }

        if (rep->json) {
                json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I}", "record", record,
                                      "outcome", outcome_name(r->outcome), "detail", detail,
                                      "staging_removed", (json_int_t)r->staging_removed,
                                      "source_removed", (json_int_t)r->source_removed,
                                      "source_kept", (json_int_t)r->source_kept);
                if (o && r->parsed)
                        json_object_update_new(
                                o, json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", r->entry.id, "kind",
                                             vs_journal_kind_name(r->entry.kind), "phase",
                                             vs_journal_phase_name(r->entry.phase), "source",
                                             source, "target", target));
                if (o && r->error)
                        json_object_set_new(o, "error", json_string(strerror(-r->error)));
                if (o)
                        json_array_append_new(rep->records, o);
                return;
        }
        if (r->parsed)
                printf("%s: %s move %s -> %s (%s): %s: %s", record,
                       vs_journal_kind_name(r->entry.kind), source, target,
                       vs_journal_phase_name(r->entry.phase),
                       outcome_verb(r->outcome, rep->dry_run), detail);
        else
                printf("%s: %s: %s", record, outcome_verb(r->outcome, rep->dry_run), detail);
        if (r->staging_removed || r->source_removed)
                printf(" (%lu staging and %lu source entries %sremoved)", r->staging_removed,
                       r->source_removed, rep->dry_run ? "to be " : "");
        printf("\n");
}

static void on_error(const char *path, int err, void *userdata)
{
        struct report *rep = userdata;
        static char shown[ESC_MAX];
        esc(path, shown, sizeof(shown));
        if (err == -ELOOP) { /* a directory too deep to search: a warning, not a failure */
                if (rep->json)
                        json_array_append_new(rep->warnings,
                                              json_pack("{s:s, s:s}", "path", shown, "warning",
                                                        "too deep, not searched"));
                else
                        fprintf(stderr, "vault-fsck: %s: too deep, not searched for old records\n",
                                shown);
                return;
        }
        rep->errors++;
        if (rep->json)
                json_array_append_new(rep->error_list, json_pack("{s:s, s:s}", "path", shown,
                                                                 "error", strerror(-err)));
        else
                fprintf(stderr, "vault-fsck: %s: %s\n", shown, strerror(-err));
}

static void on_foreign(const char *path, bool purged, int err, void *userdata)
{
        struct report *rep = userdata;
        static char shown[ESC_MAX];
        esc(path, shown, sizeof(shown));
        if (purged && err == 0 && !rep->dry_run)
                rep->repaired++;
        else
                rep->foreign++;
        const char *what = !purged ? "listed, never acted on (--purge-foreign removes it)"
                           : rep->dry_run ? "would remove"
                           : err == 0 ? "removed"
                                      : "cannot remove";
        if (rep->json) {
                json_t *o = json_pack("{s:s, s:s}", "path", shown, "action", what);
                if (err < 0)
                        json_object_set_new(o, "error", json_string(strerror(-err)));
                json_array_append_new(rep->foreign_list, o);
        } else {
                printf("%s: a record of the old shared journal, which any user of the folder could "
                       "have written: %s%s%s\n", shown, what, err < 0 ? ": " : "",
                       err < 0 ? strerror(-err) : "");
        }
}

static void on_leftover(const char *path, const char *restored_as, int err, void *userdata)
{
        struct report *rep = userdata;
        static char shown[ESC_MAX], as[ESC_MAX];
        esc(path, shown, sizeof(shown));
        esc(restored_as, as, sizeof(as));
        if (err < 0) {
                on_error(path, err, userdata);
                return;
        }
        rep->repaired++; /* as a record's repair: also what a dry run would do */
        const char *what = rep->dry_run ? "would put back as" : "put back as";
        if (rep->json) {
                json_array_append_new(rep->leftover_list,
                                      json_pack("{s:s, s:s, s:s}", "path", shown, "action", what,
                                                "name", as));
        } else {
                printf("%s: a note set aside by a move that did not finish, hidden from every "
                       "user of the folder: %s %s\n", shown, what, as);
        }
}

static void on_stale_lock(const char *path, int err, void *userdata)
{
        if (err < 0)
                on_error(path, err, userdata);
}

static void usage(FILE *f)
{
        fprintf(f, "usage: vault-fsck [--dry-run] [--json] [--journal DIR] [--purge-foreign] "
                   "[ROOT...]\n"
                   "       vault-fsck --help | --version\n"
                   "Finish or roll back this user's interrupted vaultshim moves, from the private\n"
                   "journal (DIR, else $VAULTSHIM_JOURNAL, $XDG_STATE_HOME/vaultshim/journal or\n"
                   "~/.local/state/vaultshim/journal), list records of the old shared journal\n"
                   "and put back notes a move left hidden (.vaultshim-aside-*, deleting nothing)\n"
                   "under each ROOT (default: the roots of VAULTSHIM_ROOTS, else /vault).\n"
                   "Exit (OR-ed): 0 clean, 1 repaired, 4 left something for a person,\n"
                   "8 operational error, 16 usage.\n");
}

/* The roots of VAULTSHIM_ROOTS as the shim reads them (base/roots.h), as an argv. */
static char **default_roots(int *count, struct vs_roots *storage)
{
        vs_roots_from_env(storage);
        char **roots = calloc(storage->count + 1, sizeof(*roots));
        if (!roots)
                return NULL;
        for (size_t i = 0; i < storage->count; i++)
                roots[i] = storage->paths[i];
        *count = (int)storage->count;
        return roots;
}

static void recover_journal(const char *dir, struct report *rep, struct foreign_options *fo)
{
        bool created;
        int fd = vs_journal_dir_open(dir, false, &created);
        if (fd == -ENOENT)
                return; /* no move of this user was ever interrupted here */
        if (fd < 0) {
                on_error(dir, fd, rep);
                return;
        }
        struct stat st;
        if (fstat(fd, &st) == 0) {
                fo->skip_dev = st.st_dev;
                fo->skip_ino = st.st_ino;
        }
        int r = vs_journal_recover_dir(
                fd, dir, rep->dry_run ? VS_RECOVER_DRY_RUN : VS_RECOVER_REPAIR, on_record, rep);
        if (r < 0)
                on_error(dir, r, rep);
        close(fd);
}

/*
 * The configured journal is in a vault folder other users may mount (the shim's own test,
 * vs_journal_check_place, with the roots of VAULTSHIM_ROOTS): anyone there could have
 * written its records, so none is read.  Why (a word), or NULL.
 */
static const char *journal_not_private(const char *journal)
{
        char resolved[PATH_MAX];
        struct vs_roots roots;
        const char *why = NULL;
        vs_roots_from_env(&roots);
        if (vs_journal_resolve(journal, resolved, sizeof(resolved)) == 0)
                (void)vs_journal_check_place(resolved, vs_roots_find(&roots, resolved) != NULL,
                                             &why);
        return why;
}

static void on_refused_journal(const char *journal, const char *why, struct report *rep)
{
        static char shown[ESC_MAX];
        esc(journal, shown, sizeof(shown));
        rep->errors++;
        const char *text = "not private (in a vault folder other users may mount, see "
                           "VAULTSHIM_PERSONAL in vaultshim(7)): its records are not read";
        if (rep->json)
                json_array_append_new(rep->error_list, json_pack("{s:s, s:s, s:s}", "path", shown,
                                                                 "error", text, "reason", why));
        else
                fprintf(stderr, "vault-fsck: the journal %s (VAULTSHIM_JOURNAL) is %s [%s]\n",
                        shown, text, why);
}

/* A journal directory inside a vault folder goes once empty: it must leave no trace. */
static void remove_journal_if_empty(const char *journal, char **roots, int n_roots)
{
        for (int i = 0; i < n_roots; i++) {
                char *root = realpath(roots[i], NULL);
                size_t len = root ? strlen(root) : 0;
                bool inside = root && strncmp(journal, root, len) == 0 &&
                              (journal[len] == '/' || len == 1);
                free(root);
                if (inside) {
                        vs_journal_dir_remove_if_empty(journal);
                        return;
                }
        }
}

static void print_json(struct report *rep, json_t *roots, const char *journal, int status)
{
        static char shown[ESC_MAX];
        json_t *out = json_pack("{s:o, s:s?, s:b, s:o, s:o, s:o, s:o, s:o, s:i, s:i, s:i, s:i, "
                                "s:i}",
                                "roots", roots, "journal",
                                journal ? esc(journal, shown, sizeof(shown)) : NULL,
                                "dry_run", rep->dry_run, "records", rep->records, "foreign",
                                rep->foreign_list, "leftovers", rep->leftover_list,
                                "errors", rep->error_list, "warnings",
                                rep->warnings, "repaired", rep->repaired, "kept", rep->kept,
                                "foreign_count", rep->foreign, "error_count", rep->errors,
                                "exit", status);
        json_dumpf(out, stdout, JSON_INDENT(2));
        printf("\n");
        json_decref(out);
}

int main(int argc, char **argv)
{
        static const struct option options[] = {
                { "dry-run", no_argument, NULL, 'n' },
                { "json", no_argument, NULL, 'j' },
                { "journal", required_argument, NULL, 'J' },
                { "purge-foreign", no_argument, NULL, 'P' },
                { "version", no_argument, NULL, 'V' },
                { "help", no_argument, NULL, 'h' },
                { NULL, 0, NULL, 0 },
        };
        struct report rep = { 0 };
        struct foreign_options fo = { 0 };
        const char *journal_arg = NULL;
        int c;
        while ((c = getopt_long(argc, argv, "njJ:PVh", options, NULL)) != -1) {
                switch (c) {
                case 'n': rep.dry_run = true; break;
                case 'j': rep.json = true; break;
                case 'J': journal_arg = optarg; break;
                case 'P': fo.purge = true; break;
                case 'V': printf("vault-fsck %s\n", VS_VERSION); return EXIT_CLEAN;
                case 'h': usage(stdout); return EXIT_CLEAN;
                default: usage(stderr); return EXIT_USAGE;
                }
        }
        fo.dry_run = rep.dry_run;

        char journal[PATH_MAX];
        int jr = journal_arg ? (strlen(journal_arg) < sizeof(journal) ? 0 : -ENAMETOOLONG)
                             : vs_journal_location(journal, sizeof(journal));
        if (journal_arg && jr == 0) {
                if (journal_arg[0] != '/') {
                        fprintf(stderr, "vault-fsck: --journal %s: must be an absolute path\n",
                                journal_arg);
                        return EXIT_USAGE;
                }
                strcpy(journal, journal_arg);
        }

        char **roots = argv + optind;
        int n_roots = argc - optind;
        char **owned = NULL;
        static struct vs_roots env_roots;
        if (n_roots == 0) {
                owned = roots = default_roots(&n_roots, &env_roots);
                if (!roots) {
                        fprintf(stderr, "vault-fsck: out of memory\n");
                        return EXIT_OPERATIONAL;
                }
        }
        rep.records = json_array();
        rep.foreign_list = json_array();
        rep.leftover_list = json_array();
        rep.error_list = json_array();
        rep.warnings = json_array();

        const char *refused = jr == 0 && !journal_arg ? journal_not_private(journal) : NULL;
        if (refused)
                on_refused_journal(journal, refused, &rep);
        else if (jr == 0)
                recover_journal(journal, &rep, &fo);
        else
                on_error("the private journal (VAULTSHIM_JOURNAL, XDG_STATE_HOME, HOME)", jr, &rep);

        struct foreign_sink sink = { on_foreign, on_stale_lock, on_leftover, on_error, &rep };
        json_t *root_list = json_array();
        for (int i = 0; i < n_roots; i++) {
                /* A relative root is taken from the working directory, and said so. */
                char *resolved = realpath(roots[i], NULL);
                if (!resolved) {
                        on_error(roots[i], -errno, &rep);
                        continue;
                }
                if (roots[i][0] != '/' && !rep.json) {
                        static char a[ESC_MAX], b[ESC_MAX];
                        printf("vault-fsck: relative root %s taken as %s\n",
                               esc(roots[i], a, sizeof(a)), esc(resolved, b, sizeof(b)));
                }
                static char shown[ESC_MAX];
                json_array_append_new(root_list, json_string(esc(resolved, shown, sizeof(shown))));
                int r = foreign_scan(resolved, &fo, &sink);
                if (r < 0)
                        on_error(resolved, r, &rep);
                free(resolved);
        }

        if (jr == 0 && !rep.dry_run)
                remove_journal_if_empty(journal, roots, n_roots);

        int status = (rep.repaired ? EXIT_REPAIRED : 0) |
                     (rep.kept || rep.foreign ? EXIT_LEFT : 0) |
                     (rep.errors ? EXIT_OPERATIONAL : 0);
        if (rep.json) {
                print_json(&rep, root_list, jr == 0 ? journal : NULL, status);
        } else {
                json_decref(root_list);
                json_decref(rep.records);
                json_decref(rep.foreign_list);
                json_decref(rep.leftover_list);
                json_decref(rep.error_list);
                json_decref(rep.warnings);
                if (rep.repaired || rep.kept || rep.errors || rep.foreign)
                        printf("vault-fsck: %u repaired, %u kept for a person, %u old shared "
                               "record(s), %u error(s)\n",
                               rep.repaired, rep.kept, rep.foreign, rep.errors);
        }
        free(owned);
        return status;
}
