/* SPDX-License-Identifier: MIT */
/*
 * Metadata of a copy, in the order that keeps it intact: times (nothing after this
 * touches mtime/atime), owner (chown clears set-id bits), xattrs and POSIX ACLs, and the
 * mode last (it also rewrites the ACL mask to match the source).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "move/internal.h"

#define VS_ACL_ACCESS "system.posix_acl_access"
#define VS_ACL_DEFAULT "system.posix_acl_default"

static bool has_prefix(const char *s, const char *prefix)
{
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Labels and trusted attributes may be refused to an unprivileged caller, and a target
 * filesystem without ACL support keeps the mode bits; cp -a tolerates the same. */
static bool loss_tolerated(const char *name, int err)
{
        if (has_prefix(name, "security.") || has_prefix(name, "trusted."))
                return err == EPERM || err == EACCES || err == EOPNOTSUPP;
        if (has_prefix(name, "system.posix_acl_"))
                return err == EOPNOTSUPP;
        return false;
}

static void drop(const struct vs_attr_hints *hints, unsigned what)
{
        if (hints && hints->dropped)
                *hints->dropped |= what;
}

/* The target's filesystem refused this piece of metadata as something it cannot hold. */
static bool cannot_hold(const struct vs_attr_hints *hints, int err)
{
        return hints && hints->caps && vs_fscaps_refusal(hints->caps, err);
}

static bool list_contains(const char *list, ssize_t len, const char *name)
{
        for (const char *p = list; p < list + len; p += strlen(p) + 1)
                if (strcmp(p, name) == 0)
                        return true;
        return false;
}

/* caps: the filesystem of fd; one that cannot list has nothing to list. */
static ssize_t list_xattrs(int fd, char **out, const struct vs_fscaps *caps)
{
        *out = NULL;
        for (int attempt = 0; attempt < 3; attempt++) {
                ssize_t len = flistxattr(fd, NULL, 0);
                if (len < 0)
                        return vs_fscaps_refusal(caps, errno) ? 0 : -errno;
                if (len == 0)
                        return 0;
                char *list = malloc((size_t)len);
                if (!list)
                        return -ENOMEM;
                ssize_t got = flistxattr(fd, list, (size_t)len);
                if (got >= 0) {
                        *out = list;
                        return got;
                }
                free(list);
                if (errno != ERANGE)
                        return -errno;
        }
        return -ERANGE;
}

/* What the source has and the target cannot hold, the way GNU mv drops it. */
static void drop_all(const struct vs_attr_hints *hints, const char *list, ssize_t len)
{
        for (const char *name = list; name < list + len; name += strlen(name) + 1)
                drop(hints, has_prefix(name, "system.posix_acl_") ? VS_DROPPED_ACL
                                                                  : VS_DROPPED_XATTRS);
}

/* *none: the source has no xattrs (and so no ACL). */
static int copy_xattrs(int src_fd, int dst_fd, bool may_have_inherited,
                       const struct vs_attr_hints *hints, bool *none)
{
        char *src_list = NULL, *dst_list = NULL, *value = NULL;
        const struct vs_fscaps *dst_caps = hints ? hints->caps : NULL;
        ssize_t src_len = list_xattrs(src_fd, &src_list, hints ? hints->src_caps : NULL);
        *none = src_len == 0;
        if (src_len >= 0 && dst_caps && dst_caps->xattrs == VS_CAP_NO) {
                drop_all(hints, src_list, src_len);
                free(src_list);
                return 0;
        }
        ssize_t dst_len = src_len < 0 || !may_have_inherited
                                  ? 0 : list_xattrs(dst_fd, &dst_list, dst_caps);
        int r = src_len < 0 ? (int)src_len : dst_len < 0 ? (int)dst_len : 0;
        if (r < 0)
                goto out;

        /* A default ACL of the target directory was inherited by the copy; the source
         * did not have it, and rename(2) would not add it. */
        static const char *const acls[] = { VS_ACL_ACCESS, VS_ACL_DEFAULT };
        for (size_t i = 0; i < sizeof(acls) / sizeof(acls[0]); i++)
                if (list_contains(dst_list, dst_len, acls[i]) &&
                    !list_contains(src_list, src_len, acls[i]) &&
                    fremovexattr(dst_fd, acls[i]) < 0 && errno != ENODATA) {
                        r = -errno;
                        goto out;
                }
        if (src_len == 0)
                goto out;

        value = malloc(XATTR_SIZE_MAX);
        if (!value) {
                r = -ENOMEM;
                goto out;
        }
        for (const char *name = src_list; name < src_list + src_len; name += strlen(name) + 1) {
                ssize_t vlen = fgetxattr(src_fd, name, value, XATTR_SIZE_MAX);
                if (vlen < 0) {
                        if (errno == ENODATA || loss_tolerated(name, errno))
                                continue;
                        r = -errno;
                        goto out;
                }
                if (fsetxattr(dst_fd, name, value, (size_t)vlen, 0) < 0 &&
                    !loss_tolerated(name, errno)) {
                        if (!cannot_hold(hints, errno)) {
                                r = -errno;
                                goto out;
                        }
                        drop_all(hints, name, (ssize_t)strlen(name) + 1);
                }
        }
out:
        free(value);
        free(dst_list);
        free(src_list);
        return r;
}

static void set_owner(int dst_fd, int dst_dirfd, const char *dst_name, const struct statx *st,
                      const struct vs_attr_hints *hints)
{
        if (hints && hints->owner_known && hints->uid == st->stx_uid && hints->gid == st->stx_gid)
                return;
        /* Only root may give a file away; an unprivileged copy stays the caller's, but
         * may still take the source's group when the caller is in it. */
        if (dst_fd >= 0) {
                if (fchown(dst_fd, st->stx_uid, st->stx_gid) < 0 && errno == EPERM)
                        (void)!fchown(dst_fd, (uid_t)-1, st->stx_gid);
                return;
        }
        if (fchownat(dst_dirfd, dst_name, st->stx_uid, st->stx_gid, AT_SYMLINK_NOFOLLOW) < 0 &&
            errno == EPERM)
                (void)!fchownat(dst_dirfd, dst_name, (uid_t)-1, st->stx_gid, AT_SYMLINK_NOFOLLOW);
}

/* Storage that ignores what it cannot hold (rclone "succeeds" at chmod and chown): look at
 * what the copy really has, to log what was dropped. */
static void note_ignored(int dst_fd, int dst_dirfd, const char *dst_name, const struct statx *st,
                         const struct vs_attr_hints *hints)
{
        struct statx got;
        if (!hints || !hints->caps || hints->caps->locks == VS_REACH_LOCAL ||
            (dst_fd >= 0 ? vs_statx(dst_fd, "", &got) : vs_statx(dst_dirfd, dst_name, &got)) < 0)
                return;
        if (!S_ISLNK(st->stx_mode) && (got.stx_mode & 07777) != (st->stx_mode & 07777))
                drop(hints, VS_DROPPED_MODE);
        if (got.stx_uid != st->stx_uid || got.stx_gid != st->stx_gid)
                drop(hints, VS_DROPPED_OWNER);
        if (got.stx_mtime.tv_sec != st->stx_mtime.tv_sec)
                drop(hints, VS_DROPPED_TIMES);
        else if (!vs_same_time(&got.stx_mtime, &st->stx_mtime))
                drop(hints, VS_DROPPED_TIME_NSEC);
}

/* A regular file created with the source's permission bits has its mode already when no
 * set-id bit (which a chown clears), no umask bit, no ACL (source or inherited) is in play. */
static bool created_with_mode(const struct statx *st, const struct vs_attr_hints *hints)
{
        mode_t mode = st->stx_mode & 07777;
        return hints && hints->create_with_mode && S_ISREG(st->stx_mode) &&
               hints->no_inherited_acl && (mode & 07000) == 0 && (mode & hints->umask) == 0;
}

int vs_attrs_copy(int src_fd, int dst_fd, int dst_dirfd, const char *dst_name,
                  const struct statx *st, const struct vs_attr_hints *hints)
{
        const struct timespec times[2] = {
                { .tv_sec = st->stx_atime.tv_sec, .tv_nsec = st->stx_atime.tv_nsec },
                { .tv_sec = st->stx_mtime.tv_sec, .tv_nsec = st->stx_mtime.tv_nsec },
        };
        if (S_ISLNK(st->stx_mode) && hints && hints->caps &&
            hints->caps->symlink_attrs == VS_CAP_NO) {
                drop(hints, VS_DROPPED_TIMES); /* never touch what the link points to */
                return 0;
        }
        int r = dst_fd >= 0 ? futimens(dst_fd, times)
                            : utimensat(dst_dirfd, dst_name, times, AT_SYMLINK_NOFOLLOW);
        if (r < 0 && !cannot_hold(hints, errno))
                return -errno;
        if (r < 0)
                drop(hints, VS_DROPPED_TIMES);

        set_owner(dst_fd, dst_dirfd, dst_name, st, hints);

        bool no_xattrs = false;
        if (src_fd >= 0 && dst_fd >= 0) {
                r = copy_xattrs(src_fd, dst_fd, !(hints && hints->no_inherited_acl), hints,
                                &no_xattrs);
                if (r < 0)
                        return r;
        }

        if (!S_ISLNK(st->stx_mode) && !(no_xattrs && created_with_mode(st, hints))) {
                r = dst_fd >= 0 ? fchmod(dst_fd, st->stx_mode & 07777)
                                : fchmodat(dst_dirfd, dst_name, st->stx_mode & 07777, 0);
                if (r < 0 && !cannot_hold(hints, errno))
                        return -errno;
        }
        note_ignored(dst_fd, dst_dirfd, dst_name, st, hints);
        return 0;
}
