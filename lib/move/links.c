/* SPDX-License-Identifier: MIT */
/*
 * Hard links met inside a tree: the first copy of an inode is linked again for its other
 * names, so the moved tree keeps its links as rename(2) would.  Memory grows only with the
 * number of multiply-linked files, never with the tree.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "move/internal.h"

static size_t slot_of(const struct vs_links *links, uint64_t dev, uint64_t ino)
{
        uint64_t h = (ino * 0x9e3779b97f4a7c15ull) ^ (dev * 0xc2b2ae3d27d4eb4full);
        size_t i = (size_t)(h >> 17) & (links->cap - 1);
        while (links->slots[i].path &&
               !(links->slots[i].dev == dev && links->slots[i].ino == ino))
                i = (i + 1) & (links->cap - 1);
        return i;
}

static uint64_t dev_of(const struct statx *st)
{
        return ((uint64_t)st->stx_dev_major << 32) | st->stx_dev_minor;
}

const char *vs_links_find(const struct vs_links *links, const struct statx *st)
{
        if (!links->count)
                return NULL;
        return links->slots[slot_of(links, dev_of(st), st->stx_ino)].path;
}

static int grow(struct vs_links *links)
{
        struct vs_links bigger = { .cap = links->cap ? links->cap * 2 : 64 };
        bigger.slots = calloc(bigger.cap, sizeof(*bigger.slots));
        if (!bigger.slots)
                return -ENOMEM;
        for (size_t i = 0; i < links->cap; i++)
                if (links->slots[i].path)
                        bigger.slots[slot_of(&bigger, links->slots[i].dev, links->slots[i].ino)] =
                                links->slots[i];
        bigger.count = links->count;
        free(links->slots);
        *links = bigger;
        return 0;
}

int vs_links_add(struct vs_links *links, const struct statx *st, const char *path)
{
        if (2 * (links->count + 1) > links->cap) {
                int r = grow(links);
                if (r < 0)
                        return r;
        }
        struct vs_link_entry *slot = &links->slots[slot_of(links, dev_of(st), st->stx_ino)];
        if (slot->path)
                return 0;
        slot->path = strdup(path);
        if (!slot->path)
                return -ENOMEM;
        slot->dev = dev_of(st);
        slot->ino = st->stx_ino;
        links->count++;
        return 0;
}

void vs_links_free(struct vs_links *links)
{
        for (size_t i = 0; i < links->cap; i++)
                free(links->slots[i].path);
        free(links->slots);
        *links = (struct vs_links){ 0 };
}
