/* SPDX-License-Identifier: MIT */
/* Write a generated organisation (vault-policy's org generator) as DIR/policy.yaml and
 * DIR/users.yaml: usage: vs-bench-org NxMxU DIR [dense] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "org-generator.h"

static int write_file(const char *dir, const char *name, const char *text, size_t len)
{
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        FILE *f = fopen(path, "w");
        if (!f || fwrite(text, 1, len, f) != len || fclose(f) != 0) {
                perror(path);
                return 1;
        }
        return 0;
}

int main(int argc, char **argv)
{
        struct org_shape *shapes;
        size_t n;
        char *policy, *users;
        size_t policy_len, users_len;
        bool dense = argc == 4 && strcmp(argv[3], "dense") == 0;
        if ((argc != 3 && !dense) || org_parse_shapes(argv[1], &shapes, &n) < 0 || n != 1) {
                fprintf(stderr, "usage: vs-bench-org NxMxU DIR [dense]\n");
                return 2;
        }
        shapes[0].dense = dense;
        if (org_generate(&shapes[0], &policy, &policy_len, &users, &users_len) < 0) {
                fprintf(stderr, "vs-bench-org: out of memory\n");
                return 1;
        }
        int r = write_file(argv[2], "policy.yaml", policy, policy_len) |
                write_file(argv[2], "users.yaml", users, users_len);
        free(policy);
        free(users);
        free(shapes);
        return r;
}
