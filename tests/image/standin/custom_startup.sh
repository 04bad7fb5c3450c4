#!/bin/bash
# Stands in for the Obsidian image's custom_startup.sh.  Every call is recorded, one line of
# arguments each, in $HOME/custom_startup.args.  With --go or --assign (the exec config's
# hooks) that is all; without arguments (vnc_startup.sh) it runs the Obsidian stand-in and
# restarts it when it exits, as Kasm's script does with Obsidian.
printf '%s\n' "$*" >> "$HOME/custom_startup.args"
[ $# -gt 0 ] && exit 0
while :; do
        node /opt/obsidian-standin/obsidian-standin.js
        sleep 1
done
