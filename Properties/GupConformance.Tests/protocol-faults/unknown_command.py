"""Fault: claims not to know the gup command (a structured error with code unknown_command)."""
from faultlib import run


def fault(msg, honest):
    r = honest()
    for i, c in enumerate(msg["commands"]):
        if c["op"] == "gup":
            r["observations"][i] = {"error": {"code": "unknown_command", "message": "what is gup?"}}
    return [__import__("json").dumps(r)]


run(fault)
