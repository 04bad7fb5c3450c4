#!/bin/bash
# The Syncthing config.xml that vault-first-launch writes is accepted by the real daemon:
# every folder present with the right type, and the read-only folder runs without the
# "folder marker missing" error.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

if ! command -v syncthing >/dev/null; then
        echo "SKIP: syncthing not installed"
        exit 77
fi
standard_vault
home=$work/syncthing
export STNOUPGRADE=1 STNODEFAULTFOLDER=1
run_tool 0 --manifest "$work/manifest.yaml" --sync syncthing --syncthing-home "$home" \
        --no-shim-check --no-recovery
check "config.xml written for a fresh Syncthing home" test -s "$home/config.xml"

# A user edit and a paired device survive a re-render.
sed -i 's|<maxConflicts>10</maxConflicts>|<maxConflicts>3</maxConflicts>|' "$home/config.xml"
sed -i 's|</configuration>|<device id="AIR6LPZ-7K4PTTV-UXQSMUU-CPQ5YWH-OEDFIIQ-JUG777G-2YQXXR5-YD6AWQR" name="laptop" compression="metadata" introducer="false" skipIntroductionRemovals="false" introducedBy=""><address>dynamic</address></device></configuration>|' "$home/config.xml"
run_tool 0 --manifest "$work/manifest.yaml" --sync syncthing --syncthing-home "$home" \
        --no-shim-check --no-recovery
check "a user's maxConflicts edit is kept" grep -q '<maxConflicts>3</maxConflicts>' "$home/config.xml"
check "a paired device is kept" grep -q 'name="laptop"' "$home/config.xml"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
key=vaultshim-test-$$-key
syncthing serve --home="$home" --no-browser --no-restart --gui-address="127.0.0.1:$port" \
        --gui-apikey="$key" --logflags=0 >"$work/syncthing.log" 2>&1 &
st_pid=$!
cleanup_pids=$st_pid

rest() { curl -fsS -H "X-API-Key: $key" "http://127.0.0.1:$port$1"; }
if ! command -v curl >/dev/null; then
        rest() { python3 - "$port" "$key" "$1" <<'PY'
import sys, urllib.request
port, key, path = sys.argv[1:]
req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"X-API-Key": key})
print(urllib.request.urlopen(req, timeout=5).read().decode())
PY
        }
fi

up=false
for _ in $(seq 1 100); do
        if rest /rest/system/ping >/dev/null 2>&1; then up=true; break; fi
        sleep 0.1
done
check "syncthing serves the generated config" $up

rest /rest/config/folders >"$work/folders.json"
folder_types() {
        python3 - "$work/folders.json" <<'PY'
import json, sys
for f in sorted(json.load(open(sys.argv[1])), key=lambda f: f["label"]):
    print(f["label"], f["type"], f["markerName"], f["fsWatcherEnabled"], f["rescanIntervalS"], f["maxConflicts"])
PY
}
folder_types >"$work/types.txt"
cat >"$work/want.txt" <<TXT
engineering sendreceive .stfolder True 3600 3
personal sendreceive .stfolder True 3600 3
wiki receiveonly . True 3600 3
TXT
check "REST lists every folder with its type, marker and explicit settings" \
        diff -u "$work/want.txt" "$work/types.txt"

# Give the folders time to scan; the read-only one must not stop with an error.
wiki_id=$(python3 -c 'import json,sys; print([f["id"] for f in json.load(open(sys.argv[1])) if f["label"]=="wiki"][0])' "$work/folders.json")
state=""
for _ in $(seq 1 50); do
        state=$(rest "/rest/db/status?folder=$wiki_id" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["state"], d.get("error",""))')
        [ "${state%% *}" = idle ] && break
        sleep 0.2
done
check "the read-only folder goes idle without an error (state: $state)" test "$state" = "idle "
errors=$(rest "/rest/folder/errors?folder=$wiki_id" | python3 -c 'import json,sys; print(len(json.load(sys.stdin).get("errors") or []))')
check "no folder errors for the read-only folder" test "$errors" = 0
personal_id=$(python3 -c 'import json,sys; print([f["id"] for f in json.load(open(sys.argv[1])) if f["label"]=="personal"][0])' "$work/folders.json")
ignores=$(rest "/rest/db/ignores?folder=$personal_id" | python3 -c 'import json,sys; print(" ".join(json.load(sys.stdin)["expanded"] or []))')
check "syncthing loads the .stignore that keeps the shim's journal and staging out ($ignores)" \
        grep -q '\.vaultshim-\*' <<<"$ignores"
options=$(rest /rest/config/options | python3 -c 'import json,sys; o=json.load(sys.stdin); print(o["globalAnnounceEnabled"], o["relaysEnabled"], o["natEnabled"], o["urAccepted"])')
check "no global announce, relays, NAT or usage reporting ($options)" test "$options" = "False False False -1"
check "the daemon is still running" kill -0 "$st_pid"

# SIGTERM to the monitor parent stops both processes.
check "syncthing stops on SIGTERM" terminate "$st_pid" 10
if grep -qi "marker missing" "$work/syncthing.log"; then
        not_ok "the log reports a missing folder marker"
        sed 's/^/#   /' "$work/syncthing.log"
else
        ok "the log reports no missing folder marker"
fi
finish
