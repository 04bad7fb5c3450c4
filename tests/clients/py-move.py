"""Moves with Python's own API, unmodified: py-move.py os.rename|shutil.move SRC DST.
Prints "ok" or "error <ERRNO NAME>"."""
import errno
import os
import shutil
import sys

MOVES = {"os.rename": os.rename, "shutil.move": shutil.move}

mode, src, dst = sys.argv[1:]
try:
    MOVES[mode](src, dst)
    print("ok")
except OSError as e:
    print(f"error {errno.errorcode.get(e.errno, e.errno)}")
