#!/usr/bin/env bash
# The wheels the .vsix carries: nbbridge and everything it needs at run time (and its
# `export` extra), for CPython 3.11, 3.12 and 3.13 on linux-x64, plus pip itself (Debian's
# python3 has no ensurepip). The extension makes the bridge's environment from these with
# no network. For another platform, run this with PLATFORMS set to its wheel tags (e.g.
# "macosx_11_0_arm64" or "win_amd64") and package with `vsce package --target` for it.
set -euo pipefail
PY=${1:?python}; ROOT=${2:?project root}; OUT=${3:?wheels folder}
PLATFORMS=${PLATFORMS:-"manylinux_2_17_x86_64 manylinux2014_x86_64 manylinux_2_5_x86_64 \
manylinux1_x86_64 manylinux_2_26_x86_64 manylinux_2_28_x86_64 linux_x86_64"}
rm -rf "$OUT" && mkdir -p "$OUT"
quiet() { "$@" 2>&1 | { grep -v "^WARNING: Location" || true; }; }
quiet "$PY" -m pip wheel --quiet --no-deps --disable-pip-version-check -w "$OUT" "$ROOT"
WHEEL=$(cd "$OUT" && ls nbbridge-*.whl)
for version in 3.11 3.12 3.13; do
  platform_args=()
  for platform in $PLATFORMS; do platform_args+=(--platform "$platform"); done
  quiet "$PY" -m pip download --quiet --disable-pip-version-check --only-binary=:all: \
    --python-version "$version" --implementation cp "${platform_args[@]}" -d "$OUT" \
    "nbbridge[export] @ file://$OUT/$WHEEL" pip
done
(cd "$OUT" && ls *.whl > MANIFEST.txt)
echo "==> $(wc -l < "$OUT/MANIFEST.txt") wheels, $(du -sh "$OUT" | cut -f1), in $OUT"
