#!/usr/bin/env python3
"""disk_inplace.py: durable in-place overwrites per second on a filesystem.

How tallyd commits every count after creating the file (store_count_overwrite;
tests/bench_store measures it through tally's own code), redone here without
it as a cross-check: pwrite the decimal count and a newline at offset 0 of one
file, then fdatasync. Prints "pwrite+fdatasync: N commits in S s = R commits/s".

    disk_inplace.py DIR [N]
"""
import os
import sys
import time


def main():
    if len(sys.argv) not in (2, 3):
        print("usage: disk_inplace.py DIR [N]", file=sys.stderr)
        return 2
    n = int(sys.argv[2]) if len(sys.argv) == 3 else 2000
    path = os.path.join(sys.argv[1], "inplace.txt")
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        t0 = time.monotonic()
        for i in range(1, n + 1):
            os.pwrite(fd, b"%d\n" % (1000000 + i), 0)
            os.fdatasync(fd)
        s = time.monotonic() - t0
    finally:
        os.close(fd)
        os.unlink(path)
    print("pwrite+fdatasync: %d commits in %.3f s = %.0f commits/s" % (n, s, n / s))
    return 0


if __name__ == "__main__":
    sys.exit(main())
