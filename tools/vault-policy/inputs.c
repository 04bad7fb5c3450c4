/* SPDX-License-Identifier: MIT */
/* What every command reads, and how it tells a problem with it: the policy and users file with
 * every diagnostic printed, TIME options, and usage errors. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "shared/rfc3339.h"
#include "vault-policy.h"

int usage_error(const char *fmt, ...)
{
        va_list ap;
        fprintf(stderr, "vault-policy: ");
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, "\nTry 'vault-policy --help'.\n");
        return EXIT_USAGE;
}

/* Messages quote offending input, which may hold newlines: keep one diagnostic per line. */
static void print_escaped(const char *s)
{
        for (; *s; s++) {
                unsigned char c = (unsigned char)*s;
                if (c == '\n')
                        fputs("\\n", stderr);
                else if (c < 0x20 || c == 0x7f)
                        fprintf(stderr, "\\x%02x", c);
                else
                        fputc(c, stderr);
        }
}

void print_diags(const struct vs_diags *diags)
{
        for (size_t i = 0; i < diags->count; i++) {
                const struct vs_diag *d = &diags->items[i];
                print_escaped(d->file);
                if (d->line)
                        fprintf(stderr, ":%u:%u", d->line, d->column);
                fputs(": ", stderr);
                print_escaped(d->message);
                fputc('\n', stderr);
        }
}

/* Load the policy or print every error; returns NULL after printing. */
struct vs_policy *load_policy(const char *path)
{
        struct vs_diags diags = { 0 };
        struct vs_policy *policy = NULL;
        if (vs_policy_load(path, &policy, &diags) < 0) {
                print_diags(&diags);
                if (diags.count == 0)
                        fprintf(stderr, "%s: cannot load policy\n", path);
                policy = NULL;
        }
        vs_diags_clear(&diags);
        return policy;
}

/* Load a users file or print every error; returns 0, or -1 after printing. */
int load_users(const char *path, struct vs_users *users)
{
        struct vs_diags diags = { 0 };
        int r = vs_users_load(path, users, &diags);
        if (r < 0)
                print_diags(&diags);
        vs_diags_clear(&diags);
        return r < 0 ? -1 : 0;
}

/* Load the policy and, when users_path is not NULL, the users file, or print every error;
 * returns 0, or -1 after printing with nothing left to free. */
int load_policy_and_users(const char *policy_path, const char *users_path,
                          struct vs_policy **policy, struct vs_users *users)
{
        struct vs_policy *loaded = load_policy(policy_path);
        if (!loaded)
                return -1;
        if (users_path && load_users(users_path, users) < 0) {
                vs_policy_free(loaded);
                return -1;
        }
        *policy = loaded;
        return 0;
}

/* TIME from an option, or now when absent and allowed. */
int option_time(const char *option, const char *text, bool required, int64_t *ret)
{
        if (!text) {
                if (required) {
                        fprintf(stderr, "vault-policy: %s TIME is required\n", option);
                        return -EINVAL;
                }
                *ret = (int64_t)time(NULL);
                return 0;
        }
        if (vs_rfc3339_parse(text, ret) < 0) {
                char why[VS_RFC3339_PROBLEM_MAX];
                fprintf(stderr, "vault-policy: %s \"%s\" is not an RFC 3339 date-time such as "
                        "2027-01-31T00:00:00Z: %s\n", option, text, vs_rfc3339_problem(text, why));
                return -EINVAL;
        }
        return 0;
}
