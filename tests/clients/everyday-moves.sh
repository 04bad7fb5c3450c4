#!/bin/sh
# Everyday moves outside any vault, for the "shim preloaded but no vault" test: run once
# without and once with libvaultshim.so preloaded, the output and the tree must be identical.
# usage: everyday-moves.sh MOUNT_A MOUNT_B VS_RENAME_CALL CLIENT_DIR  (A, B: binds of one dir)
a=$1 b=$2 call=$3 here=$4
cd "$a/src" || exit 1

echo "== one mount"
mv -v notes journal; echo "mv: $?"
python3 "$here/py-move.py" os.rename journal/"day 00.md" journal/first.md
node "$here/node-move.js" sync journal/"day 01.md" "$a/dst/second.md"
"$call" renameat2 journal/"day 02.md" journal/"day 03.md" noreplace
"$call" renameat2 journal/"day 02.md" journal/"day 03.md" exchange
"$call" --olddir journal --newdir "$a/dst" renameat "day 04.md" fourth.md

echo "== across two mounts, not a vault"
python3 "$here/py-move.py" os.rename journal/"day 05.md" "$b/dst/fifth.md"
node "$here/node-move.js" sync journal/"day 05.md" "$b/dst/fifth.md"
"$call" rename "$a/src/journal/day 06.md" "$b/dst/sixth.md"
mv -v journal/"day 07.md" "$b/dst/seventh.md"; echo "mv: $?"
mv journal/attachments "$b/dst/attachments"; echo "mv: $?"
python3 "$here/py-move.py" shutil.move journal/"day 08.md" "$b/dst/eighth.md"

echo "== failures"
python3 "$here/py-move.py" os.rename missing.md x.md
mv missing.md x.md 2>&1; echo "mv: $?"
"$call" renameat2 journal/first.md journal/x.md 0x40
"$call" rename journal/ journal/first.md/

echo "== result"
cd "$a" && ls -lAR --time-style=+ . | sed 's/^total .*/total/'
