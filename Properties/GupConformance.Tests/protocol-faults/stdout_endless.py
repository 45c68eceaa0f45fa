"""Fault: on the first gup batch, starts a stdout line and never ends it."""
import sys

from faultlib import run

CHUNK = "x" * (1 << 16)


def fault(msg, honest):
    while True:
        sys.stdout.write(CHUNK)


run(fault)
