/* SPDX-License-Identifier: MIT */
/*
 * The steps' names, apart from the fault hook and the time split that both use them, so
 * that neither of those calls into the other's file for a name.
 */
#include "move/internal.h"

static const char *const step_names[VS_STEP_COUNT] = {
#define VS_STEP_NAME(id, name) [VS_STEP_##id] = name,
        VS_STEPS(VS_STEP_NAME)
#undef VS_STEP_NAME
};

const char *vs_step_name(enum vs_step step)
{
        return (unsigned)step < VS_STEP_COUNT ? step_names[step] : "unknown";
}
