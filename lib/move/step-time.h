/* SPDX-License-Identifier: MIT */
#pragma once

#include "move/steps.h"

/*
 * The time split by step (step-time.c): a slot per step, each getting the time from
 * reaching it to reaching the next, and three that are no step of their own (no fault
 * can be injected there): "plan", from the entry into vs_move() to the first step;
 * "record", from the move's locks held to its record written ("check" then is the time
 * the locks took); "finish", from the record's end to the return.
 */
enum {
        VS_TIME_PLAN,
        VS_TIME_STEP0, /* VS_TIME_STEP0 + enum vs_step */
        VS_TIME_RECORD = VS_TIME_STEP0 + VS_STEP_COUNT,
        VS_TIME_FINISH,
        VS_TIME_COUNT
};
struct vs_move_stats;
/* Start charging time to stats->step_ns ("plan" first); stop: the rest to the last slot. */
void vs_time_start(struct vs_move_stats *stats);
void vs_time_stop(void);
/* From now on time goes to this slot (a VS_TIME_* value); nothing outside a move. */
void vs_time_reached(unsigned slot);
/* The slot's name in VAULTSHIM_LOG's "steps", NULL for none. */
const char *vs_time_slot_name(unsigned slot);
