/* SPDX-License-Identifier: MIT */
/*
 * The process's memory of hard-linked files it moved by copying (internal.h): which source
 * inode went to which copy.  GNU mv keeps a pair linked across its arguments the same way,
 * by device and inode, within one run; so does this table within one process.  It holds
 * hints, never decisions: link-install.c proves both objects again before it links.
 *
 * A fixed table, searched linearly by its compact index of source inodes (64 keys compare
 * faster than a rename's system calls; the entries are read only on a hit), under a flag
 * taken with a bounded number of tries: a rename from a signal handler that interrupted a
 * holder, or a child forked while another thread held it, finds it busy and copies, it
 * never waits.
 */
#include <errno.h>
#include <sched.h>
#include <string.h>

#include "move/internal.h"

#define TAKE_TRIES 64

struct vs_link_memory *vs_link_memory(void)
{
        static struct vs_link_memory memory;
        return &memory;
}

static bool take(struct vs_link_memory *m)
{
        for (unsigned i = 0; i < TAKE_TRIES; i++) {
                if (!__atomic_test_and_set(&m->busy, __ATOMIC_ACQUIRE))
                        return true;
                sched_yield();
        }
        return false;
}

static void release(struct vs_link_memory *m)
{
        __atomic_clear(&m->busy, __ATOMIC_RELEASE);
}

static int find(const struct vs_link_memory *m, uint64_t dev, uint64_t ino)
{
        for (int i = 0; i < VS_LINK_MEMORY_SLOTS; i++)
                if (m->slots[i].stored && m->slots[i].dev == dev && m->slots[i].ino == ino)
                        return i;
        return -1;
}

/* A free slot, else the one stored longest ago. */
static int slot_for_new(const struct vs_link_memory *m)
{
        int oldest = 0;
        for (int i = 0; i < VS_LINK_MEMORY_SLOTS; i++) {
                if (!m->slots[i].stored)
                        return i;
                if (m->slots[i].stored < m->slots[oldest].stored)
                        oldest = i;
        }
        return oldest;
}

int vs_link_memory_put(struct vs_link_memory *m, const struct vs_link_memory_entry *e)
{
        if (!vs_identity_has_proof(&e->source) || !vs_identity_has_proof(&e->copy))
                return -EINVAL;
        size_t len = strnlen(e->copy_path, sizeof(e->copy_path));
        if (len == sizeof(e->copy_path) || e->copy_path[0] != '/')
                return -ENAMETOOLONG;
        if (!take(m))
                return -EBUSY;
        int i = find(m, e->source.dev, e->source.ino);
        if (i < 0)
                i = slot_for_new(m);
        struct vs_link_memory_entry *slot = &m->entries[i];
        slot->source = e->source;
        slot->copy = e->copy;
        memcpy(slot->copy_path, e->copy_path, len + 1);
        m->slots[i].dev = e->source.dev;
        m->slots[i].ino = e->source.ino;
        m->slots[i].stored = ++m->clock;
        release(m);
        return 0;
}

int vs_link_memory_get(struct vs_link_memory *m, uint64_t dev, uint64_t ino,
                       struct vs_link_memory_entry *out)
{
        if (!take(m))
                return -EBUSY;
        int i = find(m, dev, ino);
        if (i >= 0) {
                const struct vs_link_memory_entry *slot = &m->entries[i];
                out->source = slot->source;
                out->copy = slot->copy;
                memcpy(out->copy_path, slot->copy_path, strlen(slot->copy_path) + 1);
        }
        release(m);
        return i < 0 ? -ENOENT : 0;
}

void vs_link_memory_forget(struct vs_link_memory *m, uint64_t dev, uint64_t ino,
                           uint64_t copy_ino)
{
        if (!take(m))
                return;
        int i = find(m, dev, ino);
        if (i >= 0 && m->entries[i].copy.ino == copy_ino)
                m->slots[i].stored = 0;
        release(m);
}
