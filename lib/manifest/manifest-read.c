/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/file.h"
#include "manifest/manifest.h"
#include "shared/names.h"
#include "shared/read-input.h"
#include "shared/rfc3339.h"
#include "shared/yaml-fields.h"
#include "shared/yaml-tree.h"

struct reader {
        const char *file;
        struct vs_diags *diags;
        bool failed;
        int oom;
};

__attribute__((format(printf, 3, 4)))
static void fail(struct reader *rd, const struct yt_node *at, const char *fmt, ...)
{
        char *msg = NULL;
        va_list ap;
        va_start(ap, fmt);
        int r = vasprintf(&msg, fmt, ap);
        va_end(ap);
        rd->failed = true;
        if (r < 0 || vs_diags_add(rd->diags, rd->file, at->line, at->column, "%s", msg) < 0)
                rd->oom = -ENOMEM;
        free(msg);
}

/*
 * Match every key of a mapping against keys[] with the shared strict walker (unknown and
 * duplicate keys are errors at the key, missing mandatory ones at the mapping); values[i]
 * is the value of keys[i], or NULL.
 */
static void take_fields(struct reader *rd, const struct yt_node *map, const char *what,
                        const struct yt_key *keys, size_t n_keys, const struct yt_node **values)
{
        const struct yt_doc doc = { .file = rd->file };
        for (size_t k = 0; k < n_keys; k++)
                values[k] = NULL;
        if (!yt_expect(&doc, map, YT_MAPPING, what, rd->diags) ||
            yt_map_fields(&doc, map, what, keys, n_keys, values, rd->diags) > 0)
                rd->failed = true;
}

/* A string value: a quoted scalar, or a plain one that YAML would not read as null/bool. */
static char *take_string(struct reader *rd, const struct yt_node *n, const char *key)
{
        if (n->kind != YT_SCALAR || yt_is_null(n) || yt_is_bool(n, NULL)) {
                fail(rd, n, "\"%s\" must be a string, got %s%s", key, yt_kind_name(n),
                     n->kind == YT_SCALAR ? " (quote it if it is meant as text)" : "");
                return NULL;
        }
        char *s = strdup(n->value);
        if (!s)
                rd->oom = -ENOMEM;
        return s;
}

static char *take_name(struct reader *rd, const struct yt_node *n, const char *key,
                       bool (*valid)(const char *), const char *rule)
{
        char *s = take_string(rd, n, key);
        if (s && !valid(s)) {
                fail(rd, n, "\"%s\" is not a safe name: \"%s\" (%s)", key, s, rule);
                free(s);
                return NULL;
        }
        return s;
}

static bool take_time(struct reader *rd, const struct yt_node *n, const char *key, int64_t *ret)
{
        if (yt_is_null(n)) {
                *ret = VS_TIME_NONE;
                return true;
        }
        if (n->kind != YT_SCALAR || yt_is_bool(n, NULL)) {
                fail(rd, n, "\"%s\" must be an RFC 3339 time or null, got %s", key,
                     yt_kind_name(n));
                return false;
        }
        if (vs_rfc3339_parse(n->value, ret) < 0) {
                char why[VS_RFC3339_PROBLEM_MAX];
                fail(rd, n,
                     "\"%s\" is not an RFC 3339 time (like 2027-01-31T00:00:00Z): \"%s\": %s", key,
                     n->value, vs_rfc3339_problem(n->value, why));
                return false;
        }
        return true;
}

static void read_folder(struct reader *rd, const struct yt_node *node, const char *vault,
                        struct vs_manifest_folder *f)
{
        static const struct yt_key keys[] = {
                { "name", true }, { "source", true },    { "target", true },
                { "mode", true }, { "required", false }, { "valid_until", false },
        };
        const struct yt_node *values[sizeof(keys) / sizeof(keys[0])];
        f->required = true;
        f->valid_until = VS_TIME_NONE;
        take_fields(rd, node, "a folder", keys, sizeof(keys) / sizeof(keys[0]), values);
        if (node->kind != YT_MAPPING)
                return;

        if (values[0])
                f->name =
                        take_name(rd, values[0], "name", vs_folder_name_valid, VS_FOLDER_NAME_RULE);
        if (values[1]) {
                const struct yt_node *n = values[1];
                f->source = take_string(rd, n, "source");
                if (f->source && f->source[0] != '\0' && !vs_path_normalised(f->source)) {
                        fail(rd, n,
                             "\"source\" must be an absolute normalised path or \"\", got \"%s\"",
                             f->source);
                }
        }
        if (values[2]) {
                const struct yt_node *n = values[2];
                f->target = take_string(rd, n, "target");
                if (f->target && f->name && vault) {
                        char *want = NULL;
                        if (asprintf(&want, "%s/%s", vault, f->name) < 0) {
                                rd->oom = -ENOMEM;
                        } else if (strcmp(want, f->target) != 0) {
                                fail(rd, n, "\"target\" must be %s (<vault>/<name>), got \"%s\"",
                                     want, f->target);
                        }
                        free(want);
                }
        }
        if (values[3]) {
                const struct yt_node *n = values[3];
                if (n->kind == YT_SCALAR && strcmp(n->value, "rw") == 0)
                        f->mode = VS_MODE_RW;
                else if (n->kind == YT_SCALAR && strcmp(n->value, "ro") == 0)
                        f->mode = VS_MODE_RO;
                else
                        fail(rd, n, "\"mode\" must be \"ro\" or \"rw\", got %s%s%s",
                             n->kind == YT_SCALAR ? "\"" : "",
                             n->kind == YT_SCALAR ? n->value : yt_kind_name(n),
                             n->kind == YT_SCALAR ? "\"" : "");
        }
        if (values[4]) {
                const struct yt_node *n = values[4];
                if (n->kind != YT_SCALAR || !n->plain ||
                    (strcmp(n->value, "true") != 0 && strcmp(n->value, "false") != 0))
                        fail(rd, n, "\"required\" must be true or false, got %s%s%s",
                             n->kind == YT_SCALAR ? "\"" : "",
                             n->kind == YT_SCALAR ? n->value : yt_kind_name(n),
                             n->kind == YT_SCALAR ? "\"" : "");
                else
                        f->required = strcmp(n->value, "true") == 0;
        }
        if (values[5])
                take_time(rd, values[5], "valid_until", &f->valid_until);
}

static void read_user(struct reader *rd, const struct yt_node *node, struct vs_manifest *m)
{
        static const struct yt_key keys[] = { { "name", true }, { "id", true } };
        const struct yt_node *values[2];
        take_fields(rd, node, "\"user\"", keys, 2, values);
        if (values[0])
                m->user_name =
                        take_name(rd, values[0], "name", vs_user_token_valid, VS_USER_TOKEN_RULE);
        if (values[1])
                m->user_id =
                        take_name(rd, values[1], "id", vs_user_token_valid, VS_USER_TOKEN_RULE);
}

static void read_version(struct reader *rd, const struct yt_node *n, struct vs_manifest *m)
{
        if (n->kind != YT_SCALAR || !n->plain) {
                fail(rd, n, "\"version\" must be the integer %d, got %s", VS_MANIFEST_VERSION,
                     n->kind == YT_SCALAR ? "a quoted string" : yt_kind_name(n));
                return;
        }
        char *end = NULL;
        errno = 0;
        long v = strtol(n->value, &end, 10);
        if (errno || end == n->value || *end != '\0') {
                fail(rd, n, "\"version\" must be the integer %d, got \"%s\"", VS_MANIFEST_VERSION,
                     n->value);
        } else if (v != VS_MANIFEST_VERSION) {
                fail(rd, n, "unsupported manifest version %ld (this reader knows %d)", v,
                     VS_MANIFEST_VERSION);
        } else {
                m->version = (int)v;
        }
}

static void read_folders(struct reader *rd, const struct yt_node *n, struct vs_manifest *m)
{
        if (n->kind != YT_SEQUENCE) {
                fail(rd, n, "\"folders\" must be a list, got %s", yt_kind_name(n));
                return;
        }
        if (n->n_children == 0)
                return;
        m->folders = calloc(n->n_children, sizeof(*m->folders));
        if (!m->folders) {
                rd->oom = -ENOMEM;
                return;
        }
        m->n_folders = n->n_children;
        for (size_t i = 0; i < n->n_children; i++) {
                read_folder(rd, n->children[i], m->vault, &m->folders[i]);
                if (!m->folders[i].name)
                        continue;
                for (size_t j = 0; j < i; j++)
                        if (m->folders[j].name &&
                            strcmp(m->folders[j].name, m->folders[i].name) == 0) {
                                const struct yt_node *first = n->children[j];
                                fail(rd, n->children[i], "duplicate folder \"%s\" (first at %u:%u)",
                                     m->folders[i].name, first->line, first->column);
                                break;
                        }
        }
}

static void read_document(struct reader *rd, const struct yt_node *root, struct vs_manifest *m)
{
        static const struct yt_key keys[] = {
                { "version", true },   { "user", true },         { "vault", true },
                { "personal", false }, { "valid_until", false }, { "folders", true },
        };
        const struct yt_node *values[sizeof(keys) / sizeof(keys[0])];
        take_fields(rd, root, "the manifest", keys, sizeof(keys) / sizeof(keys[0]), values);
        if (root->kind != YT_MAPPING)
                return;

        if (values[0])
                read_version(rd, values[0], m);
        if (values[1])
                read_user(rd, values[1], m);
        if (values[2]) {
                const struct yt_node *n = values[2];
                m->vault = take_string(rd, n, "vault");
                if (m->vault && (!vs_path_normalised(m->vault) || strcmp(m->vault, "/") == 0)) {
                        fail(rd, n,
                             "\"vault\" must be an absolute normalised path other than /, got "
                             "\"%s\"",
                             m->vault);
                        free(m->vault);
                        m->vault = NULL;
                }
        }
        if (values[4])
                take_time(rd, values[4], "valid_until", &m->valid_until);
        if (values[5])
                read_folders(rd, values[5], m);
        if (values[3] && !yt_is_null(values[3])) {
                const struct yt_node *n = values[3];
                m->personal = take_string(rd, n, "personal");
                bool listed = false;
                for (size_t i = 0; m->personal && i < m->n_folders; i++)
                        listed |=
                                m->folders[i].name && strcmp(m->folders[i].name, m->personal) == 0;
                if (m->personal && !listed && values[5])
                        fail(rd, n, "\"personal\" names \"%s\", which is not among the folders",
                             m->personal);
        }
}

int vs_manifest_parse(const char *name, const char *text, size_t len, struct vs_manifest **ret,
                      struct vs_diags *diags)
{
        struct reader rd = {.file = name ? name : "<manifest>", .diags = diags};
        struct yt_node *root = NULL;
        struct vs_manifest *m = NULL;
        int r;

        r = yt_parse(rd.file, text, len, &root, diags);
        if (r < 0)
                return r;
        m = calloc(1, sizeof(*m));
        if (!m) {
                r = -ENOMEM;
                goto out;
        }
        m->valid_until = VS_TIME_NONE;
        read_document(&rd, root, m);
        if (rd.oom)
                r = rd.oom;
        else if (rd.failed)
                r = -EINVAL;
out:
        yt_free(root);
        if (r < 0) {
                vs_manifest_free(m);
                return r;
        }
        *ret = m;
        return 0;
}

int vs_manifest_load(const char *path, struct vs_manifest **ret, struct vs_diags *diags)
{
        char why[VS_READ_INPUT_ERROR_BUF];
        char *text;
        size_t len;
        int r = vs_read_file(AT_FDCWD, path, 0, VS_INPUT_MAX_BYTES, &text, &len);
        if (r < 0) {
                vs_diags_add(diags, path, 0, 0, "cannot read the manifest: %s",
                             vs_read_input_error(r, VS_INPUT_MAX_BYTES, why, sizeof(why)));
                return r;
        }
        r = vs_manifest_parse(path, text, len, ret, diags);
        free(text);
        return r;
}
