"""Fault: answers a batch with a line that is not JSON."""
from faultlib import run

run(lambda msg, honest: ['{"type": "observations", "seq": ' + str(msg["seq"]) + ', "observations": [{"result": 0'])
