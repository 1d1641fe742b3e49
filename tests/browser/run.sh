#!/usr/bin/env bash
# The dashboard's browser tests: installs Debian's Chromium (once, from the machine's package
# registry: nothing downloads a browser at run time), the pinned playwright-core, builds the
# `fanorder` binary and drives the page. Screenshots land in artifacts/screenshots/.
#
#   tests/browser/run.sh          (scripts/test calls it)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
root="$(cd ../.. && pwd)"

if ! command -v chromium >/dev/null 2>&1; then
  echo "installing Debian's chromium and chromium-driver"
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get install -y -q chromium chromium-driver >/dev/null \
    || { "${sudo_cmd[@]}" apt-get update -q >/dev/null && "${sudo_cmd[@]}" apt-get install -y -q chromium chromium-driver >/dev/null; }
fi

export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
if [[ ! -d node_modules/playwright-core ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund --loglevel=warn
fi

target="${CARGO_TARGET_DIR:-$root/target}"
(cd "$root" && cargo build --quiet --bin fanorder)
export FANORDER_BIN="$target/debug/fanorder"
export CHROMIUM="$(command -v chromium)"
export SCREENSHOTS="${SCREENSHOTS:-$root/artifacts/screenshots}"
node --test dashboard.test.mjs
echo "screenshots: $SCREENSHOTS"
