#!/usr/bin/env bash
# Proves the packed packages work from outside the solution: packs GupConformance.{Spec,Oracles,Engine,Fixtures,
# Specification.Tests} into the local folder feed artifacts/packages, then restores (into a fresh, temporary global
# packages folder, so a stale GupConformance.* package can never leak in) and tests samples/MyPort.Conformance
# against that feed. Exits non-zero when packing, restoring or any sample test fails.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

FEED="$ROOT/artifacts/packages"
SAMPLE="$ROOT/samples/MyPort.Conformance/MyPort.Conformance.csproj"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

rm -rf "$FEED"
mkdir -p "$FEED"

for project in \
    Spec/GupConformance.Spec.csproj \
    Oracles/GupConformance.Oracles.csproj \
    Fixtures/GupConformance.Fixtures.csproj \
    Properties/GupConformance.Engine/GupConformance.Engine.csproj \
    Properties/GupConformance.Specification.Tests/GupConformance.Specification.Tests.csproj; do
    dotnet pack "$project" -c Release -o "$FEED" --artifacts-path "$WORK/pack" -nologo -v quiet
done
echo "packed into $FEED:"
ls -1 "$FEED"

# A fresh global packages folder and build output: the sample sees only what was just packed.
dotnet restore "$SAMPLE" --packages "$WORK/packages" --artifacts-path "$WORK/sample" --force -nologo -v quiet
dotnet test "$SAMPLE" -c Release --no-restore --artifacts-path "$WORK/sample" -nologo \
    --logger "console;verbosity=normal"
