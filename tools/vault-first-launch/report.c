/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "shared/rfc3339.h"
#include "report.h"

static const char *severity_name(enum vs_severity s)
{
        return s == VS_SEVERITY_ERROR ? "error" : s == VS_SEVERITY_WARNING ? "warning" : "info";
}

void fl_report_add(struct fl_report *r, enum vs_severity severity, const char *area, const char *fmt, ...)
{
        struct fl_message *items = realloc(r->messages, (r->n_messages + 1) * sizeof(*items));
        char *text = NULL;
        va_list ap;
        if (!items)
                abort();
        r->messages = items;
        va_start(ap, fmt);
        if (vasprintf(&text, fmt, ap) < 0)
                abort();
        va_end(ap);
        items[r->n_messages++] = (struct fl_message){
                .severity = severity, .area = strdup(area), .text = text,
        };
}

void fl_report_add_diags(struct fl_report *r, enum vs_severity severity, const char *area,
                         const struct vs_diags *diags)
{
        for (size_t i = 0; i < diags->count; i++) {
                const struct vs_diag *d = &diags->items[i];
                if (d->line)
                        fl_report_add(r, severity, area, "%s:%u:%u: %s", d->file, d->line, d->column,
                                      d->message);
                else
                        fl_report_add(r, severity, area, "%s: %s", d->file, d->message);
        }
}

static enum vs_severity worst(const struct fl_report *r)
{
        enum vs_severity w = r->verify.severity;
        for (size_t i = 0; i < r->n_messages; i++)
                if (r->messages[i].severity > w)
                        w = r->messages[i].severity;
        return w;
}

int fl_report_exit_code(const struct fl_report *r)
{
        if (r->usage_failed)
                return FL_EXIT_USAGE;
        if (r->verify.severity == VS_SEVERITY_ERROR)
                return FL_EXIT_VERIFY_FAILED;
        if (r->write_failed)
                return FL_EXIT_WRITE_FAILED;
        enum vs_severity w = worst(r);
        if (w == VS_SEVERITY_ERROR)
                return FL_EXIT_VERIFY_FAILED;
        return w == VS_SEVERITY_WARNING ? FL_EXIT_WARNINGS : FL_EXIT_OK;
}

void fl_report_print_text(const struct fl_report *r, FILE *out, FILE *err)
{
        const struct vs_manifest *m = r->manifest;
        if (m) {
                fprintf(out, "vault %s for %s (uid %s), manifest: %s\n", m->vault, m->user_name,
                        m->user_id, r->manifest_origin);
                for (size_t i = 0; i < r->verify.n_folders; i++) {
                        const struct vs_folder_check *c = &r->verify.folders[i];
                        fprintf(out, "  %-15s %-2s %-16s %s%s\n", vs_folder_state_to_string(c->state),
                                vs_mode_to_string(c->folder->mode), c->folder->name, c->folder->target,
                                c->folder->required ? "" : " (optional)");
                }
        }
        for (size_t i = 0; i < r->changes.count; i++)
                fprintf(out, "  %s%-9s %s\n", r->changes.dry_run ? "would " : "",
                        r->changes.items[i].action, r->changes.items[i].path);
        fflush(out);
        if (r->verify.manifest_message)
                fprintf(err, "vault-first-launch: error: %s\n", r->verify.manifest_message);
        for (size_t i = 0; i < r->verify.n_folders; i++) {
                const struct vs_folder_check *c = &r->verify.folders[i];
                if (c->message)
                        fprintf(err, "vault-first-launch: %s: %s\n", severity_name(c->severity),
                                c->message);
        }
        for (size_t i = 0; i < r->n_messages; i++)
                fprintf(err, "vault-first-launch: %s: %s\n", severity_name(r->messages[i].severity),
                        r->messages[i].text);
        fflush(err);
}

void fl_report_print_json(const struct fl_report *r, FILE *out, bool one_line)
{
        json_t *doc = json_object(), *folders = json_array(), *changes = json_array();
        json_t *messages = json_array();
        const struct vs_manifest *m = r->manifest;

        json_object_set_new(doc, "manifest", json_string(r->manifest_origin));
        if (m) {
                json_object_set_new(doc, "vault", json_string(m->vault));
                json_object_set_new(doc, "user", json_pack("{s:s, s:s}", "name", m->user_name, "id",
                                                           m->user_id));
                json_object_set_new(doc, "personal", m->personal ? json_string(m->personal) : json_null());
                char until[VS_RFC3339_MAX];
                json_object_set_new(doc, "valid_until", m->valid_until != VS_TIME_NONE &&
                                                        vs_rfc3339_format(m->valid_until, until) == 0
                                                                ? json_string(until) : json_null());
        }
        json_object_set_new(doc, "dry_run", json_boolean(r->changes.dry_run));
        for (size_t i = 0; i < r->verify.n_folders; i++) {
                const struct vs_folder_check *c = &r->verify.folders[i];
                json_array_append_new(folders,
                        json_pack("{s:s, s:s, s:s, s:s, s:b, s:s, s:s, s:b, s:i, s:s?}",
                                  "name", c->folder->name, "path", c->folder->target,
                                  "source", c->folder->source,
                                  "mode", vs_mode_to_string(c->folder->mode),
                                  "required", c->folder->required,
                                  "state", vs_folder_state_to_string(c->state),
                                  "severity", severity_name(c->severity), "usable", c->usable,
                                  "mount_id", c->mount_id, "message", c->message));
        }
        for (size_t i = 0; i < r->changes.count; i++)
                json_array_append_new(changes, json_pack("{s:s, s:s}", "path", r->changes.items[i].path,
                                                         "action", r->changes.items[i].action));
        if (r->verify.manifest_message)
                json_array_append_new(messages, json_pack("{s:s, s:s, s:s}", "severity", "error", "area",
                                                          "manifest", "text", r->verify.manifest_message));
        for (size_t i = 0; i < r->n_messages; i++)
                json_array_append_new(messages,
                        json_pack("{s:s, s:s, s:s}", "severity", severity_name(r->messages[i].severity),
                                  "area", r->messages[i].area, "text", r->messages[i].text));
        json_object_set_new(doc, "folders", folders);
        json_object_set_new(doc, "changes", changes);
        json_object_set_new(doc, "messages", messages);
        json_object_set_new(doc, "exit", json_integer(fl_report_exit_code(r)));
        json_dumpf(doc, out, (one_line ? JSON_COMPACT : JSON_INDENT(2)) | JSON_PRESERVE_ORDER);
        fputc('\n', out);
        fflush(out);
        json_decref(doc);
}

void fl_report_clear(struct fl_report *r)
{
        vs_manifest_free(r->manifest);
        vs_verify_result_clear(&r->verify);
        vs_changes_clear(&r->changes);
        for (size_t i = 0; i < r->n_messages; i++) {
                free(r->messages[i].area);
                free(r->messages[i].text);
        }
        free(r->messages);
        bool dry_run = r->changes.dry_run;
        *r = (struct fl_report){0};
        r->changes.dry_run = dry_run;
}
