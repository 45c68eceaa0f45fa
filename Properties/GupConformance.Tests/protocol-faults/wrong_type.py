"""Fault: a result is a string, not an integer."""
import json

from faultlib import run


def fault(msg, honest):
    r = honest()
    r["observations"][0]["result"] = "zero"
    return [json.dumps(r)]


run(fault)
