/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <libgen.h>
#include <pwd.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "manifest/mountinfo.h"
#include "obsidian/obsidian.h"
#include "shared/names.h"
#include "sync/sync.h"
#include "program.h"
#include "recovery.h"
#include "run.h"
#include "shim-check.h"

static int discover(const struct fl_options *o, const struct vs_mounts *mounts, struct fl_report *r)
{
        const char *vault = o->vault ? o->vault : "/vault";
        struct vs_diags diags = {0};
        struct stat st;
        char uid[32];

        /* Checked first: mountinfo alone would only say that nothing is mounted there. */
        int e = stat(vault, &st) < 0 ? errno : S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
        if (e) {
                fl_report_add(r, VS_SEVERITY_ERROR, "manifest",
                              "%s: no vault root here (%s); --discover configures the folders "
                              "mounted under it (--vault names another root)",
                              vault, e == ENOENT ? "no such directory" : strerror(e));
                return -ENOENT;
        }
        snprintf(uid, sizeof(uid), "%lu", (unsigned long)getuid());
        struct passwd *pw = getpwuid(getuid());
        const char *name = pw && vs_user_token_valid(pw->pw_name) ? pw->pw_name : uid;
        int ret = vs_discover(mounts, vault, o->personal, name, uid, &r->manifest, &diags);
        fl_report_add_diags(r, ret < 0 ? VS_SEVERITY_ERROR : VS_SEVERITY_WARNING, "manifest",
                            &diags);
        vs_diags_clear(&diags);
        return ret;
}

int fl_load_manifest(const struct fl_options *o, struct fl_report *r)
{
        struct vs_diags diags = {0};
        struct vs_mounts mounts = {0};
        bool session_unusable = false;
        int ret;

        if (o->discover) {
                r->manifest_origin = "discovered from /proc/self/mountinfo";
                ret = vs_mounts_load(NULL, &mounts, &diags);
                if (ret == 0) {
                        ret = discover(o, &mounts, r);
                        /* A discovered vault without its root, any folder or the personal
                         * one is a session that cannot work (exit 1), not a mistake in how
                         * the tool was called. */
                        session_unusable = ret == -ENOENT;
                }
                vs_mounts_clear(&mounts);
        } else {
                r->manifest_origin = o->manifest_path;
                ret = vs_manifest_load(o->manifest_path, &r->manifest, &diags);
                if (ret == 0 && o->vault && strcmp(o->vault, r->manifest->vault) != 0) {
                        fl_report_add(r, VS_SEVERITY_ERROR, "manifest",
                                      "%s: the manifest is for the vault %s, not %s (--vault)",
                                      o->manifest_path, r->manifest->vault, o->vault);
                        ret = -EINVAL;
                }
        }
        fl_report_add_diags(r, VS_SEVERITY_ERROR, "manifest", &diags);
        vs_diags_clear(&diags);
        if (ret < 0) {
                vs_manifest_free(r->manifest);
                r->manifest = NULL;
                r->usage_failed = !session_unusable;
        }
        return ret;
}

static const struct vs_folder_check *find_check(const struct fl_report *r, const char *name)
{
        for (size_t i = 0; i < r->verify.n_folders; i++)
                if (strcmp(r->verify.folders[i].folder->name, name) == 0)
                        return &r->verify.folders[i];
        return NULL;
}

/* Record a library failure: its diagnostics become errors, and the run a write failure. */
static void write_result(struct fl_report *r, int ret, const char *area, struct vs_diags *diags)
{
        if (ret < 0) {
                if (diags->count == 0)
                        fl_report_add(r, VS_SEVERITY_ERROR, area, "failed: %s", strerror(-ret));
                fl_report_add_diags(r, VS_SEVERITY_ERROR, area, diags);
                r->write_failed = true;
        }
        vs_diags_clear(diags);
}

static void render_obsidian(const struct fl_options *o, struct fl_report *r)
{
        const struct vs_manifest *m = r->manifest;
        struct vs_diags diags = {0}, warnings = {0};
        const char **excluded = NULL;
        size_t n_excluded = 0;

        if (!m->personal) {
                fl_report_add(
                        r, VS_SEVERITY_WARNING, "obsidian",
                        "the manifest names no personal folder: .obsidian/ not written (new notes "
                        "would land at the vault root)");
                return;
        }
        const struct vs_folder_check *p = find_check(r, m->personal);
        if (!p || !p->usable || p->mode != VS_MODE_RW) {
                fl_report_add(
                        r, VS_SEVERITY_WARNING, "obsidian",
                        "the personal folder %s is not a writable mount: .obsidian/ not written",
                        m->personal);
                return;
        }
        excluded = calloc(r->verify.n_folders + 1, sizeof(*excluded));
        if (!excluded)
                abort();
        for (size_t i = 0; o->exclude_readonly && i < r->verify.n_folders; i++) {
                const struct vs_folder_check *c = &r->verify.folders[i];
                if (c->usable && c->mode == VS_MODE_RO)
                        excluded[n_excluded++] = c->folder->name;
        }
        struct vs_obsidian_plan plan = {
                .vault = m->vault,
                .personal = m->personal,
                .excluded = excluded,
                .n_excluded = n_excluded,
        };
        int ret = vs_obsidian_render(&plan, &r->changes, &warnings, &diags);
        fl_report_add_diags(r, VS_SEVERITY_WARNING, "obsidian", &warnings);
        vs_diags_clear(&warnings);
        write_result(r, ret, "obsidian", &diags);
        if (ret == 0) {
                ret = vs_obsidian_link_root(&plan, &r->changes, &diags);
                if (ret < 0) {
                        fl_report_add_diags(r, VS_SEVERITY_WARNING, "obsidian", &diags);
                        fl_report_add(r, VS_SEVERITY_WARNING, "obsidian",
                                      "Obsidian opens %s/.obsidian: create it in the image with "
                                      "`ln -s %s/.obsidian %s/.obsidian`",
                                      m->vault, m->personal, m->vault);
                }
                vs_diags_clear(&diags);
        }
        free(excluded);
}

static char *config_path(const char *given, const char *leaf)
{
        char *s = NULL;
        const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
        if (given)
                return strdup(given);
        if (xdg && *xdg == '/')
                return asprintf(&s, "%s/%s", xdg, leaf) < 0 ? NULL : s;
        return asprintf(&s, "%s/.config/%s", home && *home ? home : "/", leaf) < 0 ? NULL : s;
}

/* Let Syncthing create its certificate and a complete config; we then merge into it. */
static void generate_syncthing(const char *home, struct fl_report *r)
{
        char *syncthing = fl_find_program("syncthing"), *arg = NULL, *output = NULL;
        if (!syncthing || asprintf(&arg, "--home=%s", home) < 0) {
                free(syncthing);
                return;
        }
        const char *argv[] = {syncthing, "generate", arg, "--no-default-folder", NULL};
        const char *env[] = {"STNOUPGRADE=1", NULL};
        int status = fl_run(argv, env, &output);
        if (status != 0)
                fl_report_add(r, VS_SEVERITY_WARNING, "sync",
                              "`syncthing generate` failed (%d): %s; writing a config without a "
                              "device certificate", status, output ? output : "");
        else
                vs_changes_add(&r->changes, home, "generate");
        free(output);
        free(arg);
        free(syncthing);
}

static void render_sync(const struct fl_options *o, struct fl_report *r)
{
        const struct vs_manifest *m = r->manifest;
        struct vs_sync_folder *folders = calloc(r->verify.n_folders + 1, sizeof(*folders));
        struct vs_diags diags = {0};
        size_t n = 0;
        int ret;
        if (!folders)
                abort();
        for (size_t i = 0; i < r->verify.n_folders; i++) {
                const struct vs_folder_check *c = &r->verify.folders[i];
                if (c->usable)
                        folders[n++] = (struct vs_sync_folder){
                                .name = c->folder->name, .path = c->folder->target,
                                .source = c->folder->source, .mode = c->mode,
                        };
        }
        struct vs_sync_plan plan = {
                .vault = m->vault, .user_name = m->user_name, .user_id = m->user_id,
                .folders = folders, .n_folders = n,
        };
        if (o->sync_rooms) {
                char *path = config_path(o->rooms_path, "vaultshim/rooms.json");
                char *dir = path ? strdup(path) : NULL;
                if (!path || !dir)
                        abort();
                ret = vs_mkdir_p(dirname(dir), 0755, &r->changes, &diags);
                if (ret == 0)
                        ret = vs_rooms_render(&plan, path, &r->changes, &diags);
                write_result(r, ret, "sync", &diags);
                free(dir);
                free(path);
        }
        if (o->sync_syncthing) {
                char *home = config_path(o->syncthing_home, "syncthing"), *config = NULL;
                if (!home || asprintf(&config, "%s/config.xml", home) < 0)
                        abort();
                ret = vs_mkdir_p(home, 0700, &r->changes, &diags);
                if (ret == 0 && !r->changes.dry_run && access(config, F_OK) < 0)
                        generate_syncthing(home, r);
                if (ret == 0)
                        ret = vs_syncthing_render(&plan, home, o->ro_type, &r->changes, &diags);
                /* Read-only folders cannot hold one, and send nothing anyway. */
                for (size_t i = 0; ret == 0 && i < n; i++)
                        if (folders[i].mode == VS_MODE_RW)
                                ret = vs_stignore_render(folders[i].path, &r->changes, &diags);
                write_result(r, ret, "sync", &diags);
                free(config);
                free(home);
        }
        free(folders);
}

/* A folder mounted in the vault that the manifest does not grant is a leak (a Kasm group
 * mapping the user should no longer have): an error naming it, never configured. */
static void refuse_ungranted(struct fl_report *r, const struct vs_mounts *mounts)
{
        const char **extra = NULL;
        size_t n = 0;
        if (vs_ungranted_mounts(r->manifest, mounts, &extra, &n) < 0)
                abort();
        for (size_t i = 0; i < n; i++)
                fl_report_add(r, VS_SEVERITY_ERROR, "mount",
                              "%s: mounted under the vault root but not granted by the manifest; "
                              "refusing it "
                              "(remove the Kasm group or volume mapping that adds it, then end "
                              "this session)",
                              extra[i]);
        free(extra);
}

void fl_run_once(const struct fl_options *o, bool first_pass, struct fl_report *r)
{
        struct vs_diags diags = {0};
        struct vs_mounts mounts = {0};

        r->changes.dry_run = o->dry_run;
        if (fl_load_manifest(o, r) < 0)
                return;
        if (vs_mounts_load(NULL, &mounts, &diags) < 0) {
                fl_report_add_diags(r, VS_SEVERITY_ERROR, "mount", &diags);
                vs_diags_clear(&diags);
                r->usage_failed = true;
                return;
        }
        if (vs_verify(r->manifest, &mounts, (int64_t)time(NULL), vs_path_mount_id, &r->verify) < 0)
                abort();
        refuse_ungranted(r, &mounts);
        vs_mounts_clear(&mounts);

        render_obsidian(o, r);
        if (o->sync_rooms || o->sync_syncthing)
                render_sync(o, r);
        if (first_pass && o->shim_check)
                fl_check_shim(r, o->dry_run);
        if (first_pass && o->recovery)
                fl_recover_moves(r, o->dry_run);
}
