"""Fault: answers a batch with a message type the protocol does not define."""
import json

from faultlib import run

run(lambda msg, honest: [json.dumps({"type": "results", "seq": msg["seq"]})])
