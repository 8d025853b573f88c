#!/bin/sh
# build.sh: builds the raw-socket addon (build/Release/mptcp_raw.node) with node-gyp. Runs
# during `npm ci` as the package's "install" script, and by hand as `npm run build:native`.
#
# It never fails the install: the wire layer, the simulator and the tools do not need raw
# sockets. When the addon cannot be built (not Linux, build tools or node-addon-api missing,
# compiler error) it prints what to install and writes the reason to build/not-built.txt; the
# driver reports "native addon not built: <reason>" when someone tries to use it.
#
# Headers: node-gyp uses `npm_config_nodedir` when set, else the headers installed next to the
# running node (PREFIX/include/node, present in distribution and nodejs.org packages), so the
# build works offline; only without either does node-gyp download them.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
STATUS="$HERE/build/not-built.txt"
LOG=$(mktemp "${TMPDIR:-/tmp}/mptcp-native-build.XXXXXX")

not_built() {
  mkdir -p "$HERE/build"
  [ -s "$LOG" ] && cp "$LOG" "$HERE/build/build.log"
  rm -f "$LOG"
  printf '%s\n' "$1" >"$STATUS"
  {
    echo
    echo "=================================================================================="
    echo " mptcp-proxy: the raw-socket addon (mptcp/native) was NOT built."
    echo " Reason: $1"
    echo " Everything except the raw-socket driver works without it. To build it later:"
    echo "   npm run build:native"
    echo "=================================================================================="
    echo
  } >&2
  exit 0
}

[ "$(uname -s)" = Linux ] || not_built "raw sockets need Linux (this is $(uname -s))"

missing=""
command -v python3 >/dev/null 2>&1 || missing="$missing python3"
command -v make >/dev/null 2>&1 || missing="$missing make"
command -v g++ >/dev/null 2>&1 || missing="$missing g++"
[ -z "$missing" ] || not_built "build tools missing:$missing (Debian/Ubuntu: sudo apt-get install -y python3 make g++)"

(cd "$HERE" && node -e "require.resolve('node-addon-api')") >/dev/null 2>&1 ||
  not_built "node-addon-api is not installed (run npm ci in the project root)"

# node-gyp: the one npm bundles (npm exports its path to scripts), else one on PATH.
GYP="${npm_config_node_gyp:-}"
if [ -z "$GYP" ]; then
  npm_root=$(npm root -g 2>/dev/null || true)
  for f in "$npm_root/npm/node_modules/node-gyp/bin/node-gyp.js"; do
    [ -f "$f" ] && GYP="$f"
  done
fi
if [ -n "$GYP" ]; then
  set -- node "$GYP"
elif command -v node-gyp >/dev/null 2>&1; then
  set -- node-gyp
else
  not_built "node-gyp not found (it comes with npm; or: npm install -g node-gyp)"
fi

# Offline headers: the running node's own, unless npm was told otherwise.
if [ -z "${npm_config_nodedir:-}" ]; then
  prefix=$(node -p "require('path').resolve(process.execPath, '..', '..')")
  if [ -f "$prefix/include/node/node_api.h" ]; then
    set -- "$@" --nodedir="$prefix"
  fi
fi

rm -f "$STATUS"
if ! "$@" rebuild --directory="$HERE" >"$LOG" 2>&1; then
  tail -n 15 "$LOG" >&2
  not_built "node-gyp rebuild failed (full log: mptcp/native/build/build.log)"
fi
rm -f "$LOG"
echo "mptcp-proxy: built the native addons in mptcp/native/build/Release (mptcp_raw, mptcp_kernel, mptcp_packet)"
