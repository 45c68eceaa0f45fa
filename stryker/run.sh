#!/usr/bin/env bash
# Mutation testing of the reference implementation (Fixtures) and of the model (Oracles) with Stryker.NET 5.1.0
# (the local tool in dotnet-tools.json). Usage:
#
#   stryker/run.sh [fixtures|oracles|oracles-core|oracles-rest|oracles-bugs|all]    (default: all)
#   stryker/run.sh fixtures|oracles --survivors-of REPORT  (re-test only the mutants REPORT left undetected)
#   stryker/run.sh fixtures|oracles --timeouts-of REPORT   (re-test only the mutants REPORT counted as timeouts)
#
# The tree is copied to a scratch directory first (so the repository's bin/obj and concurrent builds are not
# touched); the JSON and HTML reports are copied back to stryker/output/<project>/. Slow (tens of minutes on two
# cores): not part of CI. Results are summarised by hand in stryker/RESULTS.md.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WHICH="${1:-all}"
SURVIVORS_OF=""
RETEST=""
if [ "${2:-}" = "--survivors-of" ] || [ "${2:-}" = "--timeouts-of" ]; then
  case "$WHICH" in fixtures|oracles|oracles-core|oracles-rest|oracles-bugs) ;; *) echo "run.sh: $2 needs fixtures or oracles, not '$WHICH'" >&2; exit 2 ;; esac
  [ -n "${3:-}" ] || { echo "run.sh: $2 needs a mutation-report.json" >&2; exit 2; }
  [ -f "$3" ] || { echo "run.sh: no such report: $3" >&2; exit 2; }
  SURVIVORS_OF="$(cd "$(dirname "$3")" && pwd)/$(basename "$3")"
  if [ "$2" = "--timeouts-of" ]; then RETEST=timeouts; else RETEST=survivors; fi
elif [ -n "${2:-}" ]; then
  echo "usage: $0 [fixtures|oracles|oracles-core|oracles-rest|oracles-bugs|all] [--survivors-of REPORT | --timeouts-of REPORT]" >&2; exit 2
fi
SCRATCH="$(mktemp -d "${TMPDIR:-/tmp}/gupconformance-stryker.XXXXXX")"
trap 'rm -rf "$SCRATCH"' EXIT

cd "$ROOT"
# Tracked and untracked-but-not-ignored files: what a build of this working tree would see.
git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
  if [ -f "$f" ]; then mkdir -p "$SCRATCH/$(dirname "$f")" && cp "$f" "$SCRATCH/$f"; fi
done

cd "$SCRATCH"
dotnet tool restore
dotnet build stryker/GupConformance.MutationTests -c Release

run_one() {
  local name="$1" dir="$2" config="$SCRATCH/stryker/stryker-$1.json" out="$1"
  if [ -n "$SURVIVORS_OF" ]; then
    # Same settings, but mutate only the character spans of the mutants the earlier report left undetected (or, with
    # --timeouts-of, counted as timeouts: a run under load can time out where an idle one would not).
    out="$name-$RETEST"
    # Re-testing another configuration's report (oracles-bugs of oracles-rest): say whose, so runs do not overwrite.
    local of; of="$(basename "$(dirname "$SURVIVORS_OF")")"
    [ "$of" = "$name" ] || out="$out-of-$of"
    config="$SCRATCH/stryker/stryker-$out.json"
    python3 - "$SCRATCH/stryker/stryker-$name.json" "$config" "$SURVIVORS_OF" "$ROOT/stryker/summarise.py" "$SCRATCH/$dir" "$RETEST" <<'PY'
import json, subprocess, sys
base, target, report, summarise, source_dir, retest = sys.argv[1:]
extra = ["--timeouts"] if retest == "timeouts" else []
spans = json.loads(subprocess.check_output([sys.executable, summarise, report, "--spans", "--source-dir", source_dir] + extra))
if not spans:
    sys.exit(f"run.sh: the report has no mutant to re-test ({retest})")
cfg = json.load(open(base))
# The base config's exclusions ("!…") still apply, so a survivor of a since-excluded folder is not re-tested.
cfg["stryker-config"]["mutate"] = spans + [m for m in cfg["stryker-config"].get("mutate", []) if m.startswith("!")]
json.dump(cfg, open(target, "w"), indent=2)
print(f"re-testing {len(spans)} spans of mutants ({retest}) from {report}")
PY
  fi
  (cd "$SCRATCH/$dir" && dotnet tool run dotnet-stryker \
      --config-file "$config" --skip-version-check \
      --test-project "$SCRATCH/stryker/GupConformance.MutationTests/GupConformance.MutationTests.csproj" \
      --output "$SCRATCH/stryker/StrykerOutput/$out")
  mkdir -p "$ROOT/stryker/output/$out"
  cp -r "$SCRATCH/stryker/StrykerOutput/$out/reports/." "$ROOT/stryker/output/$out/"
  echo "reports: $ROOT/stryker/output/$out/mutation-report.{json,html}"
  python3 "$ROOT/stryker/summarise.py" "$ROOT/stryker/output/$out/mutation-report.json" | head -2
}

case "$WHICH" in
  fixtures) run_one fixtures Fixtures ;;
  oracles) run_one oracles Oracles ;;
  # The accounting core of the model (Folios.cs, Release.cs, Inspect.cs) without the per-bug runs: ~20 min, where
  # the whole model with every broken implementation per mutant takes hours on two cores.
  oracles-core) run_one oracles-core Oracles ;;
  # The rest of the model (everything but the core and Live/), also without the per-bug runs; its survivors are then
  # re-tested with them: stryker/run.sh oracles --survivors-of stryker/output/oracles-rest/mutation-report.json
  oracles-rest) run_one oracles-rest Oracles ;;
  # Only the per-bug runs, for the survivors of oracles-core / oracles-rest (which ran everything else):
  # stryker/run.sh oracles-bugs --survivors-of stryker/output/oracles-rest/mutation-report.json
  oracles-bugs) run_one oracles-bugs Oracles ;;
  all) run_one fixtures Fixtures; run_one oracles Oracles ;;
  *) echo "usage: $0 [fixtures|oracles|oracles-core|oracles-rest|oracles-bugs|all] [--survivors-of REPORT]" >&2; exit 2 ;;
esac
