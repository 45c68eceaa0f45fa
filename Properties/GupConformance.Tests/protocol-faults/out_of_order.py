"""Fault: answers with the sequence number of a later batch."""
import json

from faultlib import run


def fault(msg, honest):
    r = honest()
    r["seq"] = msg["seq"] + 1
    return [json.dumps(r)]


run(fault)
