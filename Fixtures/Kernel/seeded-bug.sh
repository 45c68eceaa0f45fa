#!/usr/bin/env bash
# Shows that the suite catches a kernel bug through the real-kernel adapter: Debian's 6.12 tree with
# seeded/zero-page-pinned-slow-path.patch applied -- try_grab_folio(), the GUP slow path's grab, pins the shared zero
# page like any page (its "Don't take a pin on the zero page" test removed; GUP-fast and unpinning keep theirs) --
# is built (an incremental build on top of the 6.12 one: the patched file and the link) and checked under linux-6.12.
# The run must fail, with a shrunk counterexample naming ZERO-NOT-PINNED.
#
#   bash Fixtures/Kernel/seeded-bug.sh [SEED]
#
# Exit status: 0 when the bug was caught as expected, 1 when it was not, 2 when something else went wrong.
main() {
    set -euo pipefail
    local here root seed report rc
    here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
    root="$(cd "$here/../.." && pwd)"
    seed="${1:-1}"
    cd "$root"

    report="$(mktemp --suffix=.md)"
    trap "rm -f '$report'" EXIT
    set +e
    # The runner as built (dotnet build), else built and run here.
    local run=(dotnet run --project Properties/GupConformance.Runner -c Release --)
    if [ -f Properties/GupConformance.Runner/bin/Release/net10.0/gupconformance.dll ]; then
        run=(dotnet Properties/GupConformance.Runner/bin/Release/net10.0/gupconformance.dll)
    fi
    "${run[@]}" \
        --impl "kernel:6.12+Fixtures/Kernel/seeded/zero-page-pinned-slow-path.patch" --profile linux-6.12.118 \
        --seed "$seed" --sequences 60 --no-corpus --max-counterexamples 1 --report-md "$report"
    rc=$?
    set -e
    # The first counterexample's headline names the rule broken first: it must be the zero-page rule.
    if [ "$rc" -eq 1 ] && grep -q '^### Counterexample 1: ZERO-NOT-PINNED' "$report"; then
        echo "seeded bug caught: the run failed with a shrunk counterexample naming ZERO-NOT-PINNED (above)"
        return 0
    fi
    echo "seeded bug NOT caught as expected (runner exit code $rc)" >&2
    [ "$rc" -eq 2 ] && return 2
    return 1
}
main "$@"; exit
