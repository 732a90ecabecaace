#!/usr/bin/env bash
# The other-language kernels the tests run, each in its own place under .tools/kernels,
# registered in .tools/kernels/jupyter (the tests put it on JUPYTER_PATH; nothing is
# installed into the user's Jupyter folders). Idempotent: a kernel already present is kept.
set -euo pipefail
PYTHON=${PYTHON:-python3}
ROOT=${1:-.tools/kernels}
mkdir -p "$ROOT"
ROOT=$(cd "$ROOT" && pwd)
SPECS="$ROOT/jupyter/kernels"
mkdir -p "$SPECS"

venv() {  # venv NAME PACKAGE: a virtualenv holding one PyPI package
  local dir="$ROOT/$1"
  if [ -e "$dir/.installed" ]; then echo "==> kernel $1 present"; return; fi
  echo "==> installing $2 from PyPI into $dir"
  rm -rf "$dir" && "$PYTHON" -m venv "$dir"
  "$dir/bin/python" -m pip install --quiet --disable-pip-version-check "$2" 2>&1 \
    | grep -v "^WARNING: Location" || true
  "$dir/bin/python" -c "import sys; sys.exit(0)"
  touch "$dir/.installed"
}

spec() {  # spec NAME JSON: a kernelspec folder with its kernel.json
  mkdir -p "$SPECS/$1" && printf '%s\n' "$2" > "$SPECS/$1/kernel.json"
}

venv bash bash_kernel
spec bash "{\"argv\": [\"$ROOT/bash/bin/python\", \"-m\", \"bash_kernel\", \"-f\",
  \"{connection_file}\"], \"display_name\": \"Bash\", \"language\": \"bash\",
  \"env\": {\"PS1\": \"\$\"}}"

venv deno deno
spec deno "{\"argv\": [\"$ROOT/deno/bin/deno\", \"jupyter\", \"--kernel\", \"--conn\",
  \"{connection_file}\"], \"display_name\": \"Deno\", \"language\": \"typescript\"}"

venv xeus xeus-python
spec xpython "{\"argv\": [\"$ROOT/xeus/bin/python\", \"-m\", \"xpython_launcher\", \"-f\",
  \"{connection_file}\"], \"display_name\": \"Python (xeus-python)\", \"language\": \"python\",
  \"metadata\": {\"debugger\": true}}"

# R with IRkernel from Debian, where the machine's package lists have it
IRKERNEL=/usr/lib/R/site-library/IRkernel/kernelspec
if [ ! -e "$IRKERNEL/kernel.json" ] && command -v apt-get >/dev/null \
    && apt-cache show r-cran-irkernel >/dev/null 2>&1; then
  echo "==> installing Debian r-cran-irkernel (R and IRkernel)"
  SUDO=$(test "$(id -u)" -eq 0 || echo sudo)
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 \
    install -y -qq --no-install-recommends r-cran-irkernel >/dev/null
fi
if [ -e "$IRKERNEL/kernel.json" ]; then
  echo "==> kernel ir (R $(R --version | head -1 | awk '{print $3}')) present"
  rm -rf "$SPECS/ir" && cp -r "$IRKERNEL" "$SPECS/ir"
else
  echo "==> no R here (Debian's r-cran-irkernel unavailable): the R tests are skipped"
  rm -rf "$SPECS/ir"
fi
