/* SPDX-License-Identifier: MIT */
/*
 * The data path: FICLONE, else copy_file_range() over the data segments (holes stay
 * holes), else pread/pwrite.  Falling back is only allowed before the first byte of a
 * method was written; after that an error is a real error.  A copy whose write-out the
 * caller waits for (ctx->writeback_chunk) is made a chunk at a time, each chunk's writeback
 * started (sync_file_range, no wait) as soon as it is written: the disk writes one chunk
 * while the next is copied, and only the last one's I/O is left to wait for.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "move/internal.h"

#define VS_RW_BUFFER (128 * 1024)

static bool means_unsupported(int err)
{
        return err == EOPNOTSUPP || err == EXDEV || err == EINVAL || err == ENOSYS ||
               err == ETXTBSY || err == ENOTTY || err == EBADF || err == EPERM;
}

/* [from, to) of dst_fd was just written: its writeback begins (a failure shows again when
 * the caller waits for the whole file). */
static void start_writeback(const struct vs_copy_ctx *ctx, int dst_fd, off_t from, off_t to)
{
        if (ctx->writeback_chunk && to > from)
                (void)sync_file_range(dst_fd, from, to - from, SYNC_FILE_RANGE_WRITE);
}

/* How much to copy in one call from off to end: a chunk, when chunks are written back. */
static size_t next_piece(const struct vs_copy_ctx *ctx, off_t off, off_t end, size_t max)
{
        uint64_t left = (uint64_t)(end - off);
        if (ctx->writeback_chunk && left > ctx->writeback_chunk)
                left = ctx->writeback_chunk;
        return left < max ? (size_t)left : max;
}

static int copy_read_write(int src_fd, int dst_fd, off_t off, off_t end, struct vs_copy_ctx *ctx)
{
        char *buf = malloc(VS_RW_BUFFER);
        if (!buf)
                return -ENOMEM;
        int r = 0;
        off_t unstarted = off; /* written, its writeback not begun yet */
        while (off < end) {
                ssize_t n = pread(src_fd, buf, next_piece(ctx, off, end, VS_RW_BUFFER), off);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        r = n < 0 ? -errno : 0; /* 0: the source shrank; verify catches it */
                        break;
                }
                for (ssize_t done = 0; done < n;) {
                        ssize_t w = pwrite(dst_fd, buf + done, (size_t)(n - done), off + done);
                        if (w < 0 && errno == EINTR)
                                continue;
                        if (w <= 0) {
                                r = w < 0 ? -errno : -EIO;
                                goto out;
                        }
                        done += w;
                }
                off += n;
                ctx->bytes += (uint64_t)n;
                if (ctx->writeback_chunk && (uint64_t)(off - unstarted) >= ctx->writeback_chunk) {
                        start_writeback(ctx, dst_fd, unstarted, off);
                        unstarted = off;
                }
        }
        start_writeback(ctx, dst_fd, unstarted, off);
        ctx->methods |= VS_METHOD_READ_WRITE;
out:
        free(buf);
        return r;
}

/* Copies [off, end) at the same offsets; *cfr_wrote: copy_file_range() wrote to this file. */
static int copy_segment(int src_fd, int dst_fd, off_t off, off_t end, bool *cfr_wrote,
                        struct vs_copy_ctx *ctx)
{
        while (!ctx->cfr_unsupported && off < end) {
                loff_t in = off, out = off;
                ssize_t n = copy_file_range(src_fd, &in, dst_fd, &out,
                                            next_piece(ctx, off, end, SIZE_MAX), 0);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        if (!*cfr_wrote && means_unsupported(errno)) {
                                ctx->cfr_unsupported = true;
                                break;
                        }
                        return -errno;
                }
                if (n == 0)
                        return 0;
                start_writeback(ctx, dst_fd, off, off + n);
                off += n;
                ctx->bytes += (uint64_t)n;
                ctx->methods |= VS_METHOD_COPY_FILE_RANGE;
                *cfr_wrote = true;
        }
        if (off < end)
                return copy_read_write(src_fd, dst_fd, off, end, ctx);
        return 0;
}

void vs_copy_ctx_init(struct vs_copy_ctx *ctx, const struct vs_plan *plan)
{
        *ctx = (struct vs_copy_ctx){ 0 };
        vs_fscaps_get(plan->new.dirfd, &plan->new.dir, &ctx->caps);
        vs_fscaps_get(plan->old.dirfd, &plan->old.dir, &ctx->src_caps);
        ctx->hints.caps = &ctx->caps;
        ctx->hints.src_caps = &ctx->src_caps;
        ctx->hints.dropped = &ctx->dropped;
        ctx->settle_budget_ns = VS_SETTLE_BUDGET_NS;
}

/* Zeros over [from, to) at the end of dst_fd: a hole for a target that cannot seek. */
static int fill_hole(int dst_fd, off_t from, off_t to)
{
        static const char zeros[64 * 1024];
        while (from < to) {
                size_t want = (size_t)(to - from) < sizeof(zeros) ? (size_t)(to - from)
                                                                  : sizeof(zeros);
                ssize_t w = pwrite(dst_fd, zeros, want, from);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0)
                        return w < 0 ? -errno : -EIO;
                from += w;
        }
        return 0;
}

/* A write past the end was refused: the target (rclone without its cache) writes only
 * in sequence, so the holes become zeros there; every byte still arrives. */
static bool hole_refused(const struct vs_copy_ctx *ctx, int r)
{
        return r == -ESPIPE || (ctx->caps.fuse && vs_fscaps_refusal(&ctx->caps, -r));
}

int vs_copy_data(int src_fd, int dst_fd, uint64_t size, bool maybe_sparse,
                 struct vs_copy_ctx *ctx)
{
        if (size == 0)
                return 0;
        if (!ctx->clone_unsupported) {
                if (ioctl(dst_fd, FICLONE, src_fd) == 0) {
                        ctx->methods |= VS_METHOD_REFLINK;
                        ctx->bytes += size;
                        return 0;
                }
                /* Across two mounts the VFS refuses FICLONE (EXDEV) even on one
                 * filesystem; copy_file_range() still reflinks there. */
                ctx->clone_unsupported = means_unsupported(errno);
        }

        off_t end = (off_t)size, off = 0, written_end = 0;
        bool cfr_wrote = false;
        if (!maybe_sparse)
                return copy_segment(src_fd, dst_fd, 0, end, &cfr_wrote, ctx);
        while (off < end) {
                off_t data = lseek(src_fd, off, SEEK_DATA);
                if (data < 0 && errno == ENXIO)
                        break; /* only a hole is left */
                off_t hole = data < 0 ? end : lseek(src_fd, data, SEEK_HOLE);
                if (data < 0)
                        data = off; /* no SEEK_DATA support: all data */
                if (hole < 0 || hole > end)
                        hole = end;
                int r = ctx->holes_unsupported ? fill_hole(dst_fd, written_end, data) : 0;
                if (r == 0)
                        r = copy_segment(src_fd, dst_fd, data, hole, &cfr_wrote, ctx);
                if (r < 0 && data > written_end && !ctx->holes_unsupported &&
                    hole_refused(ctx, r)) {
                        ctx->holes_unsupported = true;
                        continue; /* the same segment again, after zeros */
                }
                if (r < 0)
                        return r;
                off = written_end = hole;
        }
        /* A trailing hole is only a size. */
        if (written_end < end && !ctx->holes_unsupported && ftruncate(dst_fd, end) < 0) {
                if (!hole_refused(ctx, -errno))
                        return -errno;
                ctx->holes_unsupported = true;
        }
        if (written_end < end && ctx->holes_unsupported)
                return fill_hole(dst_fd, written_end, end);
        return 0;
}
