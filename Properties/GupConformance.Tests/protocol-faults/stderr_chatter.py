"""Not a fault: chats on stderr (allowed, captured) and otherwise answers honestly."""
import sys

from faultlib import run


def fault(msg, honest):
    for i in range(50):
        sys.stderr.write("debug: batch %d, line %d of chatter\n" % (msg["seq"], i))
    sys.stderr.flush()
    return None


run(fault)
