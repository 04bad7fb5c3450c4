/* SPDX-License-Identifier: MIT */
/* The power-cut recorder's log: a sequence of records in device order, read back by
 * powercut.py (struct format "<IIIIQQQ" there must match this layout). */
#ifndef VS_BLOCKREC_LOG_H
#define VS_BLOCKREC_LOG_H

#include <stdint.h>

#define BLOCKREC_MAGIC 0x56534252u /* "VSBR" */

enum blockrec_kind {
	BLOCKREC_WRITE = 1,  /* `length` bytes at `offset` of `disk`, payload follows */
	BLOCKREC_FLUSH = 2,  /* a device flush of `disk`: everything before it is durable */
	BLOCKREC_ZERO = 3,   /* `length` bytes at `offset` now read as zeros (discard) */
	BLOCKREC_MARKER = 4, /* text written by the test driver, payload follows */
};

struct blockrec_header {
	uint32_t magic;
	uint32_t kind;
	uint32_t disk;
	uint32_t reserved;
	uint64_t sequence;
	uint64_t offset;
	uint64_t length;
};

_Static_assert(sizeof(struct blockrec_header) == 40, "header layout is read by powercut.py");

#endif
