/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

/*
 * What the tools say about a whole input file (a policy, users file, manifest, token, key,
 * or a configuration file they are about to update).  They read it with lib/base's
 * vs_read_file() (base/file.h): opened O_NONBLOCK, so that a FIFO or device named by mistake
 * can never block the open; it must then be a regular file (else -EINVAL, or -EISDIR for a
 * directory) of at most max bytes (else -EFBIG, decided from its size before anything is
 * read, and again while reading a file that grows).
 */

/* The limit for what an administrator hands a tool: policies, users files, manifests, tokens. */
#define VS_INPUT_MAX_BYTES ((size_t)4 << 20)

/* Words for a vs_read_file failure: "not a regular file (a FIFO, socket or device)",
 * "larger than 4 MiB", or strerror(-err).  Writes at most size bytes into buf, returns buf. */
const char *vs_read_input_error(int err, size_t max, char *buf, size_t size);

/* Enough room for vs_read_input_error's words. */
#define VS_READ_INPUT_ERROR_BUF 128
