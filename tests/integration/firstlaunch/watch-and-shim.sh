#!/bin/bash
# --watch re-renders within a second of a manifest change and stops cleanly on SIGTERM;
# the shim check warns with the fix, and its probe passes with libvaultshim.so preloaded.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

standard_vault
m=$work/manifest.yaml
rooms=$work/rooms.json

# --- shim check ---------------------------------------------------------------------
run_tool 3 --manifest "$m" --no-recovery
check "a missing LD_PRELOAD is a warning with the fix" \
        contains "LD_PRELOAD does not name libvaultshim.so: moves between vault folders fail with EXDEV; fix: set LD_PRELOAD="
check "UV_USE_IO_URING unset is a warning with the fix" contains "fix: set UV_USE_IO_URING=0"
check "the probe rename across mounts fails without the shim" contains "failed with EXDEV: the shim is not active"
check "the probe leaves nothing behind" \
        test -z "$(find "$vault/personal" "$vault/engineering" -name '.vaultshim-probe-*')"
shim=$VS_BUILD_ROOT/lib/preload/libvaultshim.so
# The private journal, in the personal folder as the image sets it (vaultshim(7)).
export VAULTSHIM_JOURNAL=$vault/personal/.vaultshim-private VAULTSHIM_PERSONAL=$vault/personal
# A sanitizer build cannot take another LD_PRELOAD before its runtime.
if ldd "$tool" | grep -q libasan; then
        echo "# sanitizer build: the preloaded-shim checks are left to the normal build"
        shim=/nonexistent
fi
if [ -f "$shim" ]; then
        LD_PRELOAD=$shim VAULTSHIM_ROOTS=$vault UV_USE_IO_URING=0 run_tool 0 --manifest "$m" --no-recovery
        check "with the shim preloaded the probe moves a file across mounts" \
                contains "probe: moved a file from $vault/personal to $vault/engineering across mounts"
        check "and that probe leaves nothing behind" \
                test -z "$(find "$vault/personal" "$vault/engineering" -name '.vaultshim-probe-*')"
else
        echo "# $shim not built: the positive probe is not checked here"
fi
fsck=$VS_BUILD_ROOT/tools/vault-fsck/vault-fsck
if [ -x "$fsck" ]; then
        VAULT_FSCK=$fsck run_tool 0 --manifest "$m" --no-shim-check
        check "the move recovery (vault-fsck) runs over the vault" contains "vault-fsck"
        check "and finds nothing to do in a clean vault" contains "no interrupted moves"
        if [ -f "$shim" ]; then
                # A move killed after the install, before the source is gone: the target is
                # installed, the source set aside (a hidden name beside it).
                echo "draft" >"$vault/personal/note.md"
                set +e
                LD_PRELOAD=$shim VAULTSHIM_ROOTS=$vault VAULTSHIM_FAULT=unlink-source:exit \
                        python3 -c 'import os, sys; os.rename(sys.argv[1], sys.argv[2])' \
                        "$vault/personal/note.md" "$vault/engineering/note.md"
                set -e
                if [ -f "$vault/engineering/note.md" ] &&
                        [ -n "$(find "$vault/personal" -maxdepth 1 -name '.vaultshim-aside-*')" ]; then
                        ok "an interrupted move leaves both copies"
                        VAULT_FSCK=$fsck run_tool 0 --manifest "$m" --no-shim-check
                        check "first launch has vault-fsck finish it" \
                                contains "vault-fsck repaired interrupted moves"
                        check "the move is complete: one copy, at the target" \
                                test ! -e "$vault/personal/note.md" -a "$(cat "$vault/engineering/note.md")" = draft
                        check "and nothing of vaultshim's is left in the personal folder" \
                                test -z "$(find "$vault/personal" -name '.vaultshim*')"
                else
                        echo "# VAULTSHIM_FAULT is not compiled in (-Dfault_injection=false): no crash to recover"
                fi
                rm -f "$vault/personal/note.md" "$vault/engineering/note.md"
        fi
else
        run_tool 0 --manifest "$m" --no-shim-check
        check "without vault-fsck the recovery is skipped with a note" contains "vault-fsck not found"
fi

# vault-fsck runs under a deadline, and what it prints is escaped (it names files that
# other users of a shared folder named).
hang=$work/hanging-fsck
printf '#!/bin/sh\nprintf "evil\\033[2J\\nforged: line\\n"\nexec sleep 600\n' >"$hang"
chmod +x "$hang"
started=$(date +%s)
VAULT_FSCK=$hang VAULT_FSCK_TIMEOUT=2 run_tool 3 --manifest "$m" --no-shim-check
check "a hanging vault-fsck is stopped at its deadline" test $(($(date +%s) - started)) -lt 30
check "and the session start says so" contains "did not finish within 2 s"
check "its output is escaped: no raw escape byte" test "$(printf '%s' "$out" | tr -dc '\033' | wc -c)" = 0
check "and no line of its own" test "$(grep -c '^forged: line' <<<"$out")" = 0
# Without a private journal no move is emulated, and the session start says why.
VAULTSHIM_JOURNAL=relative/journal run_tool 3 --manifest "$m" --no-shim-check
check "no private journal: said, with the consequence" contains "moves across folders are not emulated"

# --- --watch --------------------------------------------------------------------------
"$tool" --manifest "$m" --watch --json --sync rooms --rooms-file "$rooms" --no-shim-check --no-recovery \
        >"$work/watch.log" 2>"$work/watch.err" &
watch_pid=$!
cleanup_pids=$watch_pid

wait_for() { # wait_for SECONDS COMMAND...: poll every 20 ms
        local deadline=$(( $(date +%s%N) + $1 * 1000000000 ))
        shift
        while [ "$(date +%s%N)" -lt "$deadline" ]; do
                if "$@"; then return 0; fi
                sleep 0.02
        done
        "$@"
}
room_names() { json_get "$rooms" '",".join(r["name"] for r in d["rooms"])' 2>/dev/null; }
has_rooms() { [ "$(room_names)" = "$1" ]; }

check "--watch renders at start" wait_for 5 has_rooms engineering,personal,wiki

# An atomic replace (temp file + rename), as vault-policy or a config manager does it.
bind_folder extra rw
write_manifest "$m" "$(folder_entry extra rw)"
check "an atomically replaced manifest is re-rendered within a second" \
        wait_for 1 has_rooms engineering,personal,wiki,extra

# A burst: three replacements (sed -i renames a temp file over it) and then an in-place
# rewrite (CLOSE_WRITE) that drops the extra folder, all within the debounce time.
renders_before=$(grep -c '^{' "$work/watch.log")
for _ in 1 2 3; do
        sed -i 's/^valid_until: .*/valid_until: null/' "$m"
done
python3 - "$m" <<'PY'
import sys
p = sys.argv[1]
text = open(p).read()
start = text.index("  - name: extra")
open(p, "w").write(text[:start])
PY
check "an in-place rewrite is re-rendered within a second" wait_for 1 has_rooms engineering,personal,wiki
sleep 0.5
renders_after=$(grep -c '^{' "$work/watch.log")
check "a burst of writes is debounced ($((renders_after - renders_before)) renders for 4 writes)" \
        test $((renders_after - renders_before)) -le 2

# Unrelated files in the manifest's directory do not trigger a render.
renders_before=$(grep -c '^{' "$work/watch.log")
echo x >"$work/unrelated.txt"
sleep 0.6
check "other files in the directory are ignored" test "$(grep -c '^{' "$work/watch.log")" = "$renders_before"

check "--watch stops on SIGTERM" terminate "$watch_pid" 3
check "--watch exits 0 after SIGTERM (got $stopped_status)" test "$stopped_status" = 0
check "--watch --json prints one JSON report per line" \
        python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$work/watch.log"

# --- --watch wakes when valid_until passes ------------------------------------------------
# No file changes: only time does.  The folder's access ends 3 s from now; the watcher must
# wake by itself, report it as an error naming the fix, and keep running.
mkdir -p "$work/expiring"
soon=$(date -u -d '+3 seconds' +%Y-%m-%dT%H:%M:%SZ)
write_manifest "$work/expiring/manifest.yaml" "$(folder_entry extra rw true "$soon")"
"$tool" --manifest "$work/expiring/manifest.yaml" --watch --json --no-shim-check --no-recovery \
        >"$work/expiry.log" 2>"$work/expiry.err" &
cleanup_pids=$!
expired_reported() { grep -q '"state":"expired"' "$work/expiry.log"; }
check "--watch starts with the folder still valid" wait_for 2 grep -q '"exit":0' "$work/expiry.log"
check "--watch wakes when valid_until passes and reports the folder expired" wait_for 8 expired_reported
check "the expiry names the fix: end this session" grep -q 'end this session' "$work/expiry.log"
check "the report after the expiry exits 1" sh -c "tail -n 1 '$work/expiry.log' | grep -q '\"exit\":1'"
check "the watcher keeps running after the expiry" kill -0 "$cleanup_pids"
check "--watch stops on SIGTERM after an expiry" terminate "$cleanup_pids" 3

# --- --discover --watch follows the mount table ------------------------------------------
"$tool" --discover --vault "$vault" --watch --sync rooms --rooms-file "$rooms" --no-shim-check \
        --no-recovery >"$work/watch-mounts.log" 2>&1 &
cleanup_pids=$!
# (extra is still mounted from the manifest test above.)
check "--discover --watch renders the mounted folders at start" \
        wait_for 5 has_rooms engineering,extra,personal,wiki
bind_folder later rw
check "a new mount is picked up within a second" wait_for 1 has_rooms engineering,extra,later,personal,wiki
umount "$vault/later"
check "an unmount is picked up within a second" wait_for 1 has_rooms engineering,extra,personal,wiki
check "--discover --watch stops on SIGTERM" terminate "$cleanup_pids" 3
check "and exits 0 (got $stopped_status)" test "$stopped_status" = 0
finish
