/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vault-policy.h"

void group_list_clear(struct group_list *list)
{
        for (size_t i = 0; i < list->count; i++)
                free(list->names[i]);
        free(list->names);
        *list = (struct group_list){ 0 };
}

int group_list_from_csv(const char *csv, struct group_list *ret)
{
        struct group_list list = { .names = calloc(strlen(csv) / 2 + 1, sizeof(char *)) };
        if (!list.names)
                return -ENOMEM;
        for (const char *p = csv; *p;) {
                size_t n = strcspn(p, ",");
                if (n > 0) {
                        list.names[list.count] = strndup(p, n);
                        if (!list.names[list.count]) {
                                group_list_clear(&list);
                                return -ENOMEM;
                        }
                        list.count++;
                }
                p += n + (p[n] == ',');
        }
        *ret = list;
        return 0;
}
