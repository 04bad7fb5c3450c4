#!/bin/bash
# vault-first-launch against a vault of real bind mounts (personal rw, engineering rw,
# wiki ro) in a private mount namespace.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

standard_vault
m=$work/manifest.yaml
common=(--rooms-file "$work/rooms.json" --no-shim-check --no-recovery)
obs=$vault/personal/.obsidian

# --- dry run changes nothing --------------------------------------------------------
run_tool 0 --manifest "$m" --sync rooms "${common[@]}" --dry-run
check "--dry-run reports what it would write" contains "would create"
check "--dry-run writes nothing" test ! -e "$obs" -a ! -e "$work/rooms.json" -a ! -L "$vault/.obsidian"

# --- first run --------------------------------------------------------------------
run_tool 0 --manifest "$m" --sync rooms "${common[@]}"
check "all three folders verified" contains "ok              ro wiki"
check "app.json puts new notes in personal/Inbox" \
        test "$(json_get "$obs/app.json" 'd["newFileLocation"], d["newFileFolderPath"]')" = "('folder', 'personal/Inbox')"
check "attachments go to personal/Attachments" \
        test "$(json_get "$obs/app.json" 'd["attachmentFolderPath"]')" = personal/Attachments
check "deleting is a plain unlink (trashOption none)" test "$(json_get "$obs/app.json" 'd["trashOption"]')" = none
check "the Inbox and Attachments folders exist" test -d "$vault/personal/Inbox" -a -d "$vault/personal/Attachments"
check "the vault root links .obsidian to the personal folder" \
        test "$(readlink "$vault/.obsidian")" = personal/.obsidian
check "the rooms file has three rooms" test "$(json_get "$work/rooms.json" 'len(d["rooms"])')" = 3
check "the read-only wiki is a receive-only room" \
        test "$(json_get "$work/rooms.json" '[(r["mode"], r["direction"]) for r in d["rooms"] if r["name"]=="wiki"][0]')" = "('ro', 'receive-only')"
check "room ids are derived from name and source" \
        test "$(json_get "$work/rooms.json" 'all(r["id"].startswith("vs-") and len(r["id"])==19 for r in d["rooms"])')" = True

# --- second run: byte-identical --------------------------------------------------
snapshot() { (cd "$work" && find vault/personal/.obsidian rooms.json -type f -exec sha256sum {} + | sort; stat -c '%n %i %Y' vault/personal/.obsidian/app.json rooms.json); }
before=$(snapshot)
run_tool 0 --manifest "$m" --sync rooms "${common[@]}"
check "a second run changes nothing (same bytes, same inodes)" test "$before" = "$(snapshot)"
check "a second run reports everything unchanged" test "$(grep -c '  unchanged ' <<<"$out")" = 4

# --- user settings survive --------------------------------------------------------
python3 - "$obs/app.json" <<'PY'
import json, sys
p = sys.argv[1]
d = json.load(open(p))
d["trashOption"] = "local"            # the user changed one of our keys
d["newFileFolderPath"] = "personal/Drafts"
del d["attachmentFolderPath"]         # and removed another
d["alwaysUpdateLinks"] = True         # and set one of their own
json.dump(d, open(p, "w"), indent=2)
PY
run_tool 3 --manifest "$m" --sync rooms "${common[@]}"
check "a trashOption that cannot work is warned about" contains 'trashOption is "local" (a user setting, kept)'
check "the user's trashOption stays" test "$(json_get "$obs/app.json" 'd["trashOption"]')" = local
check "the user's newFileFolderPath stays" test "$(json_get "$obs/app.json" 'd["newFileFolderPath"]')" = personal/Drafts
check "the user's own key stays" test "$(json_get "$obs/app.json" 'd["alwaysUpdateLinks"]')" = True
check "a removed key of ours comes back" test "$(json_get "$obs/app.json" 'd["attachmentFolderPath"]')" = personal/Attachments
before=$(snapshot)
run_tool 3 --manifest "$m" --sync rooms "${common[@]}"
check "re-running after user edits is byte-identical" test "$before" = "$(snapshot)"

# --- broken app.json is left alone -------------------------------------------------
cp "$obs/app.json" "$work/app.json.good"
printf '{"trashOption": "none",\n  "x": }\n' >"$obs/app.json"
run_tool 4 --manifest "$m" "${common[@]}"
check "a broken app.json is reported with line:column" contains "app.json:2:"
check "a broken app.json is not overwritten" grep -q '"x": }' "$obs/app.json"
# The user follows the advice: back to "Permanently delete".
sed 's/"trashOption": "local"/"trashOption": "none"/' "$work/app.json.good" >"$obs/app.json"

# --- a real .obsidian at the vault root ---------------------------------------------
rm "$vault/.obsidian"
mkdir -p "$vault/.obsidian/plugins/dataview"
echo '{"theme":"obsidian"}' >"$vault/.obsidian/appearance.json"
echo '{"x":1}' >"$vault/.obsidian/plugins/dataview/data.json"
echo '{"old":true}' >"$vault/.obsidian/app.json"
run_tool 0 --manifest "$m" "${common[@]}"
check "an existing root .obsidian is moved aside, not deleted" \
        test -f "$vault/.obsidian.before-vaultshim/appearance.json"
check "its files the personal copy lacked are copied over" \
        test -f "$obs/appearance.json" -a -f "$obs/plugins/dataview/data.json"
check "the personal app.json wins over the old one" test "$(json_get "$obs/app.json" 'd.get("old")')" = None
check "the root is a link again" test "$(readlink "$vault/.obsidian")" = personal/.obsidian

# --- read-only folders excluded on request -----------------------------------------
run_tool 0 --manifest "$m" "${common[@]}" --exclude-readonly
check "--exclude-readonly lists wiki/ in userIgnoreFilters" \
        test "$(json_get "$obs/app.json" 'd["userIgnoreFilters"]')" = "['wiki/']"
python3 - "$obs/app.json" <<'PY'
import json, sys
p = sys.argv[1]; d = json.load(open(p)); d["userIgnoreFilters"].append("Archive/"); json.dump(d, open(p, "w"), indent=2)
PY
run_tool 0 --manifest "$m" "${common[@]}"
check "without it, our entry goes and the user's stays" \
        test "$(json_get "$obs/app.json" 'd["userIgnoreFilters"]')" = "['Archive/']"

# --- JSON report ---------------------------------------------------------------------
"$tool" --manifest "$m" "${common[@]}" --json >"$work/report.json" || true
check "--json gives a machine-readable report" \
        test "$(json_get "$work/report.json" '[f["state"] for f in d["folders"]], d["exit"]')" = "(['ok', 'ok', 'ok'], 0)"

# --- mount verification failures -------------------------------------------------------
write_manifest "$work/missing.yaml" "$(folder_entry finance rw)"
run_tool 1 --manifest "$work/missing.yaml" "${common[@]}"
check "a missing required folder fails with a clear message" \
        contains "$vault/finance: required folder is missing (expected a rw bind mount of $work/src/finance)"

write_manifest "$work/optional.yaml" "$(folder_entry finance rw false)"
run_tool 3 --manifest "$work/optional.yaml" "${common[@]}"
check "a missing optional folder is a warning" contains "warning: $vault/finance: optional folder is missing"

mkdir -p "$vault/plain"
write_manifest "$work/plain.yaml" "$(folder_entry plain rw)"
run_tool 1 --manifest "$work/plain.yaml" "${common[@]}"
check "a plain directory is not a mount" contains "$vault/plain: required folder is a plain directory, not a mount point"

bind_folder handbook rw
write_manifest "$work/rw.yaml" "$(folder_entry handbook ro)"
run_tool 1 --manifest "$work/rw.yaml" --sync rooms "${common[@]}"
check "promised ro but mounted rw is an error" contains "$vault/handbook: promised read-only but mounted read-write"
check "and that folder gets no sync room" \
        test "$(json_get "$work/rooms.json" '"handbook" in [r["name"] for r in d["rooms"]]')" = False

write_manifest "$work/expired.yaml" "$(folder_entry handbook rw true 2020-01-01T00:00:00Z)"
run_tool 1 --manifest "$work/expired.yaml" "${common[@]}"
check "an expired folder is refused" contains "$vault/handbook: access expired at 2020-01-01T00:00:00Z; refusing"

mkdir -p "$work/elsewhere"
write_manifest "$work/source.yaml" "$(folder_entry handbook rw | sed "s|source: .*|source: $work/elsewhere|")"
run_tool 3 --manifest "$work/source.yaml" "${common[@]}"
check "a mount from another source is a warning" contains "does not look like the promised source $work/elsewhere"

# --- a vault mount the manifest does not grant (a leftover Kasm group mapping) ---------------
run_tool 1 --manifest "$m" "${common[@]}"
check "a mount under the vault root that the manifest does not grant is refused (exit 1)" \
        contains "$vault/handbook: mounted under the vault root but not granted by the manifest; refusing it"
mkdir -p "$work/src/nested" "$vault/engineering/nested"
mount --bind "$work/src/nested" "$vault/engineering/nested"
umount "$vault/handbook"
run_tool 1 --manifest "$m" "${common[@]}"
check "so is a mount nested inside a granted folder" \
        contains "$vault/engineering/nested: mounted under the vault root but not granted by the manifest"
umount "$vault/engineering/nested"
rmdir "$vault/engineering/nested"

# --- bad manifest ---------------------------------------------------------------------
sed 's/mode: ro/mode: rox/' "$m" >"$work/bad.yaml"
run_tool 2 --manifest "$work/bad.yaml" "${common[@]}"
check "a bad manifest is exit 2 with file:line:col" contains "$work/bad.yaml:24:11: \"mode\" must be \"ro\" or \"rw\", got \"rox\""
VAULT_MANIFEST=$m run_tool 0 "${common[@]}"
check "\$VAULT_MANIFEST is the default manifest" contains "manifest: $m"
run_tool 2 --manifest "$m" --vault /elsewhere "${common[@]}"
check "--vault must agree with the manifest" contains "is for the vault $vault, not /elsewhere"

# --- discovery --------------------------------------------------------------------
bind_folder handbook rw
run_tool 0 --discover --vault "$vault" --print-manifest
printf '%s\n' "$out" >"$work/discovered.yaml"
check "--discover finds every mount under the vault with its mode" \
        test "$(python3 - "$work/discovered.yaml" <<'PY'
import sys
names, modes = [], []
for line in open(sys.argv[1]):
    line = line.strip()
    if line.startswith("- name: "): names.append(line[8:])
    if line.startswith("mode: "): modes.append(line[6:])
print(list(zip(names, modes)))
PY
)" = "[('engineering', 'rw'), ('handbook', 'rw'), ('personal', 'rw'), ('wiki', 'ro')]"
check "--discover picks the personal folder" contains "personal: personal"
run_tool 0 --manifest "$work/discovered.yaml" "${common[@]}"
check "a discovered manifest is a valid manifest" contains "ok              rw handbook"
run_tool 0 --discover --vault "$vault" "${common[@]}"
check "--discover runs the whole first launch" contains "discovered from /proc/self/mountinfo"

# Escaped names: a mount point with a space shows as \040 in mountinfo.
mkdir -p "$work/src/team notes" "$vault/team notes"
mount --bind "$work/src/team notes" "$vault/team notes"
run_tool 0 --discover --vault "$vault" --print-manifest
check "--discover undoes mountinfo's octal escapes" contains '- name: "team notes"'
umount "$vault/team notes"
umount "$vault/handbook"

# A discovered vault that cannot hold a session is an error (exit 1) naming the path, not
# "done with warnings": no vault root, nothing mounted under it, no personal folder.
run_tool 1 --discover --vault "$work/no-such-vault" "${common[@]}"
check "--discover without a vault root is an error naming it" \
        contains "error: $work/no-such-vault: no vault root here (no such directory)"
mkdir -p "$work/empty-vault"
run_tool 1 --discover --vault "$work/empty-vault" "${common[@]}"
check "--discover with nothing mounted under the vault root is an error naming it" \
        contains "error: $work/empty-vault: nothing is mounted under the vault root"
run_tool 1 --discover --vault "$work/empty-vault" --print-manifest
check "--print-manifest of an empty vault is the same error" contains "nothing is mounted"
mkdir -p "$work/src/shared" "$work/no-personal/shared"
mount --bind "$work/src/shared" "$work/no-personal/shared"
run_tool 1 --discover --vault "$work/no-personal" "${common[@]}"
check "--discover without a personal folder is an error naming the vault" \
        contains "error: $work/no-personal: no mount named \"personal\" for the personal folder (mounted: shared)"
check "and configures nothing" test ! -e "$work/no-personal/.obsidian"
run_tool 1 --discover --vault "$vault" --personal home "${common[@]}"
check "--discover --personal naming no mount is the same error" \
        contains "no mount named \"home\" for the personal folder (mounted: engineering, personal, wiki)"
umount "$work/no-personal/shared"

# --- a vault root the user cannot write (root-owned /vault in the image) -----------------
rm "$vault/.obsidian"
mount --rbind "$vault" "$vault"
mount -o remount,bind,ro "$vault"
run_tool 3 --manifest "$m" "${common[@]}"
check "an unwritable vault root is a warning with the fix" \
        contains "create it in the image with \`ln -s personal/.obsidian $vault/.obsidian\`"
check ".obsidian/ in the personal folder is still written" test -f "$obs/app.json"
umount -R "$vault" 2>/dev/null || umount -l "$vault"

finish
