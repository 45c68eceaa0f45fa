"""Fault: speaks protocol version 2."""
from faultlib import run


def hello(reply):
    reply["protocol"] = 2
    return reply


run(lambda msg, honest: None, hello=hello)
