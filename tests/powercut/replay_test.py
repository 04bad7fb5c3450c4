#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The replay half of the power-cut instrument on a log written by hand: which crash states
it builds, what it counts as a flush, and the bytes it writes.  No root, no devices."""
import os
import random
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import powercut  # noqa: E402
from powercut import FLUSH, MARKER, WRITE, ZERO  # noqa: E402


def write_log(path, records):
    with open(path, "wb") as f:
        for seq, (kind, disk, offset, payload) in enumerate(records):
            length = len(payload) if isinstance(payload, bytes) else payload
            f.write(powercut.HEADER.pack(powercut.MAGIC, kind, disk, 0, seq, offset, length))
            if kind in (WRITE, MARKER):
                f.write(payload)


def check(condition, what):
    if not condition:
        print(f"FAIL: {what}")
        sys.exit(1)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        log_path = os.path.join(tmp, "log")
        write_log(log_path, [
            (WRITE, 0, 0, b"before"),       # 0: on disk before the move
            (FLUSH, 0, 0, 0),               # 1
            (MARKER, 0, 0, b"start"),       # 2
            (WRITE, 0, 100, b"a"),          # 3
            (WRITE, 1, 200, b"b"),          # 4
            (FLUSH, 0, 0, 0),               # 5: disk 0 durable; disk 1's write still in flight
            (WRITE, 0, 300, b"c"),          # 6
            (FLUSH, 1, 0, 0),               # 7: disk 1 durable; 6 in flight on disk 0
            (ZERO, 0, 100, 1),              # 8
            (MARKER, 0, 0, b"end"),         # 9
        ])
        log = powercut.Log(log_path)
        begin, end = log.marker("start"), log.marker("end")
        check((begin, end) == (2, 9), f"markers at {begin}, {end}")

        states = powercut.crash_states(log, begin, 8, random.Random(1))
        got = {persisted for _, persisted in states}
        # prefixes at each flush and the final state
        for want in (frozenset(), frozenset({3, 4}), frozenset({3, 4, 6}),
                     frozenset({3, 4, 6, 8})):
            check(want in got, f"state {sorted(want)} missing from {sorted(map(sorted, got))}")
        # in flight at flush 7: 4 (disk 1, never flushed before) and 6 (disk 0, after 5);
        # write 3 was made durable by flush 5 and is in every later state
        for persisted in got:
            if 6 in persisted or 8 in persisted:
                check(3 in persisted, f"{sorted(persisted)} drops a write flushed before it")
        check(frozenset({3}) in got or frozenset({4}) in got, "no subset of flush 5's writes")
        check(frozenset({3, 6}) in got or frozenset({3, 4}) in got, "no subset at flush 7")
        check(states[-1][0] == "final" and states[0][0] == "start", "first/last labels")
        check(len(got) == len(states), "a state is listed twice")

        # FUA: flush, one write, flush counts once
        fua_path = os.path.join(tmp, "fua-log")
        write_log(fua_path, [
            (WRITE, 0, 0, b"j" * 4096), (FLUSH, 0, 0, 0), (WRITE, 0, 4096, b"c"),
            (FLUSH, 0, 0, 0),                                   # commit 1 (FUA completion)
            (WRITE, 0, 8192, b"j"), (FLUSH, 0, 0, 0), (WRITE, 0, 8192, b"c"),
            (FLUSH, 0, 0, 0),                                   # commit 2
            (FLUSH, 0, 0, 0),                                   # a bare flush
        ])
        fua = powercut.Log(fua_path)
        flushes = fua.flushes(0, len(fua.records))
        check(flushes == (5, 3), f"flushes {flushes}, want (5, 3)")
        fua.close()

        # applying: later records win, zeros read as zeros
        image = os.path.join(tmp, "image")
        with open(image, "wb") as f:
            f.truncate(4096)
        other = os.path.join(tmp, "other")
        with open(other, "wb") as f:
            f.truncate(4096)
        fds = [os.open(image, os.O_RDWR), os.open(other, os.O_RDWR)]
        log.apply(fds, [8, 6, 3, 4])
        for fd in fds:
            os.close(fd)
        with open(image, "rb") as f:
            data = f.read()
        check(data[100:101] == b"\0" and data[300:301] == b"c", "disk 0 after apply")
        with open(other, "rb") as f:
            check(f.read()[200:201] == b"b", "disk 1 after apply")
        log.close()
    print("ok: crash states, flush counting and replay on a hand-written log")
    return 0


if __name__ == "__main__":
    sys.exit(main())
