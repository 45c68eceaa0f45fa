#!/usr/bin/env bash
# Mutation testing of the reference implementation (Fixtures) and of the model (Oracles) with Stryker.NET 5.1.0
# (the local tool in dotnet-tools.json). Usage:
#
#   stryker/run.sh [fixtures|oracles|all]        (default: all)
#
# The tree is copied to a scratch directory first (so the repository's bin/obj and concurrent builds are not
# touched); the JSON and HTML reports are copied back to stryker/output/<project>/. Slow (tens of minutes on two
# cores): not part of CI. Results are summarised by hand in stryker/RESULTS.md.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WHICH="${1:-all}"
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
  local name="$1" dir="$2"
  (cd "$SCRATCH/$dir" && dotnet tool run dotnet-stryker \
      --config-file "$SCRATCH/stryker/stryker-$name.json" --skip-version-check \
      --test-project "$SCRATCH/stryker/GupConformance.MutationTests/GupConformance.MutationTests.csproj" \
      --output "$SCRATCH/stryker/StrykerOutput/$name")
  mkdir -p "$ROOT/stryker/output/$name"
  cp -r "$SCRATCH/stryker/StrykerOutput/$name/reports/." "$ROOT/stryker/output/$name/"
  echo "reports: $ROOT/stryker/output/$name/mutation-report.{json,html}"
}

case "$WHICH" in
  fixtures) run_one fixtures Fixtures ;;
  oracles) run_one oracles Oracles ;;
  all) run_one fixtures Fixtures; run_one oracles Oracles ;;
  *) echo "usage: $0 [fixtures|oracles|all]" >&2; exit 2 ;;
esac
