/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the journal record parser: the one piece of the journal that reads
 * bytes from disk.  Whatever the bytes, parsing must either fail or yield an entry whose
 * paths stay beneath their mounts, and that formats back to a line that parses to the same
 * entry.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "journal/journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void assert_beneath(const char *rel)
{
        if (rel[0] == '/' || strstr(rel, "//") || strcmp(rel, "..") == 0 ||
            strncmp(rel, "../", 3) == 0 || strstr(rel, "/../") ||
            (strlen(rel) >= 3 && strcmp(rel + strlen(rel) - 3, "/..") == 0))
                abort();
}

/* The proof survives formatting: the same handle bytes, the same birth time. */
static bool same_proof(const struct vs_identity *a, const struct vs_identity *b)
{
        if (a->known != b->known || a->handle_len != b->handle_len ||
            a->handle_len > VS_HANDLE_MAX || a->handle_type != b->handle_type ||
            a->has_btime != b->has_btime || a->btime_sec != b->btime_sec ||
            a->btime_nsec != b->btime_nsec)
                return false;
        return memcmp(a->handle, b->handle, a->handle_len) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static struct vs_journal_entry e, back;
        static char line[8 * 4096 + 2048];
        if (vs_journal_parse((const char *)data, size, &e) != 0)
                return 0;
        assert_beneath(e.source);
        assert_beneath(e.target);
        if (e.source_mount.point[0] != '/' || e.target_mount.point[0] != '/' || !e.source_id.known)
                abort();
        char name[NAME_MAX + 1];
        if (vs_journal_staging_name(&e, name, sizeof(name)) == 0 && strchr(name, '/'))
                abort();
        int len = vs_journal_format(&e, line, sizeof(line));
        if (len < 0)
                return 0;
        if (vs_journal_parse(line, (size_t)len, &back) != 0 ||
            strcmp(back.source, e.source) != 0 || strcmp(back.target, e.target) != 0 ||
            strcmp(back.id, e.id) != 0 || !vs_mount_same(&back.source_mount, &e.source_mount) ||
            back.source_id.ino != e.source_id.ino || back.kind != e.kind ||
            !same_proof(&back.source_id, &e.source_id) ||
            !same_proof(&back.staging_id, &e.staging_id) ||
            !same_proof(&back.copied_id, &e.copied_id) ||
            back.copied_id.size != e.copied_id.size)
                abort();
        return 0;
}
