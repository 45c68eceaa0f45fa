#!/usr/bin/env python3
"""A stand-in for qemu-system-x86_64 that tests Fixtures/Kernel/vmhost.py without a kernel: it takes QEMU's
arguments, writes boot lines to the console chardev (-chardev file,path=/dev/fd/N), says guest-ready on its stdout
(the protocol port) and then answers the process protocol like a tiny implementation of linux-6.12.118 (core only),
misbehaving as its first argument asks at the first batch of a run: "panic" (a kernel panic on the console, then
silence), "hang" (no answer), "exit" (QEMU dies), or "ok" (answers, though not correctly: it only has to talk).
Booted for the live layer (gupc.mode=live) it stands in for the live agent instead: see live_agent(). Its second argument is a file it
writes its pid to, so the test can check that the host killed it.

Usage (as vmhost.py's --qemu): python3 fake_qemu.py MODE PIDFILE, followed by QEMU's arguments."""
import json
import os
import sys
import time

mode, pidfile = sys.argv[1], sys.argv[2]
with open(pidfile, "w") as f:
    f.write(str(os.getpid()))

console_path = None
args = sys.argv[3:]
for i, a in enumerate(args):
    if a.startswith("file,id=con,path="):
        console_path = a.split("path=", 1)[1]
console = open(console_path, "w") if console_path else sys.stderr


def con(line):
    console.write("[    0.000000] " + line + "\n")
    console.flush()


def send(msg):
    sys.stdout.write(json.dumps(msg, separators=(",", ":")) + "\n")
    sys.stdout.flush()


con("Linux version 6.12.118 (fake)")
con("Run /init as init process")


def live_agent():
    """The live agent's part (vmhost.py --live puts gupc.mode=live on the command line): it answers the first request
    (the release) as the agent does, then misbehaves as MODE asks: "live-panic" (a panic on the console, then silence)
    or "live-hang" (no answer); "live-server" answers like the guest server instead, as a guest that does not run the
    agent would."""
    send({"type": "guest-ready", "mode": "live", "kernel": "6.12.118-fake"})
    first = True
    for line in sys.stdin:
        if line.startswith('{"type":"shutdown"'):
            return
        if mode == "live-server":
            send({"type": "error", "kind": "bad_request", "message": "not JSON"})
            continue
        if first:
            first = False
            sys.stdout.write("ok " + "6.12.118-fake\n".encode().hex() + "\n")
            sys.stdout.flush()
            continue
        if mode == "live-panic":
            con("BUG: kernel NULL pointer dereference, address: 0000000000000008")
            con("RIP: 0010:io_sqe_buffer_register+0x1d/0x90")
            con("Kernel panic - not syncing: Fatal exception")
        time.sleep(3600)


if any("gupc.mode=live" in a for a in args):
    live_agent()
    sys.exit(0)

send({"type": "guest-ready", "kernel": "6.12.118-fake"})
for line in sys.stdin:
    msg = json.loads(line)
    t = msg["type"]
    if t == "hello":
        send({"type": "hello", "protocol": 1, "implementation": "fake-kernel",
              "manifests": [{"profile": "linux-6.12.118", "facets": ["core"], "max_order": 10}]})
    elif t == "begin":
        send({"type": "ready", "run": msg["run"]})
    elif t == "end":
        send({"type": "ended", "run": msg["run"]})
    elif t == "shutdown":
        break
    elif t == "batch":
        if mode != "ok":
            if mode == "panic":
                con("BUG: kernel NULL pointer dereference, address: 0000000000000008")
                con("Oops: 0002 [#1] SMP")
                con("RIP: 0010:try_grab_folio+0x1d/0x90")
                con(" __get_user_pages+0x1b2/0x4f0")
                con(" pin_user_pages+0x4a/0x80")
                con("Kernel panic - not syncing: Fatal exception")
                time.sleep(3600)
            if mode == "hang":
                time.sleep(3600)
            if mode == "exit":
                sys.exit(1)
        obs = []
        for c in msg["commands"]:
            if c["op"] == "gup":
                obs.append({"result": -14, "pages": []} if c.get("with_pages") else {"result": -14})
            elif c["op"] == "inspect_folio":
                obs.append({"refcount": 1, "maybe_dma_pinned": False, "dirty": False})
            elif c["op"] == "read_vmstat":
                obs.append({"acquired": 0, "released": 0})
            else:
                obs.append({"result": 0})
        send({"type": "observations", "seq": msg["seq"], "observations": obs})
