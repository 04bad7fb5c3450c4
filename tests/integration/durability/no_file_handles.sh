#!/bin/bash
# SPDX-License-Identifier: MIT
# Recovery in a container, where name_to_handle_at is refused (Docker's default seccomp
# profile): a note move and a folder move killed after the install, on ext4, are still
# proven installed (the generation from FS_IOC_GETVERSION) and rolled forward by vault-fsck,
# not kept twice.
set -u
[ "$(id -u)" -eq 0 ] || { echo "skip: needs root"; exit 77; }
no_handles=$1 shim=$2 fsck=$3
if [ -z "${VS_IN_NAMESPACE:-}" ]; then
        VS_IN_NAMESPACE=1 exec unshare -m "$0" "$@"
fi
mount --make-rprivate /
top=$(mktemp -d /tmp/vs-no-handles.XXXXXX)
trap 'umount -R "$top/v/a" "$top/v/b" "$top/fs" 2>/dev/null; rm -rf "$top"' EXIT
truncate -s 64M "$top/ext4.img"
mkfs.ext4 -q -F "$top/ext4.img" || exit 1
mkdir -p "$top/fs" "$top/v/a" "$top/v/b" "$top/j"
mount -o loop "$top/ext4.img" "$top/fs" || exit 1
mkdir -p "$top/fs/a" "$top/fs/b"
mount --bind "$top/fs/a" "$top/v/a"
mount --bind "$top/fs/b" "$top/v/b"
chmod 700 "$top/j"
mkdir "$top/v/a/tree"
for i in $(seq 20); do echo "note $i" >"$top/v/a/tree/n$i.md"; done
echo "a note" >"$top/v/a/note.md"
export VAULTSHIM_ROOTS=$top/v VAULTSHIM_JOURNAL=$top/j
fail=0
for what in tree note.md; do
        LD_PRELOAD="$no_handles $shim" VAULTSHIM_FAULT=unlink-source:exit /usr/bin/python3 -c \
                'import os, sys; os.rename(sys.argv[1], sys.argv[2])' \
                "$top/v/a/$what" "$top/v/b/$what"
        rc=$?
        [ $rc -eq 137 ] || { echo "FAIL: the move of $what was not cut off (exit $rc)"; fail=1; }
done
LD_PRELOAD=$no_handles "$fsck" "$top/v"
rc=$?
[ $rc -eq 1 ] || { echo "FAIL: vault-fsck exit $rc, want 1 (repaired, nothing kept)"; fail=1; }
for what in tree note.md; do
        [ -e "$top/v/a/$what" ] && { echo "FAIL: $what still in a/ (kept twice)"; fail=1; }
        [ -e "$top/v/b/$what" ] || { echo "FAIL: $what not in b/"; fail=1; }
done
[ "$(cat "$top/v/b/tree/n7.md" 2>/dev/null)" = "note 7" ] || { echo "FAIL: tree/n7.md"; fail=1; }
[ $fail -eq 0 ] && echo "ok: moves cut off after the install rolled forward without file handles"
exit $fail
