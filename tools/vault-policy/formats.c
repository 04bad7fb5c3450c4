/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/json-time.h"
#include "policy/kasm-mapping.h"
#include "vault-policy.h"

static json_t *render_json(const struct vs_decision *d)
{
        json_t *folders = json_array();
        for (size_t i = 0; i < d->n_folders; i++) {
                const struct vs_folder_decision *fd = &d->folders[i];
                if (fd->status != VS_FOLDER_MOUNTED)
                        continue;
                json_array_append_new(folders,
                                      json_pack("{s:s, s:s, s:s, s:s}", "name", fd->folder->name,
                                                "source", fd->source, "target", fd->target, "mode",
                                                vs_mode_to_string(fd->mode)));
        }
        return json_pack("{s:{s:s, s:s}, s:o, s:o}", "user", "name", d->user_name, "id", d->user_id,
                         "valid_until", vp_json_time(d->valid_until), "folders", folders);
}

int print_json(json_t *root)
{
        if (!root)
                return -ENOMEM;
        int r = json_dumpf(root, stdout, JSON_SORT_KEYS | JSON_INDENT(2));
        json_decref(root);
        if (r < 0)
                return -EIO;
        return fputc('\n', stdout) == EOF ? -EIO : 0;
}

/* Kasm Volume Mappings: keyed by host path. */
static json_t *render_kasm(const struct vs_decision *d)
{
        json_t *root = json_object();
        for (size_t i = 0; i < d->n_folders; i++) {
                const struct vs_folder_decision *fd = &d->folders[i];
                if (fd->status != VS_FOLDER_MOUNTED)
                        continue;
                json_object_set_new(root, fd->source,
                                    vp_kasm_volume(fd->target, fd->mode, fd->folder->required));
        }
        return root;
}

/* Docker Run Config Override: the docker SDK's containers.run(volumes=...) dict. */
static json_t *render_docker(const struct vs_decision *d)
{
        json_t *volumes = json_object();
        for (size_t i = 0; i < d->n_folders; i++) {
                const struct vs_folder_decision *fd = &d->folders[i];
                if (fd->status != VS_FOLDER_MOUNTED)
                        continue;
                json_object_set_new(volumes, fd->source,
                                    json_pack("{s:s, s:s}", "bind", fd->target, "mode",
                                              vs_mode_to_string(fd->mode)));
        }
        return json_pack("{s:o}", "volumes", volumes);
}

bool format_known(const char *format)
{
        return strcmp(format, "manifest") == 0 || strcmp(format, "json") == 0 ||
               strcmp(format, "kasm") == 0 || strcmp(format, "docker") == 0;
}

/* The mount manifest for vault-first-launch; the strings stay owned by the decision. */
static int write_manifest(const struct vs_policy *policy, const struct vs_decision *d)
{
        struct vs_manifest m = {
                .version = VS_MANIFEST_VERSION,
                .user_name = d->user_name,
                .user_id = d->user_id,
                .vault = policy->vault,
                .personal = (char *)d->personal,
                .valid_until = d->valid_until,
                .folders =
                        calloc(d->n_mounted ? d->n_mounted : 1, sizeof(struct vs_manifest_folder)),
        };
        if (!m.folders)
                return -ENOMEM;
        for (size_t i = 0; i < d->n_folders; i++) {
                const struct vs_folder_decision *fd = &d->folders[i];
                if (fd->status != VS_FOLDER_MOUNTED)
                        continue;
                m.folders[m.n_folders++] = (struct vs_manifest_folder){
                        .name = fd->folder->name,
                        .source = fd->source,
                        .target = fd->target,
                        .mode = fd->mode,
                        .required = fd->folder->required,
                        .valid_until = fd->valid_until,
                };
        }
        int r = vs_manifest_write(stdout, &m);
        free(m.folders);
        return r;
}

int format_decision(const struct vs_policy *policy, const struct vs_decision *decision,
                    const char *format)
{
        if (strcmp(format, "manifest") == 0)
                return write_manifest(policy, decision);
        if (strcmp(format, "json") == 0)
                return print_json(render_json(decision));
        if (strcmp(format, "kasm") == 0)
                return print_json(render_kasm(decision));
        if (strcmp(format, "docker") == 0)
                return print_json(render_docker(decision));
        return -EOPNOTSUPP;
}
