# Shared by the first-launch integration tests: a private mount namespace with a vault
# assembled from real bind mounts (personal rw, engineering rw, wiki ro), like Kasm does.
# shellcheck shell=bash

if [ "$(id -u)" != 0 ] || ! unshare -m true 2>/dev/null; then
        echo "SKIP: needs root and mount namespaces"
        exit 77
fi
if [ -z "${VS_IN_NAMESPACE:-}" ]; then
        # Private propagation: nothing mounted here leaks to the host, and all of it goes
        # away with the namespace even if a test dies.
        exec env VS_IN_NAMESPACE=1 unshare -m --propagation private "$0" "$@"
fi

set -euo pipefail
tool=${VS_BUILD_ROOT:?}/tools/vault-first-launch/vault-first-launch
work=$(mktemp -d /tmp/vs-firstlaunch.XXXXXX)
mount -t tmpfs vs-firstlaunch "$work"
vault=$work/vault
failures=0
count=0

cleanup() {
        local rc=$?
        if [ -n "${cleanup_pids:-}" ]; then
                # shellcheck disable=SC2086
                kill $cleanup_pids 2>/dev/null || true
                wait 2>/dev/null || true
        fi
        umount -R "$work" 2>/dev/null || umount -l "$work" 2>/dev/null || true
        rmdir "$work" 2>/dev/null || true
        exit $rc
}
trap cleanup EXIT

ok() { count=$((count + 1)); echo "ok $count - $*"; }
not_ok() { count=$((count + 1)); failures=$((failures + 1)); echo "not ok $count - $*"; }
check() { # check DESCRIPTION COMMAND...
        local what=$1; shift
        if "$@"; then ok "$what"; else not_ok "$what"; fi
}
finish() {
        echo "1..$count"
        [ "$failures" -eq 0 ]
}

# bind_folder NAME MODE: /work/src/NAME bind-mounted at $vault/NAME, read-only if MODE=ro.
bind_folder() {
        mkdir -p "$work/src/$1" "$vault/$1"
        mount --bind "$work/src/$1" "$vault/$1"
        if [ "$2" = ro ]; then
                mount -o remount,bind,ro "$vault/$1"
        fi
}

# A manifest for the standard vault; extra folder entries may be appended with folder_entry.
write_manifest() { # write_manifest FILE [EXTRA-YAML]
        local tmp=$1.tmp
        cat >"$tmp" <<YAML
version: 1
user:
  name: alice
  id: "1000"
vault: $vault
personal: personal
valid_until: null
folders:
$(folder_entry engineering rw)
$(folder_entry personal rw)
$(folder_entry wiki ro)
${2:-}
YAML
        mv "$tmp" "$1"
}

folder_entry() { # folder_entry NAME MODE [REQUIRED] [VALID_UNTIL]
        cat <<YAML
  - name: $1
    source: $work/src/$1
    target: $vault/$1
    mode: $2
    required: ${3:-true}
    valid_until: ${4:-null}
YAML
}

standard_vault() {
        bind_folder personal rw
        bind_folder engineering rw
        bind_folder wiki ro
        echo "# Welcome" >"$work/src/wiki/welcome.md"
        write_manifest "$work/manifest.yaml"
}

# run_tool EXPECTED-EXIT ARGS...: output in $out, exit status checked.
run_tool() {
        local want=$1; shift
        set +e
        out=$("$tool" "$@" 2>&1)
        status=$?
        set -e
        if [ "$status" != "$want" ]; then
                echo "# $tool $*: exit $status, wanted $want; output:"
                printf '%s\n' "$out" | sed 's/^/#   /'
                return 1
        fi
}

contains() { # contains NEEDLE: in $out
        if ! grep -qF -- "$1" <<<"$out"; then
                echo "# output lacks: $1"
                printf '%s\n' "$out" | sed 's/^/#   /'
                return 1
        fi
}

json_get() { # json_get FILE PYTHON-EXPRESSION-ON-d
        python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

# terminate PID SECONDS: SIGTERM, then wait for it to be gone; its exit status in
# $stopped_status.  Fails if it is still running after SECONDS.
terminate() {
        local pid=$1 tries=$(($2 * 20))
        kill -TERM "$pid"
        while kill -0 "$pid" 2>/dev/null && [ "$tries" -gt 0 ]; do
                sleep 0.05
                tries=$((tries - 1))
        done
        kill -0 "$pid" 2>/dev/null && return 1
        set +e
        wait "$pid"
        # shellcheck disable=SC2034 # read by the callers
        stopped_status=$?
        set -e
        cleanup_pids=
}
