"""Fault: starts children that keep its stdout open and outlive it (one of them detached from it by a double fork),
then exits on the first gup batch. argv[1] is a token the test looks for in the children's command lines."""
import os
import sys

from faultlib import run

TOKEN = sys.argv[1] if len(sys.argv) > 1 else "4242.5"


def spawn(detach):
    pid = os.fork()
    if pid == 0:
        if detach and os.fork() != 0:
            os._exit(0)
        os.execvp("sleep", ["sleep", TOKEN])
    if detach:
        os.waitpid(pid, 0)


for detach in (False, False, True):
    spawn(detach)


def fault(msg, honest):
    sys.stdout.flush()
    os._exit(0)


run(fault)
