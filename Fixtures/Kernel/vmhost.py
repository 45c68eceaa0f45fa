#!/usr/bin/env python3
"""The VM host of a kernel under test: a process-protocol implementation (Spec/PROTOCOL.md) that boots the
kernel in QEMU and bridges the engine's stdin/stdout to the guest server (Fixtures/Kernel/guest/gupc_server.c) on
the guest's second serial port. The first serial port is the guest's console: the host keeps its last lines, and a
panic, an oops, a guest that stops answering or a QEMU that dies ends this process with one stderr line naming
what happened and quoting the guest log, which the engine turns into a named fault with the command prefix that
led to it. QEMU never outlives this process (it dies with it, and every exit path kills it).

With --live the guest runs the live layer's agent instead (Fixtures/Kernel/guest/live_agent.c: a line protocol that
starts a livehelper per session), with THP on madvise as on a distribution kernel, and any WARN panics the guest so
that it ends the run with its report.

Usage: vmhost.py --image bzImage --initramfs initramfs.cpio.gz [--label 6.12] [--profiles a,b] [--guest-log F] [--live]
"""
import argparse
import collections
import ctypes
import json
import os
import select
import shlex
import signal
import subprocess
import sys
import time

PANIC_MARKS = ("Kernel panic", "Oops", "BUG:", "kernel BUG at", "general protection fault", "Unable to handle",
               "watchdog: BUG: soft lockup", "INFO: task")
CONSOLE_LINES_KEPT = 400


def log(label, text):
    sys.stderr.write("kernel-vm[%s]: %s\n" % (label, text))
    sys.stderr.flush()


def die_with_parent():
    # PR_SET_PDEATHSIG = 1: QEMU gets SIGKILL when this host process dies, however it dies.
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)
    except OSError:
        pass


def kvm_usable():
    """KVM when /dev/kvm opens and the CPU offers hardware virtualisation. A /dev/kvm without vmx/svm (seen in
    sandboxes) lets QEMU start a guest that never runs, so both are required; GUPCONFORMANCE_ACCEL=kvm|tcg decides
    instead when set."""
    forced = os.environ.get("GUPCONFORMANCE_ACCEL", "")
    if forced in ("kvm", "tcg"):
        return forced == "kvm"
    try:
        fd = os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC)
    except OSError:
        return False
    os.close(fd)
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            flags = " ".join(l for l in f if l.startswith("flags")).split()
    except OSError:
        return False
    return "vmx" in flags or "svm" in flags


def request_type(line):
    """The "type" of an engine request line (None if it is not a JSON object)."""
    try:
        msg = json.loads(line)
    except ValueError:
        return None
    return msg.get("type") if isinstance(msg, dict) else None


class Host:
    def __init__(self, args):
        self.args = args
        self.label = args.label
        self.console = collections.deque(maxlen=CONSOLE_LINES_KEPT)
        self.console_all = [] if args.guest_log else None
        self.console_partial = b""
        self.proto_partial = b""
        self.pending = []          # engine lines not yet forwarded (before the guest is ready)
        self.outstanding = 0       # requests forwarded and not yet answered
        self.ready = False
        self.shutting_down = False
        self.qemu = None
        self.con_r = None

    # ---- QEMU -----------------------------------------------------------------------------------------

    def start(self):
        a = self.args
        append = ["console=ttyS0", "loglevel=5", "panic=-1", "oops=panic", "norandmaps",
                  "brd.rd_nr=2", "brd.rd_size=16384", "rdinit=/init"]
        if a.live:
            # The live layer maps THP and mTHP regions with MADV_HUGEPAGE, so THP must be on madvise; it expects no
            # WARN at all, so one ends the run (panic_on_warn) with the guest's report instead of passing unseen.
            append += ["gupc.mode=live", "transparent_hugepage=madvise", "panic_on_warn=1"]
        else:
            # The adapter builds the contract's large folios itself; a fault must map the small page the contract says.
            append.append("transparent_hugepage=never")
        if a.profiles:
            append.append("gupc.profiles=" + a.profiles)
        con_r, con_w = os.pipe()
        kvm = kvm_usable()
        accel = ["-accel", "kvm", "-cpu", "host"] if kvm else ["-accel", "tcg"]
        self.accel = "kvm" if kvm else "tcg, no KVM here"
        cmd = [*shlex.split(a.qemu), "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
               "-m", str(a.memory), "-smp", "1", *accel,
               "-kernel", a.image, "-initrd", a.initramfs, "-append", " ".join(append),
               "-chardev", "file,id=con,path=/dev/fd/%d" % con_w, "-serial", "chardev:con",
               "-chardev", "stdio,id=proto,signal=off", "-serial", "chardev:proto",
               "-monitor", "none"]
        self.qemu = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     pass_fds=(con_w,), preexec_fn=die_with_parent)
        os.close(con_w)
        self.con_r = con_r
        self.started = time.monotonic()
        log(self.label, "booting %s under QEMU (%s)" % (os.path.basename(a.image), self.accel))

    def kill(self):
        if self.qemu and self.qemu.poll() is None:
            try:
                self.qemu.kill()
                self.qemu.wait(5)
            except (OSError, subprocess.TimeoutExpired):
                pass

    # ---- the guest log ----------------------------------------------------------------------------------

    def console_data(self, data):
        text = self.console_partial + data
        lines = text.split(b"\n")
        self.console_partial = lines.pop()
        for raw in lines:
            line = raw.decode("utf-8", "replace").rstrip("\r")
            self.console.append(line)
            if self.console_all is not None:
                self.console_all.append(line)
            # An oops is a panic here (oops=panic); a WARN or a bad page reaches the engine through the server.
            if "Kernel panic" in line:
                self.fail(3, "guest kernel panic")

    def excerpt(self, limit=5):
        """The telling lines of the guest log: the first report line, then where it happened (the RIP line and the
        first callers); without a report, the last lines."""
        lines = [l.split("] ", 1)[1] if l.startswith("[") and "] " in l else l for l in self.console]
        for i, line in enumerate(lines):
            if any(m in line for m in PANIC_MARKS):
                context = [l for l in lines[i + 1:] if l.startswith("RIP:") or ("+0x" in l and not l.strip().startswith("?"))]
                return [line.strip(), " | ".join(x.strip() for x in context[:limit - 1])]
        tail = [x.strip() for x in lines[-limit:]]
        return [" | ".join(tail[-2:]) or "(the guest wrote nothing to its console)", " | ".join(tail[:-2])]

    def save_log(self):
        if self.console_all is None:
            return ""
        try:
            with open(self.args.guest_log, "w", encoding="utf-8") as f:
                f.write("\n".join(self.console_all) + "\n")
            return self.args.guest_log
        except OSError:
            return ""

    def fail(self, code, what):
        # Drain what the console still holds, so the excerpt shows the whole report.
        deadline = time.monotonic() + 1.0
        while self.con_r is not None and time.monotonic() < deadline:
            r, _, _ = select.select([self.con_r], [], [], 0.2)
            if not r:
                break
            data = os.read(self.con_r, 65536)
            if not data:
                break
            self.console_partial += data
            *lines, self.console_partial = self.console_partial.split(b"\n")
            for raw in lines:
                line = raw.decode("utf-8", "replace").rstrip("\r")
                self.console.append(line)
                if self.console_all is not None:
                    self.console_all.append(line)
        self.kill()
        where = self.save_log()
        # The engine quotes the last three stderr lines of a process that died, each cut to 120 characters: what
        # happened and the report's first line, then where, then the log.
        first, context = self.excerpt()
        log(self.label, "%s: %s" % (what, first))
        log(self.label, "  " + (context or "(no further context)"))
        log(self.label, "  full guest log: %s" % (where or "not kept (no --guest-log)"))
        sys.exit(code)

    # ---- the bridge -----------------------------------------------------------------------------------

    def to_guest(self, line):
        try:
            self.qemu.stdin.write(line + b"\n")
            self.qemu.stdin.flush()
        except (BrokenPipeError, OSError):
            self.fail(6, "QEMU stopped taking input")

    def from_guest(self, data):
        text = self.proto_partial + data
        lines = text.split(b"\n")
        self.proto_partial = lines.pop()
        for raw in lines:
            line = raw.rstrip(b"\r")
            if not line:
                continue
            if not self.ready:
                if line.startswith(b'{"type":"guest-ready"'):
                    self.ready = True
                    log(self.label, "booted in %.1f s; %s" % (time.monotonic() - self.started, line.decode("utf-8", "replace")))
                    for pending in self.pending:
                        self.to_guest(pending)
                    self.pending = []
                    continue
                # Anything before the ready line is the server complaining (no adapter, ...): pass it on.
            if self.outstanding > 0:
                self.outstanding -= 1
            sys.stdout.buffer.write(line + b"\n")
            sys.stdout.buffer.flush()

    def run(self):
        a = self.args
        self.start()
        stdin_fd = sys.stdin.fileno()
        out_fd = self.qemu.stdout.fileno()
        err_fd = self.qemu.stderr.fileno()
        engine_partial = b""
        last_guest = time.monotonic()
        fds = [stdin_fd, out_fd, self.con_r, err_fd]
        qemu_err = b""
        while True:
            timeout = 1.0
            r, _, _ = select.select(fds, [], [], timeout)
            now = time.monotonic()
            if self.con_r in r:
                data = os.read(self.con_r, 65536)
                if data:
                    self.console_data(data)
                else:
                    fds.remove(self.con_r)
            if err_fd in r:
                data = os.read(err_fd, 65536)
                if data:
                    qemu_err += data
                else:
                    fds.remove(err_fd)
            if out_fd in r:
                data = os.read(out_fd, 65536)
                if data:
                    last_guest = now
                    self.from_guest(data)
                else:
                    fds.remove(out_fd)
            if stdin_fd in r:
                data = os.read(stdin_fd, 65536)
                if not data:
                    fds.remove(stdin_fd)
                    self.finish()
                engine_partial += data
                *lines, engine_partial = engine_partial.split(b"\n")
                for line in lines:
                    if not line.strip():
                        continue
                    if request_type(line) == "shutdown":
                        self.shutting_down = True
                    else:
                        if self.outstanding == 0:
                            last_guest = now
                        self.outstanding += 1
                    if self.ready:
                        self.to_guest(line)
                    else:
                        self.pending.append(line)
                    if self.shutting_down:
                        self.finish()
            if self.qemu.poll() is not None:
                if self.shutting_down:
                    sys.exit(0)
                msg = qemu_err.decode("utf-8", "replace").strip().splitlines()
                self.fail(6, "QEMU exited with status %d%s" % (self.qemu.returncode, (" (" + msg[-1] + ")") if msg else ""))
            if not self.ready and now - self.started > a.boot_timeout:
                self.fail(5, "the guest did not boot within %d s" % a.boot_timeout)
            if self.ready and self.outstanding > 0 and now - last_guest > a.reply_timeout:
                self.fail(4, "the guest did not answer within %d s (hung)" % a.reply_timeout)

    def finish(self):
        """End of the engine's input or a shutdown request: let the guest power off, then make sure QEMU is gone."""
        self.shutting_down = True
        if self.ready and self.qemu.poll() is None:
            try:
                self.qemu.stdin.write(b'{"type":"shutdown"}\n')
                self.qemu.stdin.flush()
            except OSError:
                pass
        try:
            self.qemu.wait(5)
        except subprocess.TimeoutExpired:
            pass
        self.kill()
        sys.exit(0)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--image", required=True)
    p.add_argument("--initramfs", required=True)
    p.add_argument("--label", default="kernel")
    p.add_argument("--profiles", default="")
    p.add_argument("--memory", type=int, default=1024, help="guest memory in MiB")
    p.add_argument("--boot-timeout", type=int, default=300)
    p.add_argument("--reply-timeout", type=int, default=120)
    p.add_argument("--guest-log", default="")
    p.add_argument("--live", action="store_true", help="run the live layer's agent in the guest, not the guest server")
    p.add_argument("--qemu", default="qemu-system-x86_64", help="the QEMU command (split like a shell would; tests pass a stand-in)")
    args = p.parse_args()
    for f in (args.image, args.initramfs):
        if not os.path.isfile(f):
            sys.stderr.write("kernel-vm: %s does not exist; build it with Fixtures/Kernel/build-kernel.sh\n" % f)
            return 2
    host = Host(args)

    def on_signal(signum, _frame):
        host.kill()
        sys.exit(128 + signum)

    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, on_signal)
    try:
        host.run()
    finally:
        host.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
