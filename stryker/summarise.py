#!/usr/bin/env python3
"""Summarise a Stryker.NET mutation-report.json (the mutation-testing-elements schema) for stryker/RESULTS.md.

    python3 stryker/summarise.py REPORT [REPORT ...] [--then RERUN ...] [--exclude GLOB ...] [--survivors] [--spans [--source-dir DIR] [--timeouts]]

Prints the totals by status, the mutation score the way Stryker computes it
(detected / (detected + undetected), where detected = Killed + Timeout and undetected = Survived + NoCoverage;
Ignored and CompileError mutants do not count), the same per file, and with --survivors every undetected mutant
as `file:line:column  mutator  original -> replacement`, sorted, so two runs can be diffed. With --spans it prints
only a JSON list of Stryker "mutate" patterns, `path{start..end}` with character offsets, one per undetected mutant:
give it to a re-run (stryker/run.sh fixtures --survivors-of REPORT) to test just those mutants against new tests.
--timeouts gives the spans of the Timeout mutants instead: Stryker counts a timeout as detected, but under load a
slow run can time out too, so re-test them on an idle machine (stryker/run.sh fixtures --timeouts-of REPORT).
--source-dir DIR maps each span onto the current source in DIR (the project folder) when it changed since the run.

Several REPORTs are added together (runs over disjoint parts of one project, e.g. oracles-core and oracles-rest;
a mutant one run ignored takes the status the other gave it).
--then RERUN (repeatable, applied in order) takes a later re-run of some of those mutants (stryker/run.sh
--survivors-of, --timeouts-of) and replaces the status of every mutant it re-tested, except that a kill stays a
kill (seeds are fixed, and a re-run may run only some tests) and a survivor does not become a timeout (only a kill
counts against a mutant some run saw survive), so the figures are the ones after the new tests. --exclude GLOB (repeatable) leaves out the files it matches (a folder excluded from scope after the run). A mutant is matched by file, the text of its line (the nearest such line, so edits elsewhere in the file do
not matter), column, mutator and replacement; a re-run mutant that matches nothing is reported on stderr.
"""
import argparse
import signal
import fnmatch
import json
import os
import sys
from collections import Counter

DETECTED = {"Killed", "Timeout"}
UNDETECTED = {"Survived", "NoCoverage"}
COUNTED = DETECTED | UNDETECTED


def score(counts):
    detected = sum(counts[s] for s in DETECTED)
    undetected = sum(counts[s] for s in UNDETECTED)
    total = detected + undetected
    return (100.0 * detected / total if total else float("nan")), detected, undetected


def original_text(source_lines, loc):
    start, end = loc["start"], loc["end"]
    if start["line"] == end["line"]:
        return source_lines[start["line"] - 1][start["column"] - 1:end["column"] - 1]
    first = source_lines[start["line"] - 1][start["column"] - 1:]
    return first.strip() + " …"


def offset(lines, pos):
    """0-based character offset of a 1-based line/column position (lines split on \\n, so CRLF counts its \\r)."""
    return sum(len(l) + 1 for l in lines[:pos["line"] - 1]) + pos["column"] - 1


def remap(old_lines, loc, source_dir, rel):
    """The span of a mutant in the current source: the report's line is looked up (nearest identical line) in
    source_dir/rel, since edits after the run move character offsets. None if the line is gone or spans lines."""
    start, end = loc["start"], loc["end"]
    try:
        with open(os.path.join(source_dir, rel), encoding="utf-8") as f:
            new_lines = f.read().split("\n")
    except OSError:
        return None
    old = old_lines[start["line"] - 1]
    hits = [i for i, l in enumerate(new_lines) if l == old]
    if not hits:
        return None
    line = min(hits, key=lambda i: abs(i - (start["line"] - 1)))
    delta = offset(new_lines, {"line": line + 1, "column": 1}) - offset(old_lines, {"line": start["line"], "column": 1})
    return offset(old_lines, start) + delta, offset(old_lines, end) + delta


def load(path):
    """{relative file: (source lines, [mutant])} of one report."""
    with open(path, encoding="utf-8") as f:
        report = json.load(f)
    root = report.get("projectRoot", "")
    out = {}
    for p, entry in report.get("files", {}).items():
        rel = p[len(root):].lstrip("/") if root and p.startswith(root) else p
        lines = entry.get("source", "").split("\n")
        # Each mutant keeps the source it was made from: files of runs at different commits are merged.
        out[rel] = (lines, [dict(m, _src=lines) for m in entry.get("mutants", [])])
    return out


def key(m):
    loc = m["location"]["start"]
    return (m["_src"][loc["line"] - 1], loc["column"], m["mutatorName"], str(m.get("replacement", "")))


def counts_any(entry):
    return any(m["status"] in COUNTED for m in entry[1])


def add_disjoint(into, other):
    """Adds to a file's mutants those another run over a disjoint mutate set tested (each run lists every mutant of
    the file, the ones outside its set as Ignored). False if both runs counted the same mutant."""
    _, mutants = into
    _, other_mutants = other
    index = index_by_key(mutants)
    for n in other_mutants:
        if n["status"] not in COUNTED:
            continue
        if nearest(index, n) is None:
            mutants.append(n)  # a line the other run's source does not have (the file changed between the runs)
            continue
        m = nearest(index, n, lambda c: c["status"] not in COUNTED)
        if m is None:
            return False
        m["status"] = n["status"]
    return True


def index_by_key(mutants):
    by_key = {}
    for m in mutants:
        by_key.setdefault(key(m), []).append(m)
    return by_key


def nearest(index, n, eligible=lambda m: True):
    """The mutant of index that is n (same line text, column, mutator, replacement), nearest n's line; or None."""
    candidates = [m for m in index.get(key(n), []) if eligible(m)]
    line = n["location"]["start"]["line"]
    return min(candidates, key=lambda m: abs(m["location"]["start"]["line"] - line)) if candidates else None


def apply_rerun(files, rerun, name, exclude=()):
    """Replace the status of every mutant of files that rerun tested again (see the module docstring)."""
    for rel, (_, new_mutants) in rerun.items():
        if rel not in files:
            if not any(fnmatch.fnmatch(rel, g) for g in exclude) and any(m["status"] not in ("Ignored", "CompileError") for m in new_mutants):
                print(f"summarise.py: {name}: {rel} is in no base report; ignored", file=sys.stderr)
            continue
        _, mutants = files[rel]
        index = index_by_key(mutants)
        for n in new_mutants:
            if n["status"] not in COUNTED:
                continue
            best = nearest(index, n)
            if best is None:
                loc = n["location"]["start"]
                print(f"summarise.py: {name}: {rel}:{loc['line']}:{loc['column']} {n['mutatorName']} matches no mutant of the base report; ignored", file=sys.stderr)
                continue
            # A kill is final (fixed seeds: the same tests kill it again), and a re-run may run fewer tests (only the
            # per-bug runs). A timeout is not: a run under load times out where an idle one may not, so a re-run
            # replaces it, and a mutant any run saw survive stays a survivor unless a later run kills it.
            if best["status"] == "Killed" or (best["status"] in UNDETECTED and n["status"] == "Timeout"):
                continue
            best["status"] = n["status"]


def main(argv):
    parser = argparse.ArgumentParser(prog="summarise.py", description=__doc__.strip().split("\n\n")[0])
    parser.add_argument("reports", nargs="+", metavar="REPORT")
    parser.add_argument("--then", action="append", default=[], metavar="RERUN")
    parser.add_argument("--survivors", action="store_true")
    parser.add_argument("--spans", action="store_true")
    parser.add_argument("--source-dir", metavar="DIR")
    parser.add_argument("--timeouts", action="store_true")
    parser.add_argument("--exclude", action="append", default=[], metavar="GLOB")
    args = parser.parse_args(argv[1:])
    files = {}
    try:
        for path in args.reports:
            for rel, value in load(path).items():
                if any(fnmatch.fnmatch(rel, g) for g in args.exclude):
                    continue
                if rel not in files or not counts_any(files[rel]):
                    files[rel] = value  # (a run whose mutate set left the file out lists all its mutants as Ignored)
                elif counts_any(value) and not add_disjoint(files[rel], value):
                    print(f"summarise.py: {rel}: a mutant is counted in more than one REPORT; use --then for a re-run", file=sys.stderr)
                    return 2
        for path in args.then:
            apply_rerun(files, load(path), path, args.exclude)
    except (OSError, ValueError) as e:
        print(f"summarise.py: cannot read a report: {e}", file=sys.stderr)
        return 2

    show_survivors, show_spans, source_dir = args.survivors, args.spans, args.source_dir
    span_statuses = {"Timeout"} if args.timeouts else UNDETECTED
    spans = []
    total = Counter()
    per_file = []
    survivors = []
    for rel in sorted(files):
        _, mutants = files[rel]
        counts = Counter(m["status"] for m in mutants)
        total.update(counts)
        per_file.append((rel, counts))
        for m in mutants:
            loc = m["location"]
            if m["status"] in UNDETECTED:
                text = " ".join(original_text(m["_src"], loc).split())
                repl = " ".join(str(m.get("replacement", "")).split())
                survivors.append((rel, loc["start"]["line"], loc["start"]["column"], m["status"], m["mutatorName"], text, repl))
            if m["status"] in span_statuses:
                src = m["_src"]
                span = remap(src, loc, source_dir, rel) if source_dir else (offset(src, loc["start"]), offset(src, loc["end"]))
                if span is None:
                    print(f"summarise.py: {rel}:{loc['start']['line']}: the mutated line is no longer in the source; not re-tested", file=sys.stderr)
                else:
                    spans.append(f"**/{rel}{{{span[0]}..{span[1]}}}")

    if show_spans:
        print(json.dumps(sorted(set(spans)), indent=2))
        return 0

    pct, det, undet = score(total)
    print("status: " + ", ".join(f"{k} {v}" for k, v in sorted(total.items())))
    print(f"score: {pct:.2f}% ({det} detected / {det + undet} counted)")
    print()
    print("| File | Killed | Timeout | Survived | No coverage | Score |")
    print("|---|---|---|---|---|---|")
    for rel, c in per_file:
        p, d, u = score(c)
        if d + u == 0:
            continue
        print(f"| {rel} | {c['Killed']} | {c['Timeout']} | {c['Survived']} | {c['NoCoverage']} | {p:.1f}% |")
    if show_survivors:
        print()
        for rel, line, col, status, mutator, text, repl in sorted(survivors):
            print(f"{rel}:{line}:{col}  {status}  {mutator}  {text} -> {repl}")
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `| head` ends the output quietly
    sys.exit(main(sys.argv))
