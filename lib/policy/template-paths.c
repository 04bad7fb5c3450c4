/* SPDX-License-Identifier: MIT */
/*
 * How two host paths meet.  Two literal ones: one lies strictly inside the other
 * (vp_path_inside).  A template and a literal one: which user names and ids make the template
 * (/users/{username}) meet the literal path (/users/alice/special): the template then mounts,
 * for that user, a directory holding the literal folder's files (or lies inside it, or is
 * it), whatever the literal folder's own rules say.  A placeholder stands for one safe path
 * segment (vs_user_token_valid), so the values that can make the two meet are segments of the
 * literal path: this file tries each.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy-internal.h"

#define MAX_BINDINGS 64

bool vp_path_inside(const char *inner, const char *outer)
{
        size_t n = strlen(outer);
        return strncmp(inner, outer, n) == 0 && inner[n] == '/';
}

struct matcher {
        const char *template, *literal;
        enum vp_meeting meeting;
        char *value[2];             /* {username}, {user_id}: bound so far, or NULL */
        struct vp_binding *found;
        size_t n_found;
        int error;
};

static int placeholder_at(const char *p, size_t *len)
{
        if (strncmp(p, "{username}", 10) == 0)
                return *len = 10, 0;
        if (strncmp(p, "{user_id}", 9) == 0)
                return *len = 9, 1;
        return -1;
}

static void record(struct matcher *m)
{
        for (size_t i = 0; i < m->n_found; i++) {
                const struct vp_binding *b = &m->found[i];
                if ((b->user_name == m->value[0] ||
                     (b->user_name && m->value[0] && strcmp(b->user_name, m->value[0]) == 0)) &&
                    (b->user_id == m->value[1] ||
                     (b->user_id && m->value[1] && strcmp(b->user_id, m->value[1]) == 0)))
                        return;
        }
        if (m->n_found == MAX_BINDINGS)
                return;
        struct vp_binding *b = &m->found[m->n_found];
        b->user_name = m->value[0] ? strdup(m->value[0]) : NULL;
        b->user_id = m->value[1] ? strdup(m->value[1]) : NULL;
        if ((m->value[0] && !b->user_name) || (m->value[1] && !b->user_id)) {
                free(b->user_name);
                free(b->user_id);
                m->error = -ENOMEM;
                return;
        }
        m->n_found++;
}

/* Where the literal is used up: the template must go on with a '/' (it lies inside). */
static bool literal_ended(const struct matcher *m, const char *t)
{
        return m->meeting == VP_MEET_INSIDE ? *t == '/' : m->meeting == VP_MEET_SAME && !*t;
}

static void match(struct matcher *m, const char *t, const char *l)
{
        size_t len;
        if (m->error)
                return;
        if (!*t) {
                if ((m->meeting == VP_MEET_CONTAINS && *l == '/') ||
                    (m->meeting == VP_MEET_SAME && !*l))
                        record(m);
                return;
        }
        if (!*l) {
                if (literal_ended(m, t))
                        record(m);
                return;
        }
        int which = placeholder_at(t, &len);
        if (which < 0) {
                if (*t == *l)
                        match(m, t + 1, l + 1);
                return;
        }
        if (m->value[which]) {
                size_t n = strlen(m->value[which]);
                if (strncmp(l, m->value[which], n) == 0)
                        match(m, t + len, l + n);
                return;
        }
        size_t segment = strcspn(l, "/");
        char *value = strndup(l, segment);
        if (!value) {
                m->error = -ENOMEM;
                return;
        }
        for (size_t n = 1; n <= segment; n++) {
                value[n - 1] = l[n - 1];
                value[n] = '\0';
                if (!vs_user_token_valid(value))
                        continue;
                m->value[which] = value;
                match(m, t + len, l + n);
                m->value[which] = NULL;
        }
        free(value);
}

int vp_template_bindings(const char *template, const char *literal, enum vp_meeting meeting,
                         struct vp_binding **ret, size_t *n_ret)
{
        struct matcher m = { .template = template, .literal = literal, .meeting = meeting };
        m.found = calloc(MAX_BINDINGS, sizeof(*m.found));
        if (!m.found)
                return -ENOMEM;
        match(&m, template, literal);
        if (m.error) {
                vp_bindings_free(m.found, m.n_found);
                return m.error;
        }
        *ret = m.found;
        *n_ret = m.n_found;
        return 0;
}

void vp_bindings_free(struct vp_binding *bindings, size_t n)
{
        for (size_t i = 0; bindings && i < n; i++) {
                free(bindings[i].user_name);
                free(bindings[i].user_id);
        }
        free(bindings);
}
