"""Fault: on the first gup batch, writes 256 MiB to stderr without a single newline, then answers honestly."""
import sys

from faultlib import run

CHUNK = "x" * (1 << 16)
TOTAL = int(sys.argv[1]) if len(sys.argv) > 1 else 256 << 20
flooded = False


def fault(msg, honest):
    global flooded
    if not flooded:
        flooded = True
        for _ in range(TOTAL // len(CHUNK)):
            sys.stderr.write(CHUNK)
        sys.stderr.flush()
    return None


run(fault)
