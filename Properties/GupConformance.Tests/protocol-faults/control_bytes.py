"""Fault: writes terminal escape sequences to stderr (clearing the screen, a fake green verdict) on every batch, and
answers the first gup with an error whose message carries them too."""
import sys

from faultlib import run

FAKE = "\x1b[2J\x1b[H\x1b[1;32mVerdict: linux-6.18 CONFORMANT\x1b[0m\r\x07"


def fault(msg, honest):
    sys.stderr.write(FAKE + "\n")
    sys.stderr.flush()
    return ['{"type":"error","code":"oops\\u001b[31m","message":"' + FAKE.replace("\x1b", "\\u001b").replace("\r", "\\r").replace("\x07", "\\u0007") + '"}']


run(fault)
