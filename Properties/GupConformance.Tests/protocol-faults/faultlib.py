"""Shared by the deliberately faulty implementations: the honest Python implementation, with one hook.

Each fault script calls run(fault). fault(msg, honest) is called for every batch; honest() returns the correct
response as a dict. fault returns None (answer honestly) or a list of raw stdout lines to write instead. A batch
"triggers" when it contains a gup command, so the minimal counterexample is a short prefix ending in a gup.
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
for candidate in (os.path.join(HERE, "..", "python"), os.path.join(HERE, "..", "..", "..", "Fixtures", "python")):
    if os.path.exists(os.path.join(candidate, "gup_impl.py")):
        sys.path.insert(0, candidate)
        break
import gup_impl  # noqa: E402


def triggers(msg):
    return any(c.get("op") == "gup" for c in msg.get("commands", []))


def run(fault, hello=None):
    mm = None
    out = sys.stdout

    def write(line):
        out.write(line + "\n")
        out.flush()

    for line in sys.stdin:
        msg = json.loads(line)
        t = msg.get("type")
        if t == "hello":
            reply = {"type": "hello", "protocol": gup_impl.PROTOCOL, "implementation": "faulty",
                     "manifests": [{"profile": "linux-6.18", "facets": ["core"]}]}
            write(json.dumps(hello(reply) if hello else reply))
        elif t == "begin":
            mm = gup_impl.Mm(msg["profile"])
            write(json.dumps({"type": "ready", "run": msg["run"]}))
        elif t == "batch":
            def honest(m=mm, msg=msg):
                obs = []
                for c in msg["commands"]:
                    try:
                        obs.append(m.execute(c))
                    except gup_impl.CommandError as e:
                        obs.append({"error": {"code": e.code, "message": str(e)}})
                return {"type": "observations", "seq": msg["seq"], "observations": obs}
            lines = fault(msg, honest) if triggers(msg) else None
            if lines is None:
                lines = [json.dumps(honest())]
            for ln in lines:
                write(ln)
        elif t == "end":
            write(json.dumps({"type": "ended", "run": msg["run"]}))
        elif t == "shutdown":
            return
