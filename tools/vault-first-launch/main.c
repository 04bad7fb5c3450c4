/* SPDX-License-Identifier: MIT */
/*
 * vault-first-launch: turn the folders mounted under the vault root into a working
 * Obsidian vault (verify mounts, write .obsidian/ and sync configuration, check the shim,
 * recover interrupted moves).  Run by Kasm's first_launch exec hook; safe to re-run.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "shared/names.h"
#include "run.h"
#include "watch.h"

#define DEFAULT_MANIFEST "/etc/vault/manifest.yaml"

static const char usage_text[] =
"usage: vault-first-launch [--manifest FILE | --discover [--personal NAME]] [--vault DIR]\n"
"                          [--sync rooms|syncthing]... [--rooms-file FILE]\n"
"                          [--syncthing-home DIR] [--syncthing-ro-type receiveonly|sendonly]\n"
"                          [--exclude-readonly] [--no-shim-check] [--no-recovery]\n"
"                          [--dry-run] [--json] [--watch] [--print-manifest]\n"
"       vault-first-launch --help | --version\n"
"\n"
"Verify the vault's mounts against the manifest, write .obsidian/ (in the personal\n"
"folder, linked from the vault root) and the sync configuration, check the shim.\n"
"\n"
"  --manifest FILE      the mount manifest (default $VAULT_MANIFEST, then " DEFAULT_MANIFEST ")\n"
"  --discover           derive the manifest from /proc/self/mountinfo (mounts under --vault)\n"
"  --personal NAME      with --discover: the personal folder (default \"personal\"),\n"
"                       which must be mounted\n"
"  --vault DIR          the vault root (default: the manifest's, or /vault)\n"
"  --sync rooms         write the generic rooms JSON ($XDG_CONFIG_HOME/vaultshim/rooms.json)\n"
"  --sync syncthing     merge the folders into Syncthing's config.xml\n"
"  --rooms-file FILE    where to write the rooms JSON\n"
"  --syncthing-home DIR Syncthing's home (default $XDG_CONFIG_HOME/syncthing)\n"
"  --syncthing-ro-type T folder type for read-only folders (default receiveonly)\n"
"  --exclude-readonly   list read-only folders in Obsidian's \"Excluded files\"\n"
"  --no-shim-check      skip the LD_PRELOAD/UV_USE_IO_URING checks and the probe\n"
"  --no-recovery        do not run vault-fsck\n"
"  --dry-run            report what would change, change nothing\n"
"  --json               print a machine-readable report on stdout\n"
"  --watch              stay running; re-render when the manifest (with --discover: the\n"
"                       mount table) changes, and when its valid_until passes (the\n"
"                       expired access is then reported as an error: end the session);\n"
"                       SIGHUP re-renders, SIGTERM stops\n"
"  --print-manifest     print the (loaded or discovered) manifest and exit\n"
"\n"
"Exit status: 0 ok; 1 verification failed (required folder missing, read-only promise\n"
"broken, access expired, a vault mount the manifest does not grant; with --discover:\n"
"no vault root, nothing mounted under it, or no personal folder); 2 usage error or\n"
"bad manifest; 3 done with warnings;\n"
"4 a configuration file could not be written.\n";

static void usage(FILE *f)
{
        fputs(usage_text, f);
}

struct watch_ctx {
        const struct fl_options *options;
        int last_exit;
};

/* The next instant after now at which the manifest's verdict changes: its own valid_until
 * or a folder's, whichever comes first. */
static int64_t next_expiry(const struct vs_manifest *m, int64_t now)
{
        int64_t next = FL_WAKE_NEVER;
        if (!m)
                return next;
        if (m->valid_until != VS_TIME_NONE && m->valid_until > now)
                next = m->valid_until;
        for (size_t i = 0; i < m->n_folders; i++) {
                int64_t t = m->folders[i].valid_until;
                if (t != VS_TIME_NONE && t > now && (next == FL_WAKE_NEVER || t < next))
                        next = t;
        }
        return next;
}

static int64_t render_and_print(const struct fl_options *o, bool first_pass, int *exit_code)
{
        struct fl_report report = {0};
        fl_run_once(o, first_pass, &report);
        if (o->json)
                fl_report_print_json(&report, stdout, o->watch);
        else
                fl_report_print_text(&report, stdout, stderr);
        *exit_code = fl_report_exit_code(&report);
        int64_t wake_at = next_expiry(report.manifest, (int64_t)time(NULL));
        fl_report_clear(&report);
        return wake_at;
}

static int64_t watch_render(void *data)
{
        struct watch_ctx *ctx = data;
        return render_and_print(ctx->options, ctx->last_exit < 0, &ctx->last_exit);
}

static int print_manifest(const struct fl_options *o)
{
        struct fl_report report = {0};
        int ret = fl_load_manifest(o, &report);
        if (ret == 0)
                ret = vs_manifest_write(stdout, report.manifest);
        else
                fl_report_print_text(&report, stdout, stderr);
        int exit_code = ret < 0 ? fl_report_exit_code(&report) : FL_EXIT_OK;
        fl_report_clear(&report);
        return exit_code;
}

int main(int argc, char **argv)
{
        enum { OPT_PERSONAL = 256, OPT_SYNC, OPT_ROOMS, OPT_ST_HOME, OPT_ST_RO, OPT_EXCLUDE,
               OPT_NO_SHIM, OPT_NO_RECOVERY, OPT_PRINT, OPT_VERSION, OPT_LAST };
        static const struct option options[] = {
                {"manifest", required_argument, NULL, 'm'},
                {"discover", no_argument, NULL, 'd'},
                {"personal", required_argument, NULL, OPT_PERSONAL},
                {"vault", required_argument, NULL, 'v'},
                {"sync", required_argument, NULL, OPT_SYNC},
                {"rooms-file", required_argument, NULL, OPT_ROOMS},
                {"syncthing-home", required_argument, NULL, OPT_ST_HOME},
                {"syncthing-ro-type", required_argument, NULL, OPT_ST_RO},
                {"exclude-readonly", no_argument, NULL, OPT_EXCLUDE},
                {"no-shim-check", no_argument, NULL, OPT_NO_SHIM},
                {"no-recovery", no_argument, NULL, OPT_NO_RECOVERY},
                {"dry-run", no_argument, NULL, 'n'},
                {"json", no_argument, NULL, 'j'},
                {"watch", no_argument, NULL, 'w'},
                {"print-manifest", no_argument, NULL, OPT_PRINT},
                {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, OPT_VERSION},
                {0},
        };
        struct fl_options o = {.shim_check = true, .recovery = true, .ro_type = "receiveonly"};
        char *manifest_abs = NULL;
        bool seen[OPT_LAST] = {false};
        int c, long_index;

        while ((c = getopt_long(argc, argv, "m:dv:njwh", options, &long_index)) != -1) {
                /* Only --sync adds up; any other option given twice would silently replace
                 * the first. */
                if (c > 0 && c < OPT_LAST && c != OPT_SYNC && c != '?' && seen[c]) {
                        const char *name = NULL;
                        for (const struct option *opt = options; opt->name && !name; opt++)
                                if (opt->val == c)
                                        name = opt->name;
                        fprintf(stderr,
                                "vault-first-launch: option --%s given more than once; give it "
                                "once\n",
                                name);
                        return FL_EXIT_USAGE;
                }
                if (c > 0 && c < OPT_LAST)
                        seen[c] = true;
                switch (c) {
                case 'm': o.manifest_path = optarg; break;
                case 'd': o.discover = true; break;
                case OPT_PERSONAL: o.personal = optarg; break;
                case 'v': o.vault = optarg; break;
                case OPT_SYNC:
                        for (char *save = NULL, *t = strtok_r(optarg, ",", &save); t;
                             t = strtok_r(NULL, ",", &save)) {
                                if (strcmp(t, "rooms") == 0)
                                        o.sync_rooms = true;
                                else if (strcmp(t, "syncthing") == 0)
                                        o.sync_syncthing = true;
                                else {
                                        fprintf(stderr,
                                                "vault-first-launch: --sync: unknown daemon \"%s\" "
                                                "(rooms or syncthing)\n",
                                                t);
                                        return FL_EXIT_USAGE;
                                }
                        }
                        break;
                case OPT_ROOMS: o.rooms_path = optarg; break;
                case OPT_ST_HOME: o.syncthing_home = optarg; break;
                case OPT_ST_RO:
                        if (strcmp(optarg, "receiveonly") != 0 && strcmp(optarg, "sendonly") != 0) {
                                fprintf(stderr, "vault-first-launch: --syncthing-ro-type must be "
                                                "receiveonly or sendonly\n");
                                return FL_EXIT_USAGE;
                        }
                        o.ro_type = optarg;
                        break;
                case OPT_EXCLUDE: o.exclude_readonly = true; break;
                case OPT_NO_SHIM: o.shim_check = false; break;
                case OPT_NO_RECOVERY: o.recovery = false; break;
                case 'n': o.dry_run = true; break;
                case 'j': o.json = true; break;
                case 'w': o.watch = true; break;
                case OPT_PRINT: o.print_manifest = true; break;
                case 'h': usage(stdout); return FL_EXIT_OK;
                case OPT_VERSION: puts("vault-first-launch " VS_VERSION); return FL_EXIT_OK;
                default: usage(stderr); return FL_EXIT_USAGE;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "vault-first-launch: unexpected argument \"%s\"\n", argv[optind]);
                usage(stderr);
                return FL_EXIT_USAGE;
        }
        if (o.discover && o.manifest_path) {
                fprintf(stderr,
                        "vault-first-launch: --manifest and --discover exclude each other\n");
                return FL_EXIT_USAGE;
        }
        if (o.personal && !o.discover) {
                fprintf(stderr,
                        "vault-first-launch: --personal only names the personal folder for "
                        "--discover; "
                        "with a manifest, its \"personal:\" key does (add --discover to derive the "
                        "manifest from the mounts)\n");
                return FL_EXIT_USAGE;
        }
        if (o.vault && (!vs_path_normalised(o.vault) || strcmp(o.vault, "/") == 0)) {
                fprintf(stderr,
                        "vault-first-launch: --vault must be an absolute normalised path, got "
                        "\"%s\"\n",
                        o.vault);
                return FL_EXIT_USAGE;
        }
        if (!o.discover && !o.manifest_path) {
                const char *env = getenv("VAULT_MANIFEST");
                o.manifest_path = env && *env ? env : DEFAULT_MANIFEST;
        }
        if (o.print_manifest)
                return print_manifest(&o);
        if (!o.watch) {
                int exit_code;
                render_and_print(&o, true, &exit_code);
                return exit_code;
        }

        struct watch_ctx ctx = {.options = &o, .last_exit = -1};
        char error[512] = "";
        int r;
        if (o.discover) {
                r = fl_watch_mounts(watch_render, &ctx, error, sizeof(error));
        } else {
                /* The watch is on the manifest's directory; give it an absolute name. */
                if (o.manifest_path[0] != '/') {
                        char *cwd = getcwd(NULL, 0);
                        if (!cwd || asprintf(&manifest_abs, "%s/%s", cwd, o.manifest_path) < 0) {
                                perror("vault-first-launch");
                                return FL_EXIT_USAGE;
                        }
                        free(cwd);
                        o.manifest_path = manifest_abs;
                }
                r = fl_watch(o.manifest_path, watch_render, &ctx, error, sizeof(error));
                free(manifest_abs);
        }
        if (r < 0) {
                fprintf(stderr, "vault-first-launch: --watch: %s\n", error);
                return FL_EXIT_USAGE;
        }
        return FL_EXIT_OK;
}
