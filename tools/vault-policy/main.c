/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shared/names.h"
#include "vault-policy.h"

static const char usage_text[] =
"Usage:\n"
"  vault-policy check POLICY...\n"
"  vault-policy lint POLICY [--users USERS.yaml] [--now TIME]\n"
"  vault-policy resolve POLICY --user NAME --uid ID GROUPS [--now TIME]\n"
"                       [--format manifest|json|kasm|docker]\n"
"  vault-policy explain POLICY --user NAME [--uid ID] GROUPS [--now TIME]\n"
"                       [--folder NAME] [--json]\n"
"  vault-policy explain POLICY --users USERS.yaml --user NAME [--now TIME] ...\n"
"  vault-policy matrix POLICY --users USERS.yaml [--now TIME] [--json]\n"
"  vault-policy classes POLICY --users USERS.yaml [--at TIME] [--format json|csv]\n"
"  vault-policy schedule POLICY --users USERS.yaml --from TIME --to TIME [--json]\n"
"  vault-policy kasm-native POLICY --users USERS.yaml [--at TIME] [--orgs NxMxU,...]\n"
"  vault-policy --help | --version\n"
"\n"
"GROUPS is either --groups G1,G2,... or a verified token:\n"
"  --jwt FILE --jwt-key KEYFILE --jwt-alg RS256|ES256|HS256 [--groups-claim groups]\n"
"  [--user-claim CLAIM] [--jwt-iss ISSUER] [--jwt-aud AUDIENCE]\n"
"  The token must be signed with exactly the pinned algorithm (\"none\" and any other\n"
"  algorithm are refused), must carry \"exp\" (and \"nbf\", if present) valid at TIME,\n"
"  and \"iss\"/\"aud\" as given; its groups claim must be an array of strings; a leading\n"
"  '/' (Keycloak group paths) is stripped.  The user is the token's CLAIM (default\n"
"  preferred_username, else sub); --user, if given, must be that user.  KEYFILE is a PEM\n"
"  public key for RS256/ES256 and the raw secret (at least 32 bytes, not a PEM) for HS256.\n"
"\n"
"TIME is RFC 3339 (2027-01-31T00:00:00Z or with an offset); default: the current time.\n"
"The process time zone never matters.\n"
"\n"
"Policy format (vault-permissions.yaml; block or flow YAML, no anchors, aliases or tags;\n"
"unknown or duplicate keys are errors):\n"
"  version: 1                      optional, must be 1\n"
"  vault: /vault                   optional: where folders are mounted (<vault>/<name>)\n"
"  folders:\n"
"    - name: deal-room-acme        [A-Za-z0-9._-]{1,64}, not starting with '.', unique\n"
"      path: /shared/deals/acme    absolute normalised host path, unique; no ',' ':'\n"
"                                  or control characters; may use {username}, {user_id}\n"
"      required: true              optional (default true): the container needs it\n"
"      personal: false             optional: the user's own rw space (at most one folder;\n"
"                                  without any, a folder named \"personal\" is)\n"
"      access:                     optional list of rules\n"
"        - groups: [legal, executive]   non-empty list of group names\n"
"          compound: all           any (default: one group suffices) | all (every group)\n"
"          effect: allow           allow (default) | deny\n"
"          mode: rw                allow only: ro (default) | rw\n"
"          scope: all              deny only: all (default: no mount) | write (caps at ro)\n"
"          not_before: 2026-12-01T00:00:00Z   optional, RFC 3339\n"
"          not_after: 2027-01-31T00:00:00Z    optional, RFC 3339; window is half-open\n"
"      implies:                    optional: access here grants access there\n"
"        - folder: deal-room-acme-resources\n"
"          max_mode: ro            ro (default) | rw\n"
"\n"
"Decision per folder at TIME: a matching deny with scope all wins (DENIED); otherwise the\n"
"highest mode of matching allows and of implied grants (each at most the source folder's\n"
"final mode and max_mode); a matching write deny caps it at ro; no grant, no mount.\n"
"{username} and {user_id} are substituted afterwards and must be 1-255 bytes of letters,\n"
"digits, '.', '_', '-', '@', '+' or non-ASCII UTF-8 (e-mail style Kasm logins such as\n"
"user@kasm.local pass), not \".\" or \"..\"; otherwise that folder is refused and the\n"
"message names the refused character (':' ',' '/' braces, whitespace, quotes, ...).\n";

/* Split in two: C limits a string literal's guaranteed length. */
static const char usage_kasm_text[] =
"\n"
"lint codes: nested-path (a folder's host path inside another's), expired-rule,\n"
"never-valid-rule (always overridden by a deny), group-case (names differing only in\n"
"case), redundant-rule (another rule always applies with at least its effect); with\n"
"--users: group-without-rule (users have it, no rule names it), group-without-user (a\n"
"rule names it, no user has it), each with \"did you mean\" for a near name.\n"
"explain statuses: MOUNTED rw|ro, DENIED, NO_MATCH, REFUSED (unsafe substitution, or a\n"
"host path another folder already mounts).\n"
"\n"
"Exit status: 0 ok; 1 invalid or unreadable policy, users file, token, or any bad key\n"
"(nothing on stdout); 2 usage; 3 partial (a folder was refused, told alike by every\n"
"command that decides; lint: warnings found); 4 the token was refused.\n"
"\n"
"classes: users with the same decision form one access class = one Kasm group whose Group\n"
"Setting volume_mapping keeps {username}/{user_id} for Kasm to fill in; put each user in\n"
"exactly one class group.  schedule: every instant in (--from, --to] at which a user's\n"
"class changes (one at --from is in the start state), with the Kasm steps; a user who\n"
"loses access must have running sessions ended: a bind mount cannot be revoked inside a\n"
"running container.  kasm-native: what one\n"
"Kasm group per policy group (union of its grants) gives each user against the policy,\n"
"and the admin objects each approach needs.\n"
"\n"
"Every input file is a regular file of at most 4 MiB; each option is given once.\n"
"See vault-policy(1).\n";

static void usage(FILE *out)
{
        fputs(usage_text, out);
        fputs(usage_kasm_text, out);
}

static int cmd_check(int argc, char **argv)
{
        int status = EXIT_OK;
        if (argc < 1)
                return usage_error("%s", "check needs at least one POLICY");
        for (int i = 0; i < argc; i++) {
                struct vs_policy *policy = load_policy(argv[i]);
                if (!policy) {
                        status = EXIT_INVALID;
                        continue;
                }
                printf("%s: ok (%zu folders)\n", argv[i], policy->n_folders);
                vs_policy_free(policy);
        }
        return status;
}

static int cmd_lint(const struct options *o)
{
        int64_t now;
        struct vs_lint lint;
        struct vs_users users = { 0 };
        if (option_time("--now", o->now, false, &now) < 0)
                return EXIT_USAGE;
        struct vs_policy *policy;
        if (load_policy_and_users(o->policy, o->users, &policy, &users) < 0)
                return EXIT_INVALID;
        int r = vs_policy_lint(policy, now, &lint);
        if (r == 0 && o->users) {
                r = vs_policy_lint_users(policy, &users, &lint);
                if (r < 0)
                        vs_lint_clear(&lint);
        }
        vs_users_clear(&users);
        if (r < 0) {
                vs_policy_free(policy);
                fprintf(stderr, "vault-policy: lint failed: %s\n", strerror(-r));
                return EXIT_INVALID;
        }
        for (size_t i = 0; i < lint.count; i++) {
                const struct vs_lint_warning *w = &lint.items[i];
                printf("%s:%u:%u: warning[%s]: %s\n", w->file ? w->file : policy->file, w->line,
                       w->column, w->code, w->message);
        }
        int status = lint.count ? EXIT_PARTIAL : EXIT_OK;
        vs_lint_clear(&lint);
        vs_policy_free(policy);
        return status;
}

/* Who the request is for: name, id and groups (and, from a users file, where it names them). */
struct identity {
        char *user;
        char *uid;
        struct group_list groups;
        char *groups_file;
        struct vs_mark *group_marks;
};

static void identity_clear(struct identity *id)
{
        free(id->user);
        free(id->uid);
        group_list_clear(&id->groups);
        free(id->groups_file);
        free(id->group_marks);
}

/* The user and groups from a verified token; --user, when given, must be the token's user. */
static int identity_from_token(const struct options *o, int64_t now, struct identity *id)
{
        struct jwt_request req = {
                .token_file = o->jwt,
                .key_file = o->jwt_key,
                .alg = o->jwt_alg,
                .groups_claim = o->groups_claim ? o->groups_claim : "groups",
                .user_claim = o->user_claim,
                .issuer = o->jwt_iss,
                .audience = o->jwt_aud,
                .now = now,
        };
        struct jwt_identity token = { 0 };
        char *error = NULL;

        if (!o->jwt_key || !o->jwt_alg)
                return usage_error("%s", "--jwt needs --jwt-key and --jwt-alg");
        if (strcmp(o->jwt_alg, "RS256") && strcmp(o->jwt_alg, "ES256") &&
            strcmp(o->jwt_alg, "HS256"))
                return usage_error("--jwt-alg must be RS256, ES256 or HS256, got \"%s\"",
                                   o->jwt_alg);
        int r = jwt_verify(&req, &token, &error);
        if (r == -EIO) {
                /* an unreadable token or key file, or an unusable key, is a bad input */
                fprintf(stderr, "vault-policy: %s\n", error ? error : strerror(-r));
                free(error);
                return EXIT_INVALID;
        }
        if (r < 0) {
                fprintf(stderr, "vault-policy: %s: %s\n", o->jwt, error ? error : strerror(-r));
                free(error);
                return EXIT_TOKEN;
        }
        /* A token for dana must never resolve mallory's folders with dana's groups. */
        if (o->user && strcmp(o->user, token.user) != 0) {
                fprintf(stderr,
                        "vault-policy: %s: token refused: it is for user \"%s\" (claim \"%s\"), "
                        "not \"%s\" (--user)\n",
                        o->jwt, token.user, token.user_claim, o->user);
                jwt_identity_clear(&token);
                return EXIT_TOKEN;
        }
        id->user = token.user;
        id->groups = token.groups;
        token.user = NULL;
        token.groups = (struct group_list){ 0 };
        jwt_identity_clear(&token);
        return EXIT_OK;
}

/* The user's id and groups from a users file (explain --users FILE --user NAME). */
static int identity_from_users(const struct options *o, struct identity *id)
{
        struct vs_users users;
        if (load_users(o->users, &users) < 0)
                return EXIT_INVALID;
        const struct vs_user *user = NULL;
        for (size_t i = 0; i < users.count && !user; i++)
                if (strcmp(users.items[i].name, o->user) == 0)
                        user = &users.items[i];
        int status = EXIT_OK;
        if (!user) {
                fprintf(stderr, "vault-policy: %s: no user \"%s\"\n", o->users, o->user);
                status = EXIT_INVALID;
        } else if (!(id->user = strdup(user->name)) || !(id->uid = strdup(user->id)) ||
                   !(id->groups.names = calloc(user->n_groups + 1, sizeof(char *))) ||
                   !(id->groups_file = strdup(users.file)) ||
                   !(id->group_marks = calloc(user->n_groups + 1, sizeof(*id->group_marks)))) {
                status = EXIT_INVALID;
        } else {
                for (size_t g = 0; g < user->n_groups && status == EXIT_OK; g++) {
                        id->group_marks[g] = user->group_marks[g];
                        if (!(id->groups.names[id->groups.count++] = strdup(user->groups[g])))
                                status = EXIT_INVALID;
                }
        }
        vs_users_clear(&users);
        return status;
}

/* Usage errors of a request, found before anything is read. */
static int check_request_options(const struct options *o, bool need_uid)
{
        int sources = !!o->groups + !!o->jwt + !!o->users;
        if (sources > 1)
                return usage_error("%s",
                                   "give the user's groups with one of --groups, --jwt or --users");
        if (!o->jwt && (o->jwt_key || o->jwt_alg || o->groups_claim || o->user_claim ||
                        o->jwt_iss || o->jwt_aud))
                return usage_error("%s", "--jwt-key, --jwt-alg, --groups-claim, --user-claim, "
                                         "--jwt-iss and --jwt-aud need --jwt");
        if (!o->user && !o->jwt)
                return usage_error("%s", "--user is required");
        if (sources == 0)
                return usage_error("%s", "give the user's groups with --groups or --jwt");
        if (need_uid && !o->uid)
                return usage_error("%s", "--uid is required");
        return EXIT_OK;
}

/* Name, id and groups from --user/--uid with --groups, --jwt or --users; an exit status. */
static int request_identity(const struct options *o, int64_t now, struct identity *id)
{
        int status = o->jwt     ? identity_from_token(o, now, id)
                     : o->users ? identity_from_users(o, id)
                                : EXIT_OK;
        if (status != EXIT_OK)
                return status;
        if (!id->user && !(id->user = strdup(o->user)))
                return EXIT_INVALID;
        if (o->uid) {
                free(id->uid);
                if (!(id->uid = strdup(o->uid)))
                        return EXIT_INVALID;
        }
        if (o->groups && group_list_from_csv(o->groups, &id->groups) < 0)
                return EXIT_INVALID;
        return EXIT_OK;
}

/* Shared by resolve and explain: load, establish who asks, decide. */
static int decide(const struct options *o, bool need_uid, struct vs_policy **policy_ret,
                  struct vs_decision **ret)
{
        int64_t now;
        struct identity id = { 0 };
        int status = check_request_options(o, need_uid);

        if (status != EXIT_OK)
                return status;
        if (option_time("--now", o->now, false, &now) < 0)
                return EXIT_USAGE;
        struct vs_policy *policy = load_policy(o->policy);
        if (!policy)
                return EXIT_INVALID;
        status = request_identity(o, now, &id);
        if (status != EXIT_OK) {
                identity_clear(&id);
                vs_policy_free(policy);
                return status;
        }
        struct vs_request request = {
                .user_name = id.user,
                .user_id = id.uid,
                .groups = (const char *const *)id.groups.names,
                .n_groups = id.groups.count,
                .now = now,
                .groups_file = id.groups_file,
                .group_marks = id.group_marks,
        };
        int r = vs_policy_decide(policy, &request, ret);
        identity_clear(&id);
        if (r < 0) {
                vs_policy_free(policy);
                fprintf(stderr, "vault-policy: %s\n", strerror(-r));
                return EXIT_INVALID;
        }
        *policy_ret = policy;
        return EXIT_OK;
}

static int cmd_resolve(const struct options *o)
{
        const char *format = o->format ? o->format : "manifest";
        struct vs_policy *policy;
        struct vs_decision *d;
        if (!format_known(format))
                return usage_error("--format must be manifest, json, kasm or docker, got \"%s\"",
                                   format);
        int status = decide(o, true, &policy, &d);
        if (status != EXIT_OK)
                return status;
        report_decision_refusals(d, NULL);
        /* vault-first-launch reads the user's name and id as safe tokens; never hand it others. */
        char why_name[VS_USER_TOKEN_WHY], why_id[VS_USER_TOKEN_WHY];
        const char *bad_name = vs_user_token_problem(d->user_name, why_name);
        const char *bad_id = vs_user_token_problem(d->user_id, why_id);
        if (strcmp(format, "manifest") == 0 && (bad_name || bad_id)) {
                fprintf(stderr,
                        "vault-policy: no manifest for user \"%s\" (id \"%s\"): the %s is unusable "
                        "(%s); a manifest needs a name and id of " VS_USER_TOKEN_RULE "\n",
                        d->user_name, d->user_id, bad_name ? "name" : "id",
                        bad_name ? bad_name : bad_id);
                vs_decision_free(d);
                vs_policy_free(policy);
                return EXIT_PARTIAL;
        }
        int r = format_decision(policy, d, format);
        if (r < 0) {
                fprintf(stderr, "vault-policy: cannot write %s output: %s\n", format, strerror(-r));
                status = EXIT_INVALID;
        } else if (d->n_refused) {
                status = EXIT_PARTIAL;
        }
        vs_decision_free(d);
        vs_policy_free(policy);
        return status;
}

static int cmd_explain(const struct options *o)
{
        struct vs_policy *policy;
        struct vs_decision *d;
        char *text = NULL;
        int status = decide(o, false, &policy, &d);
        if (status != EXIT_OK)
                return status;
        int r = o->json ? vs_explain_json(policy, d, o->folder, &text)
                        : vs_explain_write(stdout, policy, d, o->folder);
        if (r == -ENOENT) {
                status = usage_error("--folder \"%s\" names no folder of the policy", o->folder);
        } else if (r < 0) {
                fprintf(stderr, "vault-policy: %s\n", strerror(-r));
                status = EXIT_INVALID;
        } else {
                if (text)
                        printf("%s\n", text);
                /* told as resolve tells it: explain decides the same way */
                if (report_decision_refusals(d, NULL) > 0)
                        status = EXIT_PARTIAL;
        }
        free(text);
        vs_decision_free(d);
        vs_policy_free(policy);
        return status;
}

static int cmd_matrix(const struct options *o)
{
        int64_t now;
        struct vs_users users;
        if (!o->users)
                return usage_error("%s", "--users USERS.yaml is required");
        if (option_time("--now", o->now, false, &now) < 0)
                return EXIT_USAGE;
        struct vs_policy *policy;
        if (load_policy_and_users(o->policy, o->users, &policy, &users) < 0)
                return EXIT_INVALID;
        int status = run_matrix(policy, &users, now, o->json);
        if (status < 0) {
                fprintf(stderr, "vault-policy: %s\n", strerror(-status));
                status = EXIT_INVALID;
        }
        vs_users_clear(&users);
        vs_policy_free(policy);
        return status;
}

enum {
        OPT_USER = 256,
        OPT_UID,
        OPT_GROUPS,
        OPT_NOW,
        OPT_FORMAT,
        OPT_FOLDER,
        OPT_JSON,
        OPT_USERS,
        OPT_JWT,
        OPT_JWT_KEY,
        OPT_JWT_ALG,
        OPT_GROUPS_CLAIM,
        OPT_USER_CLAIM,
        OPT_JWT_ISS,
        OPT_JWT_AUD,
        OPT_AT,
        OPT_FROM,
        OPT_TO,
        OPT_ORGS,
        OPT_LAST
};

static const struct option long_options[] = {
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { "user", required_argument, NULL, OPT_USER },
        { "uid", required_argument, NULL, OPT_UID },
        { "groups", required_argument, NULL, OPT_GROUPS },
        { "now", required_argument, NULL, OPT_NOW },
        { "format", required_argument, NULL, OPT_FORMAT },
        { "folder", required_argument, NULL, OPT_FOLDER },
        { "json", no_argument, NULL, OPT_JSON },
        { "users", required_argument, NULL, OPT_USERS },
        { "jwt", required_argument, NULL, OPT_JWT },
        { "jwt-key", required_argument, NULL, OPT_JWT_KEY },
        { "jwt-alg", required_argument, NULL, OPT_JWT_ALG },
        { "groups-claim", required_argument, NULL, OPT_GROUPS_CLAIM },
        { "user-claim", required_argument, NULL, OPT_USER_CLAIM },
        { "jwt-iss", required_argument, NULL, OPT_JWT_ISS },
        { "jwt-aud", required_argument, NULL, OPT_JWT_AUD },
        { "at", required_argument, NULL, OPT_AT },
        { "from", required_argument, NULL, OPT_FROM },
        { "to", required_argument, NULL, OPT_TO },
        { "orgs", required_argument, NULL, OPT_ORGS },
        { NULL, 0, NULL, 0 },
};

/* Which options each subcommand takes; anything else is a usage error. */
static bool option_allowed(const char *command, int opt)
{
        bool request = opt == OPT_USER || opt == OPT_UID || opt == OPT_GROUPS || opt == OPT_NOW ||
                       opt == OPT_JWT || opt == OPT_JWT_KEY || opt == OPT_JWT_ALG ||
                       opt == OPT_GROUPS_CLAIM || opt == OPT_USER_CLAIM || opt == OPT_JWT_ISS ||
                       opt == OPT_JWT_AUD;
        if (strcmp(command, "lint") == 0)
                return opt == OPT_NOW || opt == OPT_USERS;
        if (strcmp(command, "resolve") == 0)
                return request || opt == OPT_FORMAT;
        if (strcmp(command, "explain") == 0)
                return request || opt == OPT_FOLDER || opt == OPT_JSON || opt == OPT_USERS;
        if (strcmp(command, "matrix") == 0)
                return opt == OPT_NOW || opt == OPT_USERS || opt == OPT_JSON;
        if (strcmp(command, "classes") == 0)
                return opt == OPT_AT || opt == OPT_USERS || opt == OPT_FORMAT;
        if (strcmp(command, "schedule") == 0)
                return opt == OPT_FROM || opt == OPT_TO || opt == OPT_USERS || opt == OPT_JSON;
        if (strcmp(command, "kasm-native") == 0)
                return opt == OPT_AT || opt == OPT_USERS || opt == OPT_ORGS;
        return false;
}

int main(int argc, char **argv)
{
        struct options o = { 0 };

        if (argc < 2)
                return usage(stderr), EXIT_USAGE;
        if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
                return usage(stdout), EXIT_OK;
        if (strcmp(argv[1], "--version") == 0)
                return puts("vault-policy " VS_VERSION), EXIT_OK;

        const char *command = argv[1];
        if (strcmp(command, "check") == 0)
                return cmd_check(argc - 2, argv + 2);
        if (strcmp(command, "lint") && strcmp(command, "resolve") && strcmp(command, "explain") &&
            strcmp(command, "matrix") && !kasm_command(command))
                return usage_error("unknown command \"%s\"", command);

        optind = 1;
        opterr = 0;
        int opt, long_index = -1;
        bool seen[OPT_LAST] = { false };
        while ((opt = getopt_long(argc - 1, argv + 1, "+h", long_options, &long_index)) != -1 ||
               optind < argc - 1) {
                if (opt == -1) {
                        /* a positional argument: the policy; options may follow it */
                        if (o.policy)
                                return usage_error("unexpected argument \"%s\"", argv[1 + optind]);
                        o.policy = argv[1 + optind++];
                        continue;
                }
                if (opt == 'h')
                        return usage(stdout), EXIT_OK;
                if (opt == '?')
                        return usage_error("unknown or incomplete option \"%s\"", argv[optind]);
                if (!option_allowed(command, opt))
                        return usage_error("option not valid for this command: \"%s\"",
                                           argv[optind - 1]);
                /* A second --groups or --user would silently replace the first: refuse it. */
                if (opt >= 0 && opt < OPT_LAST && seen[opt])
                        return usage_error("option --%s given more than once; give it once%s",
                                           long_options[long_index].name,
                                           opt == OPT_GROUPS
                                                   ? " (--groups G1,G2,... for several groups)"
                                                   : "");
                if (opt >= 0 && opt < OPT_LAST)
                        seen[opt] = true;
                switch (opt) {
                case OPT_USER: o.user = optarg; break;
                case OPT_UID: o.uid = optarg; break;
                case OPT_GROUPS: o.groups = optarg; break;
                case OPT_NOW: o.now = optarg; break;
                case OPT_FORMAT: o.format = optarg; break;
                case OPT_FOLDER: o.folder = optarg; break;
                case OPT_JSON: o.json = true; break;
                case OPT_USERS: o.users = optarg; break;
                case OPT_JWT: o.jwt = optarg; break;
                case OPT_JWT_KEY: o.jwt_key = optarg; break;
                case OPT_JWT_ALG: o.jwt_alg = optarg; break;
                case OPT_GROUPS_CLAIM: o.groups_claim = optarg; break;
                case OPT_USER_CLAIM: o.user_claim = optarg; break;
                case OPT_JWT_ISS: o.jwt_iss = optarg; break;
                case OPT_JWT_AUD: o.jwt_aud = optarg; break;
                case OPT_AT: o.at = optarg; break;
                case OPT_FROM: o.from = optarg; break;
                case OPT_TO: o.to = optarg; break;
                case OPT_ORGS: o.orgs = optarg; break;
                }
        }
        if (!o.policy)
                return usage_error("%s needs a POLICY file", command);

        if (strcmp(command, "lint") == 0)
                return cmd_lint(&o);
        if (strcmp(command, "resolve") == 0)
                return cmd_resolve(&o);
        if (strcmp(command, "explain") == 0)
                return cmd_explain(&o);
        if (kasm_command(command))
                return run_kasm_command(command, &o);
        return cmd_matrix(&o);
}
