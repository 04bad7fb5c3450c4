/* SPDX-License-Identifier: MIT */
/*
 * vault-orchestrator: keep a Kasm Workspaces installation's groups and sessions matching the
 * vault policy at every instant.  See vault-orchestrator(8).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "key-file.h"
#include "lock.h"
#include "orchestrator.h"
#include "shared/file-update.h"
#include "shared/rfc3339.h"

#define DEFAULT_STATE_DIR "/var/lib/vault-orchestrator"
#define DEFAULT_POLL_S 60
#define DEFAULT_TIMEOUT_S 10

static const char usage_text[] =
"Usage:\n"
"  vault-orchestrator plan  POLICY --kasm URL [--key-file FILE] [--users USERS.yaml]\n"
"                           [--at TIME] [--json] [COMMON]\n"
"  vault-orchestrator apply POLICY --kasm URL [--key-file FILE] [--users USERS.yaml]\n"
"                           [--at TIME] [--json] [COMMON]\n"
"  vault-orchestrator run   POLICY --kasm URL [--key-file FILE] [--users USERS.yaml]\n"
"                           [--poll SECONDS] [COMMON]\n"
"  vault-orchestrator --help | --version\n"
"COMMON: [--cacert FILE] [--audit-log FILE] [--lock FILE] [--state-dir DIR]\n"
"        [--timeout SECONDS]\n"
"\n"
"Each access class of the policy is a Kasm group vault-<hash> (the names `vault-policy\n"
"classes` prints) whose group setting volume_mapping is the class's mapping; each user is\n"
"in exactly their class group.  plan prints the difference between that and what Kasm\n"
"has; apply makes Kasm match, never granting the union of two classes, and ends the\n"
"running sessions of users who lost a folder or went from rw to ro; run applies now and\n"
"again at every instant of the schedule or every poll (default 60 s).  Only vault- groups\n"
"are ever written; other groups that map under the vault root are reported.\n"
"\n"
"--kasm URL     https:// (http:// only to 127.0.0.0/8, ::1 or localhost)\n"
"--key-file F   one line API_KEY:API_KEY_SECRET, owned by the caller, mode 0600 or 0400;\n"
"               default $CREDENTIALS_DIRECTORY/kasm-api-key\n"
"--users F      users and their groups from a users file instead of Kasm's own groups\n"
"--at TIME      decide as of this RFC 3339 instant (plan, apply); default now\n"
"--cacert F     CA bundle to verify Kasm's certificate with (always verified)\n"
"--audit-log F  one JSON line per write call, appended\n"
"--state-dir D  default $STATE_DIRECTORY, else " DEFAULT_STATE_DIR "\n"
"--lock F       default <state-dir>/lock: one orchestrator at a time\n"
"--timeout S    per HTTP attempt (default 10); failed calls are retried with backoff\n"
"\n"
"Exit status: 0 in sync (plan) or now in sync (apply); 1 bad input or usage; 2 changes\n"
"pending (plan) or drift it refused to touch (apply: everything it owns is repaired);\n"
"3 Kasm unreachable, or an API error it could not get past.\n"
"See vault-orchestrator(8).\n";

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
        (void)sig;
        stop = 1;
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
        va_list ap;
        fputs("vault-orchestrator: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputs("\nTry 'vault-orchestrator --help'.\n", stderr);
        return EXIT_INPUT;
}

struct options {
        const char *command, *policy, *kasm, *key_file, *users, *at, *cacert, *audit_log;
        const char *lock, *state_dir, *poll, *timeout;
        bool json;
};

static int parse_seconds(const char *text, const char *option, unsigned max, unsigned *ret)
{
        char *end;
        errno = 0;
        unsigned long v = strtoul(text, &end, 10);
        if (errno || end == text || *end || text[0] == '-' || v == 0 || v > max)
                return usage_error("%s must be a whole number of seconds from 1 to %u, got "
                                   "\"%s\"",
                                   option, max, text);
        *ret = (unsigned)v;
        return 0;
}

static int parse_options(int argc, char **argv, struct options *o)
{
        enum { O_KASM = 256, O_KEY, O_USERS, O_AT, O_JSON, O_POLL, O_CACERT, O_AUDIT, O_LOCK,
               O_STATE, O_TIMEOUT };
        static const struct option longopts[] = {
                { "kasm", required_argument, NULL, O_KASM },
                { "key-file", required_argument, NULL, O_KEY },
                { "users", required_argument, NULL, O_USERS },
                { "at", required_argument, NULL, O_AT },
                { "json", no_argument, NULL, O_JSON },
                { "poll", required_argument, NULL, O_POLL },
                { "cacert", required_argument, NULL, O_CACERT },
                { "audit-log", required_argument, NULL, O_AUDIT },
                { "lock", required_argument, NULL, O_LOCK },
                { "state-dir", required_argument, NULL, O_STATE },
                { "timeout", required_argument, NULL, O_TIMEOUT },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                { 0 },
        };
        const char **slots[] = { [O_KASM - O_KASM] = &o->kasm,
                                 [O_KEY - O_KASM] = &o->key_file,
                                 [O_USERS - O_KASM] = &o->users,
                                 [O_AT - O_KASM] = &o->at,
                                 [O_JSON - O_KASM] = NULL,
                                 [O_POLL - O_KASM] = &o->poll,
                                 [O_CACERT - O_KASM] = &o->cacert,
                                 [O_AUDIT - O_KASM] = &o->audit_log,
                                 [O_LOCK - O_KASM] = &o->lock,
                                 [O_STATE - O_KASM] = &o->state_dir,
                                 [O_TIMEOUT - O_KASM] = &o->timeout };
        int c;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "hV", longopts, NULL)) != -1) {
                if (c == 'h') {
                        fputs(usage_text, stdout);
                        exit(0);
                }
                if (c == 'V') {
                        puts("vault-orchestrator " VS_VERSION);
                        exit(0);
                }
                if (c == O_JSON) {
                        o->json = true;
                        continue;
                }
                if (c < O_KASM || c > O_TIMEOUT)
                        return usage_error("unknown option or missing value: %s",
                                           argv[optind - 1]);
                if (*slots[c - O_KASM])
                        return usage_error("%s given twice", argv[optind - 1]);
                *slots[c - O_KASM] = optarg;
        }
        if (argc - optind != 2)
                return usage_error("expected a command (plan, apply or run) and a POLICY file");
        o->command = argv[optind];
        o->policy = argv[optind + 1];
        if (strcmp(o->command, "plan") != 0 && strcmp(o->command, "apply") != 0 &&
            strcmp(o->command, "run") != 0)
                return usage_error("unknown command \"%s\" (plan, apply or run)", o->command);
        if (!o->kasm)
                return usage_error("%s needs --kasm URL", o->command);
        bool run = strcmp(o->command, "run") == 0;
        if (run && (o->at || o->json))
                return usage_error("run uses the real clock and logs as text: no --at or "
                                   "--json");
        if (!run && o->poll)
                return usage_error("--poll is for run");
        return 0;
}

static void print_diags(const struct vs_diags *diags)
{
        for (size_t i = 0; i < diags->count; i++) {
                const struct vs_diag *d = &diags->items[i];
                if (d->line)
                        orch_log("%s:%u:%u: %s", d->file, d->line, d->column, d->message);
                else
                        orch_log("%s: %s", d->file, d->message);
        }
}

/* $STATE_DIRECTORY may list several directories (StateDirectory=a b): the first is ours. */
static char *default_state_dir(void)
{
        const char *env = getenv("STATE_DIRECTORY");
        if (!env || !*env)
                return strdup(DEFAULT_STATE_DIR);
        return strndup(env, strcspn(env, ":"));
}

struct resources {
        struct vs_policy *policy;
        struct vs_users users;
        struct api_key key;
        struct kasm_client kasm;
        struct audit audit;
        char *state_dir, *lock_path, *key_path;
        int lock_fd;
};

static void resources_clear(struct resources *res)
{
        vs_policy_free(res->policy);
        vs_users_clear(&res->users);
        api_key_clear(&res->key);
        http_client_clear(&res->kasm.http);
        audit_close(&res->audit);
        free(res->state_dir);
        free(res->lock_path);
        free(res->key_path);
        if (res->lock_fd >= 0)
                close(res->lock_fd);
}

/* A file systemd placed in $CREDENTIALS_DIRECTORY (LoadCredential=), named or by default. */
static bool is_credential(const char *path)
{
        const char *dir = getenv("CREDENTIALS_DIRECTORY");
        size_t n = dir ? strlen(dir) : 0;
        return n > 0 && strncmp(path, dir, n) == 0 && path[n] == '/' && !strstr(path + n, "/..");
}

/* Policy, users file, key, URL: everything that is bad input exits 1 before Kasm is asked. */
static int load_inputs(const struct options *o, struct resources *res, int64_t *at)
{
        struct vs_diags diags = { 0 };
        char why[KEY_FILE_ERROR_MAX];
        unsigned timeout = DEFAULT_TIMEOUT_S;
        int r;
        if (o->at && vs_rfc3339_parse(o->at, at) < 0)
                return usage_error("--at must be an RFC 3339 time such as "
                                   "2027-01-31T00:00:00Z, got \"%s\"",
                                   o->at);
        if (o->timeout && parse_seconds(o->timeout, "--timeout", 3600, &timeout) < 0)
                return EXIT_INPUT;
        if (http_check_url(o->kasm, why) < 0)
                return usage_error("--kasm %s: %s", o->kasm, why);
        if ((r = vs_policy_load(o->policy, &res->policy, &diags)) < 0) {
                print_diags(&diags);
                if (!diags.count)
                        orch_log("%s: %s", o->policy, strerror(-r));
                vs_diags_clear(&diags);
                return EXIT_INPUT;
        }
        if (o->users && (r = vs_users_load(o->users, &res->users, &diags)) < 0) {
                print_diags(&diags);
                if (!diags.count)
                        orch_log("%s: %s", o->users, strerror(-r));
                vs_diags_clear(&diags);
                return EXIT_INPUT;
        }
        res->key_path = o->key_file ? strdup(o->key_file) : api_key_default_path();
        if (!res->key_path) {
                orch_log("no API key: give --key-file FILE, or run with $CREDENTIALS_DIRECTORY "
                         "holding %s (systemd LoadCredential=)",
                         KEY_FILE_CREDENTIAL);
                return EXIT_INPUT;
        }
        if (api_key_read(res->key_path, is_credential(res->key_path), &res->key, why) < 0) {
                orch_log("%s", why);
                return EXIT_INPUT;
        }
        if (http_client_init(&res->kasm.http, o->kasm, o->cacert, (long)timeout, why) < 0) {
                orch_log("--kasm %s: %s", o->kasm, why);
                return EXIT_INPUT;
        }
        if (o->cacert && access(o->cacert, R_OK) < 0) {
                orch_log("--cacert %s: %s", o->cacert, strerror(errno));
                return EXIT_INPUT;
        }
        res->kasm.http.stop = &stop;
        res->kasm.key = &res->key;
        return 0;
}

/* apply and run write: the state directory, the lock, the audit log. */
static int prepare_writes(const struct options *o, struct resources *res)
{
        struct vs_changes changes = { 0 };
        struct vs_diags diags = { 0 };
        char why[LOCK_WHY_MAX];
        int r = vs_mkdir_p(res->state_dir, 0700, &changes, &diags);
        vs_changes_clear(&changes);
        if (r < 0) {
                print_diags(&diags);
                if (!diags.count)
                        orch_log("--state-dir %s: %s", res->state_dir, strerror(-r));
                vs_diags_clear(&diags);
                return EXIT_INPUT;
        }
        if (o->lock)
                res->lock_path = strdup(o->lock);
        else if (asprintf(&res->lock_path, "%s/lock", res->state_dir) < 0)
                res->lock_path = NULL;
        if (!res->lock_path)
                return EXIT_INPUT;
        if (orch_lock_take(res->lock_path, &res->lock_fd, why) < 0) {
                orch_log("%s", why);
                return EXIT_INPUT;
        }
        if ((r = audit_open(&res->audit, o->audit_log)) < 0) {
                orch_log("--audit-log %s: %s", o->audit_log, strerror(-r));
                return EXIT_INPUT;
        }
        return 0;
}

int main(int argc, char **argv)
{
        struct options o = { 0 };
        struct resources res = { .lock_fd = -1, .audit = { .fd = -1 } };
        int64_t at = (int64_t)time(NULL);
        unsigned poll = DEFAULT_POLL_S;
        int status;
        if (parse_options(argc, argv, &o) != 0)
                return EXIT_INPUT;
        if (o.poll && parse_seconds(o.poll, "--poll", 86400, &poll) < 0)
                return EXIT_INPUT;
        res.state_dir = o.state_dir ? strdup(o.state_dir) : default_state_dir();
        if (!res.state_dir)
                return EXIT_INPUT;
        if ((status = load_inputs(&o, &res, &at)) != 0)
                goto out;
        bool plan = strcmp(o.command, "plan") == 0, run = strcmp(o.command, "run") == 0;
        if (!plan && (status = prepare_writes(&o, &res)) != 0)
                goto out;
        struct sigaction sa = { .sa_handler = on_signal };
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        struct orch_context ctx = { .policy_path = o.policy, .policy = res.policy,
                                    .users_file = o.users ? &res.users : NULL,
                                    .kasm = &res.kasm, .audit = &res.audit,
                                    .state_dir = res.state_dir, .json = o.json,
                                    .quiet_in_sync = run, .stop = &stop };
        status = run ? orch_run(&ctx, poll) : orch_cycle(&ctx, at, !plan, NULL);
out:
        resources_clear(&res);
        return status;
}
