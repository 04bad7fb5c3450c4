/* SPDX-License-Identifier: MIT */
#include <errno.h>

#include "obsidian/obsidian.h"

static bool array_contains(const json_t *array, const json_t *value)
{
        size_t i;
        json_t *v;
        json_array_foreach(array, i, v)
                if (json_equal(v, value))
                        return true;
        return false;
}

/* The user's list minus what we added before and no longer want, plus what we want now. */
static json_t *merge_list(const json_t *current, const json_t *prev, const json_t *want)
{
        json_t *out = json_array();
        size_t i;
        json_t *v;
        if (!out)
                return NULL;
        if (json_is_array(current))
                json_array_foreach(current, i, v) {
                        bool ours_before = prev && array_contains(prev, v);
                        if ((!ours_before || array_contains(want, v)) && !array_contains(out, v) &&
                            json_array_append(out, v) < 0)
                                goto fail;
                }
        json_array_foreach(want, i, v)
                if (!array_contains(out, v) && json_array_append(out, v) < 0)
                        goto fail;
        return out;
fail:
        json_decref(out);
        return NULL;
}

static int set_owned(json_t *app, json_t *state, const char *key, json_t *value)
{
        if (json_object_set(app, key, value) < 0 || json_object_set(state, key, value) < 0)
                return -ENOMEM;
        return 0;
}

int vs_obsidian_merge(json_t *app, const json_t *prev_state, const json_t *desired,
                      json_t **new_state)
{
        json_t *state = json_object();
        const char *key;
        json_t *want;
        int changed = 0;
        if (!state)
                return -ENOMEM;

        json_object_foreach((json_t *)desired, key, want) {
                json_t *cur = json_object_get(app, key);
                json_t *prev = json_object_get(prev_state, key);

                if (json_is_array(want)) {
                        /* A list is shared with the user; a non-list there is theirs. */
                        if (cur && !json_is_array(cur))
                                continue;
                        json_t *merged = merge_list(cur, json_is_array(prev) ? prev : NULL, want);
                        if (!merged)
                                goto fail;
                        if (!cur || !json_equal(cur, merged))
                                changed = 1;
                        if (json_object_set_new(app, key, merged) < 0 ||
                            json_object_set(state, key, want) < 0)
                                goto fail;
                } else if (!cur || (prev && json_equal(cur, prev))) {
                        if (!cur || !json_equal(cur, want))
                                changed = 1;
                        if (set_owned(app, state, key, want) < 0)
                                goto fail;
                } else if (json_equal(cur, want)) {
                        if (json_object_set(state, key, want) < 0)
                                goto fail;
                } else if (prev && json_object_set(state, key, prev) < 0) {
                        /* The user changed it: leave it, remember what we had written. */
                        goto fail;
                }
        }

        /* Keys we owned and no longer want: remove them if they still hold our value. */
        json_object_foreach((json_t *)prev_state, key, want) {
                if (json_object_get(desired, key))
                        continue;
                json_t *cur = json_object_get(app, key);
                if (!cur)
                        continue;
                if (json_is_array(want) && json_is_array(cur)) {
                        json_t *empty = json_array(),
                               *merged = empty ? merge_list(cur, want, empty) : NULL;
                        json_decref(empty);
                        if (!merged)
                                goto fail;
                        if (!json_equal(cur, merged))
                                changed = 1;
                        if (json_array_size(merged) == 0) {
                                json_decref(merged);
                                json_object_del(app, key);
                        } else if (json_object_set_new(app, key, merged) < 0) {
                                goto fail;
                        }
                } else if (json_equal(cur, want)) {
                        json_object_del(app, key);
                        changed = 1;
                }
        }
        *new_state = state;
        return changed;
fail:
        json_decref(state);
        return -ENOMEM;
}
