#!/bin/sh
# Run `vault-policy check` over every policy shipped as data or example; exit 1 if any fails.
# Files that are invalid on purpose live in tests/data/policy/ as invalid*.yaml and must fail.
set -u
tool="$VS_BUILD_ROOT/tools/vault-policy/vault-policy"
status=0
checked=0
for file in "$VS_SOURCE_ROOT"/tests/data/policy/*.yaml "$VS_SOURCE_ROOT"/docker/examples/*.yaml \
            "$VS_SOURCE_ROOT"/docker/examples/*.yml "$VS_SOURCE_ROOT"/docker/*.yaml; do
        [ -f "$file" ] || continue
        case "$(basename "$file")" in
        users*.yaml | manifest*.yaml) continue ;;  # other formats
        invalid*.yaml)
                if "$tool" check "$file" >/dev/null 2>&1; then
                        echo "FAIL: $file is meant to be invalid but passed" >&2
                        status=1
                fi ;;
        *)
                grep -q '^folders:' "$file" || continue  # not a policy
                "$tool" check "$file" || status=1 ;;
        esac
        checked=$((checked + 1))
done
echo "checked $checked policy files"
exit $status
