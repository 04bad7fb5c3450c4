#!/bin/sh
# libvaultshim.so exports exactly rename, renameat and renameat2, needs only libc (libdl and
# libpthread tolerated), and never references stdio.
set -u
lib=${1:?usage: symbols.sh libvaultshim.so}
status=0

exports=$(nm -D --defined-only "$lib" | awk '{print $3}' | sort | tr '\n' ' ')
if [ "$exports" != "rename renameat renameat2 " ]; then
        echo "FAIL: exports are [$exports], want [rename renameat renameat2 ]"
        status=1
fi

needed=$(readelf -d "$lib" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
for n in $needed; do
        case $n in
        libc.so.6 | libdl.so.2 | libpthread.so.0) ;;
        *) echo "FAIL: $lib needs $n"; status=1 ;;
        esac
done

stdio=$(nm -D --undefined-only "$lib" | awk '{print $2}' | sed 's/@.*//' |
        grep -E 'printf|scanf|^_IO_|^(puts|fputs|fputc|putc|putchar|perror|fopen|fopen64|fdopen|fwrite|fflush|fclose|stdout|stderr)$' |
        tr '\n' ' ')
if [ -n "$stdio" ]; then
        echo "FAIL: $lib references stdio: $stdio"
        status=1
fi
[ $status -eq 0 ] && echo "ok: exports [$exports], needs [$needed]"
exit $status
