"""Fault: exits with status 3 when it sees a gup."""
import sys

from faultlib import run


def fault(msg, honest):
    sys.stderr.write("giving up\n")
    sys.stderr.flush()
    sys.exit(3)


run(fault)
