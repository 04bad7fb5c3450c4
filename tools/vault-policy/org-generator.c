/* SPDX-License-Identifier: MIT */
/*
 * A synthetic organisation of N folders x M groups x U users, the same for every run (a fixed
 * seed), with every kind of rule the policy format has: personal folders, team folders rw or
 * ro, compound all (two teams), everyone-ro, contractor windows spread over the year from
 * 2027-01-01, intern denies, write denies and implies.  Used for the admin-objects table of
 * kasm-native and by the classes/schedule benchmark.
 *
 * The dense variant (the benchmark's second organisation) is what an outside check found
 * hard: a fifth of the users are contractors and a quarter of those are in 2-4 of
 * DENSE_WINDOW_GROUPS window groups, each of which opens most folders for a few weeks at its
 * own dates; most folders also deny interns, a team, or contractors' writes.  Nearly every
 * window bound then moves some user into a class of their own.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "org-generator.h"

#define YEAR_START INT64_C(1798761600) /* 2027-01-01T00:00:00Z */
#define DAY 86400
#define DENSE_WINDOW_GROUPS 40

static uint64_t next_random(uint64_t *state) /* splitmix64 */
{
        uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
        z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
        return z ^ (z >> 31);
}

static size_t pick(uint64_t *state, size_t n)
{
        return n ? (size_t)(next_random(state) % n) : 0;
}

static bool chance(uint64_t *state, unsigned percent)
{
        return next_random(state) % 100 < percent;
}

static void put_time(FILE *out, const char *key, int64_t t)
{
        char text[VS_TIME_BUF];
        vs_time_format(t, text);
        fprintf(out, "        %s: %s\n", key, text);
}

/* Team groups are team-001 .. team-M (M minus the three fixed ones, at least one). */
static size_t teams_of(const struct org_shape *shape)
{
        return shape->groups > 4 ? shape->groups - 3 : 1;
}

/* One window of a few weeks for a window group, somewhere in the year. */
static void write_window(FILE *out, uint64_t *rng)
{
        int64_t opens = YEAR_START + (int64_t)pick(rng, 330) * DAY;
        fprintf(out, "      - groups: [window-%02zu]\n        mode: %s\n",
                1 + pick(rng, DENSE_WINDOW_GROUPS), chance(rng, 50) ? "rw" : "ro");
        put_time(out, "not_before", opens);
        put_time(out, "not_after", opens + (int64_t)(7 + pick(rng, 50)) * DAY);
}

static void write_dense_rules(FILE *out, size_t teams, uint64_t *rng)
{
        for (int w = 0; w < 2; w++)
                if (chance(rng, w == 0 ? 80 : 40))
                        write_window(out, rng);
        if (chance(rng, 40))
                fprintf(out, "      - groups: [interns]\n        effect: deny\n");
        if (chance(rng, 30))
                fprintf(out, "      - groups: [team-%03zu]\n        effect: deny\n",
                        1 + pick(rng, teams));
        if (chance(rng, 40))
                fprintf(out, "      - groups: [contractors]\n        effect: deny\n        scope: "
                             "write\n");
}

static void write_policy(FILE *out, const struct org_shape *shape, uint64_t *rng)
{
        size_t teams = teams_of(shape);
        fprintf(out, "# generated organisation: %zu folders x %zu groups x %zu users\nfolders:\n",
                shape->folders, shape->groups, shape->users);
        fprintf(out,
                "  - name: personal\n    path: /users/{username}/personal\n    personal: true\n"
                "    access:\n      - groups: [all-employees, contractors]\n        mode: rw\n");
        for (size_t f = 1; f < shape->folders; f++) {
                fprintf(out, "  - name: f-%04zu\n    path: /shared/f-%04zu\n    access:\n", f, f);
                fprintf(out, "      - groups: [team-%03zu]\n        mode: %s\n",
                        1 + pick(rng, teams), chance(rng, 70) ? "rw" : "ro");
                if (chance(rng, 25) && teams > 1) {
                        size_t a = pick(rng, teams), b = (a + 1 + pick(rng, teams - 1)) % teams;
                        fprintf(out,
                                "      - groups: [team-%03zu, team-%03zu]\n        compound: all\n "
                                "       mode: rw\n",
                                1 + a, 1 + b);
                }
                if (chance(rng, 15))
                        fprintf(out, "      - groups: [all-employees]\n        mode: ro\n");
                if (chance(rng, 8)) {
                        int64_t opens = YEAR_START + (int64_t)pick(rng, 330) * DAY;
                        fprintf(out, "      - groups: [contractors]\n        mode: ro\n");
                        put_time(out, "not_before", opens);
                        put_time(out, "not_after", opens + (int64_t)(14 + pick(rng, 90)) * DAY);
                }
                if (chance(rng, 10))
                        fprintf(out, "      - groups: [interns]\n        effect: deny\n");
                if (chance(rng, 10))
                        fprintf(out, "      - groups: [contractors]\n        effect: deny\n        "
                                     "scope: write\n");
                if (shape->dense)
                        write_dense_rules(out, teams, rng);
                if (f + 1 < shape->folders && chance(rng, 10))
                        fprintf(out, "    implies:\n      - folder: f-%04zu\n", f + 1);
        }
}

/* Teams come in departments of five; a user belongs to one department and 1-3 of its teams,
 * as people in a real organisation do (random teams from all of them would make every user
 * unique, which no organisation is). */
static void write_users(FILE *out, const struct org_shape *shape, uint64_t *rng)
{
        size_t teams = teams_of(shape), departments = (teams + 4) / 5;
        fprintf(out, "users:\n");
        for (size_t u = 0; u < shape->users; u++) {
                bool contractor = chance(rng, 5);
                size_t department = pick(rng, departments), first = department * 5;
                size_t size = teams - first < 5 ? teams - first : 5;
                fprintf(out, "  - name: %s%05zu%s\n    id: \"%zu\"\n    groups: [%s",
                        u % 3 ? "user" : "first.last+", u, u % 3 ? "" : "@example.com", 10000 + u,
                        contractor ? "contractors" : "all-employees");
                if (chance(rng, 5))
                        fprintf(out, ", interns");
                for (size_t n = 1 + pick(rng, 3); n > 0; n--)
                        fprintf(out, ", team-%03zu", 1 + first + pick(rng, size));
                if (shape->dense && contractor && chance(rng, 25)) {
                        size_t window = pick(rng, DENSE_WINDOW_GROUPS), step = 1 + pick(rng, 7);
                        for (size_t n = 2 + pick(rng, 3); n > 0; n--, window += step)
                                fprintf(out, ", window-%02zu", 1 + window % DENSE_WINDOW_GROUPS);
                }
                fprintf(out, "]\n");
        }
}

int org_generate(const struct org_shape *shape, char **policy_yaml, size_t *policy_len,
                 char **users_yaml, size_t *users_len)
{
        uint64_t rng = UINT64_C(0x5eed) ^ shape->folders << 40 ^ shape->groups << 20 ^ shape->users;
        FILE *p = open_memstream(policy_yaml, policy_len);
        if (!p)
                return -ENOMEM;
        write_policy(p, shape, &rng);
        if (fclose(p) != 0)
                return -ENOMEM;
        FILE *u = open_memstream(users_yaml, users_len);
        if (!u) {
                free(*policy_yaml);
                return -ENOMEM;
        }
        write_users(u, shape, &rng);
        if (fclose(u) != 0) {
                free(*policy_yaml);
                return -ENOMEM;
        }
        return 0;
}

int org_parse_shapes(const char *text, struct org_shape **ret, size_t *n_ret)
{
        struct org_shape *shapes = NULL;
        size_t n = 0;
        for (const char *p = text; *p;) {
                struct org_shape s = { 0 };
                int used = 0;
                if (sscanf(p, "%zux%zux%zu%n", &s.folders, &s.groups, &s.users, &used) != 3 ||
                    s.folders < 2 || s.groups < 1 || s.users < 1 ||
                    (p[used] != ',' && p[used] != '\0')) {
                        free(shapes);
                        return -EINVAL;
                }
                struct org_shape *grown = realloc(shapes, (n + 1) * sizeof(*grown));
                if (!grown) {
                        free(shapes);
                        return -ENOMEM;
                }
                shapes = grown;
                shapes[n++] = s;
                p += used + (p[used] == ',');
        }
        *ret = shapes;
        *n_ret = n;
        return 0;
}
