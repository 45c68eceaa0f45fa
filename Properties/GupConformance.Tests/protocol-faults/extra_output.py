"""Fault: prints its response twice."""
import json

from faultlib import run


def fault(msg, honest):
    line = json.dumps(honest())
    return [line, line]


run(fault)
