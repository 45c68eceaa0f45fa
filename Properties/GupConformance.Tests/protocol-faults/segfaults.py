"""Fault: dies of SIGSEGV when it sees a gup."""
import os
import signal

from faultlib import run


def fault(msg, honest):
    os.kill(os.getpid(), signal.SIGSEGV)


run(fault)
