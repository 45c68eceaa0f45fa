"""Fault: leaves out the last observation of a batch."""
import json

from faultlib import run


def fault(msg, honest):
    r = honest()
    r["observations"] = r["observations"][:-1]
    return [json.dumps(r)]


run(fault)
