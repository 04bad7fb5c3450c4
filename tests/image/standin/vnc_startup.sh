#!/bin/bash
# Stands in for Kasm's vnc_startup.sh as the container's first process: it starts
# custom_startup.sh in the background and waits; on SIGTERM (docker stop) it stops its
# process group and exits, as Kasm's cleanup trap does.
stop() {
        trap - TERM INT
        kill -TERM 0 2>/dev/null
        exit 0
}
trap stop TERM INT
"$STARTUPDIR/custom_startup.sh" &
while :; do
        sleep 3600 &
        wait $!
done
