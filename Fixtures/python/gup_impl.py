#!/usr/bin/env python3
"""A Python model of Linux GUP pin/ref accounting, plugged into GupConformance over the process protocol.

Written from Spec/CONTRACT.md and ../shared/reference/linux-gup-semantics.md, independently of the C#
reference implementation and of the model. It speaks protocol version 1 (Spec/PROTOCOL.md): JSON lines on
stdin/stdout, one request per line, one response per request. Standard library only.

Facets: Core (order-0 anon/file/io/pfnmap regions, every GUP entry point with its era's argument checks,
the release calls, folio_add_pin, folio inspection, the pin vmstat counters), plus LargeFolios and ZeroPage.

    python3 Fixtures/python/gup_impl.py            # the implementation (the engine starts it)
    GUP_PY_FACETS=core python3 ...                  # claim fewer facets
"""
import json
import os
import sys

PROTOCOL = 1
PAGE = 4096
BIAS = 1024
TASK_SIZE_MAX = 0x7FFFFFFFF000
EFAULT, ENOMEM, EINVAL, EOVERFLOW, EOPNOTSUPP = 14, 12, 22, 75, 95

FAST57 = {"FOLL_WRITE", "FOLL_LONGTERM", "FOLL_FORCE", "FOLL_PIN", "FOLL_GET"}
FAST515 = FAST57 | {"FOLL_FAST_ONLY", "FOLL_NOFAULT"}
FAST62 = FAST515 | {"FOLL_PCI_P2PDMA"}
FAST65 = FAST62 | {"FOLL_HONOR_NUMA_FAULT"}

LEGACY57_ENTRIES = {"get_user_pages", "get_user_pages_remote", "get_user_pages_unlocked", "get_user_pages_fast",
                    "pin_user_pages", "pin_user_pages_remote", "pin_user_pages_fast"}
FAST_ONLY_ERA = LEGACY57_ENTRIES | {"get_user_pages_fast_only", "pin_user_pages_unlocked", "pin_user_pages_fast_only"}
MODERN = FAST_ONLY_ERA - {"pin_user_pages_fast_only"}


def era(**kw):
    base = dict(pins="bias", exact="none", validation="legacy57", zero_pinned=True, lt_unshares_zero=False,
                vmstat=True, mdp=True, add_pin=False, fast_overflow=0, refuse_lt_file_write=False,
                fast_accepted=FAST57, entries=LEGACY57_ENTRIES, madv_populate=False, range_unpin=False)
    base.update(kw)
    return base


PROFILES = {
    "linux-5.6": era(pins="plus_one", vmstat=False, mdp=False),
    "linux-5.7": era(exact="above_order1"),
    "linux-5.19": era(exact="all_large", validation="legacy511", fast_accepted=FAST515, entries=FAST_ONLY_ERA,
                      range_unpin=True),
    "linux-6.2": era(exact="all_large", validation="legacy62", lt_unshares_zero=True, fast_accepted=FAST62,
                     entries=FAST_ONLY_ERA, range_unpin=True),
}
PROFILES["linux-6.5"] = dict(PROFILES["linux-6.2"], validation="valid63", zero_pinned=False, add_pin=True,
                             fast_overflow=-EOVERFLOW, refuse_lt_file_write=True, fast_accepted=FAST65,
                             entries=MODERN)
PROFILES["linux-6.8"] = dict(PROFILES["linux-6.5"], validation="valid68")
PROFILES["linux-6.15"] = dict(PROFILES["linux-6.8"], exact="has_pincount", madv_populate=True)
PROFILES["linux-6.15-32bit"] = dict(PROFILES["linux-6.15"], exact="has_pincount_32")
PROFILES["linux-6.18"] = dict(PROFILES["linux-6.15"])

ALL_FACETS = ["core", "large_folios", "zero_page"]
FACETS = [f for f in os.environ.get("GUP_PY_FACETS", ",".join(ALL_FACETS)).split(",") if f]

TO_SET = {
    "get_user_pages": {"FOLL_TOUCH"},
    "get_user_pages_remote": {"FOLL_TOUCH", "FOLL_REMOTE"},
    "get_user_pages_unlocked": {"FOLL_TOUCH", "FOLL_UNLOCKABLE"},
    "get_user_pages_fast": {"FOLL_GET"},
    "get_user_pages_fast_only": {"FOLL_GET", "FOLL_FAST_ONLY"},
    "pin_user_pages_fast": {"FOLL_PIN"},
    "pin_user_pages": {"FOLL_PIN"},
    "pin_user_pages_remote": {"FOLL_PIN", "FOLL_TOUCH", "FOLL_REMOTE"},
    "pin_user_pages_unlocked": {"FOLL_PIN", "FOLL_TOUCH", "FOLL_UNLOCKABLE"},
}
RETURNS_ZERO_ON_BAD_ARGS = {"pin_user_pages", "pin_user_pages_remote", "pin_user_pages_unlocked"}


def s32(v):
    """The kernel's atomic_t: signed 32-bit, wrapping."""
    v &= 0xFFFFFFFF
    return v - (1 << 32) if v & 0x80000000 else v


class CommandError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


class Folio:
    __slots__ = ("key", "order", "ref", "pin", "dirty", "region", "index")

    def __init__(self, key, order, ref, region=None, index=0):
        self.key, self.order, self.ref, self.pin, self.dirty = key, order, ref, 0, False
        self.region, self.index = region, index


class Region:
    def __init__(self, rid, kind, start, folios, order):
        self.id, self.kind, self.start, self.order = rid, kind, start, order
        self.pages = folios << order
        self.end = start + self.pages * PAGE
        self.folios = []  # anon/file/io/pfnmap: Folio per index; zero: None until faulted
        self.write_mapped = set()  # file: pages a write fault made writable (clean pages are mapped read-only)


class Mm:
    """One run: an address space, its folios, the pages arrays and the vmstat counters."""

    def __init__(self, profile_id):
        self.p = PROFILES[profile_id]
        self.regions = []
        self.folios = {}
        self.zero = None
        self.calls = {}
        self.acquired = 0
        self.released = 0

    # ---- folio properties ---------------------------------------------------------------------------
    def has_exact(self, f):
        e = self.p["exact"]
        if f.order == 0 or e == "none":
            return False
        if e == "above_order1" or e == "has_pincount_32":
            return f.order > 1
        return True  # all_large, has_pincount

    def maybe_dma_pinned(self, f):
        return f.pin > 0 if self.has_exact(f) else (f.ref & 0xFFFFFFFF) >= BIAS

    # ---- commands -----------------------------------------------------------------------------------
    def map(self, c):
        r = Region(c["region"], c["kind"], c["start"], c["folios"], c.get("order", 0))
        rc = c.get("start_refcount", 1) if r.kind == "anon" else 1
        for i in range(c["folios"]):
            if r.kind == "zero":
                r.folios.append(None)
            else:
                key = "r%d.f%d" % (r.id, i)
                f = Folio(key, r.order if r.kind == "anon" else 0, s32(rc), r, i)
                self.folios[key] = f
                r.folios.append(f)
        if r.kind == "zero" and self.zero is None:
            self.zero = Folio("zero", 0, 1)
            self.folios["zero"] = self.zero
        self.regions.append(r)
        return {"result": 0}

    def region_at(self, addr):
        for r in self.regions:
            if r.start <= addr < r.end:
                return r
        return None

    def validate(self, entry, flags, with_pages):
        """Argument checks; returns (error or None, the flags after the entry point added its own)."""
        v = self.p["validation"]
        pin = entry.startswith("pin_")
        if v in ("legacy57", "legacy511", "legacy62"):
            if entry in ("get_user_pages", "get_user_pages_remote", "get_user_pages_fast"):
                if "FOLL_PIN" in flags:
                    return -EINVAL, flags
                if v != "legacy57" and "FOLL_LONGTERM" in flags:
                    return -EINVAL, flags
            if pin and "FOLL_GET" in flags:
                return -EINVAL, flags
            # 6.2: every pin_*() refuses a NULL pages array (API-PAGES-REQUIRED).
            if v == "legacy62" and pin and not with_pages:
                return -EINVAL, flags
            # API-UNLOCKED-LONGTERM up to 6.1; 6.2's __gup_longterm_locked() refuses FOLL_LONGTERM only without FOLL_PIN.
            if entry in ("get_user_pages_unlocked", "pin_user_pages_unlocked") and "FOLL_LONGTERM" in flags:
                if v != "legacy62" or (not pin and "FOLL_PIN" not in flags):
                    return -EINVAL, flags
            flags = set(flags)
            if entry in ("get_user_pages_fast", "get_user_pages_fast_only"):
                flags.add("FOLL_GET")
            if pin:
                flags.add("FOLL_PIN")
            if entry.endswith("_fast_only"):
                flags.add("FOLL_FAST_ONLY")
            return None, flags
        # is_valid_gup_args(), v6.3+
        bad = 0 if entry in RETURNS_ZERO_ON_BAD_ARGS else -EINVAL
        internal = {"FOLL_PIN", "FOLL_TRIED", "FOLL_UNLOCKABLE", "FOLL_REMOTE", "FOLL_FAST_ONLY"}
        if v == "valid68":
            internal.add("FOLL_TOUCH")
            if self.p["madv_populate"]:
                internal.add("FOLL_MADV_POPULATE")
        if flags & internal:
            return bad, flags
        flags = set(flags) | TO_SET[entry]
        if "FOLL_PIN" in flags and "FOLL_GET" in flags:
            return bad, flags
        if "FOLL_LONGTERM" in flags and "FOLL_PIN" not in flags:
            return bad, flags
        if ("FOLL_GET" in flags or "FOLL_PIN" in flags) and not with_pages:
            return bad, flags
        if "FOLL_LONGTERM" in flags and "FOLL_PCI_P2PDMA" in flags:
            return bad, flags
        return None, flags

    def gup(self, c):
        entry, start, nr, with_pages = c["entry"], c["start"], c["nr_pages"], c["with_pages"]
        if entry not in self.p["entries"]:
            raise CommandError("bad_command", "%s does not exist in this era" % entry)
        result, entries = self._gup(entry, start, nr, set(c["flags"]), with_pages)
        fast_only = entry.endswith("_fast_only")
        legacy = self.p["validation"].startswith("legacy")
        if fast_only and legacy and result < 0:
            result = 0
        self.calls[c["call"]] = [e for e in entries] if with_pages else []
        obs = {"result": result}
        if with_pages:
            obs["pages"] = [{"folio": f.key, "first": page, "count": 1} for (f, page, _) in entries]
        return obs

    def _gup(self, entry, start, nr, flags, with_pages):
        err, flags = self.validate(entry, flags, with_pages)
        if err is not None:
            return err, []
        if entry in ("get_user_pages_fast", "get_user_pages_fast_only", "pin_user_pages_fast", "pin_user_pages_fast_only"):
            if flags - self.p["fast_accepted"]:
                return -EINVAL, []
            end = start + ((nr << 12) & 0xFFFFFFFFFFFFFFFF)
            if end >= 1 << 64:
                return self.p["fast_overflow"], []
            if end > TASK_SIZE_MAX:
                return -EFAULT, []
        pin = "FOLL_PIN" in flags
        get = not pin and ("FOLL_GET" in flags or (with_pages and not entry.startswith("pin_")))
        fast_only = "FOLL_FAST_ONLY" in flags
        write, longterm = "FOLL_WRITE" in flags, "FOLL_LONGTERM" in flags
        # 6.2 check_vma_flags(): a long-term pin asking for P2PDMA pages is refused at every VMA (API-LONGTERM-P2PDMA).
        p2p_refused = self.p["validation"] == "legacy62" and longterm and "FOLL_PCI_P2PDMA" in flags
        held = []
        for i in range(nr):
            addr = start + i * PAGE
            err = self._walk_one(addr, pin, get, write, longterm, held, p2p_refused)
            if err is not None:
                if held or fast_only:
                    return len(held), held
                return err, []
        return len(held), held

    def _walk_one(self, addr, pin, get, write, longterm, held, p2p_refused):
        # The VMA of this very address: a range runs on into the next mapping (GUP-WALK-NEXT-VMA).
        r = self.region_at(addr)
        if r is None or r.kind in ("io", "pfnmap"):
            return -EFAULT
        if p2p_refused:
            return -EOPNOTSUPP
        if r.kind == "file" and pin and longterm and write and self.p["refuse_lt_file_write"]:
            return -EFAULT
        page = (addr - r.start) // PAGE
        fi, sub = page >> r.order, page & ((1 << r.order) - 1)
        if r.kind == "zero":
            f = r.folios[page]
            if f is None:
                if write or (pin and longterm and self.p["lt_unshares_zero"]):
                    f = Folio("r%d.f%d" % (r.id, page), 0, 1, r, page)
                    self.folios[f.key] = f
                    r.folios[page] = f
                else:
                    f = self.zero
            sub = 0
        else:
            f = r.folios[fi]
            if r.kind == "file" and write and page not in r.write_mapped:
                # FILE-WRITE-FAULT-DIRTY: the write fault on the read-only PTE of a clean shared file page dirties it.
                r.write_mapped.add(page)
                f.dirty = True
        if not pin and not get:
            held.append((f, sub, "none"))
            return None
        if f.ref <= 0:
            return -ENOMEM  # the sign check comes first, even for the zero page that is not pinned
        if pin and f is self.zero and not self.p["zero_pinned"]:
            held.append((f, sub, "pin"))
            return None
        if get:
            f.ref = s32(f.ref + 1)
            held.append((f, sub, "ref"))
            return None
        if self.p["pins"] == "plus_one":
            f.ref = s32(f.ref + 1)
        elif self.has_exact(f):
            f.ref = s32(f.ref + 1)
            f.pin += 1
        else:
            f.ref = s32(f.ref + BIAS)
        if self.p["vmstat"]:
            self.acquired += 1
        held.append((f, sub, "pin"))
        return None

    def unpin(self, f):
        if f is self.zero and not self.p["zero_pinned"]:
            return
        if self.p["vmstat"]:
            self.released += 1
        if self.p["pins"] == "plus_one":
            f.ref = s32(f.ref - 1)
        elif self.has_exact(f):
            f.pin -= 1
            f.ref = s32(f.ref - 1)
        else:
            f.ref = s32(f.ref - BIAS)

    def release(self, c):
        arr = self.calls.get(c["call"])
        if arr is None:
            raise CommandError("bad_command", "no pages array %d" % c["call"])
        part = arr[c["index"]:c["index"] + c["count"]]
        if len(part) != c["count"]:
            raise CommandError("bad_command", "entries out of range")
        fn, dirty = c["fn"], c.get("make_dirty", False)
        for (f, _, _) in part:
            if fn == "put_page":
                f.ref = s32(f.ref - 1)
                continue
            if fn in ("unpin_user_pages_dirty_lock", "unpin_user_page_range_dirty_lock") and dirty and f is not self.zero:
                f.dirty = True
            self.unpin(f)
        return {"result": 0}

    def folio_add_pin(self, c):
        f, sub, kind = self.calls[c["from_call"]][c["index"]]
        if not (f is self.zero and not self.p["zero_pinned"]):
            if self.has_exact(f):
                f.ref = s32(f.ref + 1)
                f.pin += 1
            else:
                f.ref = s32(f.ref + BIAS)
        self.calls[c["new_call"]] = [(f, sub, "pin")]
        return {"result": 0, "pages": [{"folio": f.key, "first": sub, "count": 1}]}

    def inspect_folio(self, c):
        f = self.folios.get(c["folio"])
        if f is None:
            raise CommandError("bad_command", "no folio %r" % c["folio"])
        obs = {"refcount": f.ref}
        if self.p["pins"] != "plus_one" and self.has_exact(f):
            obs["pincount"] = f.pin
        if self.p["mdp"]:
            obs["maybe_dma_pinned"] = self.maybe_dma_pinned(f)
        if f is not self.zero:
            obs["dirty"] = f.dirty
        return obs

    def read_vmstat(self, c):
        return {"acquired": self.acquired, "released": self.released} if self.p["vmstat"] else {}

    OPS = {"map": map, "gup": gup, "release": release, "folio_add_pin": folio_add_pin,
           "inspect_folio": inspect_folio, "read_vmstat": read_vmstat}

    def execute(self, c):
        op = c.get("op")
        fn = Mm.OPS.get(op)
        if fn is None:
            raise CommandError("unknown_command", "this implementation does not know op %r" % op)
        try:
            return fn(self, c)
        except CommandError:
            raise
        except (KeyError, TypeError, ValueError, IndexError) as e:
            raise CommandError("bad_command", "%s: %s" % (type(e).__name__, e))


def manifests():
    return [{"profile": p, "facets": FACETS, "expected_divergences": []} for p in PROFILES]


def main():
    out = sys.stdout
    mm = None

    def send(msg):
        out.write(json.dumps(msg, separators=(",", ":")))
        out.write("\n")
        out.flush()

    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            msg = json.loads(line)
        except ValueError as e:
            send({"type": "error", "code": "malformed_request", "message": str(e)})
            continue
        t = msg.get("type")
        if t == "hello":
            if PROTOCOL not in msg.get("accepts", [msg.get("protocol")]):
                send({"type": "error", "code": "version_mismatch", "protocol": PROTOCOL,
                      "message": "this implementation speaks protocol %d" % PROTOCOL})
                return 2
            send({"type": "hello", "protocol": PROTOCOL, "implementation": "python-gup",
                  "manifests": manifests()})
        elif t == "begin":
            if msg.get("profile") not in PROFILES:
                send({"type": "error", "code": "unknown_profile", "message": "profile %r not claimed" % msg.get("profile")})
                continue
            mm = Mm(msg["profile"])
            send({"type": "ready", "run": msg.get("run")})
        elif t == "batch":
            obs = []
            for c in msg.get("commands", []):
                try:
                    obs.append(mm.execute(c))
                except CommandError as e:
                    obs.append({"error": {"code": e.code, "message": str(e)}})
            send({"type": "observations", "seq": msg.get("seq"), "observations": obs})
        elif t == "end":
            mm = None
            send({"type": "ended", "run": msg.get("run")})
        elif t == "shutdown":
            return 0
        else:
            send({"type": "error", "code": "unknown_request", "message": "unknown request type %r" % t})
    return 0


if __name__ == "__main__":
    sys.exit(main())
