"""Fault: never answers a batch with a gup."""
import time

from faultlib import run


def fault(msg, honest):
    time.sleep(3600)


run(fault)
