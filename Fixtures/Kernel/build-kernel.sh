#!/usr/bin/env bash
# Builds a kernel under test, once, and the initramfs its guest server runs from; prints where they are.
#
#   build-kernel.sh [--check] TREE
#
# TREE is 6.12 or 6.1 (the Debian package linux-source-TREE, installed when missing), 6.12+FILE.patch or
# 6.1+FILE.patch (that tree with a patch applied for the build and reverted after it: an incremental build of the
# few files it touches), or the path of a kernel source tree (left untouched: it is built through a tree of symbolic
# links in the cache). The adapter
# (adapter/gupc_adapter.c) is added to drivers/misc of the build tree, the configuration is `make tinyconfig`
# plus kernel.config, and the image is cached per (tree content, configuration, adapter, compiler, this script):
# a second call with the same inputs returns at once.
#
# Cache: ${GUPCONFORMANCE_CACHE:-${XDG_CACHE_HOME:-~/.cache}/gupconformance}/kernels
#   src/      extracted Debian trees and symlink trees of your own trees
#   build/    kbuild output directories (O=), reused across adapter and configuration changes
#   images/   bzImage per key, with build-seconds and the configuration used
#   initramfs/ the guest's initramfs per key
#
# Progress goes to stderr; the last line on stdout is one JSON object:
#   {"image": ..., "initramfs": ..., "label": ..., "release": ..., "build_seconds": N, "cached": true|false, ...}
# --check builds and installs nothing: it prints the JSON line if the image and initramfs are cached, else exits 3.
# Exit status: 0 built or cached, 1 the build failed, 2 bad arguments or a missing prerequisite, 3 not cached (--check).
# All in main(): bash reads the whole script before running any of it, so editing this file during a
# build cannot derail that build.
main() {
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SELF="$HERE/build-kernel.sh"
CACHE="${GUPCONFORMANCE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gupconformance}/kernels"

say() { printf '[kernel %s] %s\n' "${LABEL:-?}" "$*" >&2; }

# Whatever ends the script: stop a build still running, take an applied patch out of the shared tree, drop the
# initramfs staging directory.
MAKE_PID="" STAGE="" PATCH_APPLIED=false
revert_patch() {
    if $PATCH_APPLIED; then
        patch -p1 -R -s -d "$SRC" < "$SRC/.gupc-applied.patch" && rm -f "$SRC/.gupc-applied.patch"
        PATCH_APPLIED=false
    fi
}
cleanup() {
    if [ -n "$MAKE_PID" ]; then kill "$MAKE_PID" 2>/dev/null; fi
    revert_patch
    if [ -n "$STAGE" ]; then rm -rf "$STAGE"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
die() { printf 'error: %s\n' "$*" >&2; exit "${2:-2}"; }

CHECK=false
if [ "${1:-}" = "--check" ]; then CHECK=true; shift; fi
[ $# -eq 1 ] || die "usage: build-kernel.sh [--check] 6.12|6.1|6.12+FILE.patch|PATH-TO-A-KERNEL-TREE"
TREE_ARG="$1"
PATCH=""
case "$TREE_ARG" in
    6.1+*|6.12+*)
        PATCH="${TREE_ARG#*+}"
        TREE_ARG="${TREE_ARG%%+*}"
        [ -f "$PATCH" ] || die "patch '$PATCH' not found; use 6.12+PATH-TO-A-PATCH (a unified diff against the tree, applied with patch -p1)"
        PATCH="$(cd "$(dirname "$PATCH")" && pwd -P)/$(basename "$PATCH")"
        ;;
esac
case "$TREE_ARG" in
    6.1|6.12) ;;
    *)
        [ -d "$TREE_ARG" ] || die "kernel tree '$TREE_ARG' is not a directory; use 6.12, 6.1 or the path of a kernel source tree"
        [ -f "$TREE_ARG/Makefile" ] && [ -f "$TREE_ARG/mm/gup.c" ] && grep -q '^VERSION = ' "$TREE_ARG/Makefile" \
            || die "'$TREE_ARG' does not look like a Linux source tree (no Makefile with VERSION, no mm/gup.c)"
        ;;
esac
not_cached() { printf 'not built: %s\n' "$*" >&2; exit 3; }

# ---- prerequisites (apt-get, only what is missing) ------------------------------------------------------

need_pkgs=()
need() { # need PACKAGE TEST...: queue PACKAGE for installation when the test fails
    local pkg="$1"; shift
    if ! "$@" >/dev/null 2>&1; then need_pkgs+=("$pkg"); fi
}
need build-essential command -v gcc
need build-essential command -v make
need bc command -v bc
need bison command -v bison
need flex command -v flex
need libelf-dev test -e /usr/include/libelf.h
need libssl-dev test -e /usr/include/openssl/ssl.h
need cpio command -v cpio
need xz-utils command -v xz
need busybox-static sh -c 'file -L "$(command -v busybox)" 2>/dev/null | grep -q "statically linked" || dpkg -s busybox-static'
need file command -v file
need qemu-system-x86 command -v qemu-system-x86_64
need python3 command -v python3
need patch command -v patch
case "$TREE_ARG" in
    6.1|6.12) need "linux-source-$TREE_ARG" test -e "/usr/src/linux-source-$TREE_ARG.tar.xz" ;;
esac
if [ ${#need_pkgs[@]} -gt 0 ] && $CHECK; then
    not_cached "missing packages ${need_pkgs[*]}"
fi
if [ ${#need_pkgs[@]} -gt 0 ]; then
    mapfile -t need_pkgs < <(printf '%s\n' "${need_pkgs[@]}" | sort -u)
    command -v apt-get >/dev/null || die "missing ${need_pkgs[*]} and no apt-get to install them; install them by hand"
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || die "missing ${need_pkgs[*]}; run as root or install sudo (apt-get needs root)"
        SUDO="sudo"
    fi
    printf '[kernel] installing with apt-get: %s\n' "${need_pkgs[*]}" >&2
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 \
        || die "apt-get update failed"
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >&2 \
        || die "apt-get install ${need_pkgs[*]} failed"
fi
BUSYBOX="$(command -v busybox)"

mkdir -p "$CACHE/src" "$CACHE/build" "$CACHE/images" "$CACHE/initramfs" "$CACHE/locks"

# ---- the source tree ---------------------------------------------------------------------------------------

case "$TREE_ARG" in
    6.1|6.12)
        LABEL="$TREE_ARG"
        TARBALL="/usr/src/linux-source-$TREE_ARG.tar.xz"
        PKGVER="$(dpkg-query -W -f='${Version}' "linux-source-$TREE_ARG" 2>/dev/null || stat -c %s-%Y "$TARBALL")"
        TREE_ID="linux-source-$TREE_ARG"
        SRC="$CACHE/src/$TREE_ID"
        FINGERPRINT="debian linux-source-$TREE_ARG $PKGVER"
        exec 9>"$CACHE/locks/$TREE_ID.lock"
        flock 9
        if [ ! -f "$SRC/.gupc-source" ] || [ "$(cat "$SRC/.gupc-source")" != "$FINGERPRINT" ]; then
            $CHECK && not_cached "$TARBALL is not extracted yet"
            say "extracting $TARBALL (once) into $SRC"
            rm -rf "$SRC" "$SRC.tmp"
            mkdir -p "$SRC.tmp"
            tar -xJf "$TARBALL" -C "$SRC.tmp"
            mv "$SRC.tmp/linux-source-$TREE_ARG" "$SRC"
            rmdir "$SRC.tmp"
            printf '%s' "$FINGERPRINT" > "$SRC/.gupc-source"
        fi
        # A patch left applied by a build that was killed goes first.
        if [ -f "$SRC/.gupc-applied.patch" ]; then
            patch -p1 -R -s -d "$SRC" < "$SRC/.gupc-applied.patch" || die "cannot revert the stale patch in $SRC; delete $SRC to extract it again"
            rm -f "$SRC/.gupc-applied.patch"
        fi
        if [ -n "$PATCH" ]; then
            LABEL="$TREE_ARG+$(basename "$PATCH" .patch)"
            FINGERPRINT="$FINGERPRINT patch $(sha256sum "$PATCH" | cut -c1-16)"
        fi
        ;;
    *)
        ORIG="$(cd "$TREE_ARG" && pwd -P)"
        TREE_ID="tree-$(printf '%s' "$ORIG" | sha256sum | cut -c1-12)"
        LABEL="$(basename "$ORIG")"
        SRC="$CACHE/src/$TREE_ID"
        # What the tree holds now: git state when it is a repository, else every file's size and time.
        if git -C "$ORIG" rev-parse --git-dir >/dev/null 2>&1; then
            FINGERPRINT="git $(git -C "$ORIG" rev-parse HEAD) $( (git -C "$ORIG" status --porcelain; git -C "$ORIG" diff HEAD) | sha256sum | cut -c1-16)"
        else
            FINGERPRINT="files $(cd "$ORIG" && find -L . -path ./.git -prune -o -type f -printf '%p %s %T@\n' | LC_ALL=C sort | sha256sum | cut -c1-16)"
        fi
        exec 9>"$CACHE/locks/$TREE_ID.lock"
        flock 9
        if [ ! -f "$SRC/.gupc-source" ] || [ "$(cat "$SRC/.gupc-source")" != "$FINGERPRINT $ORIG" ]; then
            $CHECK && not_cached "$ORIG changed since it was last built"
            say "linking $ORIG into $SRC (your tree is not modified)"
            rm -rf "$SRC"
            mkdir -p "$SRC"
            cp -as "$ORIG/." "$SRC/"
            rm -rf "$SRC/.git"
            # An in-tree build leaves files that make kbuild refuse an O= build; the link tree drops them.
            rm -rf "$SRC/.config" "$SRC/include/config" "$SRC/include/generated" "$SRC"/arch/*/include/generated
            printf '%s' "$FINGERPRINT $ORIG" > "$SRC/.gupc-source"
        fi
        ;;
esac
BUILD="$CACHE/build/$TREE_ID"
mkdir -p "$BUILD"

KV="$(sed -n 's/^VERSION = //p' "$SRC/Makefile").$(sed -n 's/^PATCHLEVEL = //p' "$SRC/Makefile").$(sed -n 's/^SUBLEVEL = //p' "$SRC/Makefile")"

# ---- the image key and the cache ------------------------------------------------------------------------------

GCCV="$(gcc --version | head -1)"
KEY="$( { printf '%s\n' "$FINGERPRINT" "$GCCV"; cat "$HERE/kernel.config" "$HERE/adapter/gupc_adapter.c" \
    "$HERE/adapter/gupc_uapi.h" "$HERE/adapter/Kconfig.gupc" "$SELF"; } | sha256sum | cut -c1-16)"
IMAGE_DIR="$CACHE/images/$TREE_ID-$KEY"
# The live layer's helper (the same source as on the host) runs in the guest too, under the live agent.
LIVEHELPER_C="$HERE/../LiveKernel/native/livehelper.c"
[ -f "$LIVEHELPER_C" ] || die "$LIVEHELPER_C is missing (it is copied next to Kernel/ by the build)"
IRD_KEY="$( { printf '%s\n' "$GCCV"; sha256sum "$BUSYBOX" | cut -c1-64; cat "$HERE/guest/gupc_server.c" \
    "$HERE/guest/json.c" "$HERE/guest/json.h" "$HERE/guest/init" "$HERE/guest/live_agent.c" "$LIVEHELPER_C" \
    "$HERE/adapter/gupc_uapi.h" "$SELF"; } | sha256sum | cut -c1-16)"
IRD_DIR="$CACHE/initramfs/$IRD_KEY"

fmt_secs() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }

if $CHECK && { [ ! -f "$IMAGE_DIR/bzImage" ] || [ ! -f "$IRD_DIR/initramfs.cpio.gz" ]; }; then
    not_cached "no image for these inputs in $CACHE (build it with build-kernel.sh $TREE_ARG)"
fi

CACHED=true
if [ ! -f "$IMAGE_DIR/bzImage" ]; then
    CACHED=false
    if [ -n "$PATCH" ]; then
        # The patch lives in the shared tree only while this build (holding the tree's lock) runs.
        cp "$PATCH" "$SRC/.gupc-applied.patch"
        patch -p1 --forward -s -d "$SRC" < "$PATCH" || { rm -f "$SRC/.gupc-applied.patch"; die "$PATCH does not apply to $SRC"; }
        PATCH_APPLIED=true
        say "applied $PATCH for this build"
    fi
    say "building Linux $KV with the adapter (first build of these inputs; about 12 CPU-minutes for tinyconfig)"
    say "source $SRC, build directory $BUILD, log $BUILD/gupc-build.log"

    # The adapter goes into drivers/misc as an ordinary built-in driver.
    for f in gupc_adapter.c gupc_uapi.h; do
        rm -f "$SRC/drivers/misc/$f"
        cp "$HERE/adapter/$f" "$SRC/drivers/misc/$f"
    done
    for f in Kconfig Makefile; do
        if [ -L "$SRC/drivers/misc/$f" ]; then cp --remove-destination "$(readlink -f "$SRC/drivers/misc/$f")" "$SRC/drivers/misc/$f"; fi
    done
    if ! grep -q 'config GUPC_ADAPTER' "$SRC/drivers/misc/Kconfig"; then
        python3 - "$SRC/drivers/misc/Kconfig" "$HERE/adapter/Kconfig.gupc" <<'PY'
import sys
path, snippet = sys.argv[1], open(sys.argv[2]).read()
text = open(path).read()
at = text.rfind("endmenu")
if at < 0:
    sys.exit("drivers/misc/Kconfig has no endmenu")
open(path, "w").write(text[:at] + snippet + "\n" + text[at:])
PY
    else
        # Keep the entry in step with Kconfig.gupc (the first build of a new adapter version replaces it).
        python3 - "$SRC/drivers/misc/Kconfig" "$HERE/adapter/Kconfig.gupc" <<'PY'
import re, sys
path, snippet = sys.argv[1], open(sys.argv[2]).read()
text = open(path).read()
text = re.sub(r"config GUPC_ADAPTER\n(?:[ \t].*\n|\n(?=[ \t]))*", snippet, text, count=1)
open(path, "w").write(text)
PY
    fi
    grep -q 'gupc_adapter.o' "$SRC/drivers/misc/Makefile" \
        || printf 'obj-$(CONFIG_GUPC_ADAPTER)\t+= gupc_adapter.o\n' >> "$SRC/drivers/misc/Makefile"

    START=$(date +%s)
    ( cd "$SRC" && make -s O="$BUILD" tinyconfig >/dev/null ) || die "make tinyconfig failed in $SRC" 1
    "$SRC/scripts/kconfig/merge_config.sh" -m -O "$BUILD" "$BUILD/.config" "$HERE/kernel.config" >/dev/null 2>&1 \
        || die "merging kernel.config into the configuration failed" 1
    ( cd "$SRC" && make -s O="$BUILD" olddefconfig >/dev/null ) || die "make olddefconfig failed" 1
    for opt in GUPC_ADAPTER BLK_DEV_INITRD SERIAL_8250_CONSOLE DEVTMPFS PRINTK BUG BLK_DEV_RAM EXT2_FS TTY; do
        grep -q "^CONFIG_$opt=y" "$BUILD/.config" || die "CONFIG_$opt did not end up enabled in $BUILD/.config" 1
    done
    while read -r line; do
        case "$line" in CONFIG_*=y)
            grep -qx "$line" "$BUILD/.config" || say "note: ${line%=y} is not available in this tree; building without it" ;;
        esac
    done < "$HERE/kernel.config"

    # Progress: one line per 250 compiled files, the last lines of the log on failure.
    set +e
    nice -n 19 make -C "$SRC" O="$BUILD" -j"$(nproc)" bzImage > "$BUILD/gupc-build.log" 2>&1 &
    MAKE_PID=$!
    last=0
    while kill -0 "$MAKE_PID" 2>/dev/null; do
        sleep 5
        n=$(grep -c '^  CC ' "$BUILD/gupc-build.log" 2>/dev/null || true)
        if [ "${n:-0}" -ge $((last + 250)) ]; then
            last=$n
            say "$n files compiled, $(fmt_secs $(( $(date +%s) - START )))"
        fi
    done
    wait "$MAKE_PID"
    rc=$?
    MAKE_PID=""
    set -e
    if [ $rc -ne 0 ] || [ ! -f "$BUILD/arch/x86/boot/bzImage" ]; then
        tail -n 25 "$BUILD/gupc-build.log" >&2
        die "building Linux $KV failed (exit $rc); full log: $BUILD/gupc-build.log" 1
    fi
    SECS=$(( $(date +%s) - START ))
    revert_patch
    mkdir -p "$IMAGE_DIR.tmp"
    cp "$BUILD/arch/x86/boot/bzImage" "$IMAGE_DIR.tmp/bzImage"
    cp "$BUILD/.config" "$IMAGE_DIR.tmp/config"
    printf '%s\n' "$SECS" > "$IMAGE_DIR.tmp/build-seconds"
    printf '%s\n' "$KV" > "$IMAGE_DIR.tmp/release"
    rm -rf "$IMAGE_DIR"
    mv "$IMAGE_DIR.tmp" "$IMAGE_DIR"
    say "built in $(fmt_secs "$SECS"); image cached at $IMAGE_DIR"
else
    say "using the cached image $IMAGE_DIR (built in $(fmt_secs "$(cat "$IMAGE_DIR/build-seconds")"))"
fi

# ---- the initramfs --------------------------------------------------------------------------------------------

if [ ! -f "$IRD_DIR/initramfs.cpio.gz" ]; then
    say "building the guest initramfs (server, busybox) into $IRD_DIR"
    STAGE="$(mktemp -d)"
    mkdir -p "$STAGE/root/bin" "$STAGE/root/dev" "$STAGE/root/proc" "$STAGE/root/sys" "$STAGE/root/mnt" "$STAGE/root/tmp"
    gcc -static -O2 -Wall -Wextra -Werror -I "$HERE/adapter" -o "$STAGE/root/gupc-server" \
        "$HERE/guest/gupc_server.c" "$HERE/guest/json.c" || die "compiling the guest server failed" 1
    gcc -static -O2 -Wall -Wextra -Werror -o "$STAGE/root/live-agent" "$HERE/guest/live_agent.c" \
        || die "compiling the live agent failed" 1
    gcc -static -O2 -Wall -Wextra -o "$STAGE/root/livehelper" "$LIVEHELPER_C" || die "compiling livehelper failed" 1
    cp "$BUSYBOX" "$STAGE/root/bin/busybox"
    cp "$HERE/guest/init" "$STAGE/root/init"
    chmod 755 "$STAGE/root/init" "$STAGE/root/gupc-server" "$STAGE/root/live-agent" "$STAGE/root/livehelper" "$STAGE/root/bin/busybox"
    mkdir -p "$IRD_DIR.tmp"
    ( cd "$STAGE/root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -9 ) > "$IRD_DIR.tmp/initramfs.cpio.gz"
    rm -rf "$IRD_DIR"
    mv "$IRD_DIR.tmp" "$IRD_DIR"
    rm -rf "$STAGE"
    STAGE=""
fi

python3 - "$IMAGE_DIR/bzImage" "$IRD_DIR/initramfs.cpio.gz" "$LABEL" "$KV" "$(cat "$IMAGE_DIR/build-seconds")" "$CACHED" "$CACHE" <<'PY'
import json, sys
image, initramfs, label, release, secs, cached, cache = sys.argv[1:8]
print(json.dumps({"image": image, "initramfs": initramfs, "label": label, "release": release,
                  "build_seconds": int(secs), "cached": cached == "true", "cache": cache}))
PY
}
main "$@"; exit
