"""Fault: on the first gup batch, writes an empty line (which answers no request) before its response."""
import json

from faultlib import run


def fault(msg, honest):
    return ["", json.dumps(honest())]


run(fault)
