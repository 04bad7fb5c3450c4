/* SPDX-License-Identifier: MIT */
/*
 * The one place that knows Kasm's calls and JSON shapes (doc/kasm-api.md).  Every call is
 * POST /api/public/<call> with the key pair in the body; an error is a non-2xx status or an
 * "error_message" in the reply.  Replies are checked against the documented shape, and one
 * that differs is quoted whole in the error, with the call that got it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kasm-api.h"
#include "shared/rfc3339.h"

#define API_PATH "/api/public/"

/* Quote a reply into the error: escaped, one line, whole up to the buffer. */
static void quote(char *out, size_t size, const char *text)
{
        size_t o = 0;
        for (; text && *text && o + 5 < size; text++) {
                unsigned char c = (unsigned char)*text;
                if (c < 0x20 || c == 0x7f)
                        o += (size_t)snprintf(out + o, size - o, "\\x%02x", c);
                else
                        out[o++] = (char)c;
        }
        out[o] = '\0';
}

static void fail(struct kasm_client *kasm, const char *call, const char *what, const char *reply)
{
        int n = snprintf(kasm->error, sizeof(kasm->error), "%s: %s%s", call, what,
                         reply ? ": " : "");
        if (reply && n > 0 && (size_t)n < sizeof(kasm->error))
                quote(kasm->error + n, sizeof(kasm->error) - (size_t)n, reply);
}

/* Serialise the request, key pair included, and wipe it once sent. */
static int call(struct kasm_client *kasm, const char *name, json_t *request, json_t **ret)
{
        char path[64], why[HTTP_ERROR_MAX];
        struct http_reply reply = { 0 };
        json_error_t jerr;
        int r;
        if (!request) {
                fail(kasm, name, "out of memory", NULL);
                return -ENOMEM;
        }
        json_object_set_new(request, "api_key", json_string(kasm->key->key));
        json_object_set_new(request, "api_key_secret", json_string(kasm->key->secret));
        char *body = json_dumps(request, JSON_COMPACT);
        json_object_del(request, "api_key_secret");
        json_decref(request);
        if (!body) {
                fail(kasm, name, "out of memory", NULL);
                return -ENOMEM;
        }
        snprintf(path, sizeof(path), API_PATH "%s", name);
        r = http_post(&kasm->http, path, body, &reply, why);
        explicit_bzero(body, strlen(body));
        free(body);
        if (r < 0) {
                fail(kasm, name, why, NULL);
                return r;
        }
        json_t *root = json_loadb(reply.body, reply.len, 0, &jerr);
        const char *message = json_string_value(json_object_get(root, "error_message"));
        if (reply.status < 200 || reply.status > 299 || message) {
                char what[128];
                snprintf(what, sizeof(what), "Kasm answered HTTP %ld%s", reply.status,
                         message ? " with an error" : "");
                fail(kasm, name, what, reply.body);
                r = -EREMOTEIO;
        } else if (!json_is_object(root)) {
                fail(kasm, name, "the reply is not a JSON object", reply.body);
                r = -EPROTO;
        } else if (json_object_get(root, "next_page") || json_object_get(root, "page")) {
                fail(kasm, name,
                     "the reply is paged (a Kasm newer than doc/kasm-api.md describes); "
                     "refusing to act on part of the state",
                     reply.body);
                r = -EPROTO;
        }
        http_reply_clear(&reply);
        if (r < 0) {
                json_decref(root);
                return r;
        }
        *ret = root;
        return 0;
}

/* A write: its reply must be an object (doc: "{}" or the object written). */
static int write_call(struct kasm_client *kasm, const char *name, json_t *request, json_t **ret)
{
        json_t *reply = NULL;
        int r = call(kasm, name, request, &reply);
        if (r < 0)
                return r;
        kasm->writes++;
        if (ret)
                *ret = reply;
        else
                json_decref(reply);
        return 0;
}

static int unexpected(struct kasm_client *kasm, const char *name, const char *what, json_t *reply)
{
        char *text = json_dumps(reply, JSON_COMPACT);
        fail(kasm, name, what, text ? text : "?");
        free(text);
        json_decref(reply);
        return -EPROTO;
}

static char *dup_string(const json_t *object, const char *key)
{
        const char *s = json_string_value(json_object_get(object, key));
        return s ? strdup(s) : NULL;
}

static int compare_groups(const void *a, const void *b)
{
        return strcmp(((const struct kasm_group *)a)->id, ((const struct kasm_group *)b)->id);
}

static int read_groups(struct kasm_client *kasm, struct kasm_state *state)
{
        json_t *reply, *list, *item;
        size_t i;
        int r = call(kasm, "get_groups", json_object(), &reply);
        if (r < 0)
                return r;
        list = json_object_get(reply, "groups");
        if (!json_is_array(list))
                return unexpected(kasm, "get_groups", "no \"groups\" array", reply);
        state->groups = calloc(json_array_size(list) + 1, sizeof(*state->groups));
        if (!state->groups) {
                json_decref(reply);
                return -ENOMEM;
        }
        json_array_foreach(list, i, item)
        {
                struct kasm_group *g = &state->groups[state->n_groups];
                if (!json_is_string(json_object_get(item, "group_id")) ||
                    !json_is_string(json_object_get(item, "name")))
                        return unexpected(kasm, "get_groups",
                                          "a group without a string group_id and name", reply);
                g->id = dup_string(item, "group_id");
                g->name = dup_string(item, "name");
                g->is_system = json_is_true(json_object_get(item, "is_system"));
                state->n_groups++;
                if (!g->id || !g->name) {
                        json_decref(reply);
                        return -ENOMEM;
                }
        }
        json_decref(reply);
        qsort(state->groups, state->n_groups, sizeof(*state->groups), compare_groups);
        return 0;
}

/* A volume_mapping value: JSON text as documented; an object is taken as is. */
static int take_mapping(const json_t *value, struct kasm_setting *s)
{
        if (json_is_string(value)) {
                s->text = strdup(json_string_value(value));
                s->value = s->text ? json_loads(s->text, 0, NULL) : NULL;
        } else {
                s->text = json_dumps(value, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
                s->value = json_incref((json_t *)value);
        }
        return s->text ? 0 : -ENOMEM;
}

static int read_settings(struct kasm_client *kasm, struct kasm_group *g)
{
        json_t *reply, *list, *item;
        size_t i;
        int r = call(kasm, "get_settings_group",
                     json_pack("{s:{s:s}}", "target_group", "group_id", g->id), &reply);
        if (r < 0)
                return r;
        list = json_object_get(reply, "settings");
        if (!json_is_array(list))
                return unexpected(kasm, "get_settings_group", "no \"settings\" array", reply);
        g->mappings = calloc(json_array_size(list) + 1, sizeof(*g->mappings));
        if (!g->mappings) {
                json_decref(reply);
                return -ENOMEM;
        }
        json_array_foreach(list, i, item)
        {
                const char *name = json_string_value(json_object_get(item, "name"));
                struct kasm_setting *s = &g->mappings[g->n_mappings];
                if (!name || strcmp(name, "volume_mapping") != 0)
                        continue;
                if (!json_is_string(json_object_get(item, "group_setting_id")))
                        return unexpected(kasm, "get_settings_group",
                                          "a setting without a string group_setting_id", reply);
                g->n_mappings++;
                if (!(s->id = dup_string(item, "group_setting_id")) ||
                    take_mapping(json_object_get(item, "value"), s) < 0) {
                        json_decref(reply);
                        return -ENOMEM;
                }
        }
        json_decref(reply);
        return 0;
}

static int read_user(struct kasm_state *state, const json_t *item, struct kasm_user *user)
{
        json_t *groups = json_object_get(item, "groups"), *g;
        size_t i;
        user->id = dup_string(item, "user_id");
        user->name = dup_string(item, "username");
        user->groups = calloc(json_array_size(groups) + 1, sizeof(size_t));
        if (!user->id || !user->name || !user->groups)
                return -ENOMEM;
        json_array_foreach(groups, i, g)
        {
                const char *id = json_string_value(json_object_get(g, "group_id"));
                size_t index = id ? kasm_state_find_group(state, id) : SIZE_MAX;
                if (index != SIZE_MAX)
                        user->groups[user->n_groups++] = index;
        }
        return 0;
}

static int read_users(struct kasm_client *kasm, struct kasm_state *state)
{
        json_t *reply, *list, *item;
        size_t i;
        int r = call(kasm, "get_users", json_object(), &reply);
        if (r < 0)
                return r;
        list = json_object_get(reply, "users");
        if (!json_is_array(list))
                return unexpected(kasm, "get_users", "no \"users\" array", reply);
        state->users = calloc(json_array_size(list) + 1, sizeof(*state->users));
        if (!state->users) {
                json_decref(reply);
                return -ENOMEM;
        }
        json_array_foreach(list, i, item)
        {
                json_t *groups = json_object_get(item, "groups");
                if (!json_is_string(json_object_get(item, "user_id")) ||
                    !json_is_string(json_object_get(item, "username")) ||
                    (groups && !json_is_array(groups)))
                        return unexpected(kasm, "get_users",
                                          "a user without a string user_id and username, or "
                                          "whose groups are not an array",
                                          reply);
                r = read_user(state, item, &state->users[state->n_users++]);
                if (r < 0) {
                        json_decref(reply);
                        return r;
                }
        }
        json_decref(reply);
        return 0;
}

int kasm_read_sessions(struct kasm_client *kasm, struct kasm_state *state)
{
        json_t *reply, *list, *item;
        struct kasm_session *sessions;
        size_t i, n = 0;
        int64_t now = VS_TIME_NONE;
        int r = call(kasm, "get_kasms", json_object(), &reply);
        if (r < 0)
                return r;
        list = json_object_get(reply, "kasms");
        if (!json_is_array(list))
                return unexpected(kasm, "get_kasms", "no \"kasms\" array", reply);
        if (!(sessions = calloc(json_array_size(list) + 1, sizeof(*sessions)))) {
                json_decref(reply);
                return -ENOMEM;
        }
        json_array_foreach(list, i, item)
        {
                struct kasm_session *s = &sessions[n];
                if (!json_is_string(json_object_get(item, "kasm_id")) ||
                    !json_is_string(json_object_get(item, "user_id")))
                        continue; /* a session of no user (a pool's) is none of ours */
                n++;
                s->kasm_id = dup_string(item, "kasm_id");
                s->user_id = dup_string(item, "user_id");
                s->status = dup_string(item, "operational_status");
                s->started = dup_string(item, "start_date");
                if (!s->kasm_id || !s->user_id)
                        r = -ENOMEM;
        }
        const char *current = json_string_value(json_object_get(reply, "current_time"));
        if (current && vs_rfc3339_parse(current, &now) < 0)
                now = VS_TIME_NONE;
        json_decref(reply);
        kasm_sessions_free(state->sessions, state->n_sessions);
        state->sessions = sessions;
        state->n_sessions = n;
        state->now = now;
        return r;
}

int kasm_read_state(struct kasm_client *kasm, struct kasm_state *ret)
{
        struct kasm_state state = { .now = VS_TIME_NONE };
        int r = read_groups(kasm, &state);
        for (size_t g = 0; r >= 0 && g < state.n_groups; g++)
                r = read_settings(kasm, &state.groups[g]);
        if (r >= 0)
                r = read_users(kasm, &state);
        if (r >= 0)
                r = kasm_read_sessions(kasm, &state);
        if (r < 0) {
                if (r == -ENOMEM && !kasm->error[0])
                        snprintf(kasm->error, sizeof(kasm->error), "out of memory");
                kasm_state_clear(&state);
                return r;
        }
        *ret = state;
        return 0;
}

/*
 * A write retried after an attempt that reached Kasm but whose answer was lost can fail
 * because the first attempt worked: the group exists, the user is already a member.  The
 * retry may be ours (http.h) or libcurl's own, invisible one (it resends on a kept-alive
 * connection that died), so every error Kasm reports for a write is checked: Kasm's own
 * state, read back, decides, and the write counts as done only if it shows the change.  The
 * original error is kept when it does not.
 */
struct saved_error {
        char text[KASM_ERROR_MAX];
};

static bool retried_into_error(struct kasm_client *kasm, int r, struct saved_error *saved)
{
        if (r != -EREMOTEIO)
                return false;
        memcpy(saved->text, kasm->error, sizeof(saved->text));
        return true;
}

static int confirmed(struct kasm_client *kasm, bool done, const struct saved_error *saved)
{
        if (!done) {
                memcpy(kasm->error, saved->text, sizeof(kasm->error));
                return -EREMOTEIO;
        }
        kasm->writes++;
        return 0;
}

/* The id of the group of that name, or NULL (also when it cannot be read). */
static char *find_group(struct kasm_client *kasm, const char *name, const char *id)
{
        struct kasm_state state = { 0 };
        char *found = NULL;
        if (read_groups(kasm, &state) >= 0)
                for (size_t g = 0; !found && g < state.n_groups; g++)
                        if ((name && strcmp(state.groups[g].name, name) == 0) ||
                            (id && strcmp(state.groups[g].id, id) == 0))
                                found = strdup(state.groups[g].id);
        kasm_state_clear(&state);
        return found;
}

/* Whether the group's settings hold a volume_mapping equal to mapping (and with setting_id
 * when given); *absent: no setting has setting_id. */
static bool has_mapping(struct kasm_client *kasm, const char *group_id, const char *setting_id,
                        const json_t *mapping, bool *absent)
{
        struct kasm_group g = { .id = (char *)group_id };
        bool found = false;
        *absent = false;
        if (read_settings(kasm, &g) < 0)
                goto out;
        *absent = true;
        for (size_t s = 0; s < g.n_mappings; s++) {
                bool same_id = !setting_id || strcmp(g.mappings[s].id, setting_id) == 0;
                *absent &= !(setting_id && same_id);
                found |= same_id && mapping && json_equal(g.mappings[s].value, mapping);
        }
out:
        for (size_t s = 0; s < g.n_mappings; s++) {
                free(g.mappings[s].id);
                free(g.mappings[s].text);
                json_decref(g.mappings[s].value);
        }
        free(g.mappings);
        return found;
}

/* 1 when the user is in the group, 0 when not, -1 when it cannot be read. */
static int is_member(struct kasm_client *kasm, const char *user_id, const char *group_id)
{
        json_t *reply, *user;
        size_t i;
        int found = 0;
        if (call(kasm, "get_users_group",
                 json_pack("{s:{s:s}}", "target_group", "group_id", group_id), &reply) < 0)
                return -1;
        if (!json_is_array(json_object_get(reply, "users"))) {
                json_decref(reply);
                return -1;
        }
        json_array_foreach(json_object_get(reply, "users"), i, user)
        {
                const char *id = json_string_value(json_object_get(user, "user_id"));
                found |= id && strcmp(id, user_id) == 0;
        }
        json_decref(reply);
        return found;
}

int kasm_create_group(struct kasm_client *kasm, const char *name, const char *description,
                      char **group_id)
{
        struct saved_error saved;
        json_t *reply = NULL;
        int r = write_call(kasm, "create_group",
                           json_pack("{s:{s:s, s:i, s:s}}", "target_group", "name", name,
                                     "priority", KASM_CLASS_GROUP_PRIORITY, "description",
                                     description),
                           &reply);
        if (retried_into_error(kasm, r, &saved)) {
                *group_id = find_group(kasm, name, NULL);
                return confirmed(kasm, *group_id != NULL, &saved);
        }
        if (r < 0)
                return r;
        json_t *group = json_object_get(reply, "group");
        if (!json_is_string(json_object_get(group, "group_id")))
                return unexpected(kasm, "create_group", "no group.group_id in the reply", reply);
        *group_id = dup_string(group, "group_id");
        json_decref(reply);
        return *group_id ? 0 : -ENOMEM;
}

int kasm_delete_group(struct kasm_client *kasm, const char *group_id)
{
        struct saved_error saved;
        int r = write_call(kasm, "delete_group",
                           json_pack("{s:{s:s}}", "target_group", "group_id", group_id), NULL);
        if (retried_into_error(kasm, r, &saved)) {
                char *still = find_group(kasm, NULL, group_id);
                free(still);
                return confirmed(kasm, !still, &saved);
        }
        return r;
}

/* The value travels as JSON text, keys sorted, so the same mapping is the same bytes. */
static json_t *mapping_text(const json_t *mapping)
{
        char *text = json_dumps(mapping, JSON_COMPACT | JSON_SORT_KEYS);
        json_t *s = text ? json_string(text) : NULL;
        free(text);
        return s;
}

int kasm_add_mapping(struct kasm_client *kasm, const char *group_id, const json_t *mapping)
{
        struct saved_error saved;
        bool absent;
        int r = write_call(kasm, "add_settings_group",
                           json_pack("{s:{s:s}, s:{s:s, s:o*}}", "target_group", "group_id",
                                     group_id, "target_setting", "name", "volume_mapping", "value",
                                     mapping_text(mapping)),
                           NULL);
        if (retried_into_error(kasm, r, &saved))
                return confirmed(kasm, has_mapping(kasm, group_id, NULL, mapping, &absent), &saved);
        return r;
}

int kasm_update_mapping(struct kasm_client *kasm, const char *group_id, const char *setting_id,
                        const json_t *mapping)
{
        struct saved_error saved;
        bool absent;
        int r = write_call(kasm, "update_settings_group",
                           json_pack("{s:{s:s}, s:{s:s, s:o*}}", "target_group", "group_id",
                                     group_id, "target_setting", "group_setting_id", setting_id,
                                     "value", mapping_text(mapping)),
                           NULL);
        if (retried_into_error(kasm, r, &saved))
                return confirmed(kasm, has_mapping(kasm, group_id, setting_id, mapping, &absent),
                                 &saved);
        return r;
}

int kasm_remove_setting(struct kasm_client *kasm, const char *group_id, const char *setting_id)
{
        struct saved_error saved;
        bool absent;
        int r = write_call(kasm, "remove_settings_group",
                           json_pack("{s:{s:s}, s:{s:s}}", "target_group", "group_id", group_id,
                                     "target_setting", "group_setting_id", setting_id),
                           NULL);
        if (retried_into_error(kasm, r, &saved)) {
                has_mapping(kasm, group_id, setting_id, NULL, &absent);
                return confirmed(kasm, absent, &saved);
        }
        return r;
}

static json_t *membership(const char *user_id, const char *group_id)
{
        return json_pack("{s:{s:s}, s:{s:s}}", "target_user", "user_id", user_id, "target_group",
                         "group_id", group_id);
}

int kasm_add_user_group(struct kasm_client *kasm, const char *user_id, const char *group_id)
{
        struct saved_error saved;
        int r = write_call(kasm, "add_user_group", membership(user_id, group_id), NULL);
        if (retried_into_error(kasm, r, &saved))
                return confirmed(kasm, is_member(kasm, user_id, group_id) == 1, &saved);
        return r;
}

int kasm_remove_user_group(struct kasm_client *kasm, const char *user_id, const char *group_id)
{
        struct saved_error saved;
        int r = write_call(kasm, "remove_user_group", membership(user_id, group_id), NULL);
        if (retried_into_error(kasm, r, &saved))
                return confirmed(kasm, is_member(kasm, user_id, group_id) == 0, &saved);
        return r;
}

int kasm_destroy_kasm(struct kasm_client *kasm, const char *kasm_id, const char *user_id)
{
        struct saved_error saved;
        int r = write_call(kasm, "destroy_kasm",
                           json_pack("{s:s, s:s}", "kasm_id", kasm_id, "user_id", user_id), NULL);
        /* Ended already, by this call's first attempt or by the user logging out: Kasm's own
         * list of sessions says so, or nothing does. */
        if (r == -EREMOTEIO) {
                struct kasm_state now = { 0 };
                bool gone = false;
                memcpy(saved.text, kasm->error, sizeof(saved.text));
                if (kasm_read_sessions(kasm, &now) >= 0) {
                        gone = true;
                        for (size_t s = 0; s < now.n_sessions; s++)
                                gone &= strcmp(now.sessions[s].kasm_id, kasm_id) != 0;
                }
                kasm_state_clear(&now);
                return confirmed(kasm, gone, &saved);
        }
        return r;
}
