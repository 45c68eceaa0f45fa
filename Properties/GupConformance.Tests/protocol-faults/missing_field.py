"""Fault: the response has no "seq"."""
import json

from faultlib import run


def fault(msg, honest):
    r = honest()
    del r["seq"]
    return [json.dumps(r)]


run(fault)
